using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using Xunit;

namespace ThermoLearn.Tests.Inference;

// Statistical checks use |estimate - exact| < 3 reported stderr: a false-failure rate of 0.27% per check
// for a calibrated error; seeds are fixed, so each test is deterministic.
public class LinearEstimatorTests
{
    [Fact]
    public void ExactValuesOfTheTestModelsMatchTheSpec()
    {
        var (a, d) = ExactLinearGenerator.DrivenTrap();
        Assert.Equal(0.18, ExactLinearGenerator.EntropyProduction(a, d), 10);
        var (a2, d2) = ExactLinearGenerator.BeadSpring(2);
        Assert.Equal(2.025, ExactLinearGenerator.EntropyProduction(a2, d2), 10);
        var (a5, d5) = ExactLinearGenerator.BeadSpring(5);
        Assert.Equal(0.629817, ExactLinearGenerator.EntropyProduction(a5, d5), 5);
    }

    [Fact]
    public void DrivenTrap320kFramesIsWithinThreeStandardErrorsOfExact()
    {
        var (a, d) = ExactLinearGenerator.DrivenTrap();
        var data = ExactLinearGenerator.Simulate(a, d, 0.01, 1, 320_000, seed: 11);
        var result = EntropyProductionEstimator.Current(data, new PolynomialBasis(2, 1), DiffusionSpec.Isotropic(0.5, 2)).EntropyProduction;
        Assert.InRange(result.Rate, 0.18 - 3 * result.StandardError, 0.18 + 3 * result.StandardError);
        Assert.InRange(result.StandardError, 0.005, 0.02); // SFI reports +-0.0107 on this case
        Assert.Equal("current", result.Method);
        Assert.Equal(320_000, result.Frames);
        Assert.Equal(result.Rate - 2.0 * 3 * 2 / result.ObservedTime, result.Debiased, 12);
    }

    [Fact]
    public void EstimatedDiffusionGivesTheSameRateWithinErrors()
    {
        var (a, d) = ExactLinearGenerator.DrivenTrap();
        var data = ExactLinearGenerator.Simulate(a, d, 0.01, 4, 50_000, seed: 12);
        var result = EntropyProductionEstimator.Current(data, new PolynomialBasis(2, 2), DiffusionSpec.Estimated).EntropyProduction;
        Assert.InRange(result.Debiased, 0.18 - 3 * result.StandardError, 0.18 + 3 * result.StandardError);
        Assert.Equal(0.5, result.Settings.Diffusion[0], 2);
    }

    [Theory]
    [InlineData(2, 2.025)]
    [InlineData(5, 0.629817)]
    public void BeadSpringIsWithinThreeStandardErrors(int beads, double exact)
    {
        var (a, d) = ExactLinearGenerator.BeadSpring(beads);
        // dt = 0.01 biases the plain estimate by -3.9% (n=2, see CoarseSamplingAnalysisTests): use the corrected one
        var data = ExactLinearGenerator.Simulate(a, d, 0.01, 1, 300_000, seed: (ulong)(20 + beads));
        var spec = DiffusionSpec.Given(d.ToRowMajorArray(), beads);
        var result = EntropyProductionEstimator.CoarseSamplingCorrected(data, new PolynomialBasis(beads, 1), spec);
        Assert.InRange(result.Debiased, exact - 3 * result.StandardError, exact + 3 * result.StandardError);
        Assert.True(result.StandardError < 0.08 * exact, $"stderr {result.StandardError}");
    }

    [Fact]
    public void DriftDiffusionAndScoreCoverTheTruth()
    {
        var (a, d) = ExactLinearGenerator.DrivenTrap();
        var data = ExactLinearGenerator.Simulate(a, d, 0.01, 8, 25_000, seed: 31);
        var result = DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1));
        var c = ExactLinearGenerator.Stationary(a, d);
        var score = -c.Inverse();
        // basis order: 1, x0, x1; coefficient [a * 2 + mu]
        for (int mu = 0; mu < 2; mu++)
        {
            AssertCovered(0, result.Drift, 0 * 2 + mu);
            AssertCovered(-a[mu, 0], result.Drift, 1 * 2 + mu);
            AssertCovered(-a[mu, 1], result.Drift, 2 * 2 + mu);
            AssertCovered(score[mu, 0], result.Score, 1 * 2 + mu);
            AssertCovered(score[mu, 1], result.Score, 2 * 2 + mu);
            for (int nu = 0; nu < 2; nu++)
            {
                double se = result.Diffusion.StandardErrors[mu * 2 + nu];
                Assert.InRange(result.Diffusion.Matrix[mu * 2 + nu], d[mu, nu] - 3 * se, d[mu, nu] + 3 * se);
            }
        }
        // v = mu F - D s = -(A - D C^-1) x
        var v = -(a - d * c.Inverse());
        AssertCovered(v[0, 1], result.MeanLocalVelocity, 2 * 2 + 0);
        AssertCovered(v[1, 0], result.MeanLocalVelocity, 1 * 2 + 1);
    }

    private static void AssertCovered(double exact, LinearVectorField field, int index)
    {
        double se = field.StandardErrors![index];
        Assert.True(se > 0);
        Assert.InRange(field.Coefficients[index], exact - 3 * se, exact + 3 * se);
    }

    [Fact]
    public void TurBoundStaysBelowExactAndApproachesItAsDtShrinks()
    {
        var (a, d) = ExactLinearGenerator.BeadSpring(2);
        var coarse = ExactLinearGenerator.Simulate(a, d, 0.1, 1, 100_000, seed: 41);
        var fine = ExactLinearGenerator.Simulate(a, d, 0.005, 1, 400_000, seed: 42);
        var basis = new PolynomialBasis(2, 1);
        var tc = EntropyProductionEstimator.Tur(coarse, basis);
        var tf = EntropyProductionEstimator.Tur(fine, basis);
        Assert.True(tc.Rate < 2.025 + 3 * tc.StandardError, $"coarse {tc.Rate} +- {tc.StandardError}");
        Assert.True(tf.Rate < 2.025 + 3 * tf.StandardError, $"fine {tf.Rate} +- {tf.StandardError}");
        Assert.InRange(tf.Rate, 2.025 - 3 * tf.StandardError - 0.03, 2.025 + 3 * tf.StandardError);
        Assert.True(tc.Rate < tf.Rate, "the bound loosens at larger dt");
    }

    [Fact]
    public void RichardsonRemovesTheCoarseSamplingBias()
    {
        // dt k/gamma = 0.1 on bead-spring n=2: both estimates converge to their analytic large-data limits
        // (plain -32.7%, Richardson -11.0%), so the correction does what the derivation says
        var (a, d) = ExactLinearGenerator.BeadSpring(2);
        var data = ExactLinearGenerator.Simulate(a, d, 0.1, 1, 200_000, seed: 51);
        var spec = DiffusionSpec.Given(d.ToRowMajorArray(), 2);
        var basis = new PolynomialBasis(2, 1);
        var plain = EntropyProductionEstimator.Current(data, basis, spec).EntropyProduction;
        var corrected = EntropyProductionEstimator.CoarseSamplingCorrected(data, basis, spec);
        double plainLimit = CoarseSamplingAnalysisTests.Limit(a, d, 0.1);
        double correctedLimit = 2 * plainLimit - CoarseSamplingAnalysisTests.Limit(a, d, 0.2);
        Assert.InRange(plain.Debiased, plainLimit - 3 * plain.StandardError, plainLimit + 3 * plain.StandardError);
        Assert.InRange(corrected.Debiased, correctedLimit - 3 * corrected.StandardError, correctedLimit + 3 * corrected.StandardError);
        Assert.True(Math.Abs(corrected.Debiased - 2.025) < Math.Abs(plain.Debiased - 2.025) / 2, $"corrected {corrected.Debiased} vs plain {plain.Debiased}");
    }

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var (a, d) = ExactLinearGenerator.DrivenTrap();
        var data = ExactLinearGenerator.Simulate(a, d, 0.01, 1, 20_000, seed: 61);
        var basis = new PolynomialBasis(2, 3);
        var spec = DiffusionSpec.Isotropic(0.5, 2);
        var parallel = EntropyProductionEstimator.Current(data, basis, spec).EntropyProduction;
        CurrentStatistics.Parallelism = new ParallelOptions { MaxDegreeOfParallelism = 1 };
        try
        {
            var serial = EntropyProductionEstimator.Current(data, basis, spec).EntropyProduction;
            Assert.Equal(parallel.Rate, serial.Rate);
            Assert.Equal(parallel.StandardError, serial.StandardError);
        }
        finally
        {
            CurrentStatistics.Parallelism = new ParallelOptions();
        }
    }

    [Fact]
    public void BootstrapAndJackknifeAgree()
    {
        var (a, d) = ExactLinearGenerator.DrivenTrap();
        var data = ExactLinearGenerator.Simulate(a, d, 0.01, 64, 2_000, seed: 71);
        var basis = new PolynomialBasis(2, 1);
        var spec = DiffusionSpec.Isotropic(0.5, 2);
        var jack = EntropyProductionEstimator.Current(data, basis, spec).EntropyProduction;
        var boot = EntropyProductionEstimator.Current(data, basis, spec, new ErrorOptions(Bootstrap: 400, Seed: 5)).EntropyProduction;
        Assert.Equal(jack.Rate, boot.Rate);
        Assert.InRange(boot.StandardError / jack.StandardError, 0.8, 1.25);
        Assert.Contains("bootstrap", boot.Settings.Errors);
        Assert.Contains("whole trajectories", jack.Settings.Errors);
    }
}
