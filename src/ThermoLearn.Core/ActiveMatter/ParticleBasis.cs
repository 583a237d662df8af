namespace ThermoLearn.ActiveMatter;

/// <summary>
/// A particle-local, permutation-invariant and rotation-equivariant linear basis for the thermodynamic force of a
/// particle's noisy coordinates: component a of particle i is sum_k theta_k phi_k(i, a) with
/// phi = g_{i,a} (own active force); x_{i,a} (own position, in a trap only: a box has no origin);
/// sum_j f(r_ij) rhat_{ij,a} (the model's pair force, when it interacts); sum_j T_m(r_ij) rhat_{ij,a}, m = 0..M-1
/// (tents T_m(r) = max(0, 1 - |r - m h| / h), h = r_f / M, over the feature range r_f); and
/// sum_j T'_s(r_ij) g_{j,a}, s = 0, 1 (neighbours' active forces in two shells, h' = r_f / 2); and the two contact
/// features sum_j [J(r_ij) (g_i - g_j)]_a and sum_j [J(r_ij) (F_i - F_j)]_a with the pair Jacobian
/// J(r) = d(f(r) rhat)/dx_i = f'(r) rhat rhat^T + (f(r) / r) (I - rhat rhat^T), so that v0 (first) + k (second) is
/// dF_i/dt along the deterministic motion u = v0 g + k F. These resolve the thermodynamic force of g where the noise of x
/// is degenerate (eps = 0): for a stiff contact network H (the Hessian of the pair energy) with gamma &lt;&lt; |H|, the law of
/// g given the positions is narrow and -(g + s_g) ~ u / v0 - g + H u / (gamma v0), the last term being -k dF/dt /
/// (gamma v0) (the trap of reference 1 is the linear case: -(g + s_g) = (A + gamma) u / (gamma v0) - g exactly).
/// Those two alone resolve only ~20% of the EP of a MIPS state (docs/active-matter.md): its particles are not
/// relaxed (median |u_i| ~ 0.4 v0), and where contacts are in motion H u carries a large part that is not in the force.
/// So the combined contact field c_i = (H u)_i = v0 [first] + k [second] also enters weighted by the particle's speed and
/// stiffness: c_i w_q(|u_i|) with gates w_q = exp(-|u_i|^2 / (2 (s_q v0)^2)), s_q = 0.008 x 3^q, q = 0..5 (the slower a
/// particle, the closer its law of g to the relaxed Gaussian, whose coefficient is -k / (gamma v0)); kappa_i c_i and
/// kappa_i^2 c_i with the particle's contraction rate kappa_i = -k div_i F_i (its share of identity 4); and kappa_i c_i w_q,
/// q = 1..3. u_i = v0 g_i + k F_i - A x_i is the particle's velocity: no new model input beyond the force the contact
/// features already use. Then the second contact field e_i = sum_j J(r_ij) (c_i - c_j) = (H^2 u)_i (two neighbour shells, so a
/// second sweep) with the same eleven weights, and the third contact field t_i = sum_j J(r_ij) (e_i - e_j) = -(H^3 u)_i (a third
/// sweep) with them too. Why: the best score linear in u with coefficients any function of H's spectrum
/// is -sum_m a(lambda_m) P_m u, and the fitted a(lambda) is near the relaxed -(k lambda + gamma) / (gamma v0) only for the
/// stiffest modes and falls steeply below it for softer ones (which move far faster than relaxed), so one multiple of H u
/// cannot follow it; a polynomial a(lambda) of degree two or three can (docs/active-matter.md, "Hessian powers").
/// Last, fourteen contact-velocity features, nonlinear in u per contact: with w_ij = rhat_ij . (u_i - u_j) the contact's opening
/// speed, the normal part N_ij (u_i - u_j) = f'(r) w_ij rhat_ij and the tangential part T_ij (u_i - u_j) = (f(r) / r) (I - rhat rhat^T)
/// (u_i - u_j) of the contact term J(r_ij) (u_i - u_j) (N + T = J), each summed over j with bell gates b_q(w) = exp(-w^2 / (2 (s_q v0)^2)),
/// s_q = 0.01 x 3^q, q = 0..3 (8 features) and with opening gates o_q(w) = 1 / (1 + exp(-w / (s_q v0))), q = 0..2 (6). Why: every
/// feature before these is a polynomial in H acting on u times weights of the particle's own speed and stiffness, and the measured
/// ceiling of that family (about 83% of identity 4 on a compressed MIPS state) is not moved by smoothing u over the neighbours or
/// subtracting a local affine flow; gating each contact by how fast it opens or closes adds 2.5 points there and 5 on a looser state
/// (docs/active-matter.md, "Contact-velocity gates"). The gates are smooth, so the own-g divergence the score's linear head needs is exact.
/// Last, sixteen slaving features: the time derivatives of the pair force along the noise-free motion with g frozen (x moves at u,
/// du/dt = k c). Then dF_i/dt = c_i and d^2F_i/dt^2 = Q_i + k e_i with Q_i = sum_j J'(r_ij)[du] du, where J'[p] = d/dh J(r + h p) is the
/// pair Jacobian's change as the contact turns and closes (<see cref="ContactJet"/>): the stiff modes' velocity is slaved to the moving
/// geometry, c ~ (k H)^-1 Q to first order, a lag quadratic in the relative velocities that no function linear in u holds. The features:
/// the normal, tangential and radial parts of Q_i (f'' w^2 rhat, 2 a w du_t, a |du_t|^2 rhat, a = (f' - f / r) / r, du_t = du - w rhat);
/// Q_i with the eleven weights of c_i; the third-order terms sum_j J''[du, du] du = d^3F_i/dh^3 (x + h u) and sum_j J'[du] (c_i - c_j)
/// (second sweep). They add 5 points of identity 4 on a compressed MIPS state and 11 on a looser one (docs/active-matter.md, "Slaving").
/// One coefficient per feature is shared by all particles and axes, so the fit has a handful of parameters whatever N.
/// </summary>
public sealed partial class ParticleBasis
{
    private readonly ActiveModel _model;
    private readonly IPairForces? _pairs;
    private readonly CellList? _cells;
    private readonly int _tents, _shells;
    private readonly double[]? _forces;
    // per particle, from the first sweep for the second: the combined contact field c_i, the contraction rate kappa_i and
    // the own-g diagonal of the Jacobian of the second contact field e_i = sum_j J(r_ij)(c_i - c_j), divided by v0; from the
    // second for the third: e_i
    private readonly double[]? _contact, _kappa, _ownSecond, _second;
    // for the own-g divergence of the third contact field (only when a divergence is asked for): per particle S_i = sum_j J(r_ij)
    // and Q_i = sum_j J(r_ij)^2 (Mat3.Size values each), and the interacting neighbours as rows (CSR: row i is
    // _rowStart[i].._rowStart[i + 1], each entry a neighbour j and J(r_ij), with the lag filters also the contact's jet and du)
    private double[] _jacobianSum = [], _jacobianSquare = [], _rowJacobian = [], _rowVelocity = [];
    private int[] _rowStart = [], _rowNeighbour = [];
    private ContactJet[] _rowJets = [];
    private readonly int _lagFilters;

    /// <summary>
    /// The basis of an AOUP model with <paramref name="tents"/> radial tents and <paramref name="shells"/> neighbour-g shells; with
    /// <paramref name="lagFilters"/> also the lag filters (<see cref="LagFilterCount"/> columns after the others,
    /// ParticleBasis.LagFilters.cs) for an interacting model: their own-g divergences are Hutchinson estimates.
    /// </summary>
    public ParticleBasis(ActiveModel model, int tents = 4, int shells = 2, bool lagFilters = false)
    {
        if (model.Kind != ActiveModelKind.Aoup) throw new InvalidInputException($"the particle basis is for AOUP snapshots ({model.Name} given).");
        if (tents < 0 || shells < 0 || 3 + tents + shells > 16) throw new InvalidInputException($"tents and shells must be non-negative with tents + shells <= 13 (got {tents}, {shells}).");
        _model = model;
        var names = new List<string> { "g_i" };
        if (!model.Periodic) names.Add("x_i");
        if (model.Interacting)
        {
            _pairs = PairForces.For(model)!;
            Range = Math.Max(model.Cutoff, 3 * model.R0);
            if (model.Box is { } l && l < 2 * Range)
                throw new InvalidInputException($"the box (L = {l:G6}) is smaller than twice the feature range ({2 * Range:G6}); use more particles.");
            _cells = new CellList(model.Particles, model.Dimension, Range, model.Box);
            _tents = tents;
            _shells = shells;
            _forces = new double[model.Particles * model.Dimension];
            _contact = new double[model.Particles * model.Dimension];
            _kappa = new double[model.Particles];
            _ownSecond = new double[model.Particles * model.Dimension];
            _second = new double[model.Particles * model.Dimension];
            names.Add("sum_j f(r) rhat");
            for (int m = 0; m < tents; m++) names.Add($"sum_j T{m}(r) rhat");
            for (int s = 0; s < shells; s++) names.Add($"sum_j T'{s}(r) g_j");
            names.Add("sum_j J(r) (g_i - g_j)");
            names.Add("sum_j J(r) (F_i - F_j)");
            AddWeightedNames(names, "c_i");
            names.Add("sum_j J(r) (c_i - c_j)");
            AddWeightedNames(names, "e_i");
            names.Add("sum_j J(r) (e_i - e_j)");
            AddWeightedNames(names, "t_i");
            for (int q = 0; q < BellCount; q++)
            {
                names.Add($"sum_j N(u_i - u_j) b{q}(w_ij)");
                names.Add($"sum_j T(u_i - u_j) b{q}(w_ij)");
            }
            for (int q = 0; q < OpeningCount; q++)
            {
                names.Add($"sum_j N(u_i - u_j) o{q}(w_ij)");
                names.Add($"sum_j T(u_i - u_j) o{q}(w_ij)");
            }
            names.Add("sum_j f''(r) w_ij^2 rhat");
            names.Add("sum_j 2 a(r) w_ij du_t");
            names.Add("sum_j a(r) |du_t|^2 rhat");
            AddWeightedNames(names, "Q_i");
            names.Add("sum_j J''(r)[du, du] du");
            names.Add("sum_j J'(r)[du] (c_i - c_j)");
            if (lagFilters)
            {
                _lagFilters = LagFilterCount;
                AddLagFilterNames(names);
            }
        }
        Names = names;
    }

    /// <summary>The names of a field's eleven weighted copies (<see cref="Weights"/>), in feature order.</summary>
    private static void AddWeightedNames(List<string> names, string field)
    {
        for (int q = 0; q < GateCount; q++) names.Add($"{field} w{q}(|u_i|)");
        names.Add($"kappa_i {field}");
        names.Add($"kappa_i^2 {field}");
        for (int q = KappaGateFirst; q <= KappaGateLast; q++) names.Add($"kappa_i {field} w{q}(|u_i|)");
    }

    /// <summary>Feature names, in coefficient order.</summary>
    public IReadOnlyList<string> Names { get; }

    public int Count => Names.Count;

    /// <summary>Speed gates w_q of the weighted contact features, q = 0..5, at |u| = s_q v0, s_q = 0.008 x 3^q.</summary>
    internal const int GateCount = 6;

    internal const double FirstGate = 0.008;

    private const int KappaGateFirst = 1, KappaGateLast = 3;

    /// <summary>Weighted contact features after the two contact fields.</summary>
    private const int WeightedCount = GateCount + 2 + KappaGateLast - KappaGateFirst + 1;

    /// <summary>
    /// Bell gates b_q(w) = exp(-w^2 / (2 (s_q v0)^2)), s_q = 0.01 x 3^q, and opening gates o_q(w) = 1 / (1 + exp(-w / (s_q v0))),
    /// s_q = 0.01 x 3^q, of the contact-velocity features (w = rhat_ij . (u_i - u_j)); each gates the normal and the tangential part.
    /// </summary>
    internal const int BellCount = 4, OpeningCount = 3;

    internal const double FirstContactGate = 0.01;

    /// <summary>3^q for the gate scales, so the pair loop does not call Math.Pow (the same exact values).</summary>
    private static readonly double[] PowersOfThree = [1, 3, 9, 27];

    /// <summary>Contact-velocity features, the columns before the slaving features.</summary>
    private const int VelocityCount = 2 * (BellCount + OpeningCount);

    /// <summary>
    /// Slaving features, the last columns: the three parts of Q_i, its eleven weighted copies, sum_j J''[du, du] du (first sweep)
    /// and sum_j J'[du] (c_i - c_j) (second sweep, the last column).
    /// </summary>
    private const int SlavingCount = 3 + WeightedCount + 2;

    /// <summary>Per-contact slaving sums of the first sweep (Qn, Qt, Qr, J''[du, du] du), each with its own-u derivative.</summary>
    private const int LocalSlavingCount = 4;

    /// <summary>Range r_f of the pair features (0 without interaction).</summary>
    public double Range { get; }

    /// <summary>
    /// Fills phi[((i d) + a) K + k] for one configuration (positions x[i d + a], active g[i d + a]) and, when
    /// <paramref name="divergence"/> is given, divergence[((i d) + a) K + k] = d phi_k(i, a) / d g_{i,a}: the diagonal of the own-g
    /// Jacobian, whose sum over a is the divergence that implicit score matching of s_g = theta . phi needs (features of g_j,
    /// j != i, contribute none to it). The lag filters' entries are Hutchinson estimates of that diagonal, unbiased, from the
    /// Rademacher probe number <paramref name="probe"/> (ParticleBasis.LagFilters.cs); every other entry is exact.
    /// </summary>
    public void Evaluate(double[] x, double[] g, double[] phi, int maxDegreeOfParallelism = -1, double[]? divergence = null, ulong probe = 0)
    {
        int n = _model.Particles, d = _model.Dimension, k = Count;
        if (divergence is not null)
        {
            if (divergence.Length < n * d * k) throw new ArgumentException($"the divergence buffer needs {n * d * k} values (got {divergence.Length}).", nameof(divergence));
            Array.Clear(divergence, 0, n * d * k);
        }
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * k;
                phi[row] = g[i * d + a];
                if (!_model.Periodic) phi[row + 1] = x[i * d + a];
                if (divergence is not null) divergence[row] = 1;
            }
        }
        if (_cells is null) return;
        _pairs!.Forces(x, _forces!, maxDegreeOfParallelism);
        _cells.Build(x);
        int first = _model.Periodic ? 1 : 2;
        int core = k - _lagFilters;   // the columns before the lag filters
        bool rows = divergence is not null || _lagFilters > 0;   // the divergence and the lag filters read the contacts as rows
        if (rows && _jacobianSum.Length != n * Mat3.Size)
        {
            _jacobianSum = new double[n * Mat3.Size];
            _jacobianSquare = new double[n * Mat3.Size];
            _rowStart = new int[n + 1];
        }
        _cells.Sweep(new PairFeatureKernel(_pairs, x, g, _forces!, _contact!, _kappa!, _ownSecond!, phi, divergence, d, k, first, _tents, _shells,
            Range, _model, rows ? _jacobianSum : null, _jacobianSquare, _rowStart, core - SlavingCount - VelocityCount), maxDegreeOfParallelism);
        if (rows)
        {
            // the first sweep left each particle's number of interacting neighbours in _rowStart[i + 1]: rows start at their sums
            for (int i = 0; i < n; i++) _rowStart[i + 1] += _rowStart[i];
            if (_rowNeighbour.Length < _rowStart[n])
            {
                _rowNeighbour = new int[_rowStart[n]];
                _rowJacobian = new double[_rowStart[n] * Mat3.Size];
                if (_lagFilters > 0)
                {
                    _rowJets = new ContactJet[_rowStart[n]];
                    _rowVelocity = new double[_rowStart[n] * 3];
                }
            }
        }
        // e_i needs every neighbour's c_j, so it takes a second sweep once the first has written them all; t_i a third
        int second = first + 3 + _tents + _shells + WeightedCount;
        _cells.Sweep(new SecondContactKernel(_pairs, x, g, _forces!, _contact!, _kappa!, _ownSecond!, _second!, phi, divergence, d, k,
            second, core - 1, _model, rows ? _rowStart : null, _rowNeighbour, _rowJacobian, _jacobianSum, _lagFilters > 0 ? _rowJets : null, _rowVelocity),
            maxDegreeOfParallelism);
        _cells.Sweep(new ThirdContactKernel(_pairs, x, g, _forces!, _kappa!, _second!, phi, divergence, d, k, second + 1 + WeightedCount, _model,
            _jacobianSum, _jacobianSquare, _rowStart, _rowNeighbour, _rowJacobian), maxDegreeOfParallelism);
        if (_lagFilters > 0) EvaluateLagFilters(x, g, phi, maxDegreeOfParallelism, divergence, probe);
    }

    /// <summary>
    /// The weights of the weighted contact features of a particle with squared speed |u_i|^2 and contraction rate kappa_i, in
    /// feature order (c_i w_q, kappa_i c_i, kappa_i^2 c_i, kappa_i c_i w_q), and their own-g slopes as factors of u_{i,a}.
    /// </summary>
    private static void Weights(double v0, double speed2, double kappa, Span<double> weights, Span<double> slopes)
    {
        // d w_q / d g_{i,a} = -w_q v0 u_a / s_q^2: the gates' own-g slopes, as u_a times this factor
        for (int q = 0; q < GateCount; q++)
        {
            double s = FirstGate * Math.Pow(3, q) * v0;
            weights[q] = s > 0 ? Math.Exp(-0.5 * speed2 / (s * s)) : 0;
            slopes[q] = s > 0 ? -weights[q] * v0 / (s * s) : 0;
        }
        weights[GateCount] = kappa;
        weights[GateCount + 1] = kappa * kappa;
        slopes[GateCount] = slopes[GateCount + 1] = 0;
        for (int q = KappaGateFirst; q <= KappaGateLast; q++)
        {
            weights[GateCount + 2 + q - KappaGateFirst] = kappa * weights[q];
            slopes[GateCount + 2 + q - KappaGateFirst] = kappa * slopes[q];
        }
    }

    /// <summary>u_{i,a} = v0 g_{i,a} + k F_{i,a} - A x_{i,a}, the particle's velocity.</summary>
    private static double Velocity(ActiveModel model, double[] x, double[] g, double[] forces, int index)
        => model.V0 * g[index] + model.K * forces[index] - model.A * x[index];

    /// <summary>
    /// The contact term J(r_ij) (w_i - w_j) = f' (rhat . dw) rhat + (f / r) (dw - (rhat . dw) rhat) of a per-particle field w
    /// (dw = w_i - w_j, rhat = (ux, uy, uz), f' and f / r at r_ij): the one product every contact field is summed from.
    /// </summary>
    private static (double X, double Y, double Z) ContactTerm(double[] w, int i, int j, int d, double ux, double uy, double uz, double fp, double fr)
    {
        double wx = w[i * d] - w[j * d], wy = w[i * d + 1] - w[j * d + 1], wz = d == 3 ? w[i * d + 2] - w[j * d + 2] : 0;
        double c = (fp - fr) * (ux * wx + uy * wy + uz * wz);
        return (c * ux + fr * wx, c * uy + fr * wy, c * uz + fr * wz);
    }

    /// <summary>du = u_i - u_j, the relative velocity of a pair (z = 0 in 2-D).</summary>
    private static (double X, double Y, double Z) RelativeVelocity(ActiveModel model, double[] x, double[] g, double[] forces, int i, int j, int d)
        => (Velocity(model, x, g, forces, i * d) - Velocity(model, x, g, forces, j * d),
            Velocity(model, x, g, forces, i * d + 1) - Velocity(model, x, g, forces, j * d + 1),
            d == 3 ? Velocity(model, x, g, forces, i * d + 2) - Velocity(model, x, g, forces, j * d + 2) : 0);

    /// <summary>|u_i|^2, the squared speed of particle i (the gates' argument).</summary>
    private static double Speed2(ActiveModel model, double[] x, double[] g, double[] forces, int i, int d)
    {
        double speed2 = 0;
        for (int a = 0; a < d; a++)
        {
            double u = Velocity(model, x, g, forces, i * d + a);
            speed2 += u * u;
        }
        return speed2;
    }

    private struct PairFeatureKernel(IPairForces pairs, double[] x, double[] g, double[] forces, double[] contact, double[] kappas, double[] ownSecond,
        double[] phi, double[]? divergence, int d, int count, int first, int tents, int shells, double range, ActiveModel model,
        double[]? jacobianSum, double[] jacobianSquare, int[] rowCount, int velocityFirst) : INeighbourKernel
    {
        // Sums for one particle: (1 + tents) radial fields and shells neighbour-g fields, d components each (d <= 3), the two contact
        // fields, then the contact-velocity features and their own-g derivatives (VelocityCount fields each)
        private Sums _s;
        private double _divergence;   // div_i F_i = sum_j tr J(r_ij)
        private double _jxx, _jyy, _jzz, _jxy, _jxz, _jyz;   // S = sum_j J(r_ij)
        private double _qxx, _qyy, _qzz, _qxy, _qxz, _qyz;   // Q = sum_j J(r_ij)^2
        private int _interacting;

        public void Begin(int i)
        {
            _s = default;
            _divergence = 0;
            _jxx = _jyy = _jzz = _jxy = _jxz = _jyz = 0;
            _qxx = _qyy = _qzz = _qxy = _qxz = _qyz = 0;
            _interacting = 0;
        }

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            double r = Math.Sqrt(r2);
            double ux = dx / r, uy = dy / r, uz = dz / r;
            double f = pairs.Force(r);
            _s.Add(0, f * ux, f * uy, f * uz);
            double h = range / tents;
            for (int m = 0; m < tents; m++)
            {
                double t = 1 - Math.Abs(r - m * h) / h;
                if (t > 0) _s.Add(1 + m, t * ux, t * uy, t * uz);
            }
            double hs = range / shells;
            for (int s = 0; s < shells; s++)
            {
                double t = 1 - Math.Abs(r - s * hs) / hs;
                if (t > 0) _s.Add(1 + tents + s, t * g[j * d], t * g[j * d + 1], d == 3 ? t * g[j * d + 2] : 0);
            }
            if (f == 0) return;   // beyond the interaction's cutoff J = 0
            double fp = pairs.ForceDerivative(r), fr = f / r;
            _divergence += fp + (d - 1) * fr;
            _jxx += (fp - fr) * ux * ux + fr;
            _jyy += (fp - fr) * uy * uy + fr;
            _jzz += (fp - fr) * uz * uz + fr;
            _jxy += (fp - fr) * ux * uy;
            _jxz += (fp - fr) * ux * uz;
            _jyz += (fp - fr) * uy * uz;
            // J^2 = (f'^2 - (f/r)^2) rhat rhat^T + (f/r)^2 I
            _qxx += (fp * fp - fr * fr) * ux * ux + fr * fr;
            _qyy += (fp * fp - fr * fr) * uy * uy + fr * fr;
            _qzz += (fp * fp - fr * fr) * uz * uz + fr * fr;
            _qxy += (fp * fp - fr * fr) * ux * uy;
            _qxz += (fp * fp - fr * fr) * ux * uz;
            _qyz += (fp * fp - fr * fr) * uy * uz;
            _interacting++;
            AddJacobian(1 + tents + shells, g, i, j, ux, uy, uz, fp, fr);
            AddJacobian(2 + tents + shells, forces, i, j, ux, uy, uz, fp, fr);
            var (dux, duy, duz) = RelativeVelocity(model, x, g, forces, i, j, d);
            AddContactVelocity(dux, duy, duz, ux, uy, uz, fp, fr);
            AddSlaving(new ContactJet(pairs, r, ux, uy, uz, f, fp), dux, duy, duz);
        }

        /// <summary>
        /// Adds the three parts of Q_ij = J'(r)[du] du = f'' w^2 rhat + 2 a w du_t + a |du_t|^2 rhat and C_ij = J''(r)[du, du] du
        /// (<see cref="ContactJet"/>), and, with a divergence, their own-u slopes d/du_{i,a} (times v0 in End): f'' 2 w rhat_a^2,
        /// 2 a (rhat_a du_t,a + w (1 - rhat_a^2)), 2 a du_t,a rhat_a, and that of the cubic C, 3 [J''[du, du] e_a]_a.
        /// </summary>
        private void AddSlaving(in ContactJet jet, double dux, double duy, double duz)
        {
            int field = 3 + tents + shells + 2 * VelocityCount;
            double w = jet.Ux * dux + jet.Uy * duy + jet.Uz * duz;
            double tx = dux - w * jet.Ux, ty = duy - w * jet.Uy, tz = duz - w * jet.Uz, t2 = tx * tx + ty * ty + tz * tz;
            double normal = jet.F2 * w * w, tangential = 2 * jet.A * w, radial = jet.A * t2;
            _s.Add(field, normal * jet.Ux, normal * jet.Uy, normal * jet.Uz);
            _s.Add(field + 1, tangential * tx, tangential * ty, tangential * tz);
            _s.Add(field + 2, radial * jet.Ux, radial * jet.Uy, radial * jet.Uz);
            var cubic = jet.SecondAlong(dux, duy, duz);
            _s.Add(field + 3, cubic.X, cubic.Y, cubic.Z);
            if (divergence is null) return;
            int slope = field + LocalSlavingCount;
            double n2 = 2 * jet.F2 * w, a2 = 2 * jet.A;
            _s.Add(slope, n2 * jet.Ux * jet.Ux, n2 * jet.Uy * jet.Uy, n2 * jet.Uz * jet.Uz);
            _s.Add(slope + 1, a2 * (jet.Ux * tx + w * (1 - jet.Ux * jet.Ux)), a2 * (jet.Uy * ty + w * (1 - jet.Uy * jet.Uy)),
                d == 3 ? a2 * (jet.Uz * tz + w * (1 - jet.Uz * jet.Uz)) : 0);
            _s.Add(slope + 2, a2 * tx * jet.Ux, a2 * ty * jet.Uy, a2 * tz * jet.Uz);
            _s.Add(slope + 3, 3 * jet.SecondAlong(dux, duy, duz, 1, 0, 0).X, 3 * jet.SecondAlong(dux, duy, duz, 0, 1, 0).Y,
                d == 3 ? 3 * jet.SecondAlong(dux, duy, duz, 0, 0, 1).Z : 0);
        }

        /// <summary>
        /// Adds the gated normal part f' w o(w) rhat and tangential part (f / r) (du - w rhat) o(w) of the contact term,
        /// du = u_i - u_j, w = rhat . du, for every gate o; and, with a divergence, their own-g derivatives (u_i moves by v0 e_a, so
        /// w by v0 rhat_a): v0 f' rhat_a^2 (o + w o') and v0 (f / r) [(1 - rhat_a^2) o + rhat_a (du_a - w rhat_a) o'].
        /// </summary>
        private void AddContactVelocity(double dux, double duy, double duz, double ux, double uy, double uz, double fp, double fr)
        {
            double w = ux * dux + uy * duy + uz * duz;
            double tx = dux - w * ux, ty = duy - w * uy, tz = duz - w * uz;
            int field = 3 + tents + shells;
            double v0 = model.V0;
            for (int q = 0; q < BellCount + OpeningCount; q++)
            {
                // without activity (v0 = 0) the gates have no scale: the features are 0, as the speed gates are
                double o = 0, slope = 0;
                if (q < BellCount)
                {
                    double s = FirstContactGate * PowersOfThree[q] * v0;
                    if (s > 0)
                    {
                        o = Math.Exp(-0.5 * w * w / (s * s));
                        slope = -w / (s * s) * o;
                    }
                }
                else
                {
                    double s = FirstContactGate * PowersOfThree[q - BellCount] * v0;
                    if (s > 0)
                    {
                        o = 1 / (1 + Math.Exp(-w / s));
                        slope = o * (1 - o) / s;
                    }
                }
                double normal = fp * w * o;
                _s.Add(field + 2 * q, normal * ux, normal * uy, normal * uz);
                _s.Add(field + 2 * q + 1, fr * o * tx, fr * o * ty, fr * o * tz);
                if (divergence is null) continue;
                double alongN = v0 * fp * (o + w * slope);
                _s.Add(field + VelocityCount + 2 * q, alongN * ux * ux, alongN * uy * uy, alongN * uz * uz);
                _s.Add(field + VelocityCount + 2 * q + 1, v0 * fr * ((1 - ux * ux) * o + ux * tx * slope),
                    v0 * fr * ((1 - uy * uy) * o + uy * ty * slope), d == 3 ? v0 * fr * ((1 - uz * uz) * o + uz * tz * slope) : 0);
            }
        }

        /// <summary>Adds the contact term J(r) (w_i - w_j) of w (<see cref="ContactTerm"/>) to a field.</summary>
        private void AddJacobian(int field, double[] w, int i, int j, double ux, double uy, double uz, double fp, double fr)
        {
            var (tx, ty, tz) = ContactTerm(w, i, j, d, ux, uy, uz, fp, fr);
            _s.Add(field, tx, ty, tz);
        }

        public void End(int i)
        {
            int fields = 3 + tents + shells, contactG = 1 + tents + shells;
            double v0 = model.V0, k = model.K, speed2 = Speed2(model, x, g, forces, i, d);
            double kappa = -k * _divergence;
            kappas[i] = kappa;
            if (jacobianSum is not null)
            {
                new Mat3(_jxx, _jyy, _jzz, _jxy, _jxz, _jyz, d).Store(jacobianSum, i);
                new Mat3(_qxx, _qyy, _qzz, _qxy, _qxz, _qyz, d).Store(jacobianSquare, i);
                rowCount[i + 1] = _interacting;
            }
            Span<double> weights = stackalloc double[WeightedCount];
            Span<double> slopes = stackalloc double[WeightedCount];
            Weights(v0, speed2, kappa, weights, slopes);
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * count + first;
                for (int q = 0; q < fields; q++) phi[row + q] = _s.Get(q, a);
                double c = v0 * _s.Get(contactG, a) + k * _s.Get(contactG + 1, a);
                contact[i * d + a] = c;
                // d e_{i,a} / d g_{i,a} = v0 [S_i^2 + sum_j J(r_ij)^2]_aa: c_i moves by v0 S_i, and each neighbour's c_j by -v0 J(r_ij)
                ownSecond[i * d + a] = a == 0 ? _jxx * _jxx + _jxy * _jxy + (d == 3 ? _jxz * _jxz : 0) + _qxx
                    : a == 1 ? _jxy * _jxy + _jyy * _jyy + (d == 3 ? _jyz * _jyz : 0) + _qyy
                    : _jxz * _jxz + _jyz * _jyz + _jzz * _jzz + _qzz;
                for (int q = 0; q < WeightedCount; q++) phi[row + fields + q] = weights[q] * c;
                int velocityRow = (i * d + a) * count + velocityFirst;
                for (int q = 0; q < VelocityCount; q++) phi[velocityRow + q] = _s.Get(fields + q, a);
                // the slaving block: Qn, Qt, Qr, the weighted Q = Qn + Qt + Qr, then J''[du, du] du
                int slavingRow = velocityRow + VelocityCount, local = fields + 2 * VelocityCount;
                double qn = _s.Get(local, a), qt = _s.Get(local + 1, a), qr = _s.Get(local + 2, a), qSum = qn + qt + qr;
                phi[slavingRow] = qn;
                phi[slavingRow + 1] = qt;
                phi[slavingRow + 2] = qr;
                for (int q = 0; q < WeightedCount; q++) phi[slavingRow + 3 + q] = weights[q] * qSum;
                phi[slavingRow + 3 + WeightedCount] = _s.Get(local + 3, a);
                if (divergence is null) continue;
                for (int q = 0; q < VelocityCount; q++) divergence[velocityRow + q] = _s.Get(fields + VelocityCount + q, a);
                // u_i moves by v0 e_a when g_{i,a} does: the per-contact slopes (in u) times v0
                int slope = local + LocalSlavingCount;
                double dn = v0 * _s.Get(slope, a), dt = v0 * _s.Get(slope + 1, a), dr = v0 * _s.Get(slope + 2, a);
                divergence[slavingRow] = dn;
                divergence[slavingRow + 1] = dt;
                divergence[slavingRow + 2] = dr;
                double uq = Velocity(model, x, g, forces, i * d + a);
                for (int q = 0; q < WeightedCount; q++) divergence[slavingRow + 3 + q] = weights[q] * (dn + dt + dr) + slopes[q] * qSum * uq;
                divergence[slavingRow + 3 + WeightedCount] = v0 * _s.Get(slope + 3, a);
                // d/dg_{i,a}: the J(g_i - g_j) field gives [sum_j J]_aa; c_i = v0 [that] + k [J(F_i - F_j)] gives v0 [sum_j J]_aa;
                // a weighted feature w c_a gives w v0 [sum_j J]_aa + c_a dw/dg_{i,a}
                double jaa = a == 0 ? _jxx : a == 1 ? _jyy : _jzz;
                double ua = Velocity(model, x, g, forces, i * d + a);
                divergence[row + contactG] = jaa;
                for (int q = 0; q < WeightedCount; q++) divergence[row + fields + q] = weights[q] * v0 * jaa + slopes[q] * c * ua;
            }
        }
    }

    /// <summary>
    /// The second contact field e_i = sum_j J(r_ij) (c_i - c_j) = (H^2 u)_i (H the Hessian of the pair energy, J = -H per pair)
    /// and its weighted copies (the weights of the c_i features), at columns first.. of phi; reads the first sweep's c, kappa and
    /// own-g Jacobian diagonal.
    /// </summary>
    private struct SecondContactKernel(IPairForces pairs, double[] x, double[] g, double[] forces, double[] contact, double[] kappas,
        double[] ownSecond, double[] second, double[] phi, double[]? divergence, int d, int count, int first, int lastCore, ActiveModel model,
        int[]? rowStart, int[] rowNeighbour, double[] rowJacobian, double[] jacobianSum, ContactJet[]? rowJets, double[] rowVelocity) : INeighbourKernel
    {
        private double _ex, _ey, _ez;
        // sum_j J'(r_ij)[du] (c_i - c_j) and its own-u slope
        private double _lx, _ly, _lz, _sx, _sy, _sz;
        private Mat3 _sum;   // S_i = sum_j J(r_ij), with a divergence
        private int _entry;

        public void Begin(int i)
        {
            _ex = _ey = _ez = 0;
            _lx = _ly = _lz = _sx = _sy = _sz = 0;
            if (rowStart is not null)
            {
                _entry = rowStart[i];
                _sum = Mat3.Load(jacobianSum, i);
            }
        }

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            double r = Math.Sqrt(r2);
            double f = pairs.Force(r);
            if (f == 0) return;
            double ux = dx / r, uy = dy / r, uz = dz / r, fp = pairs.ForceDerivative(r), fr = f / r;
            var jet = new ContactJet(pairs, r, ux, uy, uz, f, fp);
            var (dux, duy, duz) = RelativeVelocity(model, x, g, forces, i, j, d);
            if (rowStart is not null)
            {
                // the first sweep counted these same pairs, so the row has room for them in this order
                rowNeighbour[_entry] = j;
                Mat3.Jacobian(fp, fr, ux, uy, uz, d).Store(rowJacobian, _entry);
                if (rowJets is not null)
                {
                    rowJets[_entry] = jet;
                    rowVelocity[3 * _entry] = dux;
                    rowVelocity[3 * _entry + 1] = duy;
                    rowVelocity[3 * _entry + 2] = duz;
                }
                _entry++;
            }
            var (tx, ty, tz) = ContactTerm(contact, i, j, d, ux, uy, uz, fp, fr);
            _ex += tx;
            _ey += ty;
            _ez += tz;
            AddSlaving(i, j, jet, dux, duy, duz, fp, fr);
        }

        /// <summary>
        /// Adds J'(r)[du] (c_i - c_j) (<see cref="ContactJet.FirstAlong"/>) and, with a divergence, its own-u slope: the form is
        /// bilinear in du and dc = c_i - c_j, and u_i moving by e_a moves du by e_a and dc by (S_i + J_ij) e_a (c_i by S_i e_a, the
        /// neighbour's c_j by -J_ij e_a), so the slope is J'[e_a] dc + J'[du] (S_i + J_ij) e_a, component a.
        /// </summary>
        private void AddSlaving(int i, int j, in ContactJet jet, double dux, double duy, double duz, double fp, double fr)
        {
            double dcx = contact[i * d] - contact[j * d], dcy = contact[i * d + 1] - contact[j * d + 1];
            double dcz = d == 3 ? contact[i * d + 2] - contact[j * d + 2] : 0;
            var (lx, ly, lz) = jet.FirstAlong(dux, duy, duz, dcx, dcy, dcz);
            _lx += lx;
            _ly += ly;
            _lz += lz;
            if (divergence is null) return;
            var moved = _sum + Mat3.Jacobian(fp, fr, jet.Ux, jet.Uy, jet.Uz, d);
            for (int a = 0; a < d; a++)
            {
                var (mx, my, mz) = moved.Column(a);
                double along = jet.FirstAlong(a == 0 ? 1 : 0, a == 1 ? 1 : 0, a == 2 ? 1 : 0, dcx, dcy, dcz).Component(a)
                    + jet.FirstAlong(dux, duy, duz, mx, my, mz).Component(a);
                if (a == 0) _sx += along;
                else if (a == 1) _sy += along;
                else _sz += along;
            }
        }

        public void End(int i)
        {
            double v0 = model.V0, speed2 = Speed2(model, x, g, forces, i, d);
            Span<double> weights = stackalloc double[WeightedCount];
            Span<double> slopes = stackalloc double[WeightedCount];
            Weights(v0, speed2, kappas[i], weights, slopes);
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * count + first;
                double e = a == 0 ? _ex : a == 1 ? _ey : _ez;
                second[i * d + a] = e;
                phi[row] = e;
                for (int q = 0; q < WeightedCount; q++) phi[row + 1 + q] = weights[q] * e;
                // the last column before the lag filters
                int last = (i * d + a) * count + lastCore;
                phi[last] = a == 0 ? _lx : a == 1 ? _ly : _lz;
                if (divergence is null) continue;
                double own = v0 * ownSecond[i * d + a], ua = Velocity(model, x, g, forces, i * d + a);
                divergence[row] = own;
                for (int q = 0; q < WeightedCount; q++) divergence[row + 1 + q] = weights[q] * own + slopes[q] * e * ua;
                divergence[last] = v0 * (a == 0 ? _sx : a == 1 ? _sy : _sz);
            }
        }
    }

    /// <summary>
    /// The third contact field t_i = sum_j J(r_ij) (e_i - e_j) = -(H^3 u)_i and its weighted copies (the weights of the c_i features),
    /// at columns first.. of phi; reads the second sweep's e. Its own-g Jacobian (derived in docs/active-matter.md, "Hessian powers"):
    /// with c_i moving by v0 S_i and each neighbour's c_j by -v0 J_ij, e_i moves by v0 D_i, D_i = S_i^2 + Q_i, and a neighbour's e_j by
    /// v0 (-S_j J_ij - J_ij S_i + sum_{l in N(i) and N(j)} J_jl J_li), so
    /// d t_i / d g_i = v0 [S_i D_i + sum_j J_ij S_j J_ij + Q_i S_i - sum_j sum_{l in N(i) and N(j)} J_ij J_jl J_li]
    /// (S_i = sum_j J_ij, Q_i = sum_j J_ij^2, J_ij = J(r_ij), sums over interacting neighbours); the triangles come from the rows.
    /// </summary>
    private struct ThirdContactKernel(IPairForces pairs, double[] x, double[] g, double[] forces, double[] kappas, double[] second,
        double[] phi, double[]? divergence, int d, int count, int first, ActiveModel model,
        double[] jacobianSum, double[] jacobianSquare, int[] rowStart, int[] rowNeighbour, double[] rowJacobian) : INeighbourKernel
    {
        private double _tx, _ty, _tz;
        private Mat3 _sandwich, _triangles;   // sum_j J_ij S_j J_ij and sum_j sum_l J_ij J_jl J_li

        public void Begin(int i)
        {
            _tx = _ty = _tz = 0;
            _sandwich = _triangles = default;
        }

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            double r = Math.Sqrt(r2);
            double f = pairs.Force(r);
            if (f == 0) return;
            double ux = dx / r, uy = dy / r, uz = dz / r, fp = pairs.ForceDerivative(r), fr = f / r;
            var (ax, ay, az) = ContactTerm(second, i, j, d, ux, uy, uz, fp, fr);
            _tx += ax;
            _ty += ay;
            _tz += az;
            if (divergence is null) return;
            var jij = Mat3.Jacobian(fp, fr, ux, uy, uz, d);
            _sandwich = _sandwich + jij * Mat3.Load(jacobianSum, j) * jij;
            // l runs over j's interacting neighbours that also interact with i (J(r_li) = 0 beyond the interaction's cutoff)
            double box = model.Box ?? 0;
            for (int e = rowStart[j]; e < rowStart[j + 1]; e++)
            {
                int l = rowNeighbour[e];
                if (l == i) continue;
                double lx = x[i * d] - x[l * d], ly = x[i * d + 1] - x[l * d + 1], lz = d == 3 ? x[i * d + 2] - x[l * d + 2] : 0;
                if (box > 0)
                {
                    lx = PeriodicBox.MinimumImage(lx, box);
                    ly = PeriodicBox.MinimumImage(ly, box);
                    if (d == 3) lz = PeriodicBox.MinimumImage(lz, box);
                }
                double rl = Math.Sqrt(lx * lx + ly * ly + lz * lz);
                double fl = pairs.Force(rl);
                if (fl == 0) continue;
                var jli = Mat3.Jacobian(pairs.ForceDerivative(rl), fl / rl, lx / rl, ly / rl, lz / rl, d);
                _triangles = _triangles + jij * Mat3.Load(rowJacobian, e) * jli;
            }
        }

        public void End(int i)
        {
            double v0 = model.V0, speed2 = Speed2(model, x, g, forces, i, d);
            Span<double> weights = stackalloc double[WeightedCount];
            Span<double> slopes = stackalloc double[WeightedCount];
            Weights(v0, speed2, kappas[i], weights, slopes);
            Mat3 own = default;
            if (divergence is not null)
            {
                var s = Mat3.Load(jacobianSum, i);
                var q = Mat3.Load(jacobianSquare, i);
                own = s * (s * s + q) + _sandwich + q * s - _triangles;
            }
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * count + first;
                double t = a == 0 ? _tx : a == 1 ? _ty : _tz;
                phi[row] = t;
                for (int q = 0; q < WeightedCount; q++) phi[row + 1 + q] = weights[q] * t;
                if (divergence is null) continue;
                double diagonal = v0 * own.Diagonal(a), ua = Velocity(model, x, g, forces, i * d + a);
                divergence[row] = diagonal;
                for (int q = 0; q < WeightedCount; q++) divergence[row + 1 + q] = weights[q] * diagonal + slopes[q] * t * ua;
            }
        }
    }

    /// <summary>
    /// One contact's pair Jacobian J(r) = phi(r) I + psi(r) r r^T (r = x_i - x_j, phi = f / r, psi = (f' - f / r) / r^2) and its
    /// derivatives along a straight motion of the separation, r(h) = r + h p: J'[p] = d/dh J(r + h p) and J''[p, p] at h = 0. Along
    /// the particles' own motion (p = du = u_i - u_j, g frozen) these are the time derivatives that slave the contact field:
    /// d c_i / dt = sum_j J'[du] du + k (J c)_i, where Q_i = sum_j J'[du] du is the part set by the moving geometry alone. With
    /// w = rhat . p and t = p - w rhat, |r(h)| moves by w and then |t|^2 / r, so with A = phi' = (f' - f / r) / r,
    /// A' = (f'' - 2 A) / r, A'' = (f''' - 3 A') / r, psi = A / r, psi' = (A' - psi) / r, psi'' = (A'' - 2 psi') / r:
    /// J'[p] v = A w v + psi' w (r . v) r + psi ((p . v) r + (r . v) p), and
    /// J''[p, p] p = (A' w^2 + A |t|^2 / r) p + (psi'' w^2 + psi' |t|^2 / r) (r . p) r + 2 psi' w (|p|^2 r + (r . p) p) + 2 psi |p|^2 p.
    /// For p = v = du, J'[du] du = f'' w^2 rhat + 2 A w t + A |t|^2 rhat (normal, tangential and radial parts).
    /// </summary>
    private readonly struct ContactJet
    {
        public readonly double R, Ux, Uy, Uz, A, F2;
        private readonly double _aSlope, _psi, _psiSlope, _psiCurvature;

        public ContactJet(IPairForces pairs, double r, double ux, double uy, double uz, double f, double fp)
        {
            var (f2, f3) = pairs.ForceHigherDerivatives(r);
            R = r;
            Ux = ux;
            Uy = uy;
            Uz = uz;
            F2 = f2;
            A = (fp - f / r) / r;
            _aSlope = (f2 - 2 * A) / r;
            double aCurvature = (f3 - 3 * _aSlope) / r;
            _psi = A / r;
            _psiSlope = (_aSlope - _psi) / r;
            _psiCurvature = (aCurvature - 2 * _psiSlope) / r;
        }

        /// <summary>J'[p] v.</summary>
        public Vec3 FirstAlong(double px, double py, double pz, double vx, double vy, double vz)
        {
            double w = Ux * px + Uy * py + Uz * pz, rv = R * (Ux * vx + Uy * vy + Uz * vz), pv = px * vx + py * vy + pz * vz;
            double alongR = _psiSlope * w * rv * R + _psi * pv * R;
            return new(A * w * vx + alongR * Ux + _psi * rv * px, A * w * vy + alongR * Uy + _psi * rv * py, A * w * vz + alongR * Uz + _psi * rv * pz);
        }

        /// <summary>
        /// J''[p, p] v, a third of the derivative of <see cref="SecondAlong(double, double, double)"/> along v: with a = rhat . p,
        /// b = rhat . v, J''[p, p] p = P p + W rhat, where P and W depend on p through a and |p|^2 (whose derivatives along v are
        /// b and 2 p . v), so 3 J''[p, p] v = (dP) p + P v + (dW) rhat.
        /// </summary>
        public Vec3 SecondAlong(double px, double py, double pz, double vx, double vy, double vz)
        {
            double a = Ux * px + Uy * py + Uz * pz, b = Ux * vx + Uy * vy + Uz * vz;
            double p2 = px * px + py * py + pz * pz, pv = px * vx + py * vy + pz * vz, t2 = p2 - a * a;
            double alongP = AlongP(a, p2, t2);
            double slopeP = 2 * _aSlope * a * b + 2 * A * (pv - a * b) / R + 4 * _psiSlope * R * a * b + 4 * _psi * pv;
            double slopeR = R * ((2 * _psiCurvature * a * b + 2 * _psiSlope * (pv - a * b) / R) * R * a
                + (_psiCurvature * a * a + _psiSlope * t2 / R) * R * b + 2 * _psiSlope * (b * p2 + 2 * a * pv));
            return new((slopeP * px + alongP * vx + slopeR * Ux) / 3, (slopeP * py + alongP * vy + slopeR * Uy) / 3,
                (slopeP * pz + alongP * vz + slopeR * Uz) / 3);
        }

        /// <summary>J''[p, p] p.</summary>
        public Vec3 SecondAlong(double px, double py, double pz)
        {
            double w = Ux * px + Uy * py + Uz * pz, p2 = px * px + py * py + pz * pz, t2 = p2 - w * w, rp = R * w;
            double alongP = AlongP(w, p2, t2);
            double alongR = ((_psiCurvature * w * w + _psiSlope * t2 / R) * rp + 2 * _psiSlope * w * p2) * R;
            return new(alongP * px + alongR * Ux, alongP * py + alongR * Uy, alongP * pz + alongR * Uz);
        }

        /// <summary>The coefficient of p in J''[p, p] p, with w = rhat . p, |p|^2 and |t|^2 = |p|^2 - w^2.</summary>
        private double AlongP(double w, double p2, double t2) => _aSlope * w * w + A * t2 / R + 2 * _psiSlope * w * (R * w) + 2 * _psi * p2;
    }

    /// <summary>A 3-vector (2-D: z = 0).</summary>
    private readonly record struct Vec3(double X, double Y, double Z)
    {
        public double Component(int a) => a == 0 ? X : a == 1 ? Y : Z;
    }

    /// <summary>A 3 x 3 matrix (2-D: the z row and column stay 0) for the own-g Jacobian of the third contact field.</summary>
    private readonly struct Mat3(double xx, double xy, double xz, double yx, double yy, double yz, double zx, double zy, double zz)
    {
        /// <summary>Values stored per symmetric matrix: xx, yy, zz, xy, xz, yz.</summary>
        public const int Size = 6;

        private readonly double _xx = xx, _xy = xy, _xz = xz, _yx = yx, _yy = yy, _yz = yz, _zx = zx, _zy = zy, _zz = zz;

        /// <summary>A symmetric matrix from its six entries; in 2-D the z entries are dropped.</summary>
        public Mat3(double xx, double yy, double zz, double xy, double xz, double yz, int d)
            : this(xx, xy, d == 3 ? xz : 0, xy, yy, d == 3 ? yz : 0, d == 3 ? xz : 0, d == 3 ? yz : 0, d == 3 ? zz : 0) { }

        /// <summary>J(r) = f' rhat rhat^T + (f / r) (I - rhat rhat^T) from f', f / r and rhat.</summary>
        public static Mat3 Jacobian(double fp, double fr, double ux, double uy, double uz, int d)
        {
            double c = fp - fr;
            return new Mat3(c * ux * ux + fr, c * uy * uy + fr, c * uz * uz + fr, c * ux * uy, c * ux * uz, c * uy * uz, d);
        }

        public static Mat3 Load(double[] values, int index)
        {
            int o = index * Size;
            var v = values.AsSpan(o, Size);
            return new Mat3(v[0], v[3], v[4], v[3], v[1], v[5], v[4], v[5], v[2]);
        }

        /// <summary>Stores the symmetric part's six entries (the matrices stored here are symmetric).</summary>
        public void Store(double[] values, int index)
        {
            int o = index * Size;
            values[o] = _xx;
            values[o + 1] = _yy;
            values[o + 2] = _zz;
            values[o + 3] = _xy;
            values[o + 4] = _xz;
            values[o + 5] = _yz;
        }

        public double Diagonal(int a) => a == 0 ? _xx : a == 1 ? _yy : _zz;

        /// <summary>Column a: the matrix applied to the unit vector e_a.</summary>
        public (double X, double Y, double Z) Column(int a) => a == 0 ? (_xx, _yx, _zx) : a == 1 ? (_xy, _yy, _zy) : (_xz, _yz, _zz);

        public static Mat3 operator +(Mat3 p, Mat3 q)
            => new(p._xx + q._xx, p._xy + q._xy, p._xz + q._xz, p._yx + q._yx, p._yy + q._yy, p._yz + q._yz, p._zx + q._zx, p._zy + q._zy, p._zz + q._zz);

        public static Mat3 operator -(Mat3 p, Mat3 q)
            => new(p._xx - q._xx, p._xy - q._xy, p._xz - q._xz, p._yx - q._yx, p._yy - q._yy, p._yz - q._yz, p._zx - q._zx, p._zy - q._zy, p._zz - q._zz);

        public static Mat3 operator *(Mat3 p, Mat3 q) => new(
            p._xx * q._xx + p._xy * q._yx + p._xz * q._zx, p._xx * q._xy + p._xy * q._yy + p._xz * q._zy, p._xx * q._xz + p._xy * q._yz + p._xz * q._zz,
            p._yx * q._xx + p._yy * q._yx + p._yz * q._zx, p._yx * q._xy + p._yy * q._yy + p._yz * q._zy, p._yx * q._xz + p._yy * q._yz + p._yz * q._zz,
            p._zx * q._xx + p._zy * q._yx + p._zz * q._zx, p._zx * q._xy + p._zy * q._yy + p._zz * q._zy, p._zx * q._xz + p._zy * q._yz + p._zz * q._zz);
    }

    /// <summary>Fixed-size per-particle accumulator (up to 56 fields x 3 axes), so the kernel does not allocate.</summary>
    private struct Sums
    {
        private Buffer _v;

        public void Add(int field, double x, double y, double z)
        {
            _v[3 * field] += x;
            _v[3 * field + 1] += y;
            _v[3 * field + 2] += z;
        }

        public readonly double Get(int field, int axis) => _v[3 * field + axis];

        [System.Runtime.CompilerServices.InlineArray(168)]
        private struct Buffer
        {
            private double _e0;
        }
    }
}
