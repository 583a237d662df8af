using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference.Jumps;

/// <summary>
/// Transition counts n_ij(k) = #{frames f: x_f = i, x_{f+k} = j} of jump data (one coordinate of integer state labels) at
/// lags k = 1..MaxLag, kept per batch of <see cref="BatchLayout"/> so that every estimator built on them resamples the same
/// units. States are the distinct labels in increasing order.
/// </summary>
internal sealed class TransitionCounts
{
    private readonly double[] _cells; // [batch][lag - 1][i * S + j]

    private TransitionCounts(double[] labels, int maxLag, BatchLayout layout, double[] cells, double dt)
    {
        Labels = labels;
        MaxLag = maxLag;
        Layout = layout;
        _cells = cells;
        Dt = dt;
    }

    public double[] Labels { get; }
    public int States => Labels.Length;
    public int MaxLag { get; }
    public BatchLayout Layout { get; }
    public double Dt { get; }

    public static TransitionCounts Count(TrajectoryEnsemble data, ErrorOptions errors, int maxLag)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Dimension != 1)
            throw new InvalidInputException($"Jump-process data must have one coordinate holding the state label (got dimension {data.Dimension}).");
        data.EnsureFinite("trajectory data");
        var states = new SortedSet<double>();
        for (long i = 0; i < data.Data.LongLength; i++)
        {
            double v = data.Data[i];
            if (v != Math.Round(v))
                throw new InvalidInputException($"Jump-process data must hold integer state labels; value {v} at index {i} is not an integer (use --method current for continuous data).");
            if (states.Add(v) && states.Count > JumpEntropyProduction.MaxStates)
                throw new InvalidInputException($"Jump-process data have more than {JumpEntropyProduction.MaxStates} distinct states; use --method current for continuous data.");
        }
        var labels = states.ToArray();
        int S = labels.Length;
        // Labels 0..S-1 (what simulate writes) index themselves; anything else goes through a lookup.
        bool dense = labels[0] == 0 && labels[^1] == S - 1;
        var index = new Dictionary<double, int>();
        foreach (double s in labels) index[s] = index.Count;
        var layout = BatchLayout.Create(data, errors.Batches);
        long cell = (long)S * S;
        var cells = new double[layout.Count * maxLag * cell];
        Parallel.For(0, layout.Count, b =>
        {
            var batch = layout.Batches[b];
            for (int r = batch.TrajectoryFrom; r < batch.TrajectoryTo; r++)
                for (int f = batch.FrameFrom; f < batch.FrameTo && f + 1 < data.Frames; f++)
                {
                    double from = data.Frame(r, f)[0];
                    int i = dense ? (int)from : index[from];
                    for (int k = 1; k <= maxLag && f + k < data.Frames; k++)
                    {
                        double to = data.Frame(r, f + k)[0];
                        int j = dense ? (int)to : index[to];
                        cells[((long)b * maxLag + k - 1) * cell + i * S + j] += 1;
                    }
                }
        });
        return new TransitionCounts(labels, maxLag, layout, cells, data.Dt);
    }

    /// <summary>Counts at <paramref name="lag"/> summed over batches with <paramref name="weights"/> (empty: all once), row-major S x S.</summary>
    public double[] Sum(int lag, ReadOnlySpan<double> weights)
    {
        int S = States;
        long cell = (long)S * S;
        var c = new double[cell];
        for (int b = 0; b < Layout.Count; b++)
        {
            double w = weights.IsEmpty ? 1 : weights[b];
            if (w == 0) continue;
            long offset = ((long)b * MaxLag + lag - 1) * cell;
            for (int k = 0; k < cell; k++) c[k] += w * _cells[offset + k];
        }
        return c;
    }
}
