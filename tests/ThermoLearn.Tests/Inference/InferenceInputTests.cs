using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Inference;

public class InferenceInputTests
{
    private static TrajectoryEnsemble Line(int frames, Func<int, (double, double)> point)
    {
        var data = new double[frames * 2];
        for (int f = 0; f < frames; f++) (data[2 * f], data[2 * f + 1]) = point(f);
        return new TrajectoryEnsemble(1, frames, 2, 0.01, data);
    }

    [Fact]
    public void NaNIsReportedWithItsPosition()
    {
        var data = Line(200, f => (Math.Sin(f), f == 7 ? double.NaN : Math.Cos(f)));
        var e = Assert.Throws<InvalidInputException>(() => EntropyProductionEstimator.Current(data, new PolynomialBasis(2, 1), DiffusionSpec.Estimated));
        Assert.Contains("frame 7", e.Message);
    }

    [Fact]
    public void OneFrameIsNotEnough()
    {
        var data = new TrajectoryEnsemble(3, 1, 2, 0.01, new double[6]);
        var e = Assert.Throws<InvalidInputException>(() => EntropyProductionEstimator.Current(data, new PolynomialBasis(2, 1), DiffusionSpec.Estimated));
        Assert.Contains("at least 2", e.Message);
    }

    [Fact]
    public void BasisOfTheWrongDimensionIsRejected()
    {
        var data = Line(100, f => (Math.Sin(f), Math.Cos(f)));
        var e = Assert.Throws<InvalidInputException>(() => EntropyProductionEstimator.Current(data, new PolynomialBasis(3, 1), DiffusionSpec.Estimated));
        Assert.Contains("dimension 3", e.Message);
        Assert.Contains("dimension 2", e.Message);
    }

    [Fact]
    public void CollinearBasisFunctionsAreNamed()
    {
        // x1 = 2 x0 + 1: the functions 1, x0, x1 are linearly dependent on the data
        var data = Line(500, f => (Math.Sin(0.1 * f) + 0.01 * Math.Cos(3.7 * f), 2 * (Math.Sin(0.1 * f) + 0.01 * Math.Cos(3.7 * f)) + 1));
        var e = Assert.Throws<InvalidInputException>(() => EntropyProductionEstimator.Current(data, new PolynomialBasis(2, 1), DiffusionSpec.Isotropic(1, 2)));
        Assert.Contains("collinear", e.Message);
        Assert.Contains("x0", e.Message);
        Assert.Contains("x1", e.Message);
    }

    [Theory]
    [InlineData("spline:3")]
    [InlineData("poly:x")]
    [InlineData("poly:40")]
    [InlineData("fourier:0")]
    public void UnknownOrBadBasisSpecsAreBadInput(string spec)
    {
        var data = Line(100, f => (Math.Sin(f), Math.Cos(f)));
        var e = Assert.Throws<InvalidInputException>(() => BasisSpec.Parse(spec, data));
        Assert.Contains(spec.Split(':')[0], e.Message);
    }

    [Fact]
    public void JumpDataMustHoldIntegerLabelsSeenBothWays()
    {
        var fractional = new TrajectoryEnsemble(1, 3, 1, 1, [0, 0.5, 1]);
        Assert.Contains("integer", Assert.Throws<InvalidInputException>(() => JumpEntropyProduction.Estimate(fractional)).Message);
        var oneWay = new TrajectoryEnsemble(1, 6, 1, 1, [0, 1, 2, 0, 1, 2]);
        Assert.Contains("one direction", Assert.Throws<InvalidInputException>(() => JumpEntropyProduction.Estimate(oneWay, new ErrorOptions(Batches: 2))).Message);
    }

    [Fact]
    public void BasesMatchTheirGradientsAndNames()
    {
        var x = new[] { 0.3, -0.7 };
        IBasis[] bases = [new PolynomialBasis(2, 3), new FourierBasis(2, 2, 3.0), new RadialBasis(3, [-1.0, -1.0], [1.0, 1.0])];
        foreach (var basis in bases)
        {
            int n = basis.Count;
            var g = new double[n * 2];
            basis.EvaluateGradient(x, g);
            var plus = new double[n];
            var minus = new double[n];
            for (int j = 0; j < 2; j++)
            {
                var xp = (double[])x.Clone();
                var xm = (double[])x.Clone();
                xp[j] += 1e-6;
                xm[j] -= 1e-6;
                basis.Evaluate(xp, plus);
                basis.Evaluate(xm, minus);
                for (int a = 0; a < n; a++) Assert.Equal((plus[a] - minus[a]) / 2e-6, g[a * 2 + j], 6);
            }
            Assert.Equal("1", basis.Describe(0));
        }
        Assert.Equal(10, new PolynomialBasis(2, 3).Count);
        Assert.Equal("x0^2*x1", new PolynomialBasis(2, 3).Describe(7));
    }
}
