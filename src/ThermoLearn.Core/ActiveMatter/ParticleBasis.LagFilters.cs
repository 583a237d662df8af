using ThermoLearn.Randomness;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The lag filters: the slaved lag of the stiff contact modes, solved over the whole contact network instead of expanded in
/// powers of H. With g frozen on contact time scales the contact field c = J u obeys dc/dt = Q + k J c (Q_i = sum_j J'[du] du,
/// the moving geometry), so a stiff mode relaxes to the lag c* = (k H)^-1 Q (H = -J the Hessian of the pair energy), and to the
/// next order c** = (k H)^-1 (Q - d c*/dt), where dQ/dt = J''[du, du] du + 2 k J'[du] c and d(k H)^-1/dt brings J'[du] c*.
/// Every feature before these is a polynomial in H, which cannot follow 1 / h over a spectrum from soft to stiff modes, and
/// (k H + lambda)^-1 alone is singular where H has a negative mode (a buckling contact). The filter
/// M_lambda = k H (k^2 H^2 + lambda^2)^-1 is bounded by 1 / (2 lambda) for any sign of h and equals (k H)^-1 on modes with
/// k h &gt;&gt; lambda, so the features are, for rates lambda_q = k s_q (s_q = 0.3, 1, 3; k h of a pressed softplus contact is
/// about k): M Q and M u for each q, then M dQ/dt, M M dQ/dt and sum_j J'[du] (c*_i - c*_j), c* = M Q / k, for the first two
/// (the second order of the lag). Each M is a conjugate-gradient solve of the positive definite k^2 H^2 + lambda^2 (relative
/// residual 1e-6 or 1,000 iterations, from zero, so a feature is a function of the snapshot alone and the same for any thread count). They add
/// 4 points of identity 4 on a compressed MIPS state and 5 on a looser one (docs/active-matter.md, "Lag filters"). They are global in the contact
/// network, so their own-g Jacobian diagonal (which the score's implicit score matching needs) is not a sum over neighbours:
/// it is estimated, unbiased, by Hutchinson's probe (<see cref="ProbeSources"/>).
/// </summary>
public sealed partial class ParticleBasis
{
    /// <summary>The filters' rates lambda_q = k s_q.</summary>
    internal static readonly double[] LagFilterScales = [0.3, 1, 3];

    /// <summary>The rates that also carry the second-order lag (the first ones).</summary>
    private const int SecondOrderLagScales = 2;

    /// <summary>Columns of the lag filters, the last of the basis.</summary>
    internal const int LagFilterCount = 2 * 3 + 3 * SecondOrderLagScales;

    /// <summary>The solves stop at |residual| &lt;= RelativeTolerance |right-hand side|.</summary>
    internal const double RelativeTolerance = 1e-6;

    /// <summary>
    /// Or after this many iterations: a MIPS state at lambda = 0.3 k needs about 90, but contacts far stiffer than k (WCA pressed
    /// hard) raise the condition number (k h_max / lambda)^2 without bound. Stopped there, a feature is the same fixed polynomial
    /// filter of the snapshot, so it stays a function of the snapshot alone; only its closeness to M is lost.
    /// </summary>
    private const int MaxIterations = 1000;

    /// <summary>The solves' relative residual: <see cref="RelativeTolerance"/>, or tighter where a test needs the filters exact.</summary>
    internal double SolveTolerance { get; init; } = RelativeTolerance;

    private LagSolver[] _lagSolvers = [];
    private double[][] _lagSources = [];   // Q, u, dQ/dt of the snapshot and the probe fields: what the filters act on

    private static void AddLagFilterNames(List<string> names)
    {
        foreach (double s in LagFilterScales)
        {
            names.Add($"M({s:G3} k) Q");
            names.Add($"M({s:G3} k) u");
        }
        for (int q = 0; q < SecondOrderLagScales; q++)
        {
            double s = LagFilterScales[q];
            names.Add($"M({s:G3} k) dQ/dt");
            names.Add($"M({s:G3} k) M({s:G3} k) dQ/dt");
            names.Add($"sum_j J'[du] (c*_i - c*_j), c* = M({s:G3} k) Q / k");
        }
    }

    /// <summary>
    /// Fills the lag-filter columns, the last <see cref="LagFilterCount"/>, for a configuration whose other columns are filled and
    /// whose contacts are in the rows (the second sweep stores them): reads Q (the three slaving parts), J''[du, du] du and
    /// J'[du] (c_i - c_j) from phi. With a divergence, also Hutchinson estimates of each column's own-g Jacobian diagonal
    /// (<see cref="ProbeSources"/>).
    /// </summary>
    private void EvaluateLagFilters(double[] x, double[] g, double[] phi, int maxDegreeOfParallelism, double[]? divergence, ulong probe)
    {
        int n = _model.Particles, d = _model.Dimension, k = Count, rows = n * d;
        int column = k - LagFilterCount, slavingFirst = column - SlavingCount, lastCore = column - 1;
        double stiffness = _model.K;
        if (_lagSources.Length == 0) _lagSources = [.. Enumerable.Range(0, MaxBlock).Select(_ => new double[rows])];
        double[] q = _lagSources[0], u = _lagSources[1], qDot = _lagSources[2];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * k;
                q[i * d + a] = phi[row + slavingFirst] + phi[row + slavingFirst + 1] + phi[row + slavingFirst + 2];
                qDot[i * d + a] = phi[row + slavingFirst + 3 + WeightedCount] + 2 * stiffness * phi[row + lastCore];
                u[i * d + a] = Velocity(_model, x, g, _forces!, i * d + a);
            }
        if (_lagSolvers.Length == 0) _lagSolvers = [.. LagFilterScales.Select(_ => new LagSolver(this, n, d))];
        if (divergence is not null) ProbeSources(probe);
        // the three rates are independent: each runs its own solves, sequentially inside, so the numbers do not depend on threads
        Parallel.For(0, LagFilterScales.Length, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, s =>
        {
            var work = _lagSolvers[s];
            var filtered = work.Filtered;
            double lambda = stiffness * LagFilterScales[s];
            bool second = s < SecondOrderLagScales;
            // one block solve for M Q, M u (and M dQ/dt), with a divergence also M z, M A z (and M dP z), then M M dQ/dt (M M dP z)
            double[][] sources = (second, divergence is not null) switch
            {
                (true, true) => _lagSources,
                (true, false) => _lagSources[..3],
                (false, true) => [q, u, _lagSources[ProbeSource], _lagSources[ProbeSource + 1]],
                (false, false) => [q, u],
            };
            work.Filter(sources, lambda, filtered);
            Store(phi, filtered[0], column + 2 * s, n, d, k);
            Store(phi, filtered[1], column + 2 * s + 1, n, d, k);
            int probed = second ? ProbeSource : 2;
            if (divergence is not null)
            {
                StoreDivergence(divergence, filtered[probed + 1], 2, column + 2 * s, n, d, k);
                StoreDivergence(divergence, filtered[probed], 1, column + 2 * s + 1, n, d, k);
            }
            if (!second) return;
            int first = column + 2 * LagFilterScales.Length + 3 * s;
            Store(phi, filtered[2], first, n, d, k);
            var cStar = work.Lag;
            for (int p = 0; p < rows; p++) cStar[p] = filtered[0][p] / stiffness;
            if (divergence is not null)
            {
                StoreDivergence(divergence, filtered[probed + 2], 1, first, n, d, k);
                // d/dz of sum_j J'[du] (c*_i - c*_j): sum_j J'[c*_i - c*_j] dz + J'[du] (M dQ[z] / k)_ij, dQ[z] = 2 A z
                var tangent = work.Scratch;
                AlongMotion(filtered[probed + 1], tangent);
                for (int p = 0; p < rows; p++) tangent[p] *= 2 / stiffness;
                AlongMotion(_lagSources[ProbeSource], work.Scratch2, cStar);
                for (int p = 0; p < rows; p++) tangent[p] += work.Scratch2[p];
                StoreDivergence(divergence, tangent, 1, first + 2, n, d, k);
            }
            work.Filter(divergence is null ? [filtered[2]] : [filtered[2], filtered[probed + 2]], lambda, filtered);
            Store(phi, filtered[0], first + 1, n, d, k);
            if (divergence is not null) StoreDivergence(divergence, filtered[1], 1, first + 1, n, d, k);
            AlongMotion(cStar, filtered[0]);
            Store(phi, filtered[0], first + 2, n, d, k);
        });
    }

    /// <summary>Where the probe fields start among the sources: z, A z and dP[z] after Q, u and dQ/dt.</summary>
    private const int ProbeSource = 3;

    /// <summary>
    /// The probe fields for the own-g divergences. Each column is a field phi(u) of the velocities u = v0 g + k F + ... (x fixed,
    /// so H, J and the contacts fixed), so its own-g Jacobian is v0 times its u-Jacobian D, and for a Rademacher field z
    /// (stream (<see cref="RandomPurposes.LagFilterProbeSeed"/>, probe, <see cref="RandomPurposes.LagFilterProbe"/>)) the product
    /// v0 z_p (D z)_p has the mean v0 D_pp (E z z^T = I): Hutchinson's estimate of the diagonal, entry by entry. The u-derivatives
    /// of the sources along z: u gives z, Q = sum_j J'[du] du gives 2 A z with (A w)_i = sum_j J'[du] (w_i - w_j), and
    /// P = dQ/dt = sum_j J''[du, du] du + 2 k J'[du] (c_i - c_j), c = J u, gives
    /// dP z = 3 sum_j J''[du, du] dz + 2 k sum_j J'[c_i - c_j] dz + 2 k A (J z), J z = -(k H z) / k (J' is symmetric in its slots).
    /// Stored as sources z, A z and dP z; M is linear, so M applied to them gives the filtered columns' derivatives.
    /// </summary>
    private void ProbeSources(ulong probe)
    {
        int rows = _model.Particles * _model.Dimension;
        double stiffness = _model.K;
        double[] z = _lagSources[ProbeSource], alongZ = _lagSources[ProbeSource + 1], dp = _lagSources[ProbeSource + 2];
        var random = RandomStream.For(RandomPurposes.LagFilterProbeSeed, probe, RandomPurposes.LagFilterProbe);
        for (int p = 0; p < rows; p++) z[p] = (random.NextUInt64() >> 63) == 0 ? 1 : -1;
        AlongMotion(z, alongZ);
        // dP z, built up in dp (the first solver's scratch is free until the solves start): J z first
        var scratch = _lagSolvers[0].Scratch;
        ApplyStiffness(z, scratch, 1);
        for (int p = 0; p < rows; p++) scratch[p] /= -stiffness;
        AlongMotion(scratch, dp);
        for (int p = 0; p < rows; p++) dp[p] *= 2 * stiffness;
        AlongMotion(z, scratch, _contact);
        for (int p = 0; p < rows; p++) dp[p] += 2 * stiffness * scratch[p];
        AlongMotion(z, scratch, cubic: true);
        for (int p = 0; p < rows; p++) dp[p] += 3 * scratch[p];
    }

    /// <summary>divergence[p K + column] = factor v0 z_p field_p: the probe estimate of a column whose u-derivative along z is factor field.</summary>
    private void StoreDivergence(double[] divergence, double[] field, double factor, int column, int n, int d, int k)
    {
        double[] z = _lagSources[ProbeSource];
        double scale = factor * _model.V0;
        for (int p = 0; p < n * d; p++) divergence[p * k + column] = scale * z[p] * field[p];
    }

    private static void Store(double[] phi, double[] field, int column, int n, int d, int k)
    {
        for (int p = 0; p < n * d; p++) phi[p * k + column] = field[p];
    }

    /// <summary>
    /// (k H w)_i = -k sum_j J(r_ij) (w_i - w_j) over the stored contacts for m fields at once, stored interleaved (entry
    /// (i d + a) m + field), so one pass over the contacts serves them all.
    /// </summary>
    private void ApplyStiffness(double[] w, double[] result, int m)
    {
        int n = _model.Particles, d = _model.Dimension;
        double k = _model.K;
        int[] start = _rowStart, neighbour = _rowNeighbour;
        double[] jacobian = _rowJacobian;
        Span<double> sum = stackalloc double[3 * MaxBlock];
        int stride = d * m;
        for (int i = 0; i < n; i++)
        {
            sum.Clear();
            int io = i * stride;
            for (int c = start[i]; c < start[i + 1]; c++)
            {
                int o = c * Mat3.Size, jo = neighbour[c] * stride;
                // J stored as xx, yy, zz, xy, xz, yz
                double jxx = jacobian[o], jyy = jacobian[o + 1], jxy = jacobian[o + 3];
                if (d == 2)
                    for (int f = 0; f < m; f++)
                    {
                        double wx = w[io + f] - w[jo + f], wy = w[io + m + f] - w[jo + m + f];
                        sum[f] += jxx * wx + jxy * wy;
                        sum[m + f] += jxy * wx + jyy * wy;
                    }
                else
                {
                    double jzz = jacobian[o + 2], jxz = jacobian[o + 4], jyz = jacobian[o + 5];
                    for (int f = 0; f < m; f++)
                    {
                        double wx = w[io + f] - w[jo + f], wy = w[io + m + f] - w[jo + m + f], wz = w[io + 2 * m + f] - w[jo + 2 * m + f];
                        sum[f] += jxx * wx + jxy * wy + jxz * wz;
                        sum[m + f] += jxy * wx + jyy * wy + jyz * wz;
                        sum[2 * m + f] += jxz * wx + jyz * wy + jzz * wz;
                    }
                }
            }
            for (int q = 0; q < stride; q++) result[io + q] = -k * sum[q];
        }
    }

    /// <summary>
    /// sum_j J'(r_ij)[du_ij] (w_i - w_j), the change of the contact term of w as the geometry moves with the particles; with a
    /// <paramref name="direction"/> field p, sum_j J'(r_ij)[p_i - p_j] (w_i - w_j) instead; with <paramref name="cubic"/>,
    /// sum_j J''(r_ij)[du_ij, du_ij] (w_i - w_j).
    /// </summary>
    private void AlongMotion(double[] w, double[] result, double[]? direction = null, bool cubic = false)
    {
        int n = _model.Particles, d = _model.Dimension;
        for (int i = 0; i < n; i++)
        {
            double sx = 0, sy = 0, sz = 0;
            for (int c = _rowStart[i]; c < _rowStart[i + 1]; c++)
            {
                int j = _rowNeighbour[c];
                double wx = w[i * d] - w[j * d], wy = w[i * d + 1] - w[j * d + 1], wz = d == 3 ? w[i * d + 2] - w[j * d + 2] : 0;
                double px = _rowVelocity[3 * c], py = _rowVelocity[3 * c + 1], pz = _rowVelocity[3 * c + 2];
                if (direction is not null)
                    (px, py, pz) = (direction[i * d] - direction[j * d], direction[i * d + 1] - direction[j * d + 1],
                        d == 3 ? direction[i * d + 2] - direction[j * d + 2] : 0);
                var along = cubic ? _rowJets[c].SecondAlong(px, py, pz, wx, wy, wz) : _rowJets[c].FirstAlong(px, py, pz, wx, wy, wz);
                sx += along.X;
                sy += along.Y;
                sz += along.Z;
            }
            result[i * d] = sx;
            result[i * d + 1] = sy;
            if (d == 3) result[i * d + 2] = sz;
        }
    }

    /// <summary>Fields solved together at most (M Q, M u, M dQ/dt, and for a divergence M z, M A z, M dP z).</summary>
    private const int MaxBlock = 6;

    /// <summary>
    /// M_lambda b = k H (k^2 H^2 + lambda^2)^-1 b for up to <see cref="MaxBlock"/> fields b at once, by conjugate gradients (one per
    /// field, sharing the passes over the contacts) on the positive definite k^2 H^2 + lambda^2, whose eigenvalues are at least
    /// lambda^2; from zero, so the result depends on the snapshot alone. The buffers are reused across solves.
    /// </summary>
    private sealed class LagSolver(ParticleBasis basis, int particles, int d)
    {
        private readonly int _rows = particles * d;
        private readonly double[] _y = new double[particles * d * MaxBlock], _r = new double[particles * d * MaxBlock],
            _p = new double[particles * d * MaxBlock], _ap = new double[particles * d * MaxBlock], _h = new double[particles * d * MaxBlock];

        /// <summary>The filtered fields of the last solve, and the lag c* of this rate: the caller's buffers, kept with the solver.</summary>
        public double[][] Filtered { get; } = [.. Enumerable.Range(0, MaxBlock).Select(_ => new double[particles * d])];

        public double[] Lag { get; } = new double[particles * d];

        /// <summary>Work fields of the divergence (<see cref="ProbeSources"/>, the c* column's tangent).</summary>
        public double[] Scratch { get; } = new double[particles * d];

        public double[] Scratch2 { get; } = new double[particles * d];

        public void Filter(double[][] b, double lambda, double[][] result)
        {
            int m = b.Length, size = _rows * m;
            Span<double> rr = stackalloc double[MaxBlock];
            Span<double> limit = stackalloc double[MaxBlock];
            Span<double> alpha = stackalloc double[MaxBlock];
            Span<double> beta = stackalloc double[MaxBlock];
            Array.Clear(_y, 0, size);
            for (int q = 0; q < _rows; q++)
                for (int f = 0; f < m; f++) _r[q * m + f] = b[f][q];
            Array.Copy(_r, _p, size);
            Dots(_r, _r, m, size, rr);
            for (int f = 0; f < m; f++) limit[f] = basis.SolveTolerance * basis.SolveTolerance * rr[f];
            for (int iteration = 0; iteration < MaxIterations; iteration++)
            {
                bool done = true;
                for (int f = 0; f < m; f++) done &= rr[f] <= limit[f];
                if (done) break;
                basis.ApplyStiffness(_p, _h, m);
                basis.ApplyStiffness(_h, _ap, m);
                double l2 = lambda * lambda;
                for (int q = 0; q < size; q++) _ap[q] += l2 * _p[q];
                Dots(_p, _ap, m, size, alpha);
                // a converged field stays where it is
                for (int f = 0; f < m; f++) alpha[f] = rr[f] <= limit[f] ? 0 : rr[f] / alpha[f];
                for (int q = 0; q < size; q += m)
                    for (int f = 0; f < m; f++)
                    {
                        _y[q + f] += alpha[f] * _p[q + f];
                        _r[q + f] -= alpha[f] * _ap[q + f];
                    }
                Dots(_r, _r, m, size, beta);
                for (int f = 0; f < m; f++)
                {
                    double next = beta[f];
                    beta[f] = rr[f] > 0 ? next / rr[f] : 0;
                    rr[f] = next;
                }
                for (int q = 0; q < size; q += m)
                    for (int f = 0; f < m; f++) _p[q + f] = _r[q + f] + beta[f] * _p[q + f];
            }
            basis.ApplyStiffness(_y, _h, m);
            for (int q = 0; q < _rows; q++)
                for (int f = 0; f < m; f++) result[f][q] = _h[q * m + f];
        }

        /// <summary>The m interleaved fields' dot products, each summed in index order.</summary>
        private static void Dots(double[] a, double[] b, int m, int size, Span<double> result)
        {
            result[..m].Clear();
            for (int q = 0; q < size; q += m)
                for (int f = 0; f < m; f++) result[f] += a[q + f] * b[q + f];
        }
    }
}
