using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using ThermoLearn.Neural.Inference;
using ThermoLearn.Neural.Training;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Neural.Tests.Inference;

/// <summary>
/// Acceptance runs of the neural estimators on the non-polynomial model and on non-stationary data (minutes each on
/// one core; excluded from the fast suite). Measured numbers are in docs/neural-estimators.md. Tolerances come from
/// the reported standard errors (3 stderr: false-failure rate 0.27% per check for a calibrated Gaussian error).
/// </summary>
[Trait("Category", "Validation")]
public class NeuralNonStationaryValidationTests(ITestOutputHelper output)
{
    /// <summary>
    /// mexican-hat-swirl (exact sigma 2.79716), 2,000 trajectories x 3,001 frames at dt = 0.01 (tau_total = 60,000,
    /// 6e6 transitions), Richardson-corrected: the neural current estimate within 3% of exact, every polynomial basis
    /// of degree 1..4 (also Richardson-corrected, debiased) more than 10% below.
    /// </summary>
    [Fact]
    public void SwirlNeuralWithinThreePercentWhileEveryLowDegreePolynomialMissesByTenPercent()
    {
        var model = (MexicanHatSwirlModel)ModelCatalog.Create("mexican-hat-swirl");
        var data = Simulator.Run(model, new SimulationOptions
        {
            Trajectories = 2000, Steps = 15000, Dt = 0.002, SaveEvery = 5, Scheme = "heun", Seed = 1, ComputeEnergetics = false,
        }).Trajectories;
        double exact = model.EntropyProductionRateValue;
        for (int degree = 1; degree <= 4; degree++)
        {
            var poly = EntropyProductionEstimator.CoarseSamplingCorrected(data, new PolynomialBasis(2, degree), DiffusionSpec.Isotropic(1, 2));
            output.WriteLine($"poly:{degree}+richardson: {poly.Debiased:F5} +- {poly.StandardError:F5} ({100 * (poly.Debiased / exact - 1):F2}%)");
            Assert.True(poly.Debiased < 0.9 * exact, $"poly:{degree} gives {poly.Debiased}, within 10% of {exact}");
        }
        using var fit = NeuralEntropyProductionEstimator.Fit(data, new NeuralEstimatorSettings
        {
            Training = SwirlTraining, Diffusion = DiffusionSpec.Isotropic(1, 2), Correction = 1,
        });
        var e = fit.Estimate;
        output.WriteLine($"neural-current+richardson {SwirlTraining.Layers}x{SwirlTraining.Hidden}: {e.Rate:F5} +- {e.StandardError:F5} "
            + $"({100 * (e.Rate / exact - 1):F2}%), best epochs {string.Join(",", fit.Curves.Select(c => c.BestEpoch))}");
        Assert.InRange(e.Rate, 0.97 * exact, 1.03 * exact);
        Assert.InRange(e.Rate, exact - 3 * e.StandardError, exact + 3 * e.StandardError);
    }

    internal static TrainingOptions SwirlTraining => new() { Epochs = 40, Hidden = 64, Layers = 2, BatchSize = 4096, Seed = 1, Patience = 12 };

    /// <summary>
    /// breathing-trap with k 1 -> 41 over tau = 0.1 (fast enough that every tenth of the ramp produces entropy), 1e5
    /// trajectories of 101 frames (dt = 0.001), d(x, t) with t as input, current loss with the trapezoid rule (the midpoint
    /// rule's O(dt) bias is 1-5% per window here, and the lag-2 Richardson correction samples each window at other
    /// times, which a sigma(t) that grows 25-fold within 0.02 does not forgive): sigma(t) in each of 10 windows within
    /// 3 stderr of the window mean of the exact sigma(t), each stderr below 7% of it. Seed 6, not 5: on seed 5's data the
    /// exact field itself puts [0.08, 0.09) 3.13 stderr high (docs/neural-nonstationary.md); with ten windows at 3 stderr a
    /// perfect estimator fails about 2.7% of seeds.
    /// </summary>
    [Fact]
    public void BreathingTrapSigmaOfTimeMatchesPerWindow()
    {
        var model = (BreathingTrapModel)ModelCatalog.Create("breathing-trap", new Dictionary<string, string> { ["k1"] = "41", ["tau"] = "0.1" });
        var data = Simulator.Run(model, new SimulationOptions
        {
            Trajectories = 100_000, Steps = 200, Dt = 0.0005, SaveEvery = 2, Scheme = "heun", Seed = 6, ComputeEnergetics = false,
        }).Trajectories;
        using var fit = NeuralEntropyProductionEstimator.Fit(data, new NeuralEstimatorSettings
        {
            Training = BreathingTraining, Diffusion = DiffusionSpec.Isotropic(1, 1), TimeInput = true, Windows = 10, Trapezoid = true,
        });
        foreach (var w in fit.TimeSeries!.Windows)
        {
            double exact = WindowMean(model, w.Start, w.End);
            output.WriteLine($"[{w.Start:F3}, {w.End:F3}): exact {exact:F4}, neural {w.Rate:F4} +- {w.StandardError:F4} "
                + $"({100 * w.StandardError / exact:F1}%, z = {(w.Rate - exact) / w.StandardError:F2})");
        }
        foreach (var w in fit.TimeSeries!.Windows)
        {
            double exact = WindowMean(model, w.Start, w.End);
            Assert.True(w.StandardError < 0.07 * exact, $"window [{w.Start}, {w.End}): stderr {w.StandardError} is not below 7% of {exact}");
            Assert.InRange(w.Rate, exact - 3 * w.StandardError, exact + 3 * w.StandardError);
        }
    }

    internal static TrainingOptions BreathingTraining => new() { Epochs = 20, Hidden = 64, Layers = 2, BatchSize = 4096, Seed = 1, Patience = 8 };

    /// <summary>
    /// Default breathing-trap (k 1 -> 4 over tau = 1, total EP 0.23734), 1e5 trajectories of 101 frames (dt = 0.01):
    /// the neural per-trajectory Delta s_tot (held out) satisfies &lt;exp(-Delta s_tot)&gt; = 1 within 3 stderr and its
    /// mean matches the exact total EP within 3 stderr; the linear per-trajectory estimate of Core (poly:1 x time:4) is
    /// reported beside it.
    /// </summary>
    [Fact]
    public void BreathingTrapIntegralFluctuationTheoremHolds()
    {
        var data = NeuralTrajectoryEntropyTests.Breathing(100_000, 0.01, 3, out var model);
        var e = NeuralTrajectoryEntropy.Estimate(data, new NeuralTrajectoryEntropySettings { Training = EntropyTraining, Diffusion = DiffusionSpec.Isotropic(1, 1) });
        var linear = TrajectoryEntropy.Estimate(data, new PolynomialBasis(1, 1), DiffusionSpec.Isotropic(1, 1), 4);
        var linearMean = MeanEstimate.Of(linear.TotalEntropy.ToArray());
        double exact = model.TotalEntropyProduction!.Value;
        output.WriteLine($"neural: <exp(-ds)> = {e.ExpMinus.Mean:F5} +- {e.ExpMinus.StandardError:F5}, <ds> = {e.MeanTotal.Mean:F5} +- {e.MeanTotal.StandardError:F5} (exact {exact:F5})");
        output.WriteLine($"linear poly:1 x time:4: <exp(-ds)> = {linear.ExpMinusMean:F5} +- {linear.ExpMinusStandardError:F5}, <ds> = {linearMean.Mean:F5} +- {linearMean.StandardError:F5}");
        Assert.InRange(e.ExpMinus.Mean, 1 - 3 * e.ExpMinus.StandardError, 1 + 3 * e.ExpMinus.StandardError);
        Assert.InRange(e.MeanTotal.Mean, exact - 3 * e.MeanTotal.StandardError, exact + 3 * e.MeanTotal.StandardError);
    }

    internal static TrainingOptions EntropyTraining => new() { Epochs = 15, Hidden = 32, Layers = 2, BatchSize = 4096, Seed = 1, Patience = 6 };

    /// <summary>Mean of the exact sigma(t) over [a, b] (Simpson, 200 panels).</summary>
    internal static double WindowMean(StochasticModel model, double a, double b)
    {
        const int n = 200;
        double h = (b - a) / n, s = 0;
        for (int i = 0; i <= n; i++) s += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * model.EntropyProductionRate(a + i * h)!.Value;
        return s * h / 3 / (b - a);
    }
}
