using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;
namespace ThermoLearn.Models.Potentials;

/// <summary>
/// Double well with barrier, tilt and stiffness controls, lambda = (b, c, s):
/// V(x; b, c, s) = b (x^2 - 1)^2 + c x + s x^2 / 2. At s = 0 it is <see cref="DoubleWell"/>; at s = 4 b
/// the barrier is gone while the quartic term b x^4 still confines, which is what a bit-erasure or
/// bit-flip protocol needs (lowering b alone also loosens the confinement). Units: energies in k_B T.
/// Force -4 b x (x^2 - 1) - c - s x; dV/db = (x^2 - 1)^2, dV/dc = x, dV/ds = x^2 / 2.
/// </summary>
public readonly struct TunableDoubleWell : ILaneDifferentiableField
{
    public int Dimension => 1;
    public int ControlCount => 3;

    // Each member is the DoubleWell member at (b, c) plus the stiffness term, added last.

    public double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda)
    {
        double y = x[0];
        return DoubleWell.EnergyAt(y, lambda[0], lambda[1]) + 0.5 * lambda[2] * y * y;
    }

    /// <summary>V is linear in (b, c, s) with no control-free part, so V(x; lambda') - V(x; lambda) = V(x; lambda' - lambda).</summary>
    public double ControlWork(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, ReadOnlySpan<double> lambdaNext)
    {
        double y = x[0];
        return DoubleWell.EnergyAt(y, lambdaNext[0] - lambda[0], lambdaNext[1] - lambda[1]) + 0.5 * (lambdaNext[2] - lambda[2]) * y * y;
    }

    public void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force)
    {
        double y = x[0];
        force[0] = DoubleWell.ForceAt(y, lambda[0], lambda[1]) - lambda[2] * y;
    }

    public void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative)
    {
        double y = x[0];
        DoubleWell.ControlDerivativeAt(y, derivative);
        derivative[2] = 0.5 * y * y;
    }

    public void ForceControlJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian)
    {
        double y = x[0];
        DoubleWell.ForceControlJacobianAt(y, jacobian);
        jacobian[2] = -y;
    }

    public void ForceJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian) =>
        jacobian[0] = DoubleWell.ForceJacobianAt(x[0], lambda[0]) - lambda[2];

    /// <summary>Lane form of <see cref="Force"/>: ((((-4 b) x)(x x - 1)) - c) - s x.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneForceField.LaneForce<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> force)
    {
        var y = x[0];
        force[0] = TLanes.Subtract(DoubleWell.LaneForceAt<TLanes, TDouble, TBits>(y, lambda[0], lambda[1]), TLanes.Multiply(lambda[2], y));
    }

    /// <summary>Lane form of <see cref="Energy"/>: ((b u) u + c x) + ((s / 2) x) x.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneEnergy<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda)
    {
        var y = x[0];
        var well = DoubleWell.LaneEnergyAt<TLanes, TDouble, TBits>(y, lambda[0], lambda[1]);
        return TLanes.Add(well, TLanes.Multiply(TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5), lambda[2]), y), y));
    }
    /// <summary>Lane form of <see cref="ControlWork"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneControlWork<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext)
    {
        var y = x[0];
        var well = DoubleWell.LaneEnergyAt<TLanes, TDouble, TBits>(y, TLanes.Subtract(lambdaNext[0], lambda[0]), TLanes.Subtract(lambdaNext[1], lambda[1]));
        var stiffness = TLanes.Subtract(lambdaNext[2], lambda[2]);
        return TLanes.Add(well, TLanes.Multiply(TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5), stiffness), y), y));
    }

    /// <summary>Lane form of <see cref="ControlDerivative"/>: (u u, x, (0.5 x) x).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneDifferentiableField.LaneControlDerivative<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> derivative)
    {
        var y = x[0];
        var u = TLanes.Subtract(TLanes.Multiply(y, y), TLanes.Create(1.0));
        derivative[0] = TLanes.Multiply(u, u);
        derivative[1] = y;
        derivative[2] = TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5), y), y);
    }

    /// <summary>Lane form of <see cref="ForceControlJacobian"/>: ((-4 x)(x x - 1), -1, -x).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneDifferentiableField.LaneForceControlJacobian<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> jacobian)
    {
        var y = x[0];
        jacobian[0] = TLanes.Multiply(TLanes.Multiply(TLanes.Create(-4.0), y), TLanes.Subtract(TLanes.Multiply(y, y), TLanes.Create(1.0)));
        jacobian[1] = TLanes.Create(-1.0);
        jacobian[2] = TLanes.Multiply(TLanes.Create(-1.0), y);
    }

    /// <summary>Lane form of <see cref="ForceJacobian"/>: ((-4 b)((3 x) x - 1)) - s.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneDifferentiableField.LaneForceJacobian<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> jacobian)
    {
        var y = x[0];
        var curvature = TLanes.Subtract(TLanes.Multiply(TLanes.Multiply(TLanes.Create(3.0), y), y), TLanes.Create(1.0));
        jacobian[0] = TLanes.Subtract(TLanes.Multiply(TLanes.Multiply(TLanes.Create(-4.0), lambda[0]), curvature), lambda[2]);
    }
}
