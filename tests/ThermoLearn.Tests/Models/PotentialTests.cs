using System.Runtime.Intrinsics;
using ThermoLearn.Models;
using ThermoLearn.Models.Potentials;
using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;
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
    /// <summary>Every potential the models and control tasks use, with a dimension and a range of controls where it is defined.</summary>
    public static TheoryData<string> Potentials => new() { "harmonic-1", "harmonic-3", "double-well", "tunable-double-well", "parabola", "mexican-hat-2", "mexican-hat-3" };

    private static (IPotential Potential, double ControlLow, double ControlHigh) Make(string name) => name switch
    {
        "harmonic-1" => (new HarmonicTrap(1.7, 1), -1.5, 1.5),
        "harmonic-3" => (new HarmonicTrap(0.6, 3), -1.5, 1.5),
        "double-well" => (new DoubleWell(), 0.2, 3.0),
        "tunable-double-well" => (new TunableDoubleWell(), 0.2, 3.0),
        "parabola" => (new Parabola(), 0.2, 3.0),
        "mexican-hat-2" => (new MexicanHat(2), 0.2, 2.0),
        "mexican-hat-3" => (new MexicanHat(3), 0.2, 2.0),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>
    /// At 20 seeded random points (x in [-2, 2]^d, controls in the potential's range): F = -grad V and dV/dlambda
    /// against central differences of V, and for differentiable potentials dF/dx and dF/dlambda against central
    /// differences of F. Central differences err by h^2 |f'''| / 6 ~ 1e-7 here (h = 1e-4, third derivatives of these
    /// polynomials at most ~1e2 on the box) plus rounding eps |f| / h ~ 1e-11: the tolerance 1e-6 (relative to the
    /// value's size, at least 1) cannot be met by a wrong sign, factor or index, which errs by O(1).
    /// </summary>
    [Theory]
    [MemberData(nameof(Potentials))]
    public void ForcesAndJacobiansMatchFiniteDifferences(string name)
    {
        var (potential, low, high) = Make(name);
        int d = potential.Dimension, k = potential.ControlCount;
        var random = new Random(20261204);
        const double h = 1e-4;
        for (int point = 0; point < 20; point++)
        {
            double[] x = Enumerable.Range(0, d).Select(_ => -2 + 4 * random.NextDouble()).ToArray();
            double[] lambda = Enumerable.Range(0, k).Select(_ => low + (high - low) * random.NextDouble()).ToArray();
            var force = new double[d];
            potential.Force(x, lambda, force);
            var derivative = new double[k];
            potential.ControlDerivative(x, lambda, derivative);
            for (int i = 0; i < d; i++)
                Close(-Central(u => potential.Energy(Shift(x, i, u), lambda), h), force[i], $"{name} F_{i} at x = [{string.Join(", ", x)}]");
            for (int j = 0; j < k; j++)
                Close(Central(u => potential.Energy(x, Shift(lambda, j, u)), h), derivative[j], $"{name} dV/dlambda_{j}");
            if (potential is not IDifferentiablePotential differentiable) continue;
            var forceJacobian = new double[d * d];
            differentiable.ForceJacobian(x, lambda, forceJacobian);
            var controlJacobian = new double[d * k];
            differentiable.ForceControlJacobian(x, lambda, controlJacobian);
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                    Close(Central(u => ForceComponent(potential, Shift(x, j, u), lambda, i), h), forceJacobian[i * d + j], $"{name} dF_{i}/dx_{j}");
                for (int j = 0; j < k; j++)
                    Close(Central(u => ForceComponent(potential, x, Shift(lambda, j, u), i), h), controlJacobian[i * k + j], $"{name} dF_{i}/dlambda_{j}");
            }
        }
    }

    /// <summary>
    /// The lane members (what the engine runs) give the scalar members' bits, lane by lane, at 20 seeded random points per
    /// lane: energy, force and, for lane-differentiable fields, dV/dlambda and both force Jacobians. With the scalar members
    /// checked against finite differences above, every derivative the engine uses is checked.
    /// </summary>
    [Theory]
    [MemberData(nameof(Potentials))]
    public void LaneMembersGiveTheScalarBits(string name)
    {
        var (potential, low, high) = Make(name);
        if (potential is not ILaneForceField field) return;   // MexicanHat runs on the scalar path only
        int d = field.Dimension, k = field.ControlCount, lanes = Lanes256.Count;
        var random = new Random(20261205);
        for (int point = 0; point < 20; point++)
        {
            var x = new double[lanes][];
            for (int j = 0; j < lanes; j++) x[j] = Enumerable.Range(0, d).Select(_ => -2 + 4 * random.NextDouble()).ToArray();
            double[] lambda = Enumerable.Range(0, k).Select(_ => low + (high - low) * random.NextDouble()).ToArray();
            var laneX = Enumerable.Range(0, d).Select(i => Vector256.Create(Enumerable.Range(0, lanes).Select(j => x[j][i]).ToArray())).ToArray();
            var laneLambda = lambda.Select(Vector256.Create).ToArray();

            var energy = field.LaneEnergy<Lanes256, Vector256<double>, Vector256<ulong>>(laneX, laneLambda);
            var force = new Vector256<double>[d];
            field.LaneForce<Lanes256, Vector256<double>, Vector256<ulong>>(laneX, laneLambda, force);
            for (int j = 0; j < lanes; j++)
            {
                Same(field.Energy(x[j], lambda), energy.GetElement(j), $"{name} energy, lane {j}");
                var scalar = new double[d];
                field.Force(x[j], lambda, scalar);
                for (int i = 0; i < d; i++) Same(scalar[i], force[i].GetElement(j), $"{name} F_{i}, lane {j}");
            }
            if (field is not ILaneDifferentiableField differentiable) continue;
            var derivative = new Vector256<double>[k];
            differentiable.LaneControlDerivative<Lanes256, Vector256<double>, Vector256<ulong>>(laneX, laneLambda, derivative);
            var controlJacobian = new Vector256<double>[d * k];
            differentiable.LaneForceControlJacobian<Lanes256, Vector256<double>, Vector256<ulong>>(laneX, laneLambda, controlJacobian);
            var forceJacobian = new Vector256<double>[d * d];
            differentiable.LaneForceJacobian<Lanes256, Vector256<double>, Vector256<ulong>>(laneX, laneLambda, forceJacobian);
            for (int j = 0; j < lanes; j++)
            {
                var dl = new double[k];
                differentiable.ControlDerivative(x[j], lambda, dl);
                for (int q = 0; q < k; q++) Same(dl[q], derivative[q].GetElement(j), $"{name} dV/dlambda_{q}, lane {j}");
                var cj = new double[d * k];
                differentiable.ForceControlJacobian(x[j], lambda, cj);
                for (int q = 0; q < d * k; q++) Same(cj[q], controlJacobian[q].GetElement(j), $"{name} dF/dlambda [{q}], lane {j}");
                var fj = new double[d * d];
                differentiable.ForceJacobian(x[j], lambda, fj);
                for (int q = 0; q < d * d; q++) Same(fj[q], forceJacobian[q].GetElement(j), $"{name} dF/dx [{q}], lane {j}");
            }
        }
    }

    private static void Same(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"{what}: scalar {expected:R}, lane {actual:R}");

    private static double[] Shift(double[] v, int index, double by)
    {
        var shifted = (double[])v.Clone();
        shifted[index] += by;
        return shifted;
    }

    private static double Central(Func<double, double> f, double h) => (f(h) - f(-h)) / (2 * h);

    private static double ForceComponent(IPotential potential, double[] x, double[] lambda, int i)
    {
        var force = new double[potential.Dimension];
        potential.Force(x, lambda, force);
        return force[i];
    }

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(1, Math.Abs(expected)),
            $"{what}: analytic {actual:R}, finite difference {expected:R}");
}
