using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Where the neural estimators' transitions come from: trajectories in memory, or a file read in chunks for data larger
/// than memory (<see cref="Streamed"/>). Every pass visits the file once, sequentially, and cuts the transitions of the
/// chosen units, in file order (trajectory, then frame), into blocks of a fixed number of transitions
/// (<see cref="Blocks"/>): training shuffles within a block, evaluation sums block by block. Blocks do not depend on
/// how the file is chunked, so an estimate from a file streamed in any chunk size is the in-memory one bit for bit.
/// </summary>
internal sealed class TransitionSource
{
    private readonly Func<int, IEnumerable<TrajectoryChunk>> _pass;

    private TransitionSource(TrajectoryHeader header, Func<int, IEnumerable<TrajectoryChunk>> pass)
    {
        Header = header;
        _pass = pass;
    }

    /// <summary>Shape, dt and start time of the data.</summary>
    public TrajectoryHeader Header { get; }

    public int Trajectories => Header.Trajectories;
    public int Frames => Header.Frames;
    public int Dimension => Header.Dimension;
    public double Dt => Header.Dt;

    /// <summary>The data in memory as one chunk (callers check them for non-finite values first).</summary>
    public static TransitionSource InMemory(TrajectoryEnsemble data) =>
        new(new TrajectoryHeader("", data.Trajectories, data.Frames, data.Dimension, data.Dt, data.StartTime, data.Metadata),
            _ => [new TrajectoryChunk(data, 0, 0, 0, data.Frames)]);

    /// <summary>
    /// A file opened by <paramref name="open"/> once per pass and read in chunks of at most about <paramref name="chunkValues"/>
    /// values (two held at a time, with the overlap a lag needs); the reader checks every value, naming file, trajectory and frame.
    /// </summary>
    public static TransitionSource Streamed(Func<TrajectoryReader> open, long chunkValues)
    {
        TrajectoryHeader header;
        using (var reader = open()) header = reader.Header;
        return new TransitionSource(header, overlap => Pass(open, chunkValues, overlap));
    }

    private static IEnumerable<TrajectoryChunk> Pass(Func<TrajectoryReader> open, long chunkValues, int overlap)
    {
        using var reader = open();
        foreach (var chunk in reader.Chunks(chunkValues, overlap)) yield return chunk;
    }

    /// <summary>Transitions x_f -> x_{f+lag} of the units (those of a unit's [Start, End) that stay inside it, as <see cref="TransitionTensors"/>).</summary>
    public static long Count(IReadOnlyList<TransitionUnit> units, int lag = 1)
    {
        long n = 0;
        foreach (var u in units) n += Math.Max(0, u.Count - lag + 1);
        return n;
    }

    /// <summary>
    /// One pass: the transitions of <paramref name="units"/> at <paramref name="lag"/> in file order, in blocks of
    /// <paramref name="blockSize"/> transitions (the last one shorter); <see cref="TransitionRows.Unit"/> indexes
    /// <paramref name="units"/>. A block's arrays are its own (not reused).
    /// </summary>
    public IEnumerable<TransitionRows> Blocks(IReadOnlyList<TransitionUnit> units, int lag, long blockSize)
    {
        if (lag < 1) throw new ArgumentOutOfRangeException(nameof(lag));
        if (blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blockSize));
        int d = Dimension;
        long remaining = Count(units, lag);
        if (remaining == 0) yield break;
        // the units in file order; a cursor walks them as the chunks go by (chunks come in file order)
        int[] order = Enumerable.Range(0, units.Count).Where(i => units[i].Count - lag + 1 > 0)
            .OrderBy(i => units[i].Trajectory).ThenBy(i => units[i].Start).ToArray();
        int cursor = 0;
        var block = new TransitionRows((int)Math.Min(blockSize, remaining), d, Header.StartTime, Dt, lag);
        foreach (var chunk in _pass(lag))
        {
            var data = chunk.Data;
            int end = chunk.FirstTrajectory + data.Trajectories;
            while (cursor < order.Length && units[order[cursor]].Trajectory < chunk.FirstTrajectory) cursor++;
            for (int c = cursor; c < order.Length && units[order[c]].Trajectory < end; c++)
            {
                var u = units[order[c]];
                int from = Math.Max(u.Start, chunk.OwnedFrom), to = Math.Min(u.End - lag + 1, chunk.OwnedTo);
                // (no span kept across the yield: the trajectory's offset into the chunk's values instead)
                long offset = (long)(u.Trajectory - chunk.FirstTrajectory) * data.Frames * d;
                for (int f = from; f < to; f++)
                {
                    long local = offset + (long)(f - chunk.FirstFrame) * d;
                    block.Add(data.Data.AsSpan((int)local, d), data.Data.AsSpan((int)(local + lag * d), d), f, order[c]);
                    if (block.Length < block.Capacity) continue;
                    yield return block;
                    remaining -= block.Length;
                    if (remaining > 0) block = new TransitionRows((int)Math.Min(blockSize, remaining), d, Header.StartTime, Dt, lag);
                }
            }
        }
        if (remaining > 0)
        {
            if (block.Length != remaining)
                throw new InvalidOperationException($"a pass gave {block.Length} of the last {remaining} transitions; the chunks did not cover the file.");
            yield return block;
        }
    }

    /// <summary>
    /// One pass: means and standard deviations (n - 1) of the network inputs over the units' lag-1 transitions, summed in
    /// float64 in file order (the same in memory and streamed): start x_i, end x_{i+1}, midpoint, and midpoint time.
    /// </summary>
    public TransitionMoments Moments(IReadOnlyList<TransitionUnit> units)
    {
        var moments = new TransitionMoments(Dimension);
        foreach (var block in Blocks(units, 1, CrossFit.EvaluationBlock)) moments.Add(block);
        return moments;
    }
}

/// <summary>
/// A block of transitions x_f -> x_{f+lag} as float64 rows: start, end (each [Length, d]), the midpoint time t_f + lag dt / 2,
/// and the index of each transition's unit; <see cref="TransitionTensors.From"/> makes the float32 tensors.
/// </summary>
internal sealed class TransitionRows(int capacity, int dimension, double startTime, double dt, int lag)
{
    public double[] Start { get; } = new double[(long)capacity * dimension];
    public double[] End { get; } = new double[(long)capacity * dimension];
    public int[] Unit { get; } = new int[capacity];
    public double[] Time { get; } = new double[capacity];
    public int Capacity => capacity;
    public int Dimension => dimension;
    public int Length { get; private set; }

    /// <summary>Time lag dt spanned by each transition.</summary>
    public double Step => lag * dt;

    public void Add(ReadOnlySpan<double> x0, ReadOnlySpan<double> x1, int frame, int unit)
    {
        x0.CopyTo(Start.AsSpan(Length * dimension, dimension));
        x1.CopyTo(End.AsSpan(Length * dimension, dimension));
        Time[Length] = startTime + (frame + 0.5 * lag) * dt;
        Unit[Length] = unit;
        Length++;
    }
}

/// <summary>Running sums of the network inputs (float64), for standardising a network on its training transitions.</summary>
internal sealed class TransitionMoments(int dimension)
{
    private readonly double[] _sum = new double[3 * dimension + 1], _squares = new double[3 * dimension + 1];

    public long Count { get; private set; }

    public void Add(TransitionRows block)
    {
        int d = dimension;
        var (x0, x1, time) = (block.Start, block.End, block.Time);
        for (int i = 0; i < block.Length; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double a = x0[i * d + j], b = x1[i * d + j], mid = 0.5 * (a + b);
                Add(j, a);
                Add(d + j, b);
                Add(2 * d + j, mid);
            }
            Add(3 * d, time[i]);
        }
        Count += block.Length;

        void Add(int k, double v)
        {
            _sum[k] += v;
            _squares[k] += v * v;
        }
    }

    /// <summary>Mean and standard deviation of the inputs of a current network: the midpoint, then its time when <paramref name="time"/>.</summary>
    public (double[] Mean, double[] Std) Midpoint(bool time) => Of([.. Enumerable.Range(2 * dimension, dimension), .. time ? new[] { 3 * dimension } : []]);

    /// <summary>Mean and standard deviation of the inputs of a NEEP network: start, then end.</summary>
    public (double[] Mean, double[] Std) Pair() => Of([.. Enumerable.Range(0, 2 * dimension)]);

    private (double[] Mean, double[] Std) Of(int[] columns)
    {
        double n = Count;
        var mean = columns.Select(k => _sum[k] / n).ToArray();
        var std = columns.Select((k, i) => n > 1 ? Math.Sqrt(Math.Max(0, (_squares[k] - n * mean[i] * mean[i]) / (n - 1))) : 0).ToArray();
        return (mean, std);
    }
}
