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

    /// <summary>Scheme name ("euler-maruyama", "heun", "baoab"); null picks euler-maruyama (overdamped) or baoab (underdamped).</summary>
    public string? Scheme { get; init; }

    public Shard Shard { get; init; } = Shard.Whole;

    /// <summary>Work, heat, energy change and entropies per trajectory (costs a few extra force evaluations per step).</summary>
    public bool ComputeEnergetics { get; init; } = true;

    /// <summary>Threads to use (-1: all cores). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Forces the generic per-trajectory loop (tests compare it with the vector kernels bit for bit).</summary>
    internal bool GenericPathOnly { get; init; }

    /// <summary>Uses the four-lane vector kernels where the eight-lane (AVX-512) ones would run (tests compare them bit for bit).</summary>
    internal bool NarrowVectorsOnly { get; init; }
}
