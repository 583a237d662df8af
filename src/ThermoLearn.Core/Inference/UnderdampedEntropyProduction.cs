using ThermoLearn.Statistics;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>
/// Entropy production of underdamped dynamics dx = v dt, dv = a(x, v) dt + sqrt(2 D_v) dW observed through
/// positions only (single bath, isotropic friction). Velocities and accelerations come from differences,
/// v_n = (x_{n+1} - x_{n-1}) / (2 dt), a_n = (x_{n+1} - 2 x_n + x_{n-1}) / dt^2, with the corrections of
/// underdamped Langevin inference (Brueckner, Ronceray &amp; Broedersz, PRL 125, 058103 (2020)):
/// the noise in a_n has covariance (4/3) D_v / dt, so D_v = (3/4) dt &lt;a a^T&gt;; and the same noise correlates
/// with v_n, &lt;a_n v_n^T&gt; = &lt;a v^T&gt; + D_v, which is subtracted from the normal equations of the fit
/// a(x, v) = Theta^T [b(x), v]. The friction rate is Gamma = -Theta_v^T, the position-dependent part
/// a_x(x) = Theta_x^T b(x) = F(x)/m, and in a steady state sigma = &lt;F . v&gt;/T = &lt;a_x^T D_v^-1 Gamma v&gt;
/// (D_v = Gamma T/m: the conservative part of F averages to zero, leaving &lt;f_nc . v&gt;/T). Residual bias O(dt).
/// </summary>
public static class UnderdampedEntropyProduction
{
    /// <summary>
    /// <see cref="IncrementCurvatureRatio(TrajectoryEnsemble)"/> above which data are taken as overdamped. For an Ornstein-Uhlenbeck velocity of
    /// relaxation rate gamma, R = 2 (1 - rho_1) with rho_1 = (1 - e^-a)^2 / (2 (a - 1 + e^-a)), a = gamma dt: R = 1 at a ~ 1.2,
    /// where differences no longer resolve velocities; overdamped data give R = 2 + O(dt), so with N increments
    /// the statistic's spread (~ 2 sqrt(3 / N)) puts either side far from 1 for any N worth estimating on.
    /// </summary>
    public const double OverdampedThreshold = 1.0;

    /// <summary>
    /// R = var(Delta^2 x) / var(Delta x), pooled over trajectories and coordinates (means removed per coordinate): the scale test
    /// of docs/inference.md, "Overdamped or underdamped data". Position increments of overdamped motion scale as dt^(1/2) and are independent, so the second
    /// difference has twice their variance (R = 2); underdamped increments are v dt (order dt) and vary smoothly, so the second
    /// difference is of order dt^(3/2) and R = O(gamma dt).
    /// </summary>
    public static double IncrementCurvatureRatio(TrajectoryEnsemble data) => Curvature(data).Ratio();

    /// <summary>The sums of <see cref="IncrementCurvatureRatio(TrajectoryEnsemble)"/> over every trajectory of data held in memory.</summary>
    private static CurvatureSums Curvature(TrajectoryEnsemble data)
    {
        var sums = new CurvatureSums(data.Dimension);
        for (int t = 0; t < data.Trajectories; t++) sums.Add(data.Trajectory(t), 0, 0, data.Frames - 1, data.Frames);
        return sums;
    }

    /// <summary>
    /// <see cref="IncrementCurvatureRatio(TrajectoryEnsemble)"/> below which positions are smooth paths (underdamped motion with
    /// resolved velocities) for certain: R = 0.5 at gamma dt ~ 0.45 (R = 2 (1 - rho_1) above). Between 0.5 and
    /// <see cref="OverdampedThreshold"/> velocities are only partly resolved; an overdamped sample of N increments reaches 0.5 only
    /// 1.5 / (2 sqrt(3 / N)) of its spreads below its mean 2, i.e. never for N above a few dozen. A current estimate of such data
    /// measures the dynamics of positions as if they were overdamped, which they are not (docs/inference.md).
    /// </summary>
    public const double SmoothPathsThreshold = 0.5;

    /// <summary>
    /// R of the lag-1 transitions that the current statistics <paramref name="stats"/> already hold, with no further pass over the
    /// data: var(Delta^2 x) = 2 &lt;dx^2&gt; - 2 &lt;dx_f dx_{f+1}&gt; from the second moments and successive products, pooled over
    /// coordinates. Unlike <see cref="IncrementCurvatureRatio(TrajectoryEnsemble)"/> the mean increment is not removed (the
    /// statistics do not hold it): a mean drift u per frame adds u^2 to var(Delta x) only, which lowers R by the factor
    /// 1 / (1 + u^2 / var(Delta x)), a change that matters only when the drift moves a particle farther per frame than its noise.
    /// NaN when the statistics have no successive increments (lag above 1, or trajectories of 2 frames).
    /// </summary>
    public static double IncrementCurvatureRatio(CurrentStatistics stats) => CurvatureRatio(stats, pooled: true)[0];

    /// <summary>
    /// R of each coordinate alone, from the same statistics as <see cref="IncrementCurvatureRatio(CurrentStatistics)"/>: a file of
    /// positions and velocities pools the velocities' R ~ 2 with the positions' R &lt;&lt; 1, so only the coordinates alone show
    /// the smooth ones. NaN entries as there.
    /// </summary>
    public static double[] IncrementCurvatureRatios(CurrentStatistics stats) => CurvatureRatio(stats, pooled: false);

    private static double[] CurvatureRatio(CurrentStatistics stats, bool pooled)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var m = stats.Options.Lag == 1 ? stats.Moments() : null;
        int d = m?.D ?? 1, slots = pooled ? 1 : d;
        var second = new double[slots];
        var successive = new double[slots];
        if (m is not null && m.SuccessiveCount > 0)
            for (int i = 0; i < d; i++)
            {
                int slot = pooled ? 0 : i;
                second[slot] += 2 * m.Step * m.SecondCumulant[i * d + i];   // <dx_i^2>
                successive[slot] += m.Successive[i * d + i];                // <dx_i,f dx_i,f+1>
            }
        return [.. second.Zip(successive, (a, b) => a > 0 ? 2 * (a - b) / a : double.NaN)];
    }

    public static EntropyProductionEstimate Estimate(TrajectoryEnsemble data, IBasis basis, ErrorOptions? errors = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        errors ??= ErrorOptions.Default;
        errors.Validate();
        Check(basis, data.Dimension, data.Frames);
        data.EnsureFinite("trajectory data");
        RefuseOverdamped(Curvature(data), null);
        var layout = BatchLayout.Create(data, errors.Batches);
        var cells = new Cells(basis, data.Dimension, data.Dt, layout.Count);
        Parallel.For(0, layout.Count, b =>
        {
            var batch = layout.Batches[b];
            var scratch = cells.Scratch();
            for (int r = batch.TrajectoryFrom; r < batch.TrajectoryTo; r++)
            {
                // centre frames n with n - 1 >= 0 and n + 1 <= Frames - 1, taken from this batch's start frames
                int from = Math.Max(batch.FrameFrom, 1), to = Math.Min(batch.FrameTo, data.Frames - 1);
                for (int f = from; f < to; f++) cells.Add(b, data.Frame(r, f - 1), data.Frame(r, f), data.Frame(r, f + 1), scratch);
            }
        });
        return Finish(cells, layout, basis, data.Dimension, data.Dt, (long)data.Trajectories * data.Frames, errors);
    }

    /// <summary>
    /// The same from a file read once, sequentially, in chunks of at most about <paramref name="chunkValues"/> values (two held,
    /// time blocks overlapping by the two frames a centred difference needs): the ratio's sums and every batch's sums are added
    /// in the in-memory order (trajectory, then frame), so the estimate is the in-memory one bit for bit. The overdamped check
    /// comes after the pass, from the same sums.
    /// </summary>
    public static EntropyProductionEstimate Estimate(TrajectoryReader reader, IBasis basis, ErrorOptions? errors, long chunkValues)
    {
        ArgumentNullException.ThrowIfNull(reader);
        errors ??= ErrorOptions.Default;
        errors.Validate();
        var h = reader.Header;
        Check(basis, h.Dimension, h.Frames);
        var layout = BatchLayout.Create(h.Trajectories, h.Frames, errors.Batches);
        var cells = new Cells(basis, h.Dimension, h.Dt, layout.Count);
        var curvature = new CurvatureSums(h.Dimension);
        var scratch = cells.Scratch();
        int b = 0;
        foreach (var chunk in reader.Chunks(chunkValues, 2))
        {
            var data = chunk.Data;
            for (int local = 0; local < data.Trajectories; local++)
            {
                int r = chunk.FirstTrajectory + local;
                var x = data.Trajectory(local);
                curvature.Add(x, chunk.FirstFrame, chunk.OwnedFrom, Math.Min(chunk.OwnedTo, h.Frames - 1), h.Frames);
                // centre frame f is taken by the chunk that owns start frame f - 1 (it holds f - 1, f and f + 1)
                int from = Math.Max(chunk.OwnedFrom + 1, 1), to = Math.Min(chunk.OwnedTo + 1, h.Frames - 1);
                for (int f = from; f < to; f++)
                {
                    while (!Holds(layout.Batches[b], r, f)) b++;
                    int l = f - chunk.FirstFrame;
                    cells.Add(b, data.Frame(local, l - 1), data.Frame(local, l), data.Frame(local, l + 1), scratch);
                }
            }
        }
        RefuseOverdamped(curvature, reader.Columns);
        return Finish(cells, layout, basis, h.Dimension, h.Dt, (long)h.Trajectories * h.Frames, errors);

        static bool Holds(BatchLayout.Batch batch, int r, int f) =>
            r >= batch.TrajectoryFrom && r < batch.TrajectoryTo && f >= batch.FrameFrom && f < batch.FrameTo;
    }

    private static void Check(IBasis basis, int dimension, int frames)
    {
        if (basis.Dimension != dimension)
            throw new InvalidInputException($"The basis '{basis.Name}' is for dimension {basis.Dimension} but the data have dimension {dimension}.");
        if (frames < 3) throw new InvalidInputException($"Underdamped inference needs at least 3 frames per trajectory (got {frames}).");
    }

    /// <summary>
    /// Refuses data whose pooled R is above <see cref="OverdampedThreshold"/>. When some coordinates alone are smooth and others are
    /// not (an (x, v) file read whole: the velocities' R ~ 2 swamps the positions'), the message names both sets and the
    /// <c>columns</c> of the smooth ones; <paramref name="columns"/> maps coordinates to the file's columns (null: the same).
    /// </summary>
    private static void RefuseOverdamped(CurvatureSums curvature, IReadOnlyList<int>? columns)
    {
        double ratio = curvature.Ratio();
        if (!(ratio > OverdampedThreshold)) return;
        var each = curvature.PerCoordinate();
        int Column(int m) => columns is null ? m : columns[m];
        var smooth = Enumerable.Range(0, each.Length).Where(m => each[m] <= OverdampedThreshold).ToArray();
        var rough = Enumerable.Range(0, each.Length).Where(m => each[m] > OverdampedThreshold).ToArray();
        string List(int[] set) => string.Join(", ", set.Select(m => Column(m).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string Values(int[] set) => string.Join(", ", set.Select(m => each[m].ToString("G3", System.Globalization.CultureInfo.InvariantCulture)));
        if (smooth.Length > 0 && rough.Length > 0)
            throw InvalidInputException.Naming($"these data mix smooth and rough coordinates: R = var(x[f+2] - 2 x[f+1] + x[f]) / var(x[f+1] - x[f]) = {ratio:G3} pooled, ",
                $"but column{(smooth.Length > 1 ? "s" : "")} {List(smooth)} alone give{(smooth.Length > 1 ? "" : "s")} R = {Values(smooth)} (smooth: positions of underdamped motion) ",
                $"and column{(rough.Length > 1 ? "s" : "")} {List(rough)} give{(rough.Length > 1 ? "" : "s")} R = {Values(rough)} (independent increments, as velocities or overdamped coordinates have; ",
                $"refused above {OverdampedThreshold}). {InputParameter.Method} underdamped reads positions only: if {List(smooth)} are the positions, ",
                $"use {InputParameter.Columns} {string.Join(",", smooth.Select(Column))}.");
        throw InvalidInputException.Naming($"these data look overdamped, not underdamped: R = var(x[f+2] - 2 x[f+1] + x[f]) / var(x[f+1] - x[f]) = {ratio:G3} ",
            $"(overdamped, independent increments: R = 2; resolved underdamped motion, gamma dt << 1: R ~ 2 gamma dt / 3; refused above {OverdampedThreshold}). ",
            $"Finite-difference velocities of these positions are noise, so {InputParameter.Method} underdamped would be wrong; use {InputParameter.Method} current, ",
            $"or record frames closer than the velocity relaxation time.");
    }

    /// <summary>
    /// Per coordinate: sums of the increments x[f+1] - x[f] and second differences x[f+2] - 2 x[f+1] + x[f] (and their squares)
    /// over start frames f, added trajectory by trajectory in frame order (<see cref="IncrementCurvatureRatio(TrajectoryEnsemble)"/>).
    /// </summary>
    private sealed class CurvatureSums(int d)
    {
        private readonly double[] _s1 = new double[d], _s2 = new double[d], _c1 = new double[d], _c2 = new double[d];
        private readonly long[] _n1 = new long[d], _n2 = new long[d];

        /// <summary>Start frames [from, to) of one trajectory whose values <paramref name="x"/> begin at frame <paramref name="first"/>.</summary>
        public void Add(ReadOnlySpan<double> x, int first, int from, int to, int frames)
        {
            for (int m = 0; m < d; m++)
            {
                double s1 = _s1[m], s2 = _s2[m], c1 = _c1[m], c2 = _c2[m];
                long n1 = _n1[m], n2 = _n2[m];
                for (int f = from; f < to; f++)
                {
                    int l = f - first;
                    double dx = x[(l + 1) * d + m] - x[l * d + m];
                    s1 += dx; s2 += dx * dx; n1++;
                    if (f + 2 < frames)
                    {
                        double ddx = x[(l + 2) * d + m] - 2 * x[(l + 1) * d + m] + x[l * d + m];
                        c1 += ddx; c2 += ddx * ddx; n2++;
                    }
                }
                (_s1[m], _s2[m], _c1[m], _c2[m], _n1[m], _n2[m]) = (s1, s2, c1, c2, n1, n2);
            }
        }

        /// <summary>R of each coordinate alone (NaN where it has fewer than two second differences or no spread).</summary>
        public double[] PerCoordinate()
        {
            var r = new double[d];
            for (int m = 0; m < d; m++)
            {
                long n1 = _n1[m], n2 = _n2[m];
                double v1 = n1 > 0 ? _s2[m] / n1 - (_s1[m] / n1) * (_s1[m] / n1) : double.NaN;
                r[m] = n2 >= 2 && v1 > 0 ? (_c2[m] / n2 - (_c1[m] / n2) * (_c1[m] / n2)) / v1 : double.NaN;
            }
            return r;
        }

        public double Ratio()
        {
            double r = 0, weight = 0;
            for (int m = 0; m < d; m++)
            {
                double s1 = _s1[m], s2 = _s2[m], c1 = _c1[m], c2 = _c2[m];
                long n1 = _n1[m], n2 = _n2[m];
                if (n2 < 2) continue;
                double v1 = s2 / n1 - (s1 / n1) * (s1 / n1), v2 = c2 / n2 - (c1 / n2) * (c1 / n2);
                if (!(v1 > 0)) continue;
                r += v2; weight += v1;
            }
            return weight > 0 ? r / weight : 0;
        }
    }

    /// <summary>Per batch: count, U = sum u u^T (nu x nu), A = sum u a^T (nu x d), Q = sum a a^T (d x d), u = [b(x), v].</summary>
    private sealed class Cells
    {
        private readonly IBasis _basis;
        private readonly int _d, _ns, _nu;
        private readonly double _dt;

        public Cells(IBasis basis, int d, double dt, int batches)
        {
            (_basis, _d, _dt, _ns) = (basis, d, dt, basis.Count);
            _nu = _ns + d;
            Length = 1 + _nu * _nu + _nu * d + d * d;
            Resources.MemoryBudget.Require(8.0 * batches * Length, $"underdamped statistics of basis '{basis.Name}' ({_nu} regressors x {batches} error batches)",
                $"use a smaller basis or fewer {InputParameter.Batches}");
            Values = new double[batches * Length];
        }

        public int Length { get; }
        public double[] Values { get; }

        public (double[] U, double[] A) Scratch() => (new double[_nu], new double[_d]);

        /// <summary>Adds the centred differences at x0 (neighbours xm, xp) to batch <paramref name="b"/>.</summary>
        public void Add(int b, ReadOnlySpan<double> xm, ReadOnlySpan<double> x0, ReadOnlySpan<double> xp, (double[] U, double[] A) scratch)
        {
            int d = _d, ns = _ns, nu = _nu;
            var (u, a) = scratch;
            var cell = Values.AsSpan(b * Length, Length);
            _basis.Evaluate(x0, u.AsSpan(0, ns));
            for (int m = 0; m < d; m++)
            {
                u[ns + m] = (xp[m] - xm[m]) / (2 * _dt);
                a[m] = (xp[m] - 2 * x0[m] + xm[m]) / (_dt * _dt);
            }
            cell[0] += 1;
            int o = 1;
            for (int i = 0; i < nu; i++)
                for (int j = 0; j < nu; j++) cell[o + i * nu + j] += u[i] * u[j];
            o += nu * nu;
            for (int i = 0; i < nu; i++)
                for (int m = 0; m < d; m++) cell[o + i * d + m] += u[i] * a[m];
            o += nu * d;
            for (int m = 0; m < d; m++)
                for (int q = 0; q < d; q++) cell[o + m * d + q] += a[m] * a[q];
        }
    }

    private static EntropyProductionEstimate Finish(Cells statistics, BatchLayout layout, IBasis basis, int d, double dt, long frames, ErrorOptions errors)
    {
        int ns = basis.Count, nu = ns + d, len = statistics.Length;
        var cells = statistics.Values;
        double[] Sum(ReadOnlySpan<double> weights)
        {
            var s = new double[len];
            for (int b = 0; b < layout.Count; b++)
            {
                double w = weights.IsEmpty ? 1 : weights[b];
                if (w == 0) continue;
                for (int i = 0; i < len; i++) s[i] += w * cells[b * len + i];
            }
            return s;
        }

        string Describe(int i) => i < ns ? basis.Describe(i) : $"v{i - ns}";

        double Sigma(double[] s, bool diagnose)
        {
            double count = s[0];
            if (!(count > 0)) throw new InvalidInputException("No interior frames to form velocities and accelerations.");
            var U = new double[nu * nu];
            var A = new double[nu * d];
            var Dv = new double[d * d];
            for (int i = 0; i < nu * nu; i++) U[i] = s[1 + i] / count;
            for (int i = 0; i < nu * d; i++) A[i] = s[1 + nu * nu + i] / count;
            for (int i = 0; i < d * d; i++) Dv[i] = 0.75 * dt * s[1 + nu * nu + nu * d + i] / count;
            // remove the noise correlation of v_n with a_n from the velocity rows
            for (int m = 0; m < d; m++)
                for (int q = 0; q < d; q++) A[(ns + m) * d + q] -= Dv[m * d + q];
            var theta = DenseMatrix.SolveGram(U, nu, A, d, Describe, "Gram matrix of [b(x), v]", diagnose);
            // Gamma[mu, rho] = -Theta[ns + rho, mu]
            var gamma = new double[d * d];
            for (int m = 0; m < d; m++)
                for (int q = 0; q < d; q++) gamma[m * d + q] = -theta[(ns + q) * d + m];
            var coupling = DenseMatrix.MultiplyRowMajor(DenseMatrix.InverseSpd(Dv, d, "velocity diffusion matrix"), d, d, gamma, d);
            // <a_x . D^-1 Gamma v> = sum_a sum_mu,rho Theta[a, mu] C[mu, rho] <b_a v_rho>
            double sigma = 0;
            for (int i = 0; i < ns; i++)
                for (int m = 0; m < d; m++)
                    for (int q = 0; q < d; q++) sigma += theta[i * d + m] * coupling[m * d + q] * U[i * nu + ns + q];
            return sigma;
        }

        var total = Sum(default);
        double rate = Sigma(total, true);
        var se = Resampling.StandardErrors(layout.Count, errors, w => [Sigma(Sum(w), false)]);
        double time = total[0] * dt;
        var dv = new double[d * d];
        for (int i = 0; i < d * d; i++) dv[i] = 0.75 * dt * total[1 + nu * nu + nu * d + i] / total[0];
        return new EntropyProductionEstimate(rate, se[0], rate, "underdamped", basis.Name, frames, (long)total[0], time,
            new EstimateSettings(dt, 1, errors.Describe(layout.Count, layout.Unit), dv, "velocity diffusion (3/4) dt <a a^T>"))
        { Quantity = EstimatedQuantity.ContinuousRate };
    }
}
