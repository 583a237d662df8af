using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Inference;

// Noise-robust inference (docs/inference.md, "Measurement noise"): the continuous process sampled exactly at the frame times
// (scheme exact), plus independent Gaussian noise of std s on every coordinate of every frame. Statistical checks at
// z = StatisticalTolerance.Z(0.0027, checks): 0.27% false failures per test for calibrated errors (Bonferroni). Fixed seeds.
public class MeasurementNoiseTests
{
    /// <summary>The driven trap (k = 1, eps = 0.3, D = 0.5) sampled every 0.01, with noise of std <paramref name="s"/> added.</summary>
    internal static TrajectoryEnsemble NoisyTrap(LinearModel model, double s, int trajectories, int frames, ulong seed)
    {
        var clean = Simulator.Run(model, new SimulationOptions
        {
            Trajectories = trajectories,
            Steps = frames - 1,
            Dt = 0.01,
            Seed = seed,
            Scheme = "exact",
            ComputeEnergetics = false,
        }).Trajectories;
        var noisy = (double[])clean.Data.Clone();
        var random = RandomStream.For(seed + 1, 0);
        for (int i = 0; i < noisy.Length; i++) noisy[i] += s * random.NextGaussian();
        return new TrajectoryEnsemble(clean.Trajectories, clean.Frames, clean.Dimension, clean.Dt, noisy);
    }

    /// <summary>
    /// The robust fit took only D from successive increments and corrected it with the drift term of the noisy moments: the
    /// Ito current's noise, -Sigma/dt, made the drift coefficient -(k C + Sigma/dt)/(C + Sigma) (-1.49 for -1 at s = 0.05) and
    /// the drift term 3 dt/2 S off by about 3 k Sigma (1 + Sigma/(2 k C dt)), so D was 0.06 (15 stderr) high at s = 0.1 on
    /// 4e5 transitions of the 1-D trap; on these data (16 seeds) D was 2.5 (s = 0.05) and 11 (s = 0.1) stderr high, drift and
    /// score 11 and 22 stderr off. The moments without the noise's share give drift, D, score, mean local velocity and the
    /// noise covariance s^2 I within their errors (16 seeds of this setting: z means within 0.7, spreads 0.6-1.3).
    /// </summary>
    [Theory]
    [InlineData(0.05, 401UL)]
    [InlineData(0.1, 402UL)]
    public void NoiseRobustInferenceRecoversTheDrivenTrapUnderMeasurementNoise(double s, ulong seed)
    {
        var model = InferenceData.DrivenTrap();
        var data = NoisyTrap(model, s, 20, 10_000, seed);
        var result = DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true);
        double[,] a = model.A, c = model.StationaryCovariance;
        double dd = 0.5;
        double z = StatisticalTolerance.Z(0.0027, checks: 4 + 4 + 4 + 4 + 4);
        void Near(double exact, double value, double se, string what) =>
            Assert.True(Math.Abs(value - exact) < z * se, $"{what}: {value} +- {se}, exact {exact} (z = {(value - exact) / se:F2})");
        var noise = result.MeasurementNoise!;
        for (int m = 0; m < 2; m++)
            for (int q = 0; q < 2; q++)
            {
                int i = m * 2 + q;
                Near(m == q ? dd : 0, result.Diffusion.Matrix[i], result.Diffusion.StandardErrors[i], $"D[{m},{q}]");
                Near(m == q ? s * s : 0, noise.Covariance[i], noise.StandardErrors[i], $"Sigma[{m},{q}]");
            }
        // functions 1, x0, x1; coefficient [a * 2 + mu]: drift -A, score -C^-1 (C = 0.5 I), v = -(A - D C^-1)
        for (int j = 0; j < 2; j++)
            for (int mu = 0; mu < 2; mu++)
            {
                int i = (1 + j) * 2 + mu;
                double score = mu == j ? -1 / c[0, 0] : 0;
                Near(-a[mu, j], result.Drift.Coefficients[i], result.Drift.StandardErrors![i], $"drift x{j} -> {mu}");
                Near(score, result.Score.Coefficients[i], result.Score.StandardErrors![i], $"score x{j} -> {mu}");
                Near(-a[mu, j] - dd * score, result.MeanLocalVelocity.Coefficients[i], result.MeanLocalVelocity.StandardErrors![i], $"v x{j} -> {mu}");
            }
    }

    /// <summary>
    /// Positions that are white noise alone (std 0.1, no motion): the robust fit read them as D = 1.50 +- 0.01 and a drift of -100 x,
    /// exit 0; once the noise's share is removed nothing is left, and it says so.
    /// </summary>
    [Fact]
    public void PureMeasurementNoiseIsRefusedNotReadAsMotion()
    {
        var random = RandomStream.For(405, 0);
        var values = new double[20 * 5_000 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = 0.1 * random.NextGaussian();
        var data = new TrajectoryEnsemble(20, 5_000, 2, 0.01, values);
        var error = Assert.Throws<InvalidInputException>(() => DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true));
        Assert.Contains("measurement noise estimated from successive increments", error.Message);
        Assert.Contains("variance 0.01", error.Message);
    }

    /// <summary>The noise is told from successive increments; with two frames per trajectory there are none, and the fit said "got [NaN]".</summary>
    [Fact]
    public void NoiseRobustInferenceWithoutSuccessiveIncrementsSaysWhy()
    {
        var data = NoisyTrap(InferenceData.DrivenTrap(), 0.05, 400, 2, 403);
        // without the coarse-sampling correction, whose lag 2 needs three frames as well and says so first
        var error = Assert.Throws<InvalidInputException>(() => DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true,
            correction: CoarseSamplingCorrection.None));
        Assert.Contains("successive increments", error.Message);
        Assert.Contains("three frames", error.Message);
    }
}
