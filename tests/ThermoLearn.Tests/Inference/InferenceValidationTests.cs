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
        output.WriteLine($"coverage of 1.96 stderr: plain {inside}/{n}, Richardson {insideCorrected}/{n}; z-scores mean {mz:F3}, sd {sz:F3}");
        Assert.InRange(inside / (double)n, 0.90, 0.99);
        Assert.InRange(insideCorrected / (double)n, 0.90, 0.99);
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
        var series = EntropyProductionEstimator.Windows(run.Trajectories, new PolynomialBasis(1, 1), spec, windows: 10, timeDegree: 1);
        int inside = 0;
        foreach (var w in series.Windows)
        {
            double exact = NonStationaryAndOtherEstimatorTests.WindowAverage(model, w.Start, w.End);
            bool ok = Math.Abs(w.Debiased - exact) < 3 * w.StandardError;
            if (ok) inside++;
            output.WriteLine($"[{w.Start:F1}, {w.End:F1}): {w.Debiased:F5} +- {w.StandardError:F5} (stderr {w.StandardError / exact:P1} of exact), exact {exact:F5}, within 3 stderr {ok}");
        }
        var joint = EntropyProductionEstimator.Windows(run.Trajectories, new PolynomialBasis(1, 1), spec, windows: 10, timeDegree: 4, joint: true);
        foreach (var w in joint.Windows)
            output.WriteLine($"joint [{w.Start:F1}, {w.End:F1}): {w.Debiased:F5} +- {w.StandardError:F5}, exact {NonStationaryAndOtherEstimatorTests.WindowAverage(model, w.Start, w.End):F5}");
        var ds = TrajectoryEntropy.Estimate(run.Trajectories, new PolynomialBasis(1, 2), spec, timeDegree: 4);
        double r = NonStationaryAndOtherEstimatorTests.Correlation(ds.TotalEntropy, run.Energetics!.TotalEntropy!);
        output.WriteLine($"per-trajectory Delta s_tot: r = {r:F4}; <exp(-Delta s_tot)> = {ds.ExpMinusMean:F5} +- {ds.ExpMinusStandardError:F5}; "
            + $"mean {ds.TotalEntropy.Average():F5} vs exact total {model.TotalEntropyProduction:F5}");
        Assert.True(inside >= 9, $"{inside}/10 windows within 3 stderr");
        Assert.True(r >= 0.95);
        Assert.InRange(ds.ExpMinusMean, 1 - 3 * ds.ExpMinusStandardError, 1 + 3 * ds.ExpMinusStandardError);
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
