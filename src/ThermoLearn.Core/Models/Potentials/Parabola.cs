using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;
namespace ThermoLearn.Models.Potentials;

/// <summary>
/// One-dimensional parabola with its stiffness as the control: V(x; k) = k x^2 / 2, lambda = (k).
/// Force -k x; dV/dk = x^2 / 2 (the work of a breathing trap).
/// </summary>
public readonly struct Parabola : IPotential, ILaneForceField
{
    public int Dimension => 1;
    public int ControlCount => 1;

    public double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda) => 0.5 * lambda[0] * x[0] * x[0];

    public void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force) => force[0] = -lambda[0] * x[0];

    public void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative) =>
        derivative[0] = 0.5 * x[0] * x[0];

    /// <summary>V is linear in k with no control-free part: V(x; k') - V(x; k) = V(x; k' - k).</summary>
    public double ControlWork(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, ReadOnlySpan<double> lambdaNext) =>
        0.5 * (lambdaNext[0] - lambda[0]) * x[0] * x[0];

    /// <summary>Lane form of <see cref="Force"/>: (-k) x.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneForceField.LaneForce<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> force) =>
        force[0] = TLanes.Multiply(TLanes.Xor(TLanes.Create(-0.0), lambda[0]), x[0]);   // -k: the sign bit flipped, as scalar negation does

    /// <summary>Lane form of <see cref="Energy"/>: ((k / 2) x) x.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneEnergy<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda) =>
        TLanes.Multiply(TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5), lambda[0]), x[0]), x[0]);

    /// <summary>Lane form of <see cref="ControlWork"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneControlWork<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) =>
        TLanes.Multiply(TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5), TLanes.Subtract(lambdaNext[0], lambda[0])), x[0]), x[0]);
}
