using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Inference;

// Statistical checks: 3 reported stderr (0.27% false failures per check for a calibrated error); where a test checks
// several windows or entries, z = StatisticalTolerance.Z(0.0027, checks) keeps the whole test at 0.27% (Bonferroni). Fixed seeds.
public class NonStationaryAndOtherEstimatorTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Exact mean of sigma(t) over [a, b] (Simpson on 200 intervals of the model's exact curve).</summary>
    internal static double WindowAverage(StochasticModel model, double a, double b)
    {
        const int n = 200;
        double h = (b - a) / n, sum = 0;
        for (int i = 0; i <= n; i++) sum += model.EntropyProductionRate(a + i * h)!.Value * (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2);
        return sum * h / 3 / (b - a);
    }

    [Fact]
    public void BreathingTrapSigmaOfTPerWindowMatchesTheExactCurve()
    {
        var model = new BreathingTrapModel();
        var data = InferenceData.Run(model, 0.01, 5, 20_000, 101, seed: 81).Trajectories;
        var series = EntropyProductionEstimator.Windows(data, new PolynomialBasis(1, 1), DiffusionSpec.Isotropic(1, 1), windows: 5, timeDegree: 1);
        Assert.Equal(5, series.Windows.Count);
        foreach (var w in series.Windows)
            output.WriteLine($"[{w.Start:F2}, {w.End:F2}): {w.Rate:F5} debiased {w.Debiased:F5} +- {w.StandardError:F5}, exact {WindowAverage(model, w.Start, w.End):F5}");
        double z = StatisticalTolerance.Z(0.0027, checks: series.Windows.Count + 1);   // 5 windows and the total: z = 3.51
        foreach (var w in series.Windows)
        {
            double exact = WindowAverage(model, w.Start, w.End);
            Assert.InRange(w.Debiased, exact - z * w.StandardError, exact + z * w.StandardError);
        }
        // later windows (sigma of order 1) are resolved to a few percent
        Assert.True(series.Windows[^1].StandardError < 0.1 * series.Windows[^1].Rate);
        double total = model.TotalEntropyProduction!.Value;
        Assert.InRange(series.Overall.Debiased, total - z * series.Overall.StandardError, total + z * series.Overall.StandardError);
    }

    [Fact]
    public void JointTimeBasisGivesTheSameCurve()
    {
        var model = new BreathingTrapModel();
        var data = InferenceData.Run(model, 0.01, 5, 20_000, 101, seed: 82).Trajectories;
        var series = EntropyProductionEstimator.Windows(data, new PolynomialBasis(1, 1), DiffusionSpec.Isotropic(1, 1), windows: 5, timeDegree: 4, joint: true);
        double z = StatisticalTolerance.Z(0.0027, checks: series.Windows.Count);   // z = 3.46
        foreach (var w in series.Windows)
        {
            double exact = WindowAverage(model, w.Start, w.End);
            Assert.InRange(w.Debiased, exact - z * w.StandardError, exact + z * w.StandardError);
        }
    }

    [Fact]
    public void PerTrajectoryEntropyTracksTheExactValueAndSatisfiesTheIft()
    {
        var model = new BreathingTrapModel();
        var run = InferenceData.Run(model, 0.01, 5, 5_000, 101, seed: 83, energetics: true);
        var result = TrajectoryEntropy.Estimate(run.Trajectories, new PolynomialBasis(1, 2), DiffusionSpec.Isotropic(1, 1), timeDegree: 4);
        var exact = run.Energetics!.TotalEntropy!;
        double r = Correlation(result.TotalEntropy, exact);
        Assert.True(r >= 0.95, $"correlation {r}");
        Assert.InRange(result.ExpMinusMean, 1 - 3 * result.ExpMinusStandardError, 1 + 3 * result.ExpMinusStandardError);
    }

    internal static double Correlation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Count; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    [Fact]
    public void UnderdampedDrivenTrapFromPositionsOnly()
    {
        var model = new UnderdampedDrivenTrap();
        var run = InferenceData.Run(model, 0.01, 5, 4, 250_000, seed: 91);
        var positions = InferenceData.Coordinates(run.Trajectories, 2);
        var result = UnderdampedEntropyProduction.Estimate(positions, new PolynomialBasis(2, 1));
        double exact = model.EntropyProductionRateValue;
        Assert.Equal(0.666667, exact, 5);
        Assert.InRange(result.Rate, exact - 3 * result.StandardError, exact + 3 * result.StandardError);
        Assert.True(result.StandardError < 0.07 * exact, $"stderr {result.StandardError}");
    }

    [Theory]
    [InlineData(0.5, 0.016376)]
    [InlineData(1.0, 0.062364)]
    [InlineData(2.0, 0.213069)]
    public void FlashingRatchetEntropyFromCounts(double v, double exact)
    {
        var chain = DiscreteMarkovChain.FlashingRatchet(v);
        Assert.Equal(exact, chain.EntropyProductionPerStep, 5);
        var data = chain.Sample(new ThermoLearn.Simulation.SimulationOptions { Trajectories = 1, Steps = 400_000, Dt = 1, Seed = (ulong)(v * 10) });
        var result = JumpEntropyProduction.Estimate(data);
        Assert.InRange(result.Rate, exact - 3 * result.StandardError, exact + 3 * result.StandardError);
        Assert.True(result.StandardError < 0.1 * exact, $"stderr {result.StandardError}");
    }

    [Fact]
    public void NoiseRobustDiffusionRemovesMeasurementNoise()
    {
        var model = InferenceData.DrivenTrap();
        var clean = InferenceData.Run(model, 0.01, 2, 4, 50_000, seed: 95).Trajectories;
        var noisy = (double[])clean.Data.Clone();
        var random = RandomStream.For(96, 0);
        for (int i = 0; i < noisy.Length; i++) noisy[i] += 0.02 * random.NextGaussian(); // s^2 = 4e-4 adds 2e-2 to the plain estimate
        var data = new TrajectoryEnsemble(clean.Trajectories, clean.Frames, 2, clean.Dt, noisy);
        var plain = DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1)).Diffusion;
        var robust = DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true).Diffusion;
        Assert.True(plain.Matrix[0] - 0.5 > 10 * plain.StandardErrors[0], $"plain {plain.Matrix[0]} +- {plain.StandardErrors[0]}");
        double z = StatisticalTolerance.Z(0.0027, checks: 4);   // the four entries of D: z = 3.40
        for (int i = 0; i < 4; i++)
        {
            double exact = i is 0 or 3 ? 0.5 : 0;
            Assert.InRange(robust.Matrix[i], exact - z * robust.StandardErrors[i], exact + z * robust.StandardErrors[i]);
        }
    }
}
