namespace ThermoLearn.Protocols;

/// <summary>
/// A control protocol lambda(t) in R^k on [0, tau]. Work along a trajectory is
/// W = int dt (dlambda/dt) . dV/dlambda, so a protocol answers both lambda(t) and its time derivative.
/// Jumps (optimal protocols jump at both ends) are represented by evaluating lambda just after 0 and
/// just before tau; the work of a jump is V(x; lambda+) - V(x; lambda-), which the simulator adds.
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
