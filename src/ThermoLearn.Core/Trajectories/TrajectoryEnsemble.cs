namespace ThermoLearn.Trajectories;

/// <summary>
/// Where an ensemble came from: enough to reproduce it or to look up its exact values.
/// </summary>
/// <param name="Model">Model name (e.g. "driven-trap-2d"), or null for external data.</param>
/// <param name="ParametersJson">The model's parameters as a JSON object, or null.</param>
/// <param name="Seed">Seed of the simulation, or null.</param>
/// <param name="FirstTrajectory">Global index of trajectory 0 of this ensemble (non-zero for a shard of a larger run).</param>
/// <param name="TotalTrajectories">Size of the whole run this ensemble is a shard of, or null when it is the whole run.</param>
/// <param name="Scheme">The integrator that made the data (e.g. "euler-maruyama", "exact"), or null.</param>
/// <param name="IntegrationDt">The integrator's step (the frame spacing divided by save-every), or null.</param>
public sealed record TrajectoryMetadata(string? Model = null, string? ParametersJson = null, ulong? Seed = null,
    long FirstTrajectory = 0, long? TotalTrajectories = null, string? Scheme = null, double? IntegrationDt = null)
{
    public static TrajectoryMetadata None { get; } = new();
}

/// <summary>
/// Trajectories sampled at a fixed spacing <see cref="Dt"/>: positions x[trajectory, frame, dimension],
/// stored row-major in one float64 array (the layout of a C-ordered NumPy array of that shape).
/// Frame f of every trajectory is at time <see cref="StartTime"/> + f * <see cref="Dt"/>.
/// </summary>
public sealed class TrajectoryEnsemble
{
    public TrajectoryEnsemble(int trajectories, int frames, int dimension, double dt, double[] data,
        TrajectoryMetadata? metadata = null, double startTime = 0.0)
    {
        if (trajectories < 1) throw new InvalidInputException($"A trajectory ensemble needs at least 1 trajectory (got {trajectories}).");
        if (frames < 1) throw new InvalidInputException($"A trajectory ensemble needs at least 1 frame (got {frames}).");
        if (dimension < 1) throw new InvalidInputException($"A trajectory ensemble needs dimension >= 1 (got {dimension}).");
        if (!(dt > 0) || !double.IsFinite(dt)) throw new InvalidInputException($"The frame spacing dt must be a positive finite number (got {dt}).");
        long expected = (long)trajectories * frames * dimension;
        if (data.LongLength != expected)
            throw new InvalidInputException($"Trajectory data has {data.LongLength} values but {trajectories} x {frames} x {dimension} = {expected} were expected.");
        Trajectories = trajectories;
        Frames = frames;
        Dimension = dimension;
        Dt = dt;
        Data = data;
        Metadata = metadata ?? TrajectoryMetadata.None;
        StartTime = startTime;
    }

    public int Trajectories { get; }
    public int Frames { get; }
    public int Dimension { get; }

    /// <summary>Time between consecutive frames.</summary>
    public double Dt { get; }

    /// <summary>Time of frame 0.</summary>
    public double StartTime { get; }

    /// <summary>x[trajectory, frame, dimension], row-major.</summary>
    public double[] Data { get; }

    public TrajectoryMetadata Metadata { get; }

    /// <summary>Number of transitions (frame pairs) in the ensemble: trajectories x (frames - 1).</summary>
    public long Transitions => (long)Trajectories * (Frames - 1);

    /// <summary>The position of one trajectory at one frame.</summary>
    public ReadOnlySpan<double> Frame(int trajectory, int frame) =>
        Data.AsSpan((int)(((long)trajectory * Frames + frame) * Dimension), Dimension);

    /// <summary>All frames of one trajectory, frame-major.</summary>
    public ReadOnlySpan<double> Trajectory(int trajectory) =>
        Data.AsSpan((int)((long)trajectory * Frames * Dimension), Frames * Dimension);

    /// <summary>Throws <see cref="InvalidInputException"/> naming the first NaN or infinite value.</summary>
    public void EnsureFinite(string source)
    {
        var data = Data;
        for (long i = 0; i < data.LongLength; i++)
        {
            if (!double.IsFinite(data[i]))
            {
                long perTrajectory = (long)Frames * Dimension;
                long t = i / perTrajectory, f = i % perTrajectory / Dimension, d = i % Dimension;
                throw new InvalidInputException($"{source}: value {data[i]} at trajectory {t}, frame {f}, coordinate {d}; trajectory data must be finite.");
            }
        }
    }

    /// <summary>
    /// Throws when the largest |value| is so large that its square summed over the data overflows double precision
    /// (|x| &gt; sqrt(double.MaxValue / values)): every estimator sums squares of the coordinates (a Gram matrix), so such
    /// data cannot be used at any basis. The message names the value and where it is, and what to do.
    /// </summary>
    /// <exception cref="InvalidInputException">A value is too large.</exception>
    public void EnsureSquaresSummable(string source)
    {
        var data = Data;
        long worst = -1;
        double largest = 0;
        for (long i = 0; i < data.LongLength; i++)
        {
            double a = Math.Abs(data[i]);
            if (a > largest)
            {
                largest = a;
                worst = i;
            }
        }
        double limit = Math.Sqrt(double.MaxValue / Math.Max(1, data.LongLength));
        if (worst < 0 || largest <= limit) return;
        long perTrajectory = (long)Frames * Dimension;
        long t = worst / perTrajectory, f = worst % perTrajectory / Dimension, d = worst % Dimension;
        throw new InvalidInputException($"{source}: value {data[worst]:G4} at trajectory {t}, frame {f}, coordinate {d} is too large to estimate with: "
            + $"its square summed over the {data.LongLength} values overflows double precision (|x| must stay below {limit:G3}). "
            + "Rescale the coordinates (e.g. change units) or remove the outlier.");
    }
}
