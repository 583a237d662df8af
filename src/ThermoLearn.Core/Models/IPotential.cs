namespace ThermoLearn.Models;

/// <summary>
/// A potential energy V(x; lambda) with control vector lambda in R^k.
/// Implementations are small structs or sealed classes; simulation kernels take them as generic
/// <c>struct</c> type arguments so the hot loop has no virtual calls and no allocation.
/// </summary>
public interface IPotential
{
    /// <summary>Dimension d of x.</summary>
    int Dimension { get; }

    /// <summary>Number k of controls lambda.</summary>
    int ControlCount { get; }

    /// <summary>V(x; lambda).</summary>
    double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda);

    /// <summary>Writes the conservative force -grad_x V(x; lambda) into <paramref name="force"/> (length d).</summary>
    void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force);

    /// <summary>Writes dV/dlambda (length k) into <paramref name="derivative"/>: the integrand of the work.</summary>
    void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative);

    /// <summary>
    /// The work of changing the control at fixed x, V(x; lambdaNext) - V(x; lambda) (one step of the Sekimoto work).
    /// A potential linear in its controls, V = V_0(x) + sum_q lambda_q phi_q(x), overrides it with
    /// sum_q (lambdaNext_q - lambda_q) phi_q(x): the same number without evaluating V twice.
    /// </summary>
    double ControlWork(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, ReadOnlySpan<double> lambdaNext) =>
        Energy(x, lambdaNext) - Energy(x, lambda);
}
