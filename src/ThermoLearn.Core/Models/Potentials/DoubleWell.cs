using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;
namespace ThermoLearn.Models.Potentials;

/// <summary>
/// One-dimensional double well with barrier and tilt controls: V(x; b, c) = b (x^2 - 1)^2 + c x,
/// lambda = (b, c). Force -4 b x (x^2 - 1) - c; dV/db = (x^2 - 1)^2, dV/dc = x.
/// </summary>
public readonly struct DoubleWell : IDifferentiablePotential, ILaneForceField
{
    public int Dimension => 1;
    public int ControlCount => 2;

    public double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda)
    {
        double u = x[0] * x[0] - 1;
        return lambda[0] * u * u + lambda[1] * x[0];
    }

    public void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force) =>
        force[0] = ForceAt(x[0], lambda[0], lambda[1]);

    public void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative)
    {
        double u = x[0] * x[0] - 1;
        derivative[0] = u * u;
        derivative[1] = x[0];
    }

    /// <summary>-dV/dx at x for barrier b and tilt c (scalar form for hot loops).</summary>
    public static double ForceAt(double x, double b, double c) => -4 * b * x * (x * x - 1) - c;

    /// <summary>dF/db = -4 x (x^2 - 1), dF/dc = -1.</summary>
    public void ForceControlJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian)
    {
        jacobian[0] = -4 * x[0] * (x[0] * x[0] - 1);
        jacobian[1] = -1;
    }

    /// <summary>dF/dx = -4 b (3 x^2 - 1).</summary>
    public void ForceJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian) =>
        jacobian[0] = -4 * lambda[0] * (3 * x[0] * x[0] - 1);

    /// <summary>Lane form of <see cref="ForceAt"/>: ((-4 b) x)(x x - 1) - c, the scalar operations in the scalar order (-4 b is exact either way).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneForceField.LaneForce<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> force)
    {
        var y = x[0];
        force[0] = TLanes.Subtract(TLanes.Multiply(TLanes.Multiply(TLanes.Multiply(TLanes.Create(-4.0), lambda[0]), y), TLanes.Subtract(TLanes.Multiply(y, y), TLanes.Create(1.0))),
            lambda[1]);
    }

    /// <summary>Lane form of <see cref="Energy"/>: (b u) u + c x with u = x x - 1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneEnergy<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda)
    {
        var y = x[0];
        var u = TLanes.Subtract(TLanes.Multiply(y, y), TLanes.Create(1.0));
        return TLanes.Add(TLanes.Multiply(TLanes.Multiply(lambda[0], u), u), TLanes.Multiply(lambda[1], y));
    }
}
