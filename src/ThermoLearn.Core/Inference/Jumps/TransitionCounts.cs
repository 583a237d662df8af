using System.Globalization;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference.Jumps;

/// <summary>
/// Transition counts n_ij(k) = #{frames f: x_f = i, x_{f+k} = j} of jump data (one coordinate of integer state labels) at
/// lags k = 1..MaxLag, kept per batch of <see cref="BatchLayout"/> so that every estimator built on them resamples the same
/// units. States are the distinct labels in increasing order. Counts are whole numbers (exact in doubles below 2^53), so
/// counting a file chunk by chunk gives the same counts, bit for bit, as counting it in memory.
/// </summary>
internal sealed class TransitionCounts
{
    private readonly double[] _cells; // [batch][lag - 1][i * S + j]

    private TransitionCounts(double[] labels, int maxLag, BatchLayout layout, double[] cells, double dt, long frames)
    {
        Labels = labels;
        MaxLag = maxLag;
        Layout = layout;
        _cells = cells;
        Dt = dt;
        Frames = frames;
    }

    public double[] Labels { get; }
    public int States => Labels.Length;
    public int MaxLag { get; }
    public BatchLayout Layout { get; }
    public double Dt { get; }

    /// <summary>Frames counted (trajectories x frames per trajectory).</summary>
    public long Frames { get; }

    /// <summary>Counts of an ensemble in memory.</summary>
    public static TransitionCounts Count(TrajectoryEnsemble data, ErrorOptions errors, int maxLag)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckDimension(data.Dimension);
        data.EnsureFinite("trajectory data");
        var counter = new Counter(data.Trajectories, data.Frames, data.Dt, BatchLayout.Create(data, errors.Batches), maxLag, "");
        counter.Add(new TrajectoryChunk(data, 0, 0, 0, data.Frames));
        return counter.Finish();
    }

    /// <summary>
    /// Counts of a file read in chunks of at most about <paramref name="chunkValues"/> values (time blocks overlap by
    /// <paramref name="maxLag"/> frames), in memory bounded by the chunk size and the counts; one chunk is counted while the
    /// next is read.
    /// </summary>
    public static TransitionCounts Count(TrajectoryReader reader, ErrorOptions errors, int maxLag, long chunkValues)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var h = reader.Header;
        CheckDimension(h.Dimension);
        var counter = new Counter(h.Trajectories, h.Frames, h.Dt, BatchLayout.Create(h.Trajectories, h.Frames, errors.Batches), maxLag, h.Path + ": ");
        using var chunks = reader.Chunks(chunkValues, maxLag).GetEnumerator();
        bool more = chunks.MoveNext();
        while (more)
        {
            var chunk = chunks.Current;
            var next = Task.Run(chunks.MoveNext);
            try { counter.Add(chunk); }
            finally { more = next.GetAwaiter().GetResult(); }
        }
        return counter.Finish();
    }

    private static void CheckDimension(int dimension)
    {
        if (dimension != 1)
            throw new InvalidInputException($"Jump-process data must have one coordinate holding the state label (got dimension {dimension}).");
    }

    /// <summary>Counts per batch and lag with states numbered in order of first appearance; <see cref="Finish"/> sorts them.</summary>
    private sealed class Counter(int trajectories, int frames, double dt, BatchLayout layout, int maxLag, string source)
    {
        private const int Direct = 1024; // labels 0..Direct-1 (what simulate writes) index through an array, others a dictionary
        private readonly int[] _direct = Enumerable.Repeat(-1, Direct).ToArray();
        private readonly Dictionary<double, int> _index = [];
        private readonly List<double> _labels = [];
        private int _capacity = 4;
        private double[][] _cells = Enumerable.Range(0, layout.Count * maxLag).Select(_ => new double[16]).ToArray(); // [batch * maxLag + lag - 1][i * cap + j]

        private int IndexOf(double v) => v >= 0 && v < Direct ? _direct[(int)v] : _index.GetValueOrDefault(v, -1);

        /// <summary>Checks the chunk's values and numbers its new states (sequentially, so numbering follows the file).</summary>
        private void Register(TrajectoryChunk chunk)
        {
            var x = chunk.Data.Data;
            for (long i = 0; i < x.LongLength; i++)
            {
                double v = x[i];
                if (v != Math.Round(v))
                    throw InvalidInputException.Naming(
                        $"{source}Jump-process data must hold integer state labels; value {v.ToString(CultureInfo.InvariantCulture)} at trajectory {(chunk.FirstTrajectory + i / chunk.Data.Frames).ToString(CultureInfo.InvariantCulture)}, ",
                        $"frame {(chunk.FirstFrame + i % chunk.Data.Frames).ToString(CultureInfo.InvariantCulture)} is not an integer (use {InputParameter.Method} current for continuous data).");
                if (IndexOf(v) >= 0) continue;
                if (_labels.Count == JumpEntropyProduction.MaxStates)
                    throw InvalidInputException.Naming($"{source}Jump-process data have more than {JumpEntropyProduction.MaxStates} distinct states; use {InputParameter.Method} current for continuous data.");
                if (v >= 0 && v < Direct) _direct[(int)v] = _labels.Count;
                else _index[v] = _labels.Count;
                _labels.Add(v);
            }
            if (_labels.Count <= _capacity) return;
            int capacity = _capacity;
            while (capacity < _labels.Count) capacity *= 2;
            for (int c = 0; c < _cells.Length; c++)
            {
                var grown = new double[capacity * capacity];
                for (int i = 0; i < _capacity; i++) Array.Copy(_cells[c], i * _capacity, grown, i * capacity, _capacity);
                _cells[c] = grown;
            }
            _capacity = capacity;
        }

        /// <summary>Counts the transitions whose start frame the chunk owns, batch by batch in parallel (each batch its own cells).</summary>
        public void Add(TrajectoryChunk chunk)
        {
            Register(chunk);
            var data = chunk.Data;
            int r0 = chunk.FirstTrajectory, r1 = r0 + data.Trajectories, cap = _capacity;
            var batches = Enumerable.Range(0, layout.Count).Where(b =>
            {
                var x = layout.Batches[b];
                return x.TrajectoryFrom < r1 && x.TrajectoryTo > r0 && x.FrameFrom < chunk.OwnedTo && x.FrameTo > chunk.OwnedFrom;
            }).ToArray();
            Parallel.ForEach(batches, b =>
            {
                var batch = layout.Batches[b];
                int from = Math.Max(batch.FrameFrom, chunk.OwnedFrom), to = Math.Min(batch.FrameTo, chunk.OwnedTo);
                for (int r = Math.Max(batch.TrajectoryFrom, r0); r < Math.Min(batch.TrajectoryTo, r1); r++)
                    for (int f = from; f < to && f + 1 < frames; f++)
                    {
                        int i = IndexOf(data.Frame(r - r0, f - chunk.FirstFrame)[0]);
                        for (int k = 1; k <= maxLag && f + k < frames; k++)
                        {
                            int j = IndexOf(data.Frame(r - r0, f + k - chunk.FirstFrame)[0]);
                            _cells[b * maxLag + k - 1][i * cap + j] += 1;
                        }
                    }
            });
        }

        /// <summary>The counts with states in increasing label order.</summary>
        public TransitionCounts Finish()
        {
            var labels = _labels.ToArray();
            int S = labels.Length;
            var order = Enumerable.Range(0, S).OrderBy(i => labels[i]).ToArray(); // order[sorted] = appearance index
            long cell = (long)S * S;
            var cells = new double[_cells.Length * cell];
            for (int c = 0; c < _cells.Length; c++)
                for (int i = 0; i < S; i++)
                    for (int j = 0; j < S; j++) cells[c * cell + i * S + j] = _cells[c][order[i] * _capacity + order[j]];
            return new TransitionCounts(order.Select(i => labels[i]).ToArray(), maxLag, layout, cells, dt, (long)trajectories * frames);
        }
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
