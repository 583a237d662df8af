using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
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
/// These are the statistics of the losses of Lyu, Ray &amp; Crutchfield (2025), physics spec section 4:
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

    /// <summary>Parallelism of the accumulation (tests pin it to one thread to check that results do not depend on it).</summary>
    internal static ParallelOptions Parallelism { get; set; } = new();

    /// <summary>Accumulates the statistics of <paramref name="data"/> in <paramref name="basis"/>.</summary>
    public static CurrentStatistics Accumulate(TrajectoryEnsemble data, IBasis basis, CurrentStatisticsOptions? options = null, ErrorOptions? errors = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(basis);
        options ??= CurrentStatisticsOptions.Default;
        errors ??= ErrorOptions.Default;
        errors.Validate();
        Check(basis, options, data.Dimension, data.Frames);
        data.EnsureFinite("trajectory data");
        var shape = new DataShape(data.Trajectories, data.Frames, data.Dimension, data.Dt, data.StartTime, (long)data.Trajectories * data.Frames);
        var sums = new Sums(shape, basis, options, BatchLayout.Create(data.Trajectories, data.Frames, errors.Batches));
        sums.Add(new TrajectoryChunk(data, 0, 0, 0, data.Frames));
        return sums.Finish();
    }

    /// <summary>
    /// Accumulates the statistics of a file read in chunks of at most about <paramref name="chunkValues"/> values, one
    /// set per entry of <paramref name="options"/> (e.g. lags 1 and 2 for the coarse-sampling correction) in one pass, in
    /// memory bounded by the chunk size. Every sum is added in the order <see cref="Accumulate(TrajectoryEnsemble, IBasis, CurrentStatisticsOptions?, ErrorOptions?)"/>
    /// adds it (per batch: trajectories in order, frames in order), so the result is bit for bit the in-memory one
    /// whatever the chunk size. <paramref name="runLayout"/>: for a shard of a larger run (the file's metadata gives
    /// its first trajectory and the run's size), batches are those of the whole run (<see cref="Inference.BatchLayout.ForPart"/>),
    /// so that statistics of the shards add up to the run's.
    /// </summary>
    public static IReadOnlyList<CurrentStatistics> Accumulate(TrajectoryReader reader, IBasis basis, IReadOnlyList<CurrentStatisticsOptions> options,
        ErrorOptions errors, long chunkValues, bool runLayout = false)
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
        var sums = options.Select(o => new Sums(shape, basis, o, layout)).ToArray();
        int overlap = 2 * options.Max(o => o.Lag);
        using var chunks = reader.Chunks(Math.Max(chunkValues, (long)(overlap + 2) * reader.Header.Dimension * 2), overlap).GetEnumerator();
        bool more = chunks.MoveNext();
        while (more)
        {
            var chunk = chunks.Current;
            // read the next chunk while this one is accumulated (the reader keeps two arrays)
            var next = Task.Run(chunks.MoveNext);
            try
            {
                Parallel.ForEach(sums, Parallelism, s => s.Add(chunk));
            }
            finally
            {
                more = next.GetAwaiter().GetResult();
            }
        }
        return sums.Select(s => s.Finish()).ToArray();
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

        public Sums(DataShape shape, IBasis basis, CurrentStatisticsOptions options, BatchLayout batches)
        {
            _shape = shape;
            _basis = basis;
            _options = options;
            _batches = batches;
            _layout = new Layout(basis.Count * (options.TimeDegree + 1), shape.Dimension, options.CurrentCovariance);
            Resources.MemoryBudget.Require(8.0 * options.Windows * batches.Count * _layout.Length,
                $"the current statistics of basis '{basis.Name}' ({_layout.N} functions, {options.Windows} window(s) x {batches.Count} error batches)",
                "use a smaller basis (lower degree, fewer modes), fewer coordinates (--columns) or fewer --batches");
            _cells = new double[(long)options.Windows * batches.Count * _layout.Length];
            _edges = Edges(shape, options.Windows);
        }

        /// <summary>Adds the transitions whose start frame the chunk owns, batch by batch (batches in parallel).</summary>
        public void Add(TrajectoryChunk chunk)
        {
            int from = chunk.FirstTrajectory, to = chunk.FirstTrajectory + chunk.Data.Trajectories;
            var list = _batches.Batches;
            int lo = 0, hi = list.Count;
            while (lo < hi) { int mid = (lo + hi) / 2; if (list[mid].TrajectoryTo <= from) lo = mid + 1; else hi = mid; }
            int first = lo, last = first;
            while (last < list.Count && list[last].TrajectoryFrom < to) last++;
            Parallel.For(first, last, Parallelism, b =>
                AccumulateBatch(chunk, _shape, _basis, _options, _layout, list[b], b, list.Count, _edges, _cells));
        }

        public CurrentStatistics Finish() => new(_shape, _basis, _options, _batches, _cells, _layout, _edges);
    }

    private static void AccumulateBatch(TrajectoryChunk chunk, DataShape shape, IBasis basis, CurrentStatisticsOptions options, Layout lay,
        BatchLayout.Batch batch, int b, int nb, double[] edges, double[] cells)
    {
        var data = chunk.Data;
        int d = data.Dimension, ns = basis.Count, lag = options.Lag, kt = options.TimeDegree + 1, n = lay.N;
        int slots = lag + 1;
        var spatial = new double[slots * ns];
        var bs = new double[n];
        var be = new double[n];
        var bm = new double[n];
        var cs = new double[kt];
        var dx = new double[d];
        var j = lay.Covariance ? new double[n * d] : Array.Empty<double>();
        var x = data.Data;
        // f and e are frame indices in the file; the chunk holds frames [f0, f0 + data.Frames) of trajectories [r0, ...)
        int frames = shape.Frames, windows = options.Windows, f0 = chunk.FirstFrame, r0 = chunk.FirstTrajectory, held = data.Frames;
        double dt = shape.Dt, start = shape.StartTime, span = edges[^1] - edges[0];
        bool timeDependent = kt > 1;

        int rFrom = Math.Max(batch.TrajectoryFrom, r0), rTo = Math.Min(batch.TrajectoryTo, r0 + data.Trajectories);
        int fFrom = Math.Max(batch.FrameFrom, chunk.OwnedFrom);
        for (int r = rFrom; r < rTo; r++)
        {
            // x index of (r, f): ((r - r0) * held + f - f0) * d
            long trajectoryOffset = ((long)(r - r0) * held - f0) * d;
            int last = Math.Min(Math.Min(batch.FrameTo, chunk.OwnedTo), frames - lag); // start frames f with f + lag <= frames - 1
            if (fFrom >= last) continue;
            // ring buffer of spatial basis values: frame f lives in slot f % slots
            for (int f = fFrom; f < fFrom + lag && f < frames; f++)
                basis.Evaluate(x.AsSpan((int)(trajectoryOffset + (long)f * d), d), spatial.AsSpan(f % slots * ns, ns));
            for (int f = fFrom; f < last; f++)
            {
                int e = f + lag;
                basis.Evaluate(x.AsSpan((int)(trajectoryOffset + (long)e * d), d), spatial.AsSpan(e % slots * ns, ns));
                double tm = start + 0.5 * (f + e) * dt;
                int window = windows == 1 ? 0 : Math.Clamp((int)((tm - edges[0]) / span * windows), 0, windows - 1);
                var ss = spatial.AsSpan(f % slots * ns, ns);
                var se = spatial.AsSpan(e % slots * ns, ns);
                if (timeDependent)
                {
                    double lo = options.TimeLocalToWindow ? edges[window] : edges[0];
                    double hi = options.TimeLocalToWindow ? edges[window + 1] : edges[^1];
                    // Both ends use the time basis at the transition's midpoint time: a trapezoid over a time-dependent
                    // field would add (d(t_e) - d(t_s)) dx^2 / 4, an O(dt) bias of dt * d(d)/dt * D per unit time.
                    LegendreTimeBasis.Evaluate(tm, lo, hi, kt - 1, cs);
                    for (int s = 0; s < ns; s++)
                        for (int k = 0; k < kt; k++) { bs[s * kt + k] = ss[s] * cs[k]; be[s * kt + k] = se[s] * cs[k]; }
                }
                else
                {
                    ss.CopyTo(bs);
                    se.CopyTo(be);
                }
                long xs = trajectoryOffset + (long)f * d, xe = trajectoryOffset + (long)e * d;
                for (int m = 0; m < d; m++) dx[m] = x[xe + m] - x[xs + m];
                for (int a = 0; a < n; a++) bm[a] = 0.5 * (bs[a] + be[a]);

                var cell = cells.AsSpan((int)(((long)window * nb + b) * lay.Length), lay.Length);
                cell[0] += 1;
                // Gram sums, lower triangles (mirrored when moments are formed)
                var gs = cell.Slice(lay.GramStart, n * n);
                var gm = cell.Slice(lay.GramMid, n * n);
                for (int a = 0; a < n; a++)
                {
                    double ua = bs[a], va = be[a];
                    int row = a * n;
                    for (int c = 0; c <= a; c++)
                    {
                        double p = ua * bs[c];
                        gs[row + c] += p;
                        gm[row + c] += 0.5 * (p + va * be[c]);
                    }
                }
                var strat = cell.Slice(lay.Strat, n * d);
                var ito = cell.Slice(lay.Ito, n * d);
                for (int a = 0; a < n; a++)
                {
                    double ma = bm[a], sa = bs[a];
                    for (int m = 0; m < d; m++) { strat[a * d + m] += ma * dx[m]; ito[a * d + m] += sa * dx[m]; }
                }
                var inc = cell.Slice(lay.Increment, d * d);
                for (int m = 0; m < d; m++)
                    for (int q = 0; q <= m; q++) inc[m * d + q] += dx[m] * dx[q];
                if (e + lag <= frames - 1)
                {
                    // successive increments dx_f and dx_{f+lag}: their covariance is -(measurement noise variance)
                    long xn = trajectoryOffset + (long)(e + lag) * d;
                    var succ = cell.Slice(lay.Successive, d * d);
                    cell[lay.SuccessiveCount] += 1;
                    for (int m = 0; m < d; m++)
                        for (int q = 0; q < d; q++) succ[m * d + q] += dx[m] * (x[xn + q] - x[xe + q]);
                }
                if (lay.Covariance)
                {
                    for (int a = 0; a < n; a++)
                        for (int m = 0; m < d; m++) j[a * d + m] = bm[a] * dx[m];
                    int nd = n * d;
                    var cov = cell.Slice(lay.CurrentCovariance, nd * nd);
                    for (int p = 0; p < nd; p++)
                    {
                        double jp = j[p];
                        int row = p * nd;
                        for (int q = 0; q <= p; q++) cov[row + q] += jp * j[q];
                    }
                }
            }
        }
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
