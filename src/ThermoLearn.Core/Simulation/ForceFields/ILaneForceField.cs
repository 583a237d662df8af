using ThermoLearn.Models;
using ThermoLearn.Simd;

namespace ThermoLearn.Simulation.ForceFields;

/// <summary>
/// A potential V(x; lambda) that the engine evaluates for one vector of trajectories at once, one per SIMD lane, with the
/// control lambda shared by every lane (the protocol's value at the step: all trajectories see the same protocol), passed
/// broadcast (lambda[q] holds control q in every lane; the engine broadcasts once per step).
/// Coordinates are structure-of-arrays: <c>x[i]</c> holds coordinate i of every lane. Implementations are readonly structs
/// whose lane code performs the same IEEE-754 operations in the same order as their scalar <see cref="IPotential"/>
/// members, so the lane engine and the per-trajectory loop give the same bits (tests compare them). The engine is generic
/// over the struct, so every call is inlined: no interface call and no allocation per step. The lane members are internal
/// (the SIMD lane types are an implementation detail of the engine), so the implementations are Core's potentials.
/// <para>
/// Extension point: a field whose force on one coordinate depends on other trajectories' coordinates (pair or many-body
/// interactions between the particles of one system) does not fit lanes across independent trajectories; it plugs in as
/// its own problem type with its own state layout (particles x dimensions per system) and reuses the schemes, the noise
/// keys (seed, system, purpose) and the energetics accumulators (docs/simulation.md, "Extending the engine").
/// </para>
/// </summary>
public interface ILaneForceField : IPotential
{
    /// <summary>Writes F = -grad_x V(x; lambda) per lane (length <see cref="IPotential.Dimension"/>).</summary>
    internal void LaneForce<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> force)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;

    /// <summary>V(x; lambda) per lane.</summary>
    internal TDouble LaneEnergy<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;

    /// <summary>Lane form of <see cref="IPotential.ControlWork"/>, V(x; lambdaNext) - V(x; lambda) per lane, with the scalar
    /// member's operations in its order.</summary>
    internal TDouble LaneControlWork<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;
}
