using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Simd;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>Options of <see cref="CurrentStatistics"/>.</summary>
/// <param name="Lag">Transitions pair frames f and f + Lag (Lag 2 on the same data gives the coarse-sampling correction).</param>
/// <param name="Windows">Number of equal time windows over the record; statistics are kept per window.</param>
/// <param name="TimeDegree">Degree K of the Legendre time basis multiplying the spatial basis (0: stationary fields).</param>
/// <param name="TimeLocalToWindow">True: the time basis lives on each window (a separate fit per window); false: on the whole record (a joint (x, t) fit).</param>
/// <param name="CurrentCovariance">Also accumulate the per-transition second moments of the currents (needed by the TUR bound).</param>
public sealed record CurrentStatisticsOptions(int Lag = 1, int Windows = 1, int TimeDegree = 0, bool TimeLocalToWindow = true,
    bool CurrentCovariance = false)
{
    public static CurrentStatisticsOptions Default { get; } = new();
}

/// <summary>
/// The sufficient statistics of every current-based loss, accumulated once per data set in one parallel
/// pass: for each transition x_s = x(t), x_e = x(t + Lag dt), dx = x_e - x_s and basis vectors b_s = b(x_s, t_m),
/// b_e = b(x_e, t_m) (time-dependent bases at the midpoint time t_m),
/// <list type="bullet">
/// <item>Stratonovich currents J^S_{a mu} = sum (b_s + b_e)_a / 2 dx_mu (trapezoid: each frame's basis is evaluated once);</item>
/// <item>Ito currents J^I_{a mu} = sum b_{s,a} dx_mu;</item>
/// <item>Gram sums sum b_s b_s^T and sum (b_s b_s^T + b_e b_e^T)/2;</item>
/// <item>second cumulants sum dx dx^T and successive products sum dx_f dx_{f+Lag}^T (noise-robust diffusion);</item>
/// <item>optionally sum j j^T for j = vec((b_s + b_e)/2 dx^T) (variance of currents, TUR).</item>
/// </list>
/// Kept per (time window, batch) so every estimator gets standard errors by resampling batches.
/// These are the statistics of the losses of Lyu, Ray &amp; Crutchfield (2025), docs/inference.md, "The losses, once":
/// L(d) = &lt;d^T D d&gt; - 2 &lt;J_d&gt;/tau for the thermodynamic force, its Ito twin for the drift,
/// the second cumulant for D and the Stratonovich-Ito difference for the score.
/// </summary>
public sealed class CurrentStatistics
{
    private readonly double[] _cells; // [window][batch][layout]
    internal readonly Layout L;

    internal CurrentStatistics(DataShape shape, IBasis basis, CurrentStatisticsOptions options, BatchLayout batches, double[] cells, Layout layout,
        double[] windowEdges)
    {
        Basis = basis;
        Options = options;
        BatchLayout = batches;
        _cells = cells;
        L = layout;
        WindowEdges = windowEdges;
        Dimension = shape.Dimension;
        FrameDt = shape.Dt;
        Frames = shape.TotalFrames;
        Trajectories = shape.Trajectories;
        FramesPerTrajectory = shape.Frames;
        StartTime = shape.StartTime;
    }

    /// <summary>What the statistics need to know of the data besides their values.</summary>
    /// <param name="Trajectories">Trajectories accumulated.</param>
    /// <param name="Frames">Frames per trajectory.</param>
    /// <param name="Dimension">Coordinates per frame.</param>
    /// <param name="Dt">Time between frames.</param>
    /// <param name="StartTime">Time of frame 0.</param>
    /// <param name="TotalFrames">Frames accumulated over all trajectories (parts of a run add theirs).</param>
    internal sealed record DataShape(long Trajectories, int Frames, int Dimension, double Dt, double StartTime, long TotalFrames);

    /// <summary>The raw sums, [window][batch][layout] (for the statistics file).</summary>
    internal ReadOnlySpan<double> Cells => _cells;

    /// <summary>Frames per trajectory.</summary>
    public int FramesPerTrajectory { get; }

    /// <summary>Time of frame 0.</summary>
    public double StartTime { get; }

    public IBasis Basis { get; }
    public CurrentStatisticsOptions Options { get; }
    internal BatchLayout BatchLayout { get; }
    public int Dimension { get; }

    /// <summary>Number of scalar functions of the (space x time) basis: Basis.Count * (TimeDegree + 1).</summary>
    public int BasisCount => L.N;

    /// <summary>Name of the (space x time) basis, e.g. "poly:1*time:1".</summary>
    public string BasisName => LegendreTimeBasis.TensorName(Basis.Name, Options.TimeDegree);

    public double FrameDt { get; }

    /// <summary>Time spanned by one transition, Lag * dt.</summary>
    public double Step => Options.Lag * FrameDt;

    public long Frames { get; }
    public long Trajectories { get; }
    public int Batches => BatchLayout.Count;
    public int Windows => Options.Windows;

    /// <summary>Window boundaries t_0 &lt; ... &lt; t_W (absolute times).</summary>
    public IReadOnlyList<double> WindowEdges { get; }

    /// <summary>
    /// Accumulates the statistics of <paramref name="data"/> in <paramref name="basis"/> on up to
    /// <paramref name="maxDegreeOfParallelism"/> threads (-1: all cores); the result does not depend on the thread count.
    /// </summary>
    public static CurrentStatistics Accumulate(TrajectoryEnsemble data, IBasis basis, CurrentStatisticsOptions? options = null, ErrorOptions? errors = null,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(basis);
        options ??= CurrentStatisticsOptions.Default;
        errors ??= ErrorOptions.Default;
        errors.Validate();
        Check(basis, options, data.Dimension, data.Frames);
        data.EnsureFinite("trajectory data");
        var shape = new DataShape(data.Trajectories, data.Frames, data.Dimension, data.Dt, data.StartTime, (long)data.Trajectories * data.Frames);
        var sums = new Sums(shape, basis, options, BatchLayout.Create(data.Trajectories, data.Frames, errors.Batches), Parallelism(maxDegreeOfParallelism));
        Sums.Add([sums], new TrajectoryChunk(data, 0, 0, 0, data.Frames), sums.Parallel);
        return sums.Finish();
    }

    /// <summary>
    /// Accumulates the statistics of a file read in chunks of at most about <paramref name="chunkValues"/> values, one
    /// set per entry of <paramref name="options"/> (e.g. lags 1 and 2 for the coarse-sampling correction) in one pass, in
    /// memory bounded by the chunk size. Every sum is added in the order <see cref="Accumulate(TrajectoryEnsemble, IBasis, CurrentStatisticsOptions?, ErrorOptions?, int)"/>
    /// adds it (per batch: trajectories in order, frames in order), so the result is bit for bit the in-memory one
    /// whatever the chunk size. <paramref name="runLayout"/>: for a shard of a larger run (the file's metadata gives
    /// its first trajectory and the run's size), batches are those of the whole run (<see cref="Inference.BatchLayout.ForPart"/>),
    /// so that statistics of the shards add up to the run's. Up to <paramref name="maxDegreeOfParallelism"/> threads (-1: all
    /// cores); the result does not depend on the thread count.
    /// </summary>
    public static IReadOnlyList<CurrentStatistics> Accumulate(TrajectoryReader reader, IBasis basis, IReadOnlyList<CurrentStatisticsOptions> options,
        ErrorOptions errors, long chunkValues, bool runLayout = false, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(basis);
        errors.Validate();
        var h = reader.Header;
        foreach (var o in options) Check(basis, o, h.Dimension, h.Frames);
        var layout = runLayout && h.Metadata.TotalTrajectories is { } total
            ? BatchLayout.ForPart(h.Metadata.FirstTrajectory, h.Trajectories, total, h.Frames, errors.Batches, h.Path)
            : BatchLayout.Create(h.Trajectories, h.Frames, errors.Batches);
        var shape = new DataShape(h.Trajectories, h.Frames, h.Dimension, h.Dt, h.StartTime, (long)h.Trajectories * h.Frames);
        var parallel = Parallelism(maxDegreeOfParallelism);
        var sums = options.Select(o => new Sums(shape, basis, o, layout, parallel)).ToArray();
        int overlap = 2 * options.Max(o => o.Lag);
        // time blocks own whole segments, so that the segments do not depend on the chunk size; chunks of at most
        // CachedChunkValues, so that the chunk being read stays in the processor's cache until it is summed (a chunk of
        // tens of MB went out to memory as the kernel copied it in and was fetched back by the sums)
        using var chunks = reader.Chunks(Math.Min(chunkValues, CachedChunkValues), overlap, SegmentFrames).GetEnumerator();
        bool more = chunks.MoveNext();
        while (more)
        {
            var chunk = chunks.Current;
            // read the next chunk while this one is accumulated (the reader keeps two arrays)
            var next = Task.Run(chunks.MoveNext);
            try
            {
                Sums.Add(sums, chunk, parallel);
            }
            finally
            {
                more = next.GetAwaiter().GetResult();
            }
        }
        return sums.Select(s => s.Finish()).ToArray();
    }

    private static ParallelOptions Parallelism(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "-1 (all cores) or a positive thread count");
        return new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
    }

    /// <summary>Window boundaries t_0 + (t_end - t_0) k / w over the record.</summary>
    internal static double[] Edges(DataShape shape, int w)
    {
        double t0 = shape.StartTime, t1 = shape.StartTime + (shape.Frames - 1) * shape.Dt;
        var edges = new double[w + 1];
        for (int k = 0; k <= w; k++) edges[k] = t0 + (t1 - t0) * k / w;
        return edges;
    }

    private static void Check(IBasis basis, CurrentStatisticsOptions options, int dimension, int frames)
    {
        if (basis.Dimension != dimension)
            throw new InvalidInputException($"The basis '{basis.Name}' is for dimension {basis.Dimension} but the data have dimension {dimension}.");
        if (options.Lag < 1) throw new InvalidInputException($"The lag must be >= 1 frame (got {options.Lag}).");
        if (frames < options.Lag + 1)
            throw new InvalidInputException($"Trajectories have {frames} frames; at least {options.Lag + 1} are needed for transitions of lag {options.Lag}.");
        if (options.Windows < 1 || options.Windows > Math.Max(1, frames - 1))
            throw new InvalidInputException($"Windows must be between 1 and the number of transitions per trajectory ({frames - 1}); got {options.Windows}.");
        if (options.TimeDegree < 0 || options.TimeDegree > 12) throw new InvalidInputException($"The time degree must be between 0 and 12 (got {options.TimeDegree}).");
    }

    /// <summary>Sums being accumulated chunk by chunk.</summary>
    private sealed class Sums
    {
        private readonly DataShape _shape;
        private readonly IBasis _basis;
        private readonly CurrentStatisticsOptions _options;
        private readonly BatchLayout _batches;
        private readonly Layout _layout;
        private readonly double[] _cells;
        private readonly double[] _edges;
        private readonly ParallelOptions _parallel;
        // kept from chunk to chunk (one Sums is fed one chunk at a time), so that a pass leaves no garbage per chunk
        private readonly List<Segment> _segments = [];
        private double[] _partials = [];

        public Sums(DataShape shape, IBasis basis, CurrentStatisticsOptions options, BatchLayout batches, ParallelOptions parallel)
        {
            _parallel = parallel;
            _shape = shape;
            _basis = basis;
            _options = options;
            _batches = batches;
            _layout = new Layout(basis.Count * (options.TimeDegree + 1), shape.Dimension, options.CurrentCovariance);
            Resources.MemoryBudget.Require(8.0 * options.Windows * batches.Count * _layout.Length,
                $"the current statistics of basis '{basis.Name}' ({_layout.N} functions, {options.Windows} window(s) x {batches.Count} error batches)",
                $"use a smaller basis (lower degree, fewer modes), fewer coordinates ({InputParameter.Columns}) or fewer {InputParameter.Batches}");
            _cells = new double[(long)options.Windows * batches.Count * _layout.Length];
            _edges = Edges(shape, options.Windows);
        }

        public ParallelOptions Parallel => _parallel;

        /// <summary>
        /// Adds the transitions whose start frame the chunk owns to every one of <paramref name="all"/> (sums of one data set
        /// and basis, e.g. the lags 1 and 2 of the coarse-sampling correction). They are cut into segments (<see cref="Segments"/>),
        /// whose partial sums are computed in parallel and added to their (window, batch) cell in segment order, so the result
        /// does not depend on the thread count or on where chunks end. Where the sets' segments start at the same frames (the
        /// same windows and batches), each segment's basis values are evaluated once for all of them (values are per point, so
        /// the same bits).
        /// </summary>
        public static void Add(Sums[] all, TrajectoryChunk chunk, ParallelOptions parallel)
        {
            var lists = new List<Segment>[all.Length];
            for (int k = 0; k < all.Length; k++) lists[k] = all[k].Segments(chunk);
            if (Aligned(lists)) Add(all, lists, chunk, parallel);
            else System.Threading.Tasks.Parallel.For(0, all.Length, parallel, k => Add([all[k]], [lists[k]], chunk, parallel));
        }

        /// <summary>Whether segment i of every list starts at the same frame of the same trajectory, batch and window.</summary>
        private static bool Aligned(List<Segment>[] lists)
        {
            var first = lists[0];
            for (int k = 1; k < lists.Length; k++)
            {
                var other = lists[k];
                if (other.Count != first.Count) return false;
                for (int i = 0; i < first.Count; i++)
                {
                    Segment a = first[i], b = other[i];
                    if (a.Batch != b.Batch || a.Window != b.Window || a.Trajectory != b.Trajectory || a.From != b.From) return false;
                }
            }
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Add(Sums[] all, List<Segment>[] lists, TrajectoryChunk chunk, ParallelOptions parallel)
        {
            int sets = all.Length, segmentCount = lists[0].Count, lengths = 0, maxLag = 0;
            foreach (var s in all)
            {
                lengths += s._layout.Length;
                maxLag = Math.Max(maxLag, s._options.Lag);
            }
            // partial sums of a group of segments: a few MB whatever the basis
            int group = (int)Math.Clamp((4L << 20) / (8L * lengths), 16, 4096);
            foreach (var s in all)
            {
                long needed = (long)Math.Min(group, Math.Max(1, segmentCount)) * s._layout.Length;
                if (s._partials.LongLength < needed) s._partials = new double[needed];
            }
            var basis = all[0]._basis;
            var data = chunk.Data;
            int d = data.Dimension;
            for (int g0 = 0; g0 < segmentCount; g0 += group)
            {
                int count = Math.Min(group, segmentCount - g0);
                System.Threading.Tasks.Parallel.For(0, count, parallel, () => new Worker(all, maxLag), (i, _, worker) =>
                {
                    // frames first.From .. first.From + held - 1 hold every set's transitions of this segment
                    var first = lists[0][g0 + i];
                    int held = 0;
                    for (int k = 0; k < sets; k++) held = Math.Max(held, lists[k][g0 + i].To - first.From + all[k]._options.Lag);
                    long at = FrameIndex(chunk, first.Trajectory, first.From) * d;
                    basis.EvaluateColumns(data.Data.AsSpan((int)at, held * d), held, worker.Spatial, held);
                    worker.Parts.Count = -1;
                    for (int k = 0; k < sets; k++)
                    {
                        var s = all[k];
                        int len = s._layout.Length;
                        SegmentSums(chunk, s._shape, basis, s._options, s._layout, s._edges, lists[k][g0 + i], worker.Spatial, held, worker.Parts, worker.Scratch[k],
                            s._partials.AsSpan(i * len, len));
                    }
                    return worker;
                }, _ => { });
                for (int k = 0; k < sets; k++)
                {
                    var s = all[k];
                    int len = s._layout.Length, nb = s._batches.Count;
                    for (int i = 0; i < count; i++)
                    {
                        var segment = lists[k][g0 + i];
                        var cell = s._cells.AsSpan((int)(((long)segment.Window * nb + segment.Batch) * len), len);
                        AddTo(cell, s._partials.AsSpan(i * len, len));
                    }
                }
            }
        }

        /// <summary>One worker's buffers: the basis values of a segment's frames (all sets) and each set's columns.</summary>
        private sealed class Worker(Sums[] all, int maxLag)
        {
            public double[] Spatial { get; } = new double[all[0]._basis.Count * (SegmentFrames + maxLag)];
            public Scratch[] Scratch { get; } = all.Select(s => new Scratch(s._layout, s._options)).ToArray();
            public GramParts Parts { get; } = new(all[0]._layout.N);
        }

        /// <summary>
        /// The chunk's transitions in file order (batch, trajectory, start frame), cut into segments of one trajectory, one
        /// batch and one time window that never cross a multiple of <see cref="SegmentFrames"/> in the start frame. Chunks of
        /// time blocks own whole multiples of it (<see cref="Accumulate(TrajectoryReader, IBasis, IReadOnlyList{CurrentStatisticsOptions}, ErrorOptions, long, bool, int)"/>),
        /// so the segments, and with them every sum, are the same however the file is chunked or held in memory.
        /// </summary>
        private List<Segment> Segments(TrajectoryChunk chunk)
        {
            int from = chunk.FirstTrajectory, to = chunk.FirstTrajectory + chunk.Data.Trajectories;
            var list = _batches.Batches;
            int lo = 0, hi = list.Count;
            while (lo < hi) { int mid = (lo + hi) / 2; if (list[mid].TrajectoryTo <= from) lo = mid + 1; else hi = mid; }
            var segments = _segments;
            segments.Clear();
            int lastStart = _shape.Frames - _options.Lag; // start frames f with f + lag <= frames - 1
            for (int b = lo; b < list.Count && list[b].TrajectoryFrom < to; b++)
            {
                var batch = list[b];
                int fFrom = Math.Max(batch.FrameFrom, chunk.OwnedFrom), fTo = Math.Min(Math.Min(batch.FrameTo, chunk.OwnedTo), lastStart);
                for (int r = Math.Max(batch.TrajectoryFrom, from); r < Math.Min(batch.TrajectoryTo, to); r++)
                    for (int f = fFrom; f < fTo;)
                    {
                        int end = Math.Min(fTo, (f / SegmentFrames + 1) * SegmentFrames);
                        int window = Window(f);
                        if (Window(end - 1) != window)
                        {
                            // windows are monotone in f: the first frame of the next window by bisection
                            int a = f, c = end - 1;
                            while (c - a > 1) { int m = (a + c) / 2; if (Window(m) == window) a = m; else c = m; }
                            end = c;
                        }
                        segments.Add(new Segment(b, window, r, f, end));
                        f = end;
                    }
            }
            return segments;
        }

        /// <summary>Window of the transition starting at frame f: the one holding its midpoint time.</summary>
        private int Window(int f)
        {
            int windows = _options.Windows;
            if (windows == 1) return 0;
            double tm = _shape.StartTime + 0.5 * (f + f + _options.Lag) * _shape.Dt;
            return Math.Clamp((int)((tm - _edges[0]) / (_edges[^1] - _edges[0]) * windows), 0, windows - 1);
        }

        public CurrentStatistics Finish() => new(_shape, _basis, _options, _batches, _cells, _layout, _edges);
    }

    /// <summary>
    /// Start frames per segment of partial sums (at most): the unit of parallel work and of the fixed summation order.
    /// Chunks of time blocks own multiples of it.
    /// </summary>
    internal const int SegmentFrames = 256;

    /// <summary>Index of frame <paramref name="frame"/> of trajectory <paramref name="trajectory"/> (file indices) among the chunk's frames.</summary>
    private static long FrameIndex(TrajectoryChunk chunk, int trajectory, int frame) =>
        (long)(trajectory - chunk.FirstTrajectory) * chunk.Data.Frames + frame - chunk.FirstFrame;

    /// <summary>Transitions of trajectory <paramref name="Trajectory"/> (file index) with start frames [From, To), all in one batch and window.</summary>
    private readonly record struct Segment(int Batch, int Window, int Trajectory, int From, int To);

    /// <summary>
    /// Start frames of a segment whose Gram sums are summed apart from the rest (one vector of <see cref="FixedOrderSum"/>'s
    /// lanes): the rest, [8, count), and these, [0, 8), are the same for every lag below 8 (see <see cref="SegmentSums"/>).
    /// </summary>
    private const int HeadFrames = 8;

    /// <summary>
    /// The lag-independent Gram sums of the segment being summed (lower triangles), shared by its sets: over
    /// [0, <see cref="HeadFrames"/>) and [HeadFrames, <see cref="Count"/>); Count -1 until a set has formed them.
    /// </summary>
    private sealed class GramParts(int n)
    {
        public double[] Head { get; } = new double[n * n];
        public double[] Middle { get; } = new double[n * n];
        public int Count { get; set; } = -1;
    }

    /// <summary>One worker's buffers for one set of sums: the segment's columns (one array per quantity, transitions contiguous).</summary>
    private sealed class Scratch
    {
        public Scratch(Layout lay, CurrentStatisticsOptions options)
        {
            int n = lay.N, d = lay.D, lag = options.Lag, frames = SegmentFrames + lag;
            Start = options.TimeDegree > 0 ? new double[n * SegmentFrames] : [];
            End = options.TimeDegree > 0 ? new double[n * SegmentFrames] : [];
            Time = options.TimeDegree > 0 ? new double[(options.TimeDegree + 1) * SegmentFrames] : [];
            TimeRow = new double[options.TimeDegree + 1];
            Mid = lay.Covariance ? new double[n * SegmentFrames] : [];
            GramEnd = new double[n * n];
            Tail = new double[n * HeadFrames];
            Increments = new double[d * frames];
            Currents = lay.Covariance ? new double[n * d * SegmentFrames] : [];
        }

        public double[] Start { get; }
        public double[] End { get; }
        public double[] Time { get; }
        public double[] TimeRow { get; }
        public double[] Mid { get; }
        public double[] GramEnd { get; }
        public double[] Tail { get; }
        public double[] Increments { get; }
        public double[] Currents { get; }
    }

    /// <summary>
    /// The sums of one segment, written to <paramref name="partial"/> (a cell's layout): with the segment's transitions as
    /// columns (b_s, b_e per basis function, dx per coordinate), every sum is a dot product of two columns in the order of
    /// <see cref="FixedOrderSum.Dot"/> (register-blocked: <see cref="FixedOrderSum.Gram"/>, <see cref="FixedOrderSum.Cross3x2"/>):
    /// sum b_s b_s^T, (sum b_s b_s^T + sum b_e b_e^T)/2, (sum b_s dx^T + sum b_e dx^T)/2, sum b_s dx^T, sum dx dx^T,
    /// sum dx_f dx_{f+lag}^T and sum j j^T with j = vec((b_s + b_e)/2 dx^T). For a stationary basis the two Gram sums share
    /// the frames both ends hold, and the sets of a segment (lags below 8) share the lag-independent part, summed once in
    /// <paramref name="parts"/> (see the Gram block below). The order is a function of the segment and the lag alone, so the
    /// sums are the same however the data are chunked, held or threaded, and whichever other lags are summed with them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SegmentSums(TrajectoryChunk chunk, DataShape shape, IBasis basis, CurrentStatisticsOptions options, Layout lay,
        double[] edges, Segment segment, double[] spatial, int spatialStride, GramParts parts, Scratch scratch, Span<double> partial)
    {
        partial.Clear();
        var data = chunk.Data;
        var x = data.Data;
        int d = data.Dimension, ns = basis.Count, lag = options.Lag, kt = options.TimeDegree + 1, n = lay.N;
        int frames = shape.Frames, from = segment.From, count = segment.To - segment.From;
        // x index of (r, f): ((r - r0) * heldFrames + f - f0) * d
        long offset = FrameIndex(chunk, segment.Trajectory, 0) * d;

        // spatial: basis values of frames from .. from + count + lag - 1 (at least), column s at spatial[s * spatialStride]
        double[] startValues, endValues;
        int stride, endShift;
        if (kt == 1)
        {
            // b_s and b_e are the same columns shifted by the lag
            startValues = endValues = spatial;
            stride = spatialStride;
            endShift = lag;
        }
        else
        {
            // Both ends use the time basis at the transition's midpoint time: a trapezoid over a time-dependent
            // field would add (d(t_e) - d(t_s)) dx^2 / 4, an O(dt) bias of dt * d(d)/dt * D per unit time.
            var time = scratch.Time;
            var cs = scratch.TimeRow;
            double lo = options.TimeLocalToWindow ? edges[segment.Window] : edges[0];
            double hi = options.TimeLocalToWindow ? edges[segment.Window + 1] : edges[^1];
            for (int i = 0; i < count; i++)
            {
                int f = from + i;
                LegendreTimeBasis.Evaluate(shape.StartTime + 0.5 * (f + f + lag) * shape.Dt, lo, hi, kt - 1, cs);
                for (int k = 0; k < kt; k++) time[k * count + i] = cs[k];
            }
            startValues = scratch.Start;
            endValues = scratch.End;
            for (int s = 0; s < ns; s++)
                for (int k = 0; k < kt; k++)
                {
                    int a = s * kt + k;
                    for (int i = 0; i < count; i++)
                    {
                        startValues[a * count + i] = spatial[s * spatialStride + i] * time[k * count + i];
                        endValues[a * count + i] = spatial[s * spatialStride + lag + i] * time[k * count + i];
                    }
                }
            stride = count;
            endShift = 0;
        }
        ReadOnlySpan<double> Start(int a) => startValues.AsSpan(a * stride, count);
        ReadOnlySpan<double> End(int a) => endValues.AsSpan(a * stride + endShift, count);

        // increments dx of the segment's transitions and, for successive products, of the lag transitions after them
        int successive = Math.Clamp(frames - 2 * lag - from, 0, count); // transitions with f + 2 lag <= frames - 1
        int incs = successive > 0 ? Math.Max(count, successive + lag) : count;
        var dx = scratch.Increments;
        var source = x.AsSpan((int)(offset + (long)from * d), (incs + lag) * d); // frames from .. from + incs + lag - 1
        int gathered = 0;
        if (d == 2)
            gathered = PlaneColumns.SplitIncrements(ref MemoryMarshal.GetReference(source), lag, incs, ref dx[0], ref dx[incs]);
        for (int m = 0; m < d; m++)
        {
            // coordinate m is every d-th value: a strided gather, without bounds checks inside the span
            ref double xm = ref Unsafe.Add(ref MemoryMarshal.GetReference(source), m);
            ref double column = ref dx[m * incs];
            for (int i = gathered; i < incs; i++) Unsafe.Add(ref column, i) = Unsafe.Add(ref xm, (i + lag) * d) - Unsafe.Add(ref xm, i * d);
        }
        ReadOnlySpan<double> Dx(int m, int shift, int length) => dx.AsSpan(m * incs + shift, length);

        partial[0] = count;
        // Gram sums, lower triangles (mirrored when moments are formed)
        var gs = partial.Slice(lay.GramStart, n * n);
        var gm = partial.Slice(lay.GramMid, n * n);
        var ge = scratch.GramEnd.AsSpan(0, n * n);
        if (kt == 1 && lag < HeadFrames && count > HeadFrames)
        {
            // b_s are frames [0, count) and b_e frames [lag, count + lag) of the same columns. The Gram sums over
            // H = [0, 8) and M = [8, count) do not depend on the lag, so the sets of one segment (the correction's lags) share
            // them; the end's other frames, T = [lag, 8) and [count, count + lag), are 8 again: gathered into one vector's
            // worth of columns. sum b_s b_s^T = S(H) + S(M) and sum b_e b_e^T = S(T) + S(M).
            if (parts.Count != count)
            {
                FixedOrderSum.Gram(spatial, spatialStride, n, 0, HeadFrames, parts.Head);
                FixedOrderSum.Gram(spatial, spatialStride, n, HeadFrames, count, parts.Middle);
                parts.Count = count;
            }
            var tail = scratch.Tail;
            for (int a = 0; a < n; a++)
            {
                spatial.AsSpan(a * spatialStride + lag, HeadFrames - lag).CopyTo(tail.AsSpan(a * HeadFrames));
                spatial.AsSpan(a * spatialStride + count, lag).CopyTo(tail.AsSpan(a * HeadFrames + HeadFrames - lag));
            }
            FixedOrderSum.Gram(tail, HeadFrames, n, 0, HeadFrames, ge);
            for (int a = 0; a < n; a++)
                for (int c = 0; c <= a; c++)
                {
                    double middle = parts.Middle[a * n + c], start = parts.Head[a * n + c] + middle, end = ge[a * n + c] + middle;
                    gs[a * n + c] = start;
                    gm[a * n + c] = 0.5 * (start + end);
                }
        }
        else if (kt == 1 && count > lag)
        {
            // b_s are frames [0, count) and b_e frames [lag, count + lag) of the same columns: the frames [lag, count) that
            // both hold are summed once, the lag frames at either end one by one: sum b_s b_s^T = S[0, lag) + M and
            // sum b_e b_e^T = M + S[count, count + lag) with M over [lag, count)
            FixedOrderSum.Gram(spatial, spatialStride, n, lag, count, ge);
            for (int a = 0; a < n; a++)
            {
                var ca = spatial.AsSpan(a * spatialStride, count + lag);
                for (int c = 0; c <= a; c++)
                {
                    var cc = spatial.AsSpan(c * spatialStride, count + lag);
                    double shared = ge[a * n + c];
                    double start = Sequential(ca, cc, 0, lag) + shared, end = shared + Sequential(ca, cc, count, count + lag);
                    gs[a * n + c] = start;
                    gm[a * n + c] = 0.5 * (start + end);
                }
            }
        }
        else
        {
            FixedOrderSum.Gram(startValues, stride, n, 0, count, gs);
            FixedOrderSum.Gram(endValues, stride, n, endShift, endShift + count, ge);
            for (int a = 0; a < n; a++)
                for (int c = 0; c <= a; c++) gm[a * n + c] = 0.5 * (gs[a * n + c] + ge[a * n + c]);
        }
        // Stratonovich currents as the mean of the Ito sums at either end, 0.5 (sum b_s dx^T + sum b_e dx^T)
        var strat = partial.Slice(lay.Strat, n * d);
        var ito = partial.Slice(lay.Ito, n * d);
        // in the plane, three basis functions against both increments at a time; the rest four functions against one
        int blocked = d == 2 ? n - n % 3 : 0;
        Span<double> six = stackalloc double[6], sixEnd = stackalloc double[6];
        for (int a = 0; a < blocked; a += 3)
        {
            int s0 = a * stride, e0 = s0 + endShift;
            FixedOrderSum.Cross3x2(ref startValues[s0], ref startValues[s0 + stride], ref startValues[s0 + 2 * stride], ref dx[0], ref dx[incs], count, six);
            FixedOrderSum.Cross3x2(ref endValues[e0], ref endValues[e0 + stride], ref endValues[e0 + 2 * stride], ref dx[0], ref dx[incs], count, sixEnd);
            for (int k = 0; k < 3; k++)
                for (int m = 0; m < 2; m++)
                {
                    ito[(a + k) * d + m] = six[k * 2 + m];
                    strat[(a + k) * d + m] = 0.5 * (six[k * 2 + m] + sixEnd[k * 2 + m]);
                }
        }
        Span<double> four = stackalloc double[4], fourEnd = stackalloc double[4];
        for (int m = 0; m < d; m++)
        {
            var dxm = Dx(m, 0, count);
            int a = blocked;
            for (; a + 4 <= n; a += 4)
            {
                FixedOrderSum.Dot4(dxm, Start(a), Start(a + 1), Start(a + 2), Start(a + 3), four);
                FixedOrderSum.Dot4(dxm, End(a), End(a + 1), End(a + 2), End(a + 3), fourEnd);
                for (int k = 0; k < 4; k++)
                {
                    ito[(a + k) * d + m] = four[k];
                    strat[(a + k) * d + m] = 0.5 * (four[k] + fourEnd[k]);
                }
            }
            for (; a < n; a++)
            {
                double start = FixedOrderSum.Dot(Start(a), dxm);
                ito[a * d + m] = start;
                strat[a * d + m] = 0.5 * (start + FixedOrderSum.Dot(End(a), dxm));
            }
        }
        var inc = partial.Slice(lay.Increment, d * d);
        // successive increments dx_f and dx_{f+lag}: their covariance is -(measurement noise variance)
        partial[lay.SuccessiveCount] = successive;
        var succ = partial.Slice(lay.Successive, d * d);
        if (d == 2 && successive == count)
        {
            Span<double> seven = stackalloc double[7];
            FixedOrderSum.PlaneIncrements(ref dx[0], ref dx[incs], lag, count, seven);
            inc[0] = seven[0];
            inc[2] = seven[1];
            inc[3] = seven[2];
            seven.Slice(3, 4).CopyTo(succ);
        }
        else
        {
            for (int m = 0; m < d; m++)
                for (int q = 0; q <= m; q++) inc[m * d + q] = FixedOrderSum.Dot(Dx(m, 0, count), Dx(q, 0, count));
            for (int m = 0; m < d; m++)
                for (int q = 0; q < d; q++) succ[m * d + q] = FixedOrderSum.Dot(Dx(m, 0, successive), Dx(q, lag, successive));
        }
        if (lay.Covariance)
        {
            int nd = n * d;
            var j = scratch.Currents;
            var mid = scratch.Mid;
            for (int a = 0; a < n; a++) Midpoints(Start(a), End(a), mid.AsSpan(a * count, count));
            for (int a = 0; a < n; a++)
                for (int m = 0; m < d; m++)
                {
                    var ma = mid.AsSpan(a * count, count);
                    var dm = Dx(m, 0, count);
                    int p = (a * d + m) * count;
                    for (int i = 0; i < count; i++) j[p + i] = ma[i] * dm[i];
                }
            var cov = partial.Slice(lay.CurrentCovariance, nd * nd);
            for (int p = 0; p < nd; p++)
                for (int q = 0; q <= p; q++) cov[p * nd + q] = FixedOrderSum.Dot(j.AsSpan(p * count, count), j.AsSpan(q * count, count));
        }
    }

    /// <summary>
    /// Values per chunk at most when a file is read (8 MB): the two chunks the pass holds stay in the last-level cache.
    /// </summary>
    internal const long CachedChunkValues = 1 << 20;

    /// <summary>into[i] += add[i], eight lanes at a time (each element's additions in the same order, so the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddTo(Span<double> into, ReadOnlySpan<double> add)
    {
        int n = into.Length, i = 0;
        if (add.Length < n) throw new ArgumentException("a span shorter than the sums");
        ref double pa = ref MemoryMarshal.GetReference(add);
        ref double pi = ref MemoryMarshal.GetReference(into);
        for (; i <= n - 8; i += 8) (Vector512.LoadUnsafe(ref pi, (nuint)i) + Vector512.LoadUnsafe(ref pa, (nuint)i)).StoreUnsafe(ref pi, (nuint)i);
        for (; i < n; i++) into[i] += add[i];
    }

    /// <summary>into[i] = 0.5 * (a[i] + b[i]), four lanes at a time (the same operations, so the same bits, as one by one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Midpoints(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> into)
    {
        int n = into.Length, i = 0;
        if (a.Length < n || b.Length < n) throw new ArgumentException("spans shorter than the output");
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pb = ref MemoryMarshal.GetReference(b);
        ref double pi = ref MemoryMarshal.GetReference(into);
        var half = Vector256.Create(0.5);
        for (; i <= n - 4; i += 4)
            (half * (Vector256.LoadUnsafe(ref pa, (nuint)i) + Vector256.LoadUnsafe(ref pb, (nuint)i))).StoreUnsafe(ref pi, (nuint)i);
        for (; i < n; i++) into[i] = 0.5 * (a[i] + b[i]);
    }

    /// <summary>sum_{j in [from, to)} a_j c_j, left to right.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Sequential(ReadOnlySpan<double> a, ReadOnlySpan<double> c, int from, int to)
    {
        double sum = 0;
        for (int j = from; j < to; j++) sum += a[j] * c[j];
        return sum;
    }

    /// <summary>Moments of window <paramref name="window"/> (-1: all windows) with batch weights (null: every batch once).</summary>
    internal CurrentMoments Moments(int window = -1, ReadOnlySpan<double> weights = default)
    {
        int nb = Batches, len = L.Length;
        var sum = new double[len];
        int w0 = window < 0 ? 0 : window, w1 = window < 0 ? Windows : window + 1;
        for (int w = w0; w < w1; w++)
            for (int b = 0; b < nb; b++)
            {
                double weight = weights.IsEmpty ? 1.0 : weights[b];
                if (weight == 0) continue;
                var cell = _cells.AsSpan((int)(((long)w * nb + b) * len), len);
                for (int i = 0; i < len; i++) sum[i] += weight * cell[i];
            }
        return new CurrentMoments(sum, L, Step, FrameDt);
    }

    /// <summary>Flat layout of one cell's sums.</summary>
    internal sealed class Layout
    {
        public Layout(int n, int d, bool covariance)
        {
            N = n;
            D = d;
            Covariance = covariance;
            GramStart = 1;
            GramMid = GramStart + n * n;
            Strat = GramMid + n * n;
            Ito = Strat + n * d;
            Increment = Ito + n * d;
            SuccessiveCount = Increment + d * d;
            Successive = SuccessiveCount + 1;
            CurrentCovariance = Successive + d * d;
            Length = CurrentCovariance + (covariance ? n * d * n * d : 0);
        }

        public int N { get; }
        public int D { get; }
        public bool Covariance { get; }
        public int GramStart { get; }
        public int GramMid { get; }
        public int Strat { get; }
        public int Ito { get; }
        public int Increment { get; }
        public int SuccessiveCount { get; }
        public int Successive { get; }
        public int CurrentCovariance { get; }
        public int Length { get; }
    }
}

/// <summary>Normalised moments of a set of transitions (sums divided by counts), matrices as row-major arrays.</summary>
internal sealed class CurrentMoments
{
    public CurrentMoments(double[] sum, CurrentStatistics.Layout lay, double step, double frameDt)
    {
        int n = lay.N, d = lay.D;
        N = n;
        D = d;
        Count = sum[0];
        Step = step;
        ObservedTime = Count * frameDt;
        double inv = Count > 0 ? 1.0 / Count : double.NaN;
        GramStart = Symmetric(sum.AsSpan(lay.GramStart, n * n), n, inv);
        GramMid = Symmetric(sum.AsSpan(lay.GramMid, n * n), n, inv);
        Strat = Scale(sum.AsSpan(lay.Strat, n * d), inv / step);
        Ito = Scale(sum.AsSpan(lay.Ito, n * d), inv / step);
        SecondCumulant = Symmetric(sum.AsSpan(lay.Increment, d * d), d, inv / (2 * step));
        double sc = sum[lay.SuccessiveCount];
        var succ = sum.AsSpan(lay.Successive, d * d);
        SuccessiveCount = sc;
        Successive = new double[d * d];
        for (int m = 0; m < d; m++)
            for (int q = 0; q < d; q++) Successive[m * d + q] = sc > 0 ? 0.5 * (succ[m * d + q] + succ[q * d + m]) / sc : double.NaN;
        if (lay.Covariance)
        {
            int nd = n * d;
            CurrentSecondMoment = Symmetric(sum.AsSpan(lay.CurrentCovariance, nd * nd), nd, inv);
        }
    }

    /// <summary>The same transitions with some moments replaced (<see cref="With"/>).</summary>
    private CurrentMoments(CurrentMoments m, double[] gramStart, double[] gramMid, double[] strat, double[] ito, double[] secondCumulant, double[] successive,
        double[]? currentSecondMoment)
    {
        N = m.N;
        D = m.D;
        Count = m.Count;
        Step = m.Step;
        ObservedTime = m.ObservedTime;
        GramStart = gramStart;
        GramMid = gramMid;
        Strat = strat;
        Ito = ito;
        SecondCumulant = secondCumulant;
        SuccessiveCount = m.SuccessiveCount;
        Successive = successive;
        CurrentSecondMoment = currentSecondMoment;
    }

    /// <summary>
    /// These moments with the Gram sums, currents, second cumulant, successive products and (when kept) the currents' second
    /// moment replaced (the measurement noise's share removed, <see cref="MeasurementNoise"/>); the count and step are kept.
    /// </summary>
    internal CurrentMoments With(double[] gramStart, double[] gramMid, double[] strat, double[] ito, double[] secondCumulant, double[] successive,
        double[]? currentSecondMoment) =>
        new(this, gramStart, gramMid, strat, ito, secondCumulant, successive, currentSecondMoment);

    public int N { get; }
    public int D { get; }
    public double Count { get; }

    /// <summary>Time per transition.</summary>
    public double Step { get; }

    /// <summary>Observed time Count * dt (overlapping transitions of a larger lag cover the same time).</summary>
    public double ObservedTime { get; }

    /// <summary>M_ab = &lt;b_a b_b&gt; at start points (Ito).</summary>
    public double[] GramStart { get; }

    /// <summary>M_ab = &lt;(b_a b_b)(x_s) + (b_a b_b)(x_e)&gt;/2 (Stratonovich, trapezoid).</summary>
    public double[] GramMid { get; }

    /// <summary>Stratonovich currents per unit time, J^S[a * d + mu] = &lt;(b_s + b_e)_a/2 dx_mu&gt;/step.</summary>
    public double[] Strat { get; }

    /// <summary>Ito currents per unit time, J^I[a * d + mu] = &lt;b_{s,a} dx_mu&gt;/step.</summary>
    public double[] Ito { get; }

    /// <summary>&lt;dx dx^T&gt;/(2 step).</summary>
    public double[] SecondCumulant { get; }

    public double SuccessiveCount { get; }

    /// <summary>Symmetrised &lt;dx_f dx_{f+lag}^T&gt;.</summary>
    public double[] Successive { get; }

    /// <summary>&lt;j j^T&gt; with j = vec((b_s + b_e)/2 dx^T) (not divided by the step), or null.</summary>
    public double[]? CurrentSecondMoment { get; }

    private static double[] Symmetric(ReadOnlySpan<double> lower, int n, double scale)
    {
        var m = new double[n * n];
        for (int a = 0; a < n; a++)
            for (int c = 0; c <= a; c++) m[a * n + c] = m[c * n + a] = lower[a * n + c] * scale;
        return m;
    }

    private static double[] Scale(ReadOnlySpan<double> v, double scale)
    {
        var r = new double[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = v[i] * scale;
        return r;
    }
}
