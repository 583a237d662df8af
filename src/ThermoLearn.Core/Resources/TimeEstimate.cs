using System.Globalization;

namespace ThermoLearn.Resources;

/// <summary>
/// Time a long computation will take, worked out from its arguments before it starts, so a run of hours is said up front
/// rather than discovered. The rates are per CPU core, measured with the benchmarks on this project's 2-core machine
/// (docs/simulation.md and docs/control.md): the lane engine moves 2.1e8 trajectory-steps of a driven 1-D model with
/// energetics per CPU-second (3.2e8 without), the control gradients about 4.6e7 trajectory-steps per CPU-second (erase at
/// its defaults, 8e9 trajectory-steps in 173 CPU-s). The estimate assumes idle cores; a loaded machine takes longer.
/// Nothing is refused on time alone.
/// </summary>
public static class TimeEstimate
{
    /// <summary>Coordinate-steps per CPU-second of a simulation on the lane engine (with energetics).</summary>
    public const double SimulationStepsPerCpuSecond = 2e8;

    /// <summary>Trajectory-steps per CPU-second of the control kernel (likelihood-ratio gradient: work, score, dW/dtheta).</summary>
    public const double ControlStepsPerCpuSecond = 4.6e7;

    /// <summary>
    /// Particle-steps per CPU-second of an interacting active-matter simulation (pair forces through Verlet lists plus the
    /// OU or rotational-diffusion update): `bench pair` measured 31-82 ns CPU per whole particle-step from N = 1,024 to
    /// 262,144 (2-D softplus at phi = 0.5, 6 Dec 2026, docs/active-matter.md), and a phi = 0.7 run of 1,024 particles x
    /// 5.5e5 steps took 34 CPU-s (1.6e7 per CPU-second); 1.5e7 leaves room for denser packings and 3-D.
    /// </summary>
    public const double ActiveParticleStepsPerCpuSecond = 1.5e7;

    /// <summary>
    /// Parameter-tokens per CPU-second of transformer training (cost grows with parameters x tokens): the default model,
    /// 143,075 parameters, trained at 96,809 tokens/s on the idle 2-core machine (docs/beliefs.md), 6.9e9 per CPU-second.
    /// </summary>
    public const double TransformerParameterTokensPerCpuSecond = 6.9e9;

    /// <summary>Runs estimated longer than this are announced.</summary>
    public const double AnnounceAboveSeconds = 60;

    /// <summary>Wall-clock seconds for <paramref name="work"/> units at <paramref name="perCpuSecond"/> on <paramref name="threads"/> threads (-1: every core).</summary>
    public static double Seconds(double work, double perCpuSecond, int threads = -1)
    {
        int cores = threads > 0 ? Math.Min(threads, Environment.ProcessorCount) : Environment.ProcessorCount;
        return work / (perCpuSecond * Math.Max(1, cores));
    }

    /// <summary>
    /// The line to print before a run estimated at <paramref name="seconds"/> (null when it is shorter than
    /// <see cref="AnnounceAboveSeconds"/>), e.g. "simulate: 1e6 trajectories x 1e6 steps is estimated to take about 1.4 h on 2 cores".
    /// </summary>
    public static string? Announcement(double seconds, string what, int threads = -1)
    {
        if (!(seconds > AnnounceAboveSeconds)) return null;
        int cores = threads > 0 ? Math.Min(threads, Environment.ProcessorCount) : Environment.ProcessorCount;
        return $"{what} is estimated to take about {Format(seconds)} on {cores} core{(cores == 1 ? "" : "s")} (longer on a loaded machine).";
    }

    /// <summary>A duration for people: "45 s", "12 min", "3.2 h", "2.1 days".</summary>
    public static string Format(double seconds) => seconds switch
    {
        < 90 => seconds.ToString("F0", CultureInfo.InvariantCulture) + " s",
        < 5400 => (seconds / 60).ToString("F0", CultureInfo.InvariantCulture) + " min",
        < 172800 => (seconds / 3600).ToString("G2", CultureInfo.InvariantCulture) + " h",
        _ => (seconds / 86400).ToString("G3", CultureInfo.InvariantCulture) + " days",
    };
}
