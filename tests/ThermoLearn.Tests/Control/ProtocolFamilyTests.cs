using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using ThermoLearn.Protocols;
using Xunit;

namespace ThermoLearn.Tests.Control;

public class ProtocolFamilyTests
{
    [Fact]
    public void KnotsHaveFixedEndpointsFreeJumpsAndExactParameterDerivatives()
    {
        var family = new PiecewiseLinearFamily(2.0, [0.0, 1.0], [1.0, 1.0], 4);
        double[] theta = [0.3, 0.1, -0.2, -0.4, 0.5, 0, 0, 0.25];
        var protocol = family.WithParameters(theta);
        var lambda = new double[2];
        protocol.Evaluate(0, lambda);
        Assert.Equal([0.0, 1.0], lambda);
        protocol.Evaluate(2.0, lambda);
        Assert.Equal([1.0, 1.0], lambda);
        protocol.Evaluate(1e-12, lambda);          // just after the start jump: line + first knot offset
        Assert.Equal(0.3, lambda[0], 9);
        Assert.Equal(1.5, lambda[1], 9);
        protocol.Evaluate(2.0 - 1e-12, lambda);    // just before the end jump
        Assert.Equal(0.6, lambda[0], 9);
        Assert.Equal(1.25, lambda[1], 9);
        protocol.Evaluate(2.0 / 3, lambda);        // second knot: line 1/3 + 0.1
        Assert.Equal(1.0 / 3 + 0.1, lambda[0], 12);

        // lambda is linear in theta, so a unit difference quotient is the derivative exactly.
        var derivative = new double[2 * 8];
        protocol.ParameterDerivative(0.9, derivative);
        for (int p = 0; p < 8; p++)
        {
            var moved = (double[])theta.Clone();
            moved[p] += 1;
            var a = new double[2];
            family.WithParameters(moved).Evaluate(0.9, a);
            protocol.Evaluate(0.9, lambda);
            for (int c = 0; c < 2; c++) Assert.Equal(a[c] - lambda[c], derivative[c * 8 + p], 12);
        }
    }

    [Fact]
    public void SineSeriesCarriesJumpsInItsFirstTwoParametersOnly()
    {
        var family = new SineSeriesFamily(1.0, [0.0], [1.0], 3);
        var protocol = family.WithParameters([0.25, -0.1, 0.3, 0.2, 0.1]);
        var lambda = new double[1];
        protocol.Evaluate(1e-12, lambda);
        Assert.Equal(0.25, lambda[0], 9);
        protocol.Evaluate(1 - 1e-12, lambda);
        Assert.Equal(0.9, lambda[0], 9);
        protocol.Evaluate(0.5, lambda);   // 0.5 + 0.125 - 0.05 + 0.3 sin(pi/2) + 0.2 sin(pi) + 0.1 sin(3 pi/2)
        Assert.Equal(0.5 + 0.125 - 0.05 + 0.3 - 0.1, lambda[0], 12);
    }

    [Fact]
    public void FitReproducesTheSchmiedlSeifertOptimumWithFourKnotsExactly()
    {
        var task = new TranslateTrapTask(tau: 1);
        var family = task.KnotFamily(4);
        var theta = family.Fit((t, _) => task.OptimalProtocol.Interior(t));
        // lambda*(t) = (1 + t)/3 is linear inside, so the knots hold it exactly: offsets from the line t.
        Assert.Equal(1.0 / 3, theta[0], 9);
        Assert.Equal(-1.0 / 3, theta[3], 9);
        double work = HarmonicTranslation.MeanWork([1.0 / 3, 4.0 / 9, 5.0 / 9, 2.0 / 3], 0, 1, 1, 1, 1);
        Assert.Equal(1.0 / 3, work, 12);
    }

    [Fact]
    public void ClosedFormMeanWorkPinsTheLinearRampAndIsMinimalAtTheOptimum()
    {
        // W_lin(k = gamma = tau = lambda_f = 1) = exp(-1).
        Assert.Equal(Math.Exp(-1), HarmonicTranslation.LinearRampWork(1, 1, 1, 1), 14);
        Assert.Equal(Math.Exp(-1), HarmonicTranslation.MeanWork([0.0, 1.0], 0, 1, 1, 1, 1), 12);
        Assert.Equal(Math.Exp(-1), HarmonicTranslation.MeanWork([0.0, 0.5, 1.0], 0, 1, 1, 1, 1), 12);
        Assert.Equal(0.4, HarmonicTranslation.OptimalWork(2, 1, 1, 1.5), 14);   // gamma / (tau + 2 gamma / k) = 1 / 2.5
        double best = HarmonicTranslation.MeanWork([1.0 / 3, 4.0 / 9, 5.0 / 9, 2.0 / 3], 0, 1, 1, 1, 1);
        double[] knots = [1.0 / 3, 4.0 / 9, 5.0 / 9, 2.0 / 3];
        for (int j = 0; j < 4; j++)
            foreach (double delta in new[] { -0.02, 0.02 })
            {
                var moved = (double[])knots.Clone();
                moved[j] += delta;
                Assert.True(HarmonicTranslation.MeanWork(moved, 0, 1, 1, 1, 1) > best);
            }
        // The time-discretised chain tends to the closed form as h -> 0 (first order in h).
        var task = new TranslateTrapTask(1, steps: 1000);
        var chain = HarmonicTranslation.MeanWork(DiscreteProtocol.From(task.LinearRamp(), 1000), 1, 1);
        Assert.Equal(Math.Exp(-1), chain, 3);
    }

    [Fact]
    public void DefaultStepsKeepTheSimulatedTrapWithinAFifthOfAPercentOfTheClosedForms()
    {
        // Euler-Maruyama's chain is off the continuous <W> by about -k h / (2 gamma): at k = 100, tau = 1 and the former
        // fixed 500 steps (k h / gamma = 0.2) lambda* cost 0.8842 on the chain against W* = 0.9804.
        var coarse = new TranslateTrapTask(1, k: 100, steps: 500);
        Assert.Equal(0.8842, coarse.OptimalWorkAtStep, 4);
        Assert.Equal(100.0 / 102, coarse.OptimalWork, 14);
        foreach (var (k, gamma, tau) in new[] { (1.0, 1.0, 1.0), (4.0, 0.5, 2.0), (100.0, 1.0, 1.0), (1.0, 0.1, 3.0), (0.2, 1.0, 0.5) })
        {
            var task = new TranslateTrapTask(tau, k, gamma, lambdaFinal: 2);
            Assert.True(k * task.Dt / gamma <= 0.004 + 1e-12, $"k h / gamma = {k * task.Dt / gamma} at k = {k}, gamma = {gamma}, tau = {tau}");
            Assert.InRange(task.OptimalWorkAtStep / task.OptimalWork, 0.9975, 1.0);
            Assert.InRange(task.LinearRampWorkAtStep / task.LinearRampWork, 0.9975, 1.0);
        }
        Assert.Equal(500, new TranslateTrapTask(1).Steps);
        Assert.Equal(500, ((TranslateTrapTask)TaskCatalog.Create("translate-trap", 1)).Steps);
        Assert.Equal(25_000, ((TranslateTrapTask)TaskCatalog.Create("translate-trap", 1, new Dictionary<string, double> { ["k"] = 100 })).Steps);
    }

    [Fact]
    public void EraseDefaultStepsScaleWithTheBarrierOverTheFriction()
    {
        // h mu V'' (the box scales with b0) is the same as at b0 = 4, gamma = 1, h = 0.01
        Assert.Equal(1000, new EraseTask(10).Steps);
        Assert.Equal(2000, new EraseTask(10, barrier: 8).Steps);
        Assert.Equal(2000, new EraseTask(10, gamma: 0.5).Steps);
        Assert.Equal(2000, new EraseTask(8, barrier: 10).Steps);
        Assert.Equal(1000, new EraseTask(10, barrier: 2).Steps);
        Assert.Equal(1000, new FlipTask(1, gamma: 0.2, overdamped: true).Steps);
    }

    [Fact]
    public void TabulatedProtocolKeepsJumpsAndRejectsBadSamples()
    {
        var family = new PiecewiseLinearFamily(1.0, [0.0], [1.0], 4);
        var source = family.WithParameters([1.0 / 3, 1.0 / 9, -1.0 / 9, -1.0 / 3]);
        var table = TabulatedProtocol.Sample(source, 31);
        var a = new double[1];
        var b = new double[1];
        foreach (double t in new[] { 0.0, 1e-9, 0.2, 0.5, 0.77, 1 - 1e-9, 1.0 })
        {
            table.Evaluate(t, a);
            source.Evaluate(t, b);
            Assert.Equal(b[0], a[0], 6);
        }
        Assert.Throws<InvalidInputException>(() => new TabulatedProtocol([0.0, 0.5, 0.4], [[0.0], [1.0], [1.0]]));
        Assert.Throws<InvalidInputException>(() => new TabulatedProtocol([0.1, 1.0], [[0.0], [1.0]]));
        Assert.Throws<InvalidInputException>(() => new TabulatedProtocol([0.0, 1.0], [[0.0], [double.NaN]]));
        Assert.Throws<InvalidInputException>(() => new TabulatedProtocol([0.0, 1.0], [[0.0], [1.0, 2.0]]));
    }

    [Fact]
    public void TasksRejectBadInput()
    {
        Assert.Throws<InvalidInputException>(() => TaskCatalog.Create("translate-trap", 0));
        Assert.Throws<InvalidInputException>(() => TaskCatalog.Create("translate-trap", -1));
        Assert.Throws<InvalidInputException>(() => TaskCatalog.Create("warp-drive", 1));
        Assert.Throws<InvalidInputException>(() => TaskCatalog.Create("erase", 1, new Dictionary<string, double> { ["stiffness"] = 2 }));
        Assert.Throws<InvalidInputException>(() => TaskCatalog.Create("flip-underdamped", 1, new Dictionary<string, double> { ["overdamped"] = 0.5 }));
        var erase = TaskCatalog.Create("erase", 1);
        var wrongEnd = new TabulatedProtocol([0.0, 1.0], [[4.0, 0, 0], [4.0, 1.0, 0]]);
        var e = Assert.Throws<InvalidInputException>(() => erase.Validate(wrongEnd, "p.json"));
        Assert.Contains("'c' ends at 1", e.Message);
        var wrongDimension = new TabulatedProtocol([0.0, 1.0], [[4.0, 0], [4.0, 0]]);
        Assert.Contains("2 controls", Assert.Throws<InvalidInputException>(() => erase.Validate(wrongDimension, "p.json")).Message);
    }
}
