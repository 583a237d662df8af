using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// Drift, diffusion and score of frames far apart (docs/inference.md, "Coarse sampling: drift, diffusion and score"). At frame
/// spacing dt the Ito fit gives the lag-dt drift (exp(-A dt) - 1)/dt of a linear model, not -A; the driven trap saved every 0.2 gave a
/// drift 10.6 standard errors off with nothing said. The data come from the exact propagator of the continuous process.
/// </summary>
public class CoarseSampledDynamicsTests
{
    /// <summary>
    /// Driven trap (A = [[1, 0.3], [-0.3, 1]], D = 0.5 I, C = 0.5 I) sampled exactly every 0.1 (rate x dt = 0.104), 1e6 frames.
    /// Large-data limits (docs/inference.md): the lag-dt drift is -0.9557 on the diagonal and 0.2714 off it (-4.4% and -9.5%; about 11
    /// and 6 standard errors here), the Richardson drift -0.9977 and 0.2973 (0.6 and 0.7 standard error), the lag-1 D 0.49884 and the
    /// corrected D 0.49993; the corrected score is exact in the limit. Measured on 3 other seeds: corrected drift, score, v and D within
    /// 1.6 stderr, lag-dt drift 4.7-12.7 off.
    /// </summary>
    [Fact]
    public void RichardsonGivesTheContinuousTimeFieldsOfCoarseFrames()
    {
        const double dt = 0.1;
        var model = InferenceData.DrivenTrap();
        var data = Exact(model, dt, 50, 20_000, seed: 2301);
        var result = DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1));
        Assert.Same(CoarseSamplingCorrection.Richardson, result.Correction);
        var a = InferenceData.M(model.A);
        var d = InferenceData.M(model.Diffusion);
        var score = -InferenceData.M(model.StationaryCovariance).Inverse();
        var v = -(a - d * InferenceData.M(model.StationaryCovariance).Inverse());
        // 21 checks (drift, score and v: 6 coefficients each with the constant; D: 3 distinct entries) and 4 of the lag-dt
        // drift against its own exact value: z for a family-wise false-failure rate of 0.27% over 25 (z = 3.95)
        double z = StatisticalTolerance.Z(0.0027, checks: 25);
        // basis order 1, x0, x1; coefficient [a * 2 + mu]
        for (int mu = 0; mu < 2; mu++)
        {
            Covered(0, result.Drift, 0 * 2 + mu, z);
            Covered(0, result.Score, 0 * 2 + mu, z);
            Covered(0, result.MeanLocalVelocity, 0 * 2 + mu, z);
            for (int nu = 0; nu < 2; nu++)
            {
                Covered(-a[mu, nu], result.Drift, (nu + 1) * 2 + mu, z);
                Covered(score[mu, nu], result.Score, (nu + 1) * 2 + mu, z);
                Covered(v[mu, nu], result.MeanLocalVelocity, (nu + 1) * 2 + mu, z);
                if (nu >= mu)
                {
                    double se = result.Diffusion.StandardErrors[mu * 2 + nu];
                    Assert.True(Math.Abs(result.Diffusion.Matrix[mu * 2 + nu] - d[mu, nu]) < z * se,
                        $"D[{mu},{nu}] = {result.Diffusion.Matrix[mu * 2 + nu]} +- {se}, exact {d[mu, nu]}");
                }
            }
        }
        // the uncorrected drift is the lag-dt one, (exp(-A dt) - 1)/dt (the value infer reported before), and on these data
        // many standard errors from the continuous-time drift: its diagonal by more than 8 (about 11 expected)
        var lagOne = result.Uncorrected!;
        var phi = model.Transition(0, dt).Phi;
        for (int mu = 0; mu < 2; mu++)
            for (int nu = 0; nu < 2; nu++)
                Covered((phi[mu * 2 + nu] - (mu == nu ? 1 : 0)) / dt, lagOne.Drift, (nu + 1) * 2 + mu, z);
        for (int mu = 0; mu < 2; mu++)
        {
            int i = (mu + 1) * 2 + mu;
            double off = (lagOne.Drift.Coefficients[i] + a[mu, mu]) / lagOne.Drift.StandardErrors![i];
            Assert.True(off > 8, $"lag-dt drift[{mu},{mu}] {lagOne.Drift.Coefficients[i]} is only {off:F1} stderr from {-a[mu, mu]}");
        }
        // the correction moved the drift by about 4.8% of its size (large-data limit 4.7%): trusted, no warning
        Assert.InRange(result.DriftCorrection!.Fraction, 0.04, 0.055);
        Assert.Null(result.DriftCorrection.UntrustedFraction);
    }

    /// <summary>
    /// Without the correction the fields are the lag-dt ones, bit for bit those a corrected estimate keeps as uncorrected, and the
    /// corrected fields come from the same batches (streamed = in memory is StreamingEstimatorsTests').
    /// </summary>
    [Fact]
    public void NoCorrectionGivesTheLagOneFields()
    {
        var data = Exact(InferenceData.DrivenTrap(), 0.1, 8, 2_000, seed: 2302);
        var basis = new PolynomialBasis(2, 1);
        var plain = DynamicsEstimator.Infer(data, basis, correction: CoarseSamplingCorrection.None);
        var corrected = DynamicsEstimator.Infer(data, basis);
        Assert.Null(plain.Uncorrected);
        Assert.Null(plain.DriftCorrection);
        var lagOne = corrected.Uncorrected!;
        foreach (var (x, y) in new[] { (plain.Drift, lagOne.Drift), (plain.Score, lagOne.Score), (plain.MeanLocalVelocity, lagOne.MeanLocalVelocity) })
        {
            Assert.Equal(x.Coefficients, y.Coefficients);
            Assert.Equal(x.StandardErrors!, y.StandardErrors!);
        }
        Assert.Equal(plain.Diffusion.Matrix, lagOne.Diffusion.Matrix);
        Assert.Equal(plain.Diffusion.StandardErrors, lagOne.Diffusion.StandardErrors);
        var refused = Assert.Throws<InvalidInputException>(() => DynamicsEstimator.Infer(data, basis, correction: CoarseSamplingCorrection.Richardson2));
        Assert.Contains("richardson2", refused.Message);
    }

    /// <summary>Frames of <paramref name="model"/> every <paramref name="dt"/> from its exact propagator (no discretisation error), from the stationary law.</summary>
    internal static TrajectoryEnsemble Exact(LinearModel model, double dt, int trajectories, int frames, ulong seed) =>
        Simulator.Run(model, new SimulationOptions
        {
            Trajectories = trajectories,
            Steps = frames - 1,
            Dt = dt,
            SaveEvery = 1,
            Seed = seed,
            Scheme = "exact",
        }).Trajectories;

    private static void Covered(double exact, LinearVectorField field, int index, double z)
    {
        double se = field.StandardErrors![index];
        Assert.True(se > 0);
        Assert.True(Math.Abs(field.Coefficients[index] - exact) < z * se, $"coefficient {index}: {field.Coefficients[index]} +- {se}, exact {exact}");
    }
}
