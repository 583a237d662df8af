namespace ThermoLearn.ActiveMatter;

/// <summary>Run settings of <see cref="ActiveSimulator"/>.</summary>
public sealed record ActiveRunOptions
{
    /// <summary>Integration step.</summary>
    public double Dt { get; init; } = 0.01;

    /// <summary>Steps discarded before the first frame (relaxation to the steady state).</summary>
    public int BurnInSteps { get; init; }

    /// <summary>Recorded frames (the first is taken after the burn-in).</summary>
    public int Frames { get; init; } = 100;

    /// <summary>Integration steps between frames.</summary>
    public int SaveEvery { get; init; } = 1;

    public ulong Seed { get; init; }

    /// <summary>-1: all cores; the output does not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Optional initial state: N rows of d positions then the active columns.</summary>
    public double[]? Initial { get; init; }
}

/// <summary>Simulates an <see cref="ActiveModel"/> with <see cref="ActiveSystem"/> and records snapshots.</summary>
public static class ActiveSimulator
{
    public static ActiveSnapshots Run(ActiveModel model, ActiveRunOptions options, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        if (options.Frames < 1) throw new InvalidInputException($"frames must be positive (got {options.Frames}).");
        if (options.SaveEvery < 1) throw new InvalidInputException($"save-every must be positive (got {options.SaveEvery}).");
        if (options.BurnInSteps < 0) throw new InvalidInputException($"burn-in must be non-negative (got {options.BurnInSteps}).");
        if (options.MaxDegreeOfParallelism == 0 || options.MaxDegreeOfParallelism < -1)
            throw new InvalidInputException($"threads must be -1 (all cores) or a positive count (got {options.MaxDegreeOfParallelism}).");
        int columns = model.Dimension + model.ActiveColumns;
        long count = (long)options.Frames * model.Particles * columns;
        if (count > Array.MaxLength) throw new InvalidInputException($"{options.Frames} frames of {model.Particles} particles are {count} values, more than one array holds; record fewer frames.");
        var system = new ActiveSystem(model, options.Dt, options.Seed, options.Initial, options.MaxDegreeOfParallelism);
        long total = options.BurnInSteps + (long)(options.Frames - 1) * options.SaveEvery;
        for (int s = 0; s < options.BurnInSteps; s++)
        {
            cancel.ThrowIfCancellationRequested();
            system.Step();
            if (s % 64 == 0) progress?.Report((double)s / Math.Max(1, total));
        }
        var data = new double[count];
        for (int f = 0; f < options.Frames; f++)
        {
            cancel.ThrowIfCancellationRequested();
            if (f > 0) system.Step(options.SaveEvery);
            Store(system, data, f);
            progress?.Report((options.BurnInSteps + (double)f * options.SaveEvery) / Math.Max(1, total));
        }
        return new ActiveSnapshots(model, options.Frames, options.Dt * options.SaveEvery, data, options.Seed, options.Dt);
    }

    private static void Store(ActiveSystem system, double[] data, int frame)
    {
        var m = system.Model;
        int n = m.Particles, d = m.Dimension, k = m.ActiveColumns, c = d + k;
        long baseIndex = (long)frame * n * c;
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < d; a++) data[baseIndex + i * c + a] = system.Positions[i * d + a];
            for (int a = 0; a < k; a++) data[baseIndex + i * c + d + a] = system.Active[i * k + a];
        }
    }
}
