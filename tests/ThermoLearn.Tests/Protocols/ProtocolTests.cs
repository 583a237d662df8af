using ThermoLearn.Control;
using ThermoLearn.Protocols;
using Xunit;

namespace ThermoLearn.Tests.Protocols;

public class ProtocolTests
{
    /// <summary>
    /// lambda* is linear inside (0, tau), so the two-knot closed form of <see cref="HarmonicTranslation.MeanWork(ReadOnlySpan{double}, double, double, double, double, double)"/>
    /// through its values just after and just before the jumps is its exact mean work: it must equal W* = gamma Delta^2 / (tau + 2 gamma / k).
    /// </summary>
    [Fact]
    public void OptimalTrapProtocolJumpsAtBothEndsAndDoesTheSchmiedlSeifertWork()
    {
        double k = 2, gamma = 0.5, start = 0.3, end = 1.7, tau = 1.5;
        var optimum = new OptimalTrapProtocol(k, gamma, start, end, tau);
        Assert.Equal(1, optimum.ControlCount);
        Assert.Equal(tau, optimum.Duration);
        var lambda = new double[1];
        optimum.Evaluate(0, lambda);
        Assert.Equal(start, lambda[0]);
        optimum.Evaluate(tau, lambda);
        Assert.Equal(end, lambda[0]);
        double after = optimum.Interior(0), before = optimum.Interior(tau);
        Assert.Equal(start + (end - start) / (k * tau / gamma + 2), after, 14);
        Assert.Equal(start + (end - start) * (1 + k * tau / gamma) / (k * tau / gamma + 2), before, 14);
        optimum.Evaluate(1e-12, lambda);
        Assert.Equal(after, lambda[0], 9);
        optimum.Evaluate(tau - 1e-12, lambda);
        Assert.Equal(before, lambda[0], 9);
        double work = HarmonicTranslation.MeanWork([after, before], start, end, k, gamma, tau);
        Assert.Equal(HarmonicTranslation.OptimalWork(k, gamma, end - start, tau), work, 12);
        Assert.Throws<InvalidInputException>(() => new OptimalTrapProtocol(0, gamma, start, end, tau));
        Assert.Throws<InvalidInputException>(() => new OptimalTrapProtocol(k, -1, start, end, tau));
        Assert.Throws<InvalidInputException>(() => new OptimalTrapProtocol(k, gamma, double.NaN, end, tau));
        Assert.Contains("duration tau", Assert.Throws<InvalidInputException>(() => new OptimalTrapProtocol(k, gamma, start, end, 0)).Message);
    }

    /// <summary>The saved samples of a piecewise-linear protocol hold every knot, so interpolating them reproduces it exactly.</summary>
    [Fact]
    public void TabulatedSamplesOfAKnotProtocolReproduceItExactly()
    {
        var family = new PiecewiseLinearFamily(2.0, [0.0, 1.0], [1.0, -1.0], 7);
        double[] theta = [0.4, -0.3, 0.2, 0.5, -0.1, 0.0, 0.3, -0.2, 0.1, 0.6, -0.4, 0.2, 0.1, 0.25];
        var protocol = family.WithParameters(theta);
        var table = protocol.Tabulate();
        Assert.Equal(0.0, table.Times[0]);
        Assert.Equal(0.0, table.Times[1]);       // the start jump: lambda_i, then the first knot
        Assert.Equal(2.0, table.Times[^1]);
        Assert.Equal(2.0, table.Times[^2]);      // the end jump
        var a = new double[2];
        var b = new double[2];
        for (int m = 0; m <= 1000; m++)
        {
            double t = 2.0 * m / 1000;
            table.Evaluate(t, a);
            protocol.Evaluate(t, b);
            Assert.Equal(b[0], a[0], 11);
            Assert.Equal(b[1], a[1], 11);
        }
    }

    [Fact]
    public void InverseTauFitRecoversAnExactLawAndNeedsTwoDurations()
    {
        double[] taus = [1, 2, 5, 10];
        var fit = InverseTauFit.Of(taus, taus.Select(t => 2.0 + 3.0 / t).ToArray());
        Assert.Equal(2.0, fit.WInf, 12);
        Assert.Equal(3.0, fit.B, 12);
        var one = InverseTauFit.Of([1.0], [5.0]);
        Assert.True(double.IsNaN(one.WInf) && double.IsNaN(one.B));
        Assert.Throws<InvalidInputException>(() => InverseTauFit.Of([1.0, 2.0], [1.0]));
        Assert.Throws<InvalidInputException>(() => InverseTauFit.Of([1.0, 0.0], [1.0, 2.0]));
    }
}
