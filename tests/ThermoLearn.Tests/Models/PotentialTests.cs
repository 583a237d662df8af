using ThermoLearn.Models;
using ThermoLearn.Models.Potentials;
using Xunit;

namespace ThermoLearn.Tests.Models;

public class PotentialTests
{
    /// <summary>Force = -grad V and dV/dlambda checked against central differences (O(h^2) error, h = 1e-5).</summary>
    private static void CheckDerivatives<T>(T potential, double[] x, double[] lambda) where T : IPotential
    {
        const double h = 1e-5, tolerance = 1e-6;
        var force = new double[x.Length];
        potential.Force(x, lambda, force);
        for (int i = 0; i < x.Length; i++)
        {
            var xp = (double[])x.Clone(); xp[i] += h;
            var xm = (double[])x.Clone(); xm[i] -= h;
            double numeric = -(potential.Energy(xp, lambda) - potential.Energy(xm, lambda)) / (2 * h);
            Assert.Equal(numeric, force[i], tolerance);
        }
        var dl = new double[lambda.Length];
        potential.ControlDerivative(x, lambda, dl);
        for (int j = 0; j < lambda.Length; j++)
        {
            var lp = (double[])lambda.Clone(); lp[j] += h;
            var lm = (double[])lambda.Clone(); lm[j] -= h;
            double numeric = (potential.Energy(x, lp) - potential.Energy(x, lm)) / (2 * h);
            Assert.Equal(numeric, dl[j], tolerance);
        }
    }

    [Fact]
    public void HarmonicTrapPinsAndDerivatives()
    {
        var trap = new HarmonicTrap(2.0, 2);
        Assert.Equal(0.5 * 2.0 * (1.0 + 4.0), trap.Energy(new double[] { 1, 3 }, new double[] { 0, 1 }), 14);
        CheckDerivatives(trap, new[] { 0.3, -1.2 }, new[] { 0.5, 0.1 });
    }

    [Fact]
    public void DoubleWellPinsAndDerivatives()
    {
        var well = new DoubleWell();
        // V(2; b=1, c=0.5) = (4-1)^2 + 1 = 10.
        Assert.Equal(10.0, well.Energy(new double[] { 2 }, new double[] { 1, 0.5 }), 14);
        Assert.Equal(0.0, DoubleWell.ForceAt(1.0, 3.0, 0.0), 14);
        CheckDerivatives(well, new[] { 0.7 }, new[] { 2.5, -0.3 });
    }

    [Fact]
    public void HarmonicTrapRejectsNonPositiveStiffness()
    {
        Assert.Throws<InvalidInputException>(() => new HarmonicTrap(0.0));
    }
}
