using MathNet.Numerics.Distributions;
using ThermoLearn.Inference;
using ThermoLearn.Neural.Inference;
using ThermoLearn.Neural.Tests.TestData;
using ThermoLearn.Neural.Training;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Neural.Tests.Inference;

/// <summary>
/// Neural EP estimates on the driven 2-D trap (k = 1, eps = 0.3, mu = 1, T = 0.5; exact sigma = 0.18),
/// small enough for the fast suite: 100 trajectories x 4,000 frames at dt = 0.01 (tau = 4,000).
/// Tolerances are 3 reported standard errors: for a calibrated, unbiased Gaussian error a false failure at a
/// new seed has probability 0.27%; the reported errors themselves are checked against the noise floor
/// sqrt(8 sigma / tau) (AssertStandardErrorIsTheNoiseFloor); the seeds are fixed, so the fast suite is deterministic.
/// The neural-current estimate is a variational lower bound trained briefly here: over 12 replicates (new data and
/// weights each) it averaged 0.162 against 0.18, about one standard error low, so at a new seed its lower check fails
/// with probability about P(Z &lt; -2) = 2.3%, not 0.27% (measured 2026-12-05; the bias is the estimator's, not the test's).
/// </summary>
public sealed class DrivenTrapFit : IDisposable
{
    public TrajectoryEnsemble Data { get; } = OverdampedData.DrivenTrap(100, 4000, 0.01, seed: 11);

    private readonly Lazy<NeuralFit> _current;

    public DrivenTrapFit() => _current = new(() => NeuralEntropyProductionEstimator.Fit(Data,
        new NeuralEstimatorSettings { Method = NeuralMethods.Current, Training = NeuralCurrentEstimatorTests.Fast, Diffusion = DiffusionSpec.Isotropic(0.5, 2), Correction = 1 }));

    /// <summary>One current-loss fit shared by the tests that inspect it.</summary>
    public NeuralFit Current => _current.Value;

    public void Dispose()
    {
        if (_current.IsValueCreated) _current.Value.Dispose();
    }
}

public class NeuralCurrentEstimatorTests(DrivenTrapFit trap) : IClassFixture<DrivenTrapFit>
{
    private const double ExactSigma = 0.18;

    internal static TrainingOptions Fast => new() { Epochs = 20, Hidden = 32, Layers = 2, BatchSize = 2048, LearningRate = 3e-3, Seed = 5, Patience = 6 };

    [Fact]
    public void CurrentLossEstimateIsWithinThreeStandardErrorsOfTheExactRate()
    {
        var e = trap.Current.Estimate;
        Assert.Equal(trap.Data.Transitions, e.Transitions);
        AssertStandardErrorIsTheNoiseFloor(e.StandardError, trap.Data);
        Assert.InRange(e.Rate, ExactSigma - 3 * e.StandardError, ExactSigma + 3 * e.StandardError);
        Assert.Equal("neural-current+richardson", e.Method);
        Assert.Equal("mlp:2x32", e.Basis);
        Assert.Equal(e.Rate, e.Debiased);
        Assert.Equal(trap.Data.Trajectories * (long)trap.Data.Frames, e.Frames);
        Assert.Equal(2, trap.Current.Curves.Count);
        Assert.All(trap.Current.Curves, c => Assert.True(c.BestEpoch >= 1 && c.ValidationLoss.Count >= c.BestEpoch));
    }

    [Fact]
    public void LearnedFieldApproachesTheThermodynamicForce()
    {
        // D^-1 v = (eps / T) J x for this trap (stationary covariance (T/k) I, so v = eps J x). The statistic: the learned
        // field's relative L2 distance from it over a grid covering one stationary standard deviation (0.71). Its sampling
        // spread, measured over 12 replicates of this fit (data seeds 11, 111, ..., 1111; training seeds 5..16: new data and
        // new weights each): mean 0.1366, standard deviation 0.0400 (this fixture's own fit 0.168). The check is the one-sided
        // 99.865% prediction bound of a new replicate from those 12, mean + t_11 sd sqrt(1 + 1/12) = 0.30 (false-failure rate
        // 0.135%, Student's t for the estimated spread). A field 30% too strong or weak fails, as does one without the
        // inputs' standardisation undone, or the zero field (distance 1).
        const double measuredMean = 0.1366, measuredSd = 0.0400;
        const int replicates = 12;
        double bound = measuredMean + StudentT.InvCDF(0, 1, replicates - 1, 0.99865) * measuredSd * Math.Sqrt(1 + 1.0 / replicates);
        var points = new List<double>();
        for (int i = -2; i <= 2; i++)
            for (int j = -2; j <= 2; j++) points.AddRange([0.35 * i, 0.35 * j]);
        double[] d = trap.Current.Model.ThermodynamicForce(points.ToArray());
        double error = 0, norm = 0;
        for (int p = 0; p < points.Count / 2; p++)
        {
            double fx = -0.6 * points[2 * p + 1], fy = 0.6 * points[2 * p];
            error += Math.Pow(d[2 * p] - fx, 2) + Math.Pow(d[2 * p + 1] - fy, 2);
            norm += fx * fx + fy * fy;
        }
        Assert.InRange(Math.Sqrt(error / norm), 0, bound);
    }

    [Fact]
    public void NeepEstimateIsWithinThreeStandardErrorsOfTheExactRate()
    {
        using var fit = NeuralEntropyProductionEstimator.Fit(trap.Data, new NeuralEstimatorSettings { Method = NeuralMethods.Neep, Training = Fast });
        var e = fit.Estimate;
        AssertStandardErrorIsTheNoiseFloor(e.StandardError, trap.Data);
        Assert.InRange(e.Rate, ExactSigma - 3 * e.StandardError, ExactSigma + 3 * e.StandardError);
    }

    /// <summary>
    /// The reported error of a held-out estimate near the optimum is its noise floor: a contribution's fluctuating part is
    /// 2 d . sqrt(2 D) dW / dt (current loss) or 2 Delta S / dt to first order (NEEP: d/dS (S - e^-S) = 2 at S = 0, and
    /// var Delta S = 2 sigma dt by the fluctuation theorem), variance 8 sigma / dt per transition, so the mean over
    /// tau / dt transitions has standard error sqrt(8 sigma / tau) = 0.019 here. The Richardson combination
    /// 2 sigma(dt) - sigma(2 dt) keeps that leading term (the lag-2 noise is the average of two lag-1 noises, so the
    /// combination's noise is the lag-1 one). The reported value is a standard deviation over 100 trajectories,
    /// relative spread sqrt(1 / (2 * 99)) = 0.071: within 3 spreads of the floor (false-failure rate 0.27%).
    /// </summary>
    private static void AssertStandardErrorIsTheNoiseFloor(double standardError, TrajectoryEnsemble data)
    {
        double tau = (data.Frames - 1) * data.Dt * data.Trajectories;
        double floor = Math.Sqrt(8 * ExactSigma / tau), spread = Math.Sqrt(1.0 / (2 * (data.Trajectories - 1)));
        Assert.InRange(standardError, floor * (1 - 3 * spread), floor * (1 + 3 * spread));
    }

    [Fact]
    public void SameSeedGivesTheSameResultBitForBit()
    {
        var small = OverdampedData.DrivenTrap(12, 1000, 0.01, seed: 3);
        var options = Fast with { Epochs = 3, Threads = 1 };
        var settings = new NeuralEstimatorSettings { Method = NeuralMethods.Current, Training = options };
        using var a = NeuralEntropyProductionEstimator.Fit(small, settings);
        using var b = NeuralEntropyProductionEstimator.Fit(small, settings);
        using var c = NeuralEntropyProductionEstimator.Fit(small, settings with { Training = options with { Seed = 6 } });
        Assert.Equal(a.Estimate.Rate, b.Estimate.Rate);
        Assert.Equal(a.Estimate.StandardError, b.Estimate.StandardError);
        Assert.Equal(a.Curves[1].TrainLoss, b.Curves[1].TrainLoss);
        Assert.NotEqual(a.Estimate.Rate, c.Estimate.Rate);
    }

    [Fact]
    public void SavedModelReloadsWithTheSameFieldAndEstimate()
    {
        var small = OverdampedData.DrivenTrap(12, 1000, 0.01, seed: 4);
        using var fit = NeuralEntropyProductionEstimator.Fit(small,
            new NeuralEstimatorSettings { Method = NeuralMethods.Current, Training = Fast with { Epochs = 3 } });
        string path = Path.Combine(Path.GetTempPath(), $"thermolearn-neural-{Guid.NewGuid():N}.model");
        try
        {
            fit.Model.Save(path);
            using var loaded = NeuralModel.Load(path);
            Assert.Equal(fit.Model.Info with { Diffusion = null }, loaded.Info with { Diffusion = null });
            Assert.Equal(fit.Model.Info.Diffusion, loaded.Info.Diffusion);
            double[] points = [0.3, -0.2, 1.0, 0.4];
            Assert.Equal(fit.Model.ThermodynamicForce(points), loaded.ThermodynamicForce(points));
            var before = NeuralEntropyProductionEstimator.Evaluate(fit.Model, small).Estimate;
            var after = NeuralEntropyProductionEstimator.Evaluate(loaded, small).Estimate;
            Assert.Equal(before.Rate, after.Rate);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReloadedModelIsScoredWithTheRuleItWasTrainedWith(bool trapezoid)
    {
        // The rate of a current model on data is the mean of -l per transition, with l evaluated by the model's own
        // rule: midpoint l = d(x_mid) D d(x_mid) - 2 d(x_mid) . dx / dt, trapezoid l = (d_i D d_i + d_e D d_e) / 2
        // - (d_i + d_e) . dx / dt. Recomputed here from the reloaded model's field (float32 network: 1e-4 relative).
        var small = OverdampedData.DrivenTrap(12, 1000, 0.01, seed: 4);
        using var fit = NeuralEntropyProductionEstimator.Fit(small, new NeuralEstimatorSettings
        {
            Method = NeuralMethods.Current, Training = Fast with { Epochs = 3 }, Trapezoid = trapezoid, Diffusion = DiffusionSpec.Isotropic(0.5, 2),
        });
        string path = Path.Combine(Path.GetTempPath(), $"thermolearn-neural-{Guid.NewGuid():N}.model");
        try
        {
            fit.Model.Save(path);
            using var loaded = NeuralModel.Load(path);
            Assert.Equal(trapezoid, loaded.Info.Trapezoid);
            double rate = NeuralEntropyProductionEstimator.Evaluate(loaded, small).Estimate.Rate;
            Assert.Equal(ManualRate(loaded, small, trapezoid, diffusion: 0.5), rate, 1e-4 * Math.Abs(rate) + 1e-6);
            // the other rule gives a different number on the same field (else this test could not fail)
            Assert.NotEqual(ManualRate(loaded, small, !trapezoid, diffusion: 0.5), rate, 1e-4 * Math.Abs(rate) + 1e-6);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double ManualRate(NeuralModel model, TrajectoryEnsemble data, bool trapezoid, double diffusion)
    {
        int d = data.Dimension;
        double sum = 0;
        long count = 0;
        for (int n = 0; n < data.Trajectories; n++)
        {
            int frames = data.Frames;
            var starts = new double[(frames - 1) * d];
            var ends = new double[(frames - 1) * d];
            var mids = new double[(frames - 1) * d];
            for (int i = 0; i < frames - 1; i++)
                for (int a = 0; a < d; a++)
                {
                    starts[i * d + a] = data.Frame(n, i)[a];
                    ends[i * d + a] = data.Frame(n, i + 1)[a];
                    mids[i * d + a] = (data.Frame(n, i)[a] + data.Frame(n, i + 1)[a]) / 2;
                }
            double[] fi = model.ThermodynamicForce(trapezoid ? starts : mids);
            double[] fe = trapezoid ? model.ThermodynamicForce(ends) : fi;
            for (int i = 0; i < frames - 1; i++)
            {
                double quadratic = 0, current = 0;
                for (int a = 0; a < d; a++)
                {
                    double dx = ends[i * d + a] - starts[i * d + a];
                    quadratic += diffusion * (fi[i * d + a] * fi[i * d + a] + fe[i * d + a] * fe[i * d + a]) / 2;
                    current += (fi[i * d + a] + fe[i * d + a]) / 2 * dx;
                }
                sum += -(quadratic - 2 * current / data.Dt);
                count++;
            }
        }
        return sum / count;
    }

    [Theory]
    [InlineData(NeuralMethods.Current)]
    [InlineData(NeuralMethods.Neep)]
    public void DivergingTrainingStopsAndKeepsTheBestFiniteWeights(string method)
    {
        // Adam moves every weight by about lr per step, so lr = 1e30 overflows float32 within a few steps.
        var small = OverdampedData.DrivenTrap(12, 1000, 0.01, seed: 7);
        using var fit = NeuralEntropyProductionEstimator.Fit(small,
            new NeuralEstimatorSettings { Method = method, Training = Fast with { Epochs = 4, LearningRate = 1e30 } });
        Assert.True(fit.Diverged);
        Assert.All(fit.Curves, c =>
        {
            Assert.NotNull(c.Diverged);
            Assert.False(double.IsFinite(c.Diverged!.Loss));
            Assert.True(c.BestEpoch < c.Diverged.Epoch);
            Assert.All(c.TrainLoss.Concat(c.ValidationLoss), v => Assert.True(double.IsFinite(v)));
        });
        Assert.True(double.IsFinite(fit.Estimate.Rate));
        Assert.True(double.IsFinite(fit.Estimate.StandardError));
    }

    [Fact]
    public void BadInputIsRejectedWithAClearMessage()
    {
        var tiny = OverdampedData.DrivenTrap(1, 4, 0.01, seed: 1);
        var e1 = Assert.Throws<InvalidInputException>(() => NeuralEntropyProductionEstimator.Fit(tiny, new NeuralEstimatorSettings { Training = Fast }));
        Assert.Contains("trajectory pieces", e1.Message);
        var data = OverdampedData.DrivenTrap(12, 100, 0.01, seed: 1);
        Assert.Contains("learning rate", Assert.Throws<InvalidInputException>(() => NeuralEntropyProductionEstimator.Fit(data,
            new NeuralEstimatorSettings { Training = Fast with { LearningRate = -1 } })).Message);
        Assert.Contains("unknown neural method", Assert.Throws<InvalidInputException>(() => NeuralEntropyProductionEstimator.Fit(data,
            new NeuralEstimatorSettings { Method = "magic", Training = Fast })).Message);
        Assert.Contains("positive definite", Assert.Throws<InvalidInputException>(() => NeuralEntropyProductionEstimator.Fit(data,
            new NeuralEstimatorSettings { Training = Fast, Diffusion = DiffusionSpec.Given([1, 0, 0, -1], 2) })).Message);
        data.Data[17] = double.NaN;
        Assert.Contains("finite", Assert.Throws<InvalidInputException>(() => NeuralEntropyProductionEstimator.Fit(data,
            new NeuralEstimatorSettings { Training = Fast })).Message);
        Assert.Contains("no such model file", Assert.Throws<InvalidInputException>(() => NeuralModel.Load("/nonexistent/model.bin")).Message);
    }
}
