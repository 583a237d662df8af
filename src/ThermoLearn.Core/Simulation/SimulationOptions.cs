namespace ThermoLearn.Simulation;

/// <summary>
/// How to simulate: <see cref="Trajectories"/> independent trajectories of <see cref="Steps"/> steps of size
/// <see cref="Dt"/>, saving every <see cref="SaveEvery"/>-th state (frame spacing SaveEvery x Dt), with noise
/// for trajectory i drawn only from (<see cref="Seed"/>, i). <see cref="Shard"/> k/N simulates only the k-th
/// contiguous block of the <see cref="Trajectories"/> indices.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>Number of trajectories of the whole run (all shards together).</summary>
    public int Trajectories { get; init; } = 1;

    /// <summary>Integration steps per trajectory.</summary>
    public int Steps { get; init; } = 1000;

    /// <summary>Integration step.</summary>
    public double Dt { get; init; } = 0.01;

    /// <summary>Save one frame every this many steps (Steps must be a multiple); frame 0 is the initial state.</summary>
    public int SaveEvery { get; init; } = 1;

    public ulong Seed { get; init; }

    /// <summary>Scheme name ("exact", "euler-maruyama", "heun", "baoab"); null picks <see cref="Simulator.DefaultScheme"/>: exact (linear
    /// overdamped models and jump processes), euler-maruyama (other overdamped models) or baoab (underdamped).</summary>
    public string? Scheme { get; init; }

    public Shard Shard { get; init; } = Shard.Whole;

    /// <summary>Work, heat, energy change and entropies per trajectory (costs a few extra force evaluations per step).</summary>
    public bool ComputeEnergetics { get; init; } = true;

    /// <summary>Threads to use (-1: all cores). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Which code path runs potential models (<see cref="SimulationEngine"/>); every path gives the same bits, so this
    /// changes speed only. The default picks the fastest.</summary>
    public SimulationEngine Engine { get; init; } = SimulationEngine.Automatic;
}

/// <summary>
/// The code path of a potential model's simulation. The lane engine runs one trajectory per SIMD lane and performs the
/// per-trajectory loop's operations in the same order, so all three give the same numbers bit for bit (the tests and the
/// benchmarks compare them); the choice is for those comparisons and for timing.
/// </summary>
public enum SimulationEngine
{
    /// <summary>The lane engine at the widest hardware-accelerated width (eight lanes with AVX-512, else four) where the
    /// model fits it (a potential model without non-conservative forces); the per-trajectory loop otherwise.</summary>
    Automatic,

    /// <summary>The lane engine at four lanes, even where eight would run.</summary>
    FourLanes,

    /// <summary>The per-trajectory loop over the scheme's scalar step, for every model.</summary>
    PerTrajectoryLoop,
}
