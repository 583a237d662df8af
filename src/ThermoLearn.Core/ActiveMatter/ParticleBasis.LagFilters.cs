using System.Numerics;
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
/// (the second order of the lag). For real b, M_lambda b = Re[(k H + i lambda)^-1 b], so one Lanczos process on k H per source field
/// serves every rate and the square M M (<see cref="LagSolver"/>; relative residual 1e-6 or 1,000 steps, from the field itself, so a
/// feature is a function of the snapshot alone and the same for any thread count). They add
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

    /// <summary>The solves stop at |residual| &lt;= RelativeTolerance |right-hand side| (<see cref="LagSolver"/>).</summary>
    internal const double RelativeTolerance = 1e-6;

    /// <summary>
    /// Or after this many Lanczos steps: a MIPS state at lambda = 0.3 k needs a few tens, but contacts far stiffer than k (WCA pressed
    /// hard) raise the spread k h_max / lambda without bound. Stopped there, a feature is the same fixed rational filter of the
    /// snapshot's Krylov space, so it stays a function of the snapshot alone; only its closeness to M is lost.
    /// </summary>
    private const int MaxSteps = 1000;

    /// <summary>The solves' relative residual: <see cref="RelativeTolerance"/>, or tighter where a test needs the filters exact.</summary>
    internal double SolveTolerance { get; init; } = RelativeTolerance;

    private LagSolver? _lagSolver;
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

    /// <summary>The sources, in this order: Q, u, dQ/dt, then the probe fields z, A z and dP z (<see cref="ProbeSources"/>).</summary>
    private const int SourceQ = 0, SourceU = 1, SourceQDot = 2, ProbeSource = 3;

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
        double[] q = _lagSources[SourceQ], u = _lagSources[SourceU], qDot = _lagSources[SourceQDot];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * k;
                q[i * d + a] = phi[row + slavingFirst] + phi[row + slavingFirst + 1] + phi[row + slavingFirst + 2];
                qDot[i * d + a] = phi[row + slavingFirst + 3 + WeightedCount] + 2 * stiffness * phi[row + lastCore];
                u[i * d + a] = Velocity(_model, x, g, _forces!, i * d + a);
            }
        _lagSolver ??= new LagSolver(this, rows);
        var solver = _lagSolver;
        if (divergence is not null) ProbeSources(probe);
        // one Lanczos process per field serves the three rates; dQ/dt (and its probe dP z) also get the square M M
        var sources = divergence is null ? _lagSources[..3] : _lagSources;
        bool[] squared = [.. Enumerable.Range(0, sources.Length).Select(f => f == SourceQDot || f == ProbeSource + 2)];
        var filtered = solver.Filter(sources, squared, maxDegreeOfParallelism);
        for (int s = 0; s < LagFilterScales.Length; s++)
        {
            Store(phi, filtered[SourceQ][s], column + 2 * s, n, d, k);
            Store(phi, filtered[SourceU][s], column + 2 * s + 1, n, d, k);
            if (divergence is not null)
            {
                StoreDivergence(divergence, filtered[ProbeSource + 1][s], 2, column + 2 * s, n, d, k);
                StoreDivergence(divergence, filtered[ProbeSource][s], 1, column + 2 * s + 1, n, d, k);
            }
            if (s >= SecondOrderLagScales) continue;
            int first = column + 2 * LagFilterScales.Length + 3 * s, square = LagFilterScales.Length + s;
            Store(phi, filtered[SourceQDot][s], first, n, d, k);
            Store(phi, filtered[SourceQDot][square], first + 1, n, d, k);
            var cStar = solver.Lag;
            for (int p = 0; p < rows; p++) cStar[p] = filtered[SourceQ][s][p] / stiffness;
            if (divergence is not null)
            {
                StoreDivergence(divergence, filtered[ProbeSource + 2][s], 1, first, n, d, k);
                StoreDivergence(divergence, filtered[ProbeSource + 2][square], 1, first + 1, n, d, k);
                // d/dz of sum_j J'[du] (c*_i - c*_j): sum_j J'[c*_i - c*_j] dz + J'[du] (M dQ[z] / k)_ij, dQ[z] = 2 A z
                var tangent = solver.Scratch;
                AlongMotion(filtered[ProbeSource + 1][s], tangent);
                for (int p = 0; p < rows; p++) tangent[p] *= 2 / stiffness;
                AlongMotion(_lagSources[ProbeSource], solver.Scratch2, cStar);
                for (int p = 0; p < rows; p++) tangent[p] += solver.Scratch2[p];
                StoreDivergence(divergence, tangent, 1, first + 2, n, d, k);
            }
            AlongMotion(cStar, solver.Scratch);
            Store(phi, solver.Scratch, first + 2, n, d, k);
        }
    }

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
        // dP z, built up in dp (the solver's scratch is free until the solves start): J z first
        var scratch = _lagSolver!.Scratch;
        ApplyStiffness(z, scratch);
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

    /// <summary>(k H w)_i = -k sum_j J(r_ij) (w_i - w_j) over the stored contacts, each particle's sum over its row in a fixed order.</summary>
    private void ApplyStiffness(double[] w, double[] result)
    {
        int n = _model.Particles, d = _model.Dimension;
        double k = _model.K;
        int[] start = _rowStart, neighbour = _rowNeighbour;
        double[] jacobian = _rowJacobian;
        for (int i = 0; i < n; i++)
        {
            double sx = 0, sy = 0, sz = 0;
            int io = i * d, end = start[i + 1];
            if (d == 2)
                for (int c = start[i]; c < end; c++)
                {
                    // J stored as xx, yy, zz, xy, xz, yz
                    int o = c * Mat3.Size, jo = neighbour[c] * 2;
                    double wx = w[io] - w[jo], wy = w[io + 1] - w[jo + 1];
                    sx += jacobian[o] * wx + jacobian[o + 3] * wy;
                    sy += jacobian[o + 3] * wx + jacobian[o + 1] * wy;
                }
            else
                for (int c = start[i]; c < end; c++)
                {
                    int o = c * Mat3.Size, jo = neighbour[c] * 3;
                    double wx = w[io] - w[jo], wy = w[io + 1] - w[jo + 1], wz = w[io + 2] - w[jo + 2];
                    sx += jacobian[o] * wx + jacobian[o + 3] * wy + jacobian[o + 4] * wz;
                    sy += jacobian[o + 3] * wx + jacobian[o + 1] * wy + jacobian[o + 5] * wz;
                    sz += jacobian[o + 4] * wx + jacobian[o + 5] * wy + jacobian[o + 2] * wz;
                }
            result[io] = -k * sx;
            result[io + 1] = -k * sy;
            if (d == 3) result[io + 2] = -k * sz;
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

    /// <summary>Fields filtered at most (Q, u, dQ/dt, and for a divergence z, A z, dP z).</summary>
    private const int MaxBlock = 6;

    /// <summary>
    /// The filters M_lambda b = k H (k^2 H^2 + lambda^2)^-1 b at every rate lambda_q = k s_q, and where asked M_lambda^2 b, of up
    /// to <see cref="MaxBlock"/> real fields b. Since (k H + i lambda)^-1 = (k H - i lambda) (k^2 H^2 + lambda^2)^-1,
    /// M_lambda b = Re[(k H + i lambda)^-1 b]: a shifted system of the real symmetric k H, and shifted systems share one Krylov
    /// space. The Lanczos process on k H from v_1 = b / |b| gives after j steps k H V_j = V_j T_j + beta_(j+1) v_(j+1) e_j^T
    /// (T_j tridiagonal: alpha on the diagonal, beta beside it), and y = |b| V_j (T_j + i lambda)^-1 e_1 solves
    /// (k H + i lambda) y = b + c v_(j+1), c = -beta_(j+1) |b| e_j^T (T_j + i lambda)^-1 e_1, whether or not rounding has kept
    /// V_j orthogonal (the relation is the recurrence itself). Then z = Re y satisfies
    /// (k^2 H^2 + lambda^2) z - k H b = k H Re(c) v_(j+1) + lambda Im(c) v_(j+1), of norm at most (|k H| + lambda) |c|. A field
    /// stops when |c| &lt;= tol |b| theta / (theta + lambda) at every rate, with theta = max |alpha| &lt;= |k H| (a Rayleigh
    /// quotient), so that norm is at most |k H| tol |b|: the residual rule of a solve of (k^2 H^2 + lambda^2) z = k H b. The
    /// square is M applied to the filtered field a = |b| Re[(T_j + i lambda)^-1 e_1] in the same space, with the same rule on
    /// its own c and |a|.
    /// Why: the conjugate gradients on k^2 H^2 + lambda^2 (before, session 16) ran one solve per rate and two products per
    /// iteration; here one product per step serves the three rates and the squares. H has negative modes (the tangential part of
    /// a pressed contact), so the shifted spectrum crosses the imaginary axis next to the pole and a step gains no more than a CG
    /// iteration did; the saving is the shared rates, the single product, and the WCA states that CG left at its cap.
    /// Each field runs its own process (in parallel, bits independent of the thread count and of the other fields). The
    /// Lanczos vectors are kept while they fit <see cref="StoredBytes"/>; the sum of the filtered fields needs them once T is
    /// known, so those beyond it are made again from the last two kept (the same arithmetic, so the same vectors).
    /// </summary>
    private sealed class LagSolver(ParticleBasis basis, int rows)
    {
        private readonly Lanczos[] _fields = [.. Enumerable.Range(0, MaxBlock).Select(_ => new Lanczos(basis, rows))];

        /// <summary>The lag c* of one rate: the caller's buffer, kept with the solver.</summary>
        public double[] Lag { get; } = new double[rows];

        /// <summary>Work fields of the divergence (<see cref="ProbeSources"/>, the c* column's tangent).</summary>
        public double[] Scratch { get; } = new double[rows];

        public double[] Scratch2 { get; } = new double[rows];

        /// <summary>
        /// [field][q] is M_q b, [field][rates + q] is M_q M_q b for q &lt; <see cref="SecondOrderLagScales"/> where
        /// <paramref name="squared"/>.
        /// </summary>
        public double[][][] Filter(double[][] b, bool[] squared, int maxDegreeOfParallelism)
        {
            Parallel.For(0, b.Length, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, f => _fields[f].Filter(b[f], squared[f]));
            return [.. _fields.Take(b.Length).Select(field => field.Filtered)];
        }
    }

    /// <summary>Lanczos vectors kept per field at most (bytes); beyond, the second pass makes them again.</summary>
    private const long StoredBytes = 64L << 20;

    /// <summary>The bytes of Lanczos vectors kept per field: <see cref="StoredBytes"/>, or less where a test makes the second pass make them.</summary>
    internal long KeptBytes { get; init; } = StoredBytes;

    /// <summary>One field's Lanczos process and its filters (<see cref="LagSolver"/>).</summary>
    private sealed class Lanczos(ParticleBasis basis, int rows)
    {
        private readonly int _kept = (int)Math.Max(2, Math.Min(MaxSteps, basis.KeptBytes / (8L * rows)));
        private readonly List<double[]> _vectors = [];   // v_1, v_2, ... while they fit; reused from snapshot to snapshot
        private readonly List<double> _alpha = [], _beta = [];
        private double[] _previous = new double[rows], _current = new double[rows], _next = new double[rows];

        public double[][] Filtered { get; } = [.. Enumerable.Range(0, LagFilterScales.Length + SecondOrderLagScales).Select(_ => new double[rows])];

        public void Filter(double[] b, bool squared)
        {
            int rates = LagFilterScales.Length;
            double stiffness = basis._model.K, tolerance = basis.SolveTolerance;
            double sum = 0;
            for (int q = 0; q < rows; q++) sum += b[q] * b[q];
            double norm = Math.Sqrt(sum);
            foreach (var field in Filtered) Array.Clear(field);
            if (norm == 0) return;
            _alpha.Clear();
            _beta.Clear();
            for (int q = 0; q < rows; q++) _current[q] = b[q] / norm;
            Array.Clear(_previous);
            // pass 1: T, and the step where every residual meets the rule
            var pivot = new Complex[rates];
            var product = new Complex[rates];
            double theta = 0;
            int steps = MaxSteps;
            for (int step = 0; step < MaxSteps; step++)
            {
                if (step < _kept) Keep(step);
                Step(step);
                double alpha = _alpha[step], betaNext = _beta[step];
                theta = Math.Max(theta, Math.Abs(alpha));
                bool converged = true;
                for (int r = 0; r < rates; r++)
                {
                    double lambda = stiffness * LagFilterScales[r];
                    // e_j^T (T_j + i lambda)^-1 e_1 from the pivots of T_j + i lambda, whose imaginary parts are at least lambda
                    var shifted = new Complex(alpha, lambda);
                    if (step == 0)
                    {
                        pivot[r] = shifted;
                        product[r] = 1 / shifted;
                    }
                    else
                    {
                        double beta = _beta[step - 1];
                        pivot[r] = shifted - beta * beta / pivot[r];
                        product[r] *= -beta / pivot[r];
                    }
                    converged &= betaNext * norm * product[r].Magnitude <= Limit(tolerance * norm, theta, lambda);
                }
                for (int r = 0; r < SecondOrderLagScales && converged && squared; r++)
                {
                    var (first, second) = Coefficients(step + 1, r, norm);
                    double size = Math.Sqrt(first.Sum(c => c.Real * c.Real));
                    converged &= betaNext * second[step].Magnitude <= Limit(tolerance * size, theta, stiffness * LagFilterScales[r]);
                }
                if (converged)
                {
                    steps = step + 1;
                    break;
                }
            }
            // pass 2: the filtered fields, sum_j weight_j v_j with the weights from T
            var weights = new double[]?[rates + SecondOrderLagScales];
            for (int r = 0; r < rates; r++)
            {
                var (first, second) = Coefficients(steps, r, norm);
                weights[r] = [.. first.Select(c => c.Real)];
                if (squared && r < SecondOrderLagScales) weights[rates + r] = [.. second.Select(c => c.Real)];
            }
            for (int step = 0; step < steps; step++)
            {
                double[] v;
                if (step < _kept) v = _vectors[step];
                else
                {
                    // made again from the last two kept: v_(j-1) and v_j are where the recurrence left them in pass 1
                    if (step == _kept)
                    {
                        Array.Copy(_vectors[step - 2], _previous, rows);
                        Array.Copy(_vectors[step - 1], _current, rows);
                    }
                    Step(step - 1, record: false);
                    v = _current;
                }
                for (int w = 0; w < weights.Length; w++)
                {
                    if (weights[w] is not { } weight) continue;
                    double c = weight[step];
                    var target = Filtered[w];
                    for (int q = 0; q < rows; q++) target[q] += c * v[q];
                }
            }
        }

        /// <summary>Keeps v_(step+1) (the current vector) for the second pass.</summary>
        private void Keep(int step)
        {
            if (_vectors.Count <= step) _vectors.Add(new double[rows]);
            Array.Copy(_current, _vectors[step], rows);
        }

        /// <summary>The bound on |c| that keeps (|k H| + lambda) |c| within tol |b| |k H| for any |k H| &gt;= theta.</summary>
        private static double Limit(double scaledTolerance, double theta, double lambda) => scaledTolerance * theta / (theta + lambda);

        /// <summary>
        /// After <paramref name="size"/> steps: first = |b| (T + i lambda_r)^-1 e_1, whose real part weighs the Lanczos vectors into
        /// M b, and second = (T + i lambda_r)^-1 Re(first), whose real part weighs them into M M b.
        /// </summary>
        private (Complex[] First, Complex[] Second) Coefficients(int size, int r, double norm)
        {
            double lambda = basis._model.K * LagFilterScales[r];
            var rhs = new Complex[size];
            rhs[0] = norm;
            var first = Solve(size, lambda, rhs);
            for (int i = 0; i < size; i++) rhs[i] = first[i].Real;
            return (first, Solve(size, lambda, rhs));
        }

        /// <summary>(T + i lambda) y = rhs over the first <paramref name="size"/> steps (Thomas' algorithm: the pivots' imaginary parts are at least lambda).</summary>
        private Complex[] Solve(int size, double lambda, Complex[] rhs)
        {
            var diagonal = new Complex[size];
            var y = new Complex[size];
            diagonal[0] = new Complex(_alpha[0], lambda);
            y[0] = rhs[0];
            for (int i = 1; i < size; i++)
            {
                var w = _beta[i - 1] / diagonal[i - 1];
                diagonal[i] = new Complex(_alpha[i], lambda) - w * _beta[i - 1];
                y[i] = rhs[i] - w * y[i - 1];
            }
            y[size - 1] /= diagonal[size - 1];
            for (int i = size - 2; i >= 0; i--) y[i] = (y[i] - _beta[i] * y[i + 1]) / diagonal[i];
            return y;
        }

        /// <summary>
        /// Lanczos step j: w = k H v_j - beta_j v_(j-1), alpha_j = v_j . w, w -= alpha_j v_j, beta_(j+1) = |w|,
        /// v_(j+1) = w / beta_(j+1) (0 where beta_(j+1) = 0: the space is exhausted and the residuals are 0). Pass 1 records
        /// alpha and beta; pass 2 uses the recorded ones, so it makes the same vectors.
        /// </summary>
        private void Step(int step, bool record = true)
        {
            basis.ApplyStiffness(_current, _next);
            double betaPrevious = step == 0 ? 0 : _beta[step - 1];
            double alpha = 0;
            for (int q = 0; q < rows; q++)
            {
                _next[q] -= betaPrevious * _previous[q];
                alpha += _current[q] * _next[q];
            }
            if (!record) alpha = _alpha[step];
            double squares = 0;
            for (int q = 0; q < rows; q++)
            {
                _next[q] -= alpha * _current[q];
                squares += _next[q] * _next[q];
            }
            double beta = record ? Math.Sqrt(squares) : _beta[step];
            double scale = beta > 0 ? 1 / beta : 0;
            for (int q = 0; q < rows; q++) _next[q] *= scale;
            if (record)
            {
                _alpha.Add(alpha);
                _beta.Add(beta);
            }
            (_previous, _current, _next) = (_current, _next, _previous);
        }
    }
}
