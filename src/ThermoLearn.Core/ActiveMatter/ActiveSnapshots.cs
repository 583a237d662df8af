namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Snapshots of an interacting active system: frame f holds, for every particle i, its d position coordinates
/// followed by its active state (g_i, d values, for AOUP; theta_i for ABP). Data[(f * N + i) * C + c] with
/// C = d + active columns; frames are <see cref="FrameDt"/> apart. Positions in a periodic box are wrapped into
/// [0, L); increments between frames are taken with the minimum image (<see cref="Increment"/>).
/// The file layout is documented in docs/formats.md (<see cref="ActiveSnapshotFile"/>).
/// </summary>
public sealed class ActiveSnapshots
{
    public ActiveSnapshots(ActiveModel model, int frames, double frameDt, double[] data, ulong? seed = null, double? stepDt = null)
    {
        int columns = model.Dimension + model.ActiveColumns;
        if (frames < 1) throw new InvalidInputException($"snapshots: at least one frame is needed (got {frames}).");
        if (data.LongLength != (long)frames * model.Particles * columns)
            throw new ArgumentException($"data hold {data.LongLength} values; {frames} frames x {model.Particles} particles x {columns} columns need {(long)frames * model.Particles * columns}.", nameof(data));
        if (!(frameDt > 0) || !double.IsFinite(frameDt)) throw new InvalidInputException($"snapshots: the frame spacing dt must be positive (got {frameDt}).");
        Model = model;
        Frames = frames;
        FrameDt = frameDt;
        Data = data;
        Seed = seed;
        StepDt = stepDt;
    }

    /// <summary>The model (and its parameters) the snapshots come from.</summary>
    public ActiveModel Model { get; }

    public int Frames { get; }

    public int Particles => Model.Particles;

    public int Dimension => Model.Dimension;

    /// <summary>Values per particle per frame: d positions, then the active columns.</summary>
    public int Columns => Model.Dimension + Model.ActiveColumns;

    /// <summary>Time between frames.</summary>
    public double FrameDt { get; }

    /// <summary>Integration step of the simulation, when known.</summary>
    public double? StepDt { get; }

    public ulong? Seed { get; }

    /// <summary>Row-major [frame, particle, column].</summary>
    public double[] Data { get; }

    /// <summary>Column names: x, y (, z), then gx, gy (, gz) or theta.</summary>
    public IReadOnlyList<string> ColumnNames => ColumnNamesFor(Model);

    public static string[] ColumnNamesFor(ActiveModel model)
    {
        string[] axes = model.Dimension == 2 ? ["x", "y"] : ["x", "y", "z"];
        return model.Kind == ActiveModelKind.Aoup ? [.. axes, .. axes.Select(a => "g" + a)] : [.. axes, "theta"];
    }

    /// <summary>Position coordinate <paramref name="axis"/> of particle <paramref name="particle"/> at <paramref name="frame"/>.</summary>
    public double Position(int frame, int particle, int axis) => Data[((long)frame * Particles + particle) * Columns + axis];

    /// <summary>Active column <paramref name="column"/> (g_axis or theta) of a particle at a frame.</summary>
    public double ActiveState(int frame, int particle, int column) => Data[((long)frame * Particles + particle) * Columns + Dimension + column];

    /// <summary>Copies frame <paramref name="frame"/>'s positions into x[i d + a] and active states into active[i c + k].</summary>
    public void CopyFrame(int frame, double[] positions, double[]? active = null)
    {
        int n = Particles, d = Dimension, c = Columns, k = Model.ActiveColumns;
        long baseIndex = (long)frame * n * c;
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < d; a++) positions[i * d + a] = Data[baseIndex + i * c + a];
            if (active is not null) for (int a = 0; a < k; a++) active[i * k + a] = Data[baseIndex + i * c + d + a];
        }
    }

    /// <summary>Position increment of a coordinate from frame f to f + 1, unwrapped with the minimum image in a box.</summary>
    public double Increment(int frame, int particle, int axis)
    {
        double delta = Position(frame + 1, particle, axis) - Position(frame, particle, axis);
        return Model.Box is { } l ? delta - l * Math.Round(delta / l) : delta;
    }
}
