using ThermoLearn.Models;

namespace ThermoLearn.Simulation.Schemes;

/// <summary>
/// The exact scheme for linear SDEs (<see cref="ILinearDynamics"/>): each step samples the true transition law,
/// x(t + dt) = e^(-A dt) x + N(0, C - e^(-A dt) C e^(-A^T dt)) for constant A (Gillespie, PRE 54, 2084 (1996), for
/// the Ornstein-Uhlenbeck process), the closed form of the translated trap, and the variance ODE of the breathing trap.
/// No discretisation error at any dt: the data are samples of the continuous process at the frame times, so a
/// coarse-sampling correction applies to them as to measured data. One transition per run when the model is
/// time-independent, one per step (shared by all trajectories) otherwise. The default for linear models.
/// </summary>
public sealed class ExactLinear : IScheme
{
    public static ExactLinear Instance { get; } = new();

    /// <summary>Name used by --scheme.</summary>
    public string Name => "exact";

    /// <summary>Exact in law: no discretisation error of any order.</summary>
    public double WeakOrder => double.PositiveInfinity;

    /// <summary>Exact in law (each step samples the true transition).</summary>
    public double StrongOrder => double.PositiveInfinity;
    public string Noise => "additive";

    /// <summary>Standard normals per step: one per coordinate.</summary>
    public int NormalsPerStep(int dimension) => dimension;
}
