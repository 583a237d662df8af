namespace ThermoLearn.Models;

/// <summary>
/// A potential that also knows the derivatives of its force F = -grad_x V: with respect to the
/// controls, dF_i/dlambda_j (what the likelihood-ratio score of a path needs, since the drift of
/// the Langevin equation depends on the protocol only through F), and with respect to x,
/// dF_i/dx_j (what the pathwise, reparameterised gradient propagates).
/// </summary>
public interface IDifferentiablePotential : IPotential
{
    /// <summary>Writes dF_i/dlambda_j, row-major d x k, into <paramref name="jacobian"/>.</summary>
    void ForceControlJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian);

    /// <summary>Writes dF_i/dx_j = -d^2 V/dx_i dx_j, row-major d x d, into <paramref name="jacobian"/>.</summary>
    void ForceJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian);
}
