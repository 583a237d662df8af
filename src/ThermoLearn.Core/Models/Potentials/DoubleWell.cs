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

    public double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda) => EnergyAt(x[0], lambda[0], lambda[1]);

    public void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force) =>
        force[0] = ForceAt(x[0], lambda[0], lambda[1]);

    public void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative) =>
        ControlDerivativeAt(x[0], derivative);

    /// <summary>V is linear in (b, c) with no control-free part, so V(x; b', c') - V(x; b, c) = V(x; b' - b, c' - c).</summary>
    public double ControlWork(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, ReadOnlySpan<double> lambdaNext) =>
        EnergyAt(x[0], lambdaNext[0] - lambda[0], lambdaNext[1] - lambda[1]);

    /// <summary>-dV/dx at x for barrier b and tilt c (scalar form for hot loops).</summary>
    public static double ForceAt(double x, double b, double c) => -4 * b * x * (x * x - 1) - c;

    /// <summary>V(x; b, c) = b (x^2 - 1)^2 + c x: the part <see cref="TunableDoubleWell"/> shares.</summary>
    internal static double EnergyAt(double x, double b, double c)
    {
        double u = x * x - 1;
        return b * u * u + c * x;
    }

    /// <summary>Writes (dV/db, dV/dc) = ((x^2 - 1)^2, x) into the first two entries of <paramref name="derivative"/>.</summary>
    internal static void ControlDerivativeAt(double x, Span<double> derivative)
    {
        double u = x * x - 1;
        derivative[0] = u * u;
        derivative[1] = x;
    }

    /// <summary>Writes (dF/db, dF/dc) = (-4 x (x^2 - 1), -1) into the first two entries of <paramref name="jacobian"/>.</summary>
    internal static void ForceControlJacobianAt(double x, Span<double> jacobian)
    {
        jacobian[0] = -4 * x * (x * x - 1);
        jacobian[1] = -1;
    }

    /// <summary>dF/dx = -4 b (3 x^2 - 1).</summary>
    internal static double ForceJacobianAt(double x, double b) => -4 * b * (3 * x * x - 1);

    /// <summary>dF/db = -4 x (x^2 - 1), dF/dc = -1.</summary>
    public void ForceControlJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian) =>
        ForceControlJacobianAt(x[0], jacobian);

    /// <summary>dF/dx = -4 b (3 x^2 - 1).</summary>
    public void ForceJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian) =>
        jacobian[0] = ForceJacobianAt(x[0], lambda[0]);

    /// <summary>Lane form of <see cref="ForceAt"/>: ((-4 b) x)(x x - 1) - c, the scalar operations in the scalar order (-4 b is exact either way).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneForceField.LaneForce<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> force) =>
        force[0] = LaneForceAt<TLanes, TDouble, TBits>(x[0], lambda[0], lambda[1]);

    /// <summary>Lane form of <see cref="Energy"/>: (b u) u + c x with u = x x - 1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneEnergy<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda) =>
        LaneEnergyAt<TLanes, TDouble, TBits>(x[0], lambda[0], lambda[1]);

    /// <summary>Lane form of <see cref="ControlWork"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneControlWork<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) =>
        LaneEnergyAt<TLanes, TDouble, TBits>(x[0], TLanes.Subtract(lambdaNext[0], lambda[0]), TLanes.Subtract(lambdaNext[1], lambda[1]));

    /// <summary>Lane form of <see cref="ForceAt"/>: ((-4 b) x)(x x - 1) - c.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static TDouble LaneForceAt<TLanes, TDouble, TBits>(TDouble x, TDouble b, TDouble c)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged =>
        TLanes.Subtract(TLanes.Multiply(TLanes.Multiply(TLanes.Multiply(TLanes.Create(-4.0), b), x), TLanes.Subtract(TLanes.Multiply(x, x), TLanes.Create(1.0))), c);

    /// <summary>Lane form of <see cref="EnergyAt"/>: (b u) u + c x with u = x x - 1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static TDouble LaneEnergyAt<TLanes, TDouble, TBits>(TDouble x, TDouble b, TDouble c)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        var u = TLanes.Subtract(TLanes.Multiply(x, x), TLanes.Create(1.0));
        return TLanes.Add(TLanes.Multiply(TLanes.Multiply(b, u), u), TLanes.Multiply(c, x));
    }
}
