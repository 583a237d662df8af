using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// Heavy accuracy runs of issue 4 (not in the fast suite): run with
/// <c>dotnet test -c Release --filter "Category=Validation&amp;FullyQualifiedName~InferenceValidation"</c>; the numbers are
/// recorded in docs/inference.md.
/// </summary>
[Trait("Category", "Validation")]
public class InferenceValidationTests(ITestOutputHelper output)
{
    private static readonly PolynomialBasis Linear2 = new(2, 1);

    [Fact]
    public void CalibrationOver100SeedsOfTheDrivenTrap()
    {
        var model = InferenceData.DrivenTrap();
        var spec = DiffusionSpec.Isotropic(0.5, 2);
        int inside = 0, insideCorrected = 0, n = 100;
        var z = new List<double>();
        for (int seed = 0; seed < n; seed++)
        {
            var data = InferenceData.Run(model, 0.01, 2, 1, 100_000, seed: (ulong)(5000 + seed)).Trajectories;
            var e = EntropyProductionEstimator.Current(data, Linear2, spec).EntropyProduction;
            var c = EntropyProductionEstimator.CoarseSamplingCorrected(data, Linear2, spec);
            if (Math.Abs(e.Debiased - 0.18) < 1.96 * e.StandardError) inside++;
            if (Math.Abs(c.Debiased - 0.18) < 1.96 * c.StandardError) insideCorrected++;
            z.Add((e.Debiased - 0.18) / e.StandardError);
        }
        double mz = z.Average(), sz = Math.Sqrt(z.Select(v => (v - mz) * (v - mz)).Sum() / (n - 1));
        output.WriteLine($"coverage of 1.96 stderr: plain {inside}/{n}, Richardson {insideCorrected}/{n}; z-scores mean {mz:F3}, sd {sz:F3}; "
            + $"Cramer-Rao stderr at tau = 1000: {InformationBound.EntropyProductionStandardError(model, 1000):F5}");
        Assert.InRange(inside / (double)n, 0.90, 0.99);
        Assert.InRange(insideCorrected / (double)n, 0.90, 0.99);
    }

    /// <summary>
    /// SFI's setting (320,000 frames at dt = 0.01, where it quotes 0.1739 +- 0.0107) over independent seeds: our reported
    /// stderr against the actual spread of the estimates, and the coverage an error bar of SFI's size, sqrt(2 sigma_hat / tau),
    /// would have. 40 seeds: the sample standard deviation is known to about 11%.
    /// </summary>
    [Fact]
    public void SfiSettingOverSeeds()
    {
        var model = InferenceData.DrivenTrap();
        var spec = DiffusionSpec.Isotropic(0.5, 2);
        int n = 40, inside = 0, insideSfiSized = 0;
        var values = new List<double>();
        var errors = new List<double>();
        double tau = 0;
        for (int seed = 0; seed < n; seed++)
        {
            var data = InferenceData.Run(model, 0.01, 2, 1, 320_000, seed: (ulong)(15_000 + seed)).Trajectories;
            var e = EntropyProductionEstimator.CoarseSamplingCorrected(data, Linear2, spec);
            tau = e.ObservedTime;
            values.Add(e.Debiased);
            errors.Add(e.StandardError);
            if (Math.Abs(e.Debiased - 0.18) < 1.96 * e.StandardError) inside++;
            if (Math.Abs(e.Debiased - 0.18) < 1.96 * Math.Sqrt(2 * Math.Max(e.Debiased, 0) / tau)) insideSfiSized++;
        }
        double mean = values.Average(), sd = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1));
        double bound = InformationBound.EntropyProductionStandardError(model, tau);
        output.WriteLine($"SFI setting, {n} seeds x 320,000 frames (Richardson): mean {mean:F5}, spread of estimates {sd:F5}, mean reported stderr {errors.Average():F5} "
            + $"(min {errors.Min():F5}, max {errors.Max():F5}); Cramer-Rao {bound:F5}; coverage of 1.96 stderr {inside}/{n}; "
            + $"of 1.96 sqrt(2 sigma/tau) (SFI-sized, ~0.0107) {insideSfiSized}/{n}");
        Assert.InRange(errors.Average() / sd, 0.75, 1.35);
        Assert.True(sd > 0.75 * bound);
    }

    /// <summary>
    /// Bead-spring n = 5 at 1e7 frames, dt = 0.01, over independent data sets: is the Richardson estimate's miss of 2% a bias or
    /// the spread? (Large-data limit of the correction: -0.12%; Cramer-Rao stderr 1.15% of sigma at tau = 1e5.)
    /// </summary>
    [Fact]
    public void BeadSpringFiveOverSeeds()
    {
        var model = InferenceData.BeadSpring(5);
        double exact = model.EntropyProductionRateValue;
        var spec = DiffusionSpec.Given(InferenceData.RowMajor(model.Diffusion), 5);
        var basis = new PolynomialBasis(5, 1);
        var errors = new List<double>();
        int within2 = 0, n = 6;
        double se = 0;
        for (int seed = 0; seed < n; seed++)
        {
            var data = InferenceData.Run(model, 0.01, 4, 1, 10_000_000, seed: (ulong)(16_000 + seed)).Trajectories;
            var c = EntropyProductionEstimator.CoarseSamplingCorrected(data, basis, spec);
            errors.Add((c.Debiased - exact) / exact);
            se += c.StandardError / exact / n;
            if (Math.Abs(c.Debiased - exact) < 0.02 * exact) within2++;
            output.WriteLine($"  seed {16_000 + seed}: {c.Debiased:F5} +- {c.StandardError:F5} ({errors[^1]:P2})");
        }
        double mean = errors.Average(), sd = Math.Sqrt(errors.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1));
        output.WriteLine($"bead-spring n=5, 1e7 frames x {n} data sets (Richardson): mean error {mean:P2} +- {sd / Math.Sqrt(n):P2}, spread {sd:P2}, "
            + $"mean reported stderr {se:P2}; within 2%: {within2}/{n}");
        Assert.InRange(mean, -3 * se / Math.Sqrt(n), 3 * se / Math.Sqrt(n));
    }

    [Fact]
    public void DrivenTrapTenMillionFrames()
    {
        var data = InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, 1, 10_000_000, seed: 6001).Trajectories;
        var spec = DiffusionSpec.Isotropic(0.5, 2);
        var plain = EntropyProductionEstimator.Current(data, Linear2, spec).EntropyProduction;
        var corrected = EntropyProductionEstimator.CoarseSamplingCorrected(data, Linear2, spec);
        var auto = EntropyProductionEstimator.Current(data, new PolynomialBasis(2, 3), DiffusionSpec.Estimated).EntropyProduction;
        output.WriteLine($"driven trap 1e7 frames: plain {plain.Debiased:F5} +- {plain.StandardError:F5}; Richardson {corrected.Debiased:F5} +- {corrected.StandardError:F5}; "
            + $"poly:3 with estimated D {auto.Debiased:F5} +- {auto.StandardError:F5}; exact 0.18");
        Assert.InRange(corrected.Debiased, 0.18 * 0.98, 0.18 * 1.02);
        Assert.InRange(plain.Debiased, 0.18 - 3 * plain.StandardError, 0.18 + 3 * plain.StandardError);
    }

    [Theory]
    [InlineData(2, 0.01)]
    [InlineData(2, 0.001)]
    [InlineData(5, 0.01)]
    [InlineData(5, 0.001)]
    public void BeadSpringOneAndTenMillionFrames(int beads, double dt)
    {
        var model = InferenceData.BeadSpring(beads);
        double exact = model.EntropyProductionRateValue;
        var spec = DiffusionSpec.Given(InferenceData.RowMajor(model.Diffusion), beads);
        var basis = new PolynomialBasis(beads, 1);
        foreach (int frames in new[] { 1_000_000, 10_000_000 })
        {
            var data = InferenceData.Run(model, dt, dt >= 0.01 ? 4 : 1, 1, frames, seed: (ulong)(7000 + beads + frames / 1000)).Trajectories;
            var plain = EntropyProductionEstimator.Current(data, basis, spec).EntropyProduction;
            var corrected = EntropyProductionEstimator.CoarseSamplingCorrected(data, basis, spec);
            output.WriteLine($"bead-spring n={beads} dt={dt} {frames:E0} frames: plain {plain.Debiased:F5} +- {plain.StandardError:F5} ({(plain.Debiased - exact) / exact:P2}); "
                + $"Richardson {corrected.Debiased:F5} +- {corrected.StandardError:F5} ({(corrected.Debiased - exact) / exact:P2}); exact {exact:F6}");
            if (frames == 1_000_000) Assert.InRange(corrected.Debiased, exact - 3 * corrected.StandardError, exact + 3 * corrected.StandardError);
            else output.WriteLine($"  within 2%: plain {Math.Abs(plain.Debiased - exact) < 0.02 * exact}, Richardson {Math.Abs(corrected.Debiased - exact) < 0.02 * exact}");
        }
    }

    [Fact]
    public void CoarseSamplingBiasTable()
    {
        var model = InferenceData.BeadSpring(2);
        double exact = model.EntropyProductionRateValue;
        var spec = DiffusionSpec.Given(InferenceData.RowMajor(model.Diffusion), 2);
        foreach (double dt in new[] { 0.01, 0.1, 0.3 })
        {
            var data = InferenceData.Run(model, dt, Math.Max(1, (int)Math.Round(dt / 0.002)), 1, 2_000_000, seed: 8000).Trajectories;
            var plain = EntropyProductionEstimator.Current(data, Linear2, spec).EntropyProduction;
            var r1 = EntropyProductionEstimator.CoarseSamplingCorrected(data, Linear2, spec);
            var r2 = EntropyProductionEstimator.CoarseSamplingCorrected(data, Linear2, spec, order: 2);
            double l = CoarseSamplingAnalysisTests.Limit(model, dt), l2 = CoarseSamplingAnalysisTests.Limit(model, 2 * dt), l3 = CoarseSamplingAnalysisTests.Limit(model, 3 * dt);
            output.WriteLine($"dt k/gamma = {dt}: plain {plain.Debiased:F4} +- {plain.StandardError:F4} (limit {l:F4}, bias {(plain.Debiased - exact) / exact:P1}); "
                + $"richardson {r1.Debiased:F4} +- {r1.StandardError:F4} (limit {2 * l - l2:F4}); richardson2 {r2.Debiased:F4} +- {r2.StandardError:F4} (limit {3 * l - 3 * l2 + l3:F4})");
            Assert.InRange(plain.Debiased, l - 4 * plain.StandardError, l + 4 * plain.StandardError);
        }
    }

    [Fact]
    public void UnderdampedTenMillionFrames()
    {
        var model = new UnderdampedDrivenTrap();
        var run = InferenceData.Run(model, 0.01, 5, 10, 1_000_000, seed: 9001);
        var result = UnderdampedEntropyProduction.Estimate(InferenceData.Coordinates(run.Trajectories, 2), Linear2);
        double exact = model.EntropyProductionRateValue;
        output.WriteLine($"underdamped 1e7 frames: {result.Rate:F5} +- {result.StandardError:F5} ({(result.Rate - exact) / exact:P2}), exact {exact:F6}");
        Assert.InRange(result.Rate, exact - 3 * result.StandardError, exact + 3 * result.StandardError);
        Assert.InRange(result.Rate, exact * 0.97, exact * 1.03);
    }

    [Fact]
    public void BreathingTrapHundredThousandTrajectories()
    {
        var model = new BreathingTrapModel();
        var run = InferenceData.Run(model, 0.01, 5, 100_000, 101, seed: 9100, energetics: true);
        var spec = DiffusionSpec.Isotropic(1, 1);
        var oracle = BreathingTrapBounds.RelativeBounds(BreathingTrapBounds.LinearRamp, [1.0, 1.0, 3.0], 1e5);
        var family = BreathingTrapBounds.RelativeBounds(BreathingTrapBounds.LegendreForce(4), BreathingTrapBounds.LegendreStart(4), 1e5);
        var local = EntropyProductionEstimator.Windows(run.Trajectories, new PolynomialBasis(1, 1), spec, windows: 10, timeDegree: 1);
        var joint = EntropyProductionEstimator.Windows(run.Trajectories, new PolynomialBasis(1, 1), spec, windows: 10, timeDegree: 4, joint: true);
        int inside = 0, precise = 0;
        for (int k = 0; k < 10; k++)
        {
            var w = joint.Windows[k];
            var l = local.Windows[k];
            double exact = NonStationaryAndOtherEstimatorTests.WindowAverage(model, w.Start, w.End);
            bool ok = Math.Abs(w.Debiased - exact) < 3 * w.StandardError;
            if (ok) inside++;
            if (w.StandardError < 0.05 * exact) precise++;
            output.WriteLine($"[{w.Start:F1}, {w.End:F1}): joint plug-in {w.Debiased:F5} +- {w.StandardError:F5} ({w.StandardError / exact:P1}, z {(w.Debiased - exact) / w.StandardError:F2}); "
                + $"per-window {l.Debiased:F5} +- {l.StandardError:F5} ({l.StandardError / exact:P1}); exact {exact:F5}; Cramer-Rao: degree-4 family {family[k]:P1}, oracle {oracle[k]:P1}");
        }
        var ds = TrajectoryEntropy.Estimate(run.Trajectories, new PolynomialBasis(1, 2), spec, timeDegree: 4);
        double r = NonStationaryAndOtherEstimatorTests.Correlation(ds.TotalEntropy, run.Energetics!.TotalEntropy!);
        output.WriteLine($"{inside}/10 windows within 3 stderr, {precise}/10 with stderr below 5%; per-trajectory Delta s_tot: r = {r:F4}; "
            + $"<exp(-Delta s_tot)> = {ds.ExpMinusMean:F5} +- {ds.ExpMinusStandardError:F5}; mean {ds.TotalEntropy.Average():F5} vs exact total {model.TotalEntropyProduction:F5}");
        Assert.True(inside >= 9, $"{inside}/10 windows within 3 stderr");
        // only windows whose Cramer-Rao bound in this family is below 5% can reach it: all but the first and last (11.4% and 6.5%;
        // the first not even for an oracle, 9.5%)
        int reachable = family.Count(v => v < 0.05);
        Assert.True(precise >= reachable, $"{precise}/10 windows with stderr below 5%, {reachable} reachable by the Cramer-Rao bound");
        Assert.True(r >= 0.95);
        Assert.InRange(ds.ExpMinusMean, 1 - 3 * ds.ExpMinusStandardError, 1 + 3 * ds.ExpMinusStandardError);
    }

    /// <summary>
    /// Calibration of the joint plug-in sigma(t): 20 seeds x 20,000 trajectories x 10 windows, fraction within 1.96 stderr.
    /// </summary>
    [Fact]
    public void BreathingTrapJointCalibration()
    {
        var model = new BreathingTrapModel();
        var spec = DiffusionSpec.Isotropic(1, 1);
        int seeds = 20, inside = 0;
        var z = new double[10];
        var values = new double[seeds, 10];
        var reported = new double[10];
        for (int s = 0; s < seeds; s++)
        {
            var data = InferenceData.Run(model, 0.01, 5, 20_000, 101, seed: (ulong)(20_000 + s)).Trajectories;
            var series = EntropyProductionEstimator.Windows(data, new PolynomialBasis(1, 1), spec, windows: 10, timeDegree: 4, joint: true);
            for (int k = 0; k < 10; k++)
            {
                var w = series.Windows[k];
                double e = (w.Debiased - NonStationaryAndOtherEstimatorTests.WindowAverage(model, w.Start, w.End)) / w.StandardError;
                if (Math.Abs(e) < 1.96) inside++;
                z[k] += e / seeds;
                values[s, k] = w.Debiased;
                reported[k] += w.StandardError / seeds;
            }
        }
        var spread = Enumerable.Range(0, 10).Select(k =>
        {
            double m = Enumerable.Range(0, seeds).Average(s => values[s, k]);
            return Math.Sqrt(Enumerable.Range(0, seeds).Sum(s => (values[s, k] - m) * (values[s, k] - m)) / (seeds - 1));
        }).ToArray();
        output.WriteLine($"joint plug-in sigma(t): {inside}/{seeds * 10} window estimates within 1.96 stderr; mean z per window {string.Join(" ", z.Select(v => v.ToString("F2")))}");
        output.WriteLine($"  spread of estimates / mean reported stderr per window: {string.Join(" ", spread.Select((v, k) => (v / reported[k]).ToString("F2")))}; "
            + $"reported stderr {string.Join(" ", reported.Select(v => v.ToString("F5")))}");
        Assert.InRange(inside / (seeds * 10.0), 0.90, 0.99);
    }

    [Fact]
    public void TurBelowExactAndTightening()
    {
        var model = InferenceData.BeadSpring(2);
        foreach (double dt in new[] { 0.001, 0.01, 0.1 })
        {
            var data = InferenceData.Run(model, dt, Math.Max(1, (int)Math.Round(dt / 0.001)), 1, 1_000_000, seed: 9200).Trajectories;
            var tur = EntropyProductionEstimator.Tur(data, Linear2);
            output.WriteLine($"TUR dt={dt}: {tur.Debiased:F4} +- {tur.StandardError:F4} (exact 2.025)");
            Assert.True(tur.Debiased < 2.025 + 3 * tur.StandardError);
        }
    }
}
