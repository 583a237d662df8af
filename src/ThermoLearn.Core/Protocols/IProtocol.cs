namespace ThermoLearn.Protocols;

/// <summary>
/// A control protocol lambda(t) in R^k on [0, tau]. A protocol answers lambda(t) only, not its time derivative:
/// the work W = int dt (dlambda/dt) . dV/dlambda is accumulated step by step as V(x_n; lambda(t_(n+1))) - V(x_n; lambda(t_n))
/// at fixed x (Energetics/StochasticEnergetics, the lane kernel; the control kernel's DiscreteProtocol likewise), the exact
/// work of the protocol held piecewise constant, which tends to the integral as dt -> 0 and keeps the first law per step.
/// Jumps (optimal protocols jump at both ends) are represented by evaluating lambda just after 0 and
/// just before tau; the work of a jump is V(x; lambda+) - V(x; lambda-), which the same differences add.
/// </summary>
public interface IProtocol
{
    /// <summary>Number k of controls.</summary>
    int ControlCount { get; }

    /// <summary>Duration tau; lambda is held constant after it.</summary>
    double Duration { get; }

    /// <summary>lambda(t).</summary>
    void Evaluate(double t, Span<double> lambda);
}
