using ThermoLearn.Energetics;
using ThermoLearn.Models;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Simulation;

/// <summary>What <c>Simulator.Run</c> produced: the trajectories (with provenance metadata), the
/// per-trajectory energetics (null when not computed), the model and options used, and the scheme's name.</summary>
public sealed record SimulationResult(
    TrajectoryEnsemble Trajectories,
    TrajectoryEnergetics? Energetics,
    StochasticModel Model,
    SimulationOptions Options,
    string Scheme)
{
    /// <summary>Global index of trajectory 0 (non-zero for a shard).</summary>
    public long FirstTrajectory => Trajectories.Metadata.FirstTrajectory;

    /// <summary>The model's exact EP rate at t = 0 (constant for stationary models), or null.</summary>
    public double? ExactEntropyProductionRate => Model.EntropyProductionRate(0);
}
