using ThermoLearn.Models;
using ThermoLearn.Simd;

namespace ThermoLearn.Simulation.ForceFields;

/// <summary>
/// A lane force field that also gives, per lane, the derivatives the control gradients accumulate along each path
/// (<see cref="IDifferentiablePotential"/> in lane form): dV/dlambda (the explicit work derivative), dF_i/dlambda_j (the
/// likelihood-ratio score) and dF_i/dx_j (the pathwise tangent). As for <see cref="ILaneForceField"/>, the lane code
/// repeats the scalar members' operations in the scalar order, so lanes and scalar loop give the same bits.
/// </summary>
public interface ILaneDifferentiableField : ILaneForceField, IDifferentiablePotential
{
    /// <summary>Writes dV/dlambda_q per lane (length <see cref="IPotential.ControlCount"/>).</summary>
    internal void LaneControlDerivative<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> derivative)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;

    /// <summary>Writes dF_i/dlambda_j per lane, row-major d x k.</summary>
    internal void LaneForceControlJacobian<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> jacobian)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;

    /// <summary>Writes dF_i/dx_j = -d^2 V/dx_i dx_j per lane, row-major d x d.</summary>
    internal void LaneForceJacobian<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> jacobian)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;
}
