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
/// second sweep) with the same eleven weights. Why: the best score linear in u with coefficients any function of H's spectrum
/// is -sum_m a(lambda_m) P_m u, and the fitted a(lambda) is near the relaxed -(k lambda + gamma) / (gamma v0) only for the
/// stiffest modes and falls steeply below it for softer ones (which move far faster than relaxed), so one multiple of H u
/// cannot follow it; a polynomial a(lambda) of degree two can (docs/active-matter.md, "Hessian powers").
/// One coefficient per feature is shared by all particles and axes, so the fit has a handful of parameters whatever N.
/// </summary>
public sealed class ParticleBasis
{
    private readonly ActiveModel _model;
    private readonly IPairForces? _pairs;
    private readonly CellList? _cells;
    private readonly int _tents, _shells;
    private readonly double[]? _forces;
    // per particle, from the first sweep for the second: the combined contact field c_i, the contraction rate kappa_i and
    // the own-g diagonal of the Jacobian of the second contact field e_i = sum_j J(r_ij)(c_i - c_j), divided by v0
    private readonly double[]? _contact, _kappa, _ownSecond;

    public ParticleBasis(ActiveModel model, int tents = 4, int shells = 2)
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
            names.Add("sum_j f(r) rhat");
            for (int m = 0; m < tents; m++) names.Add($"sum_j T{m}(r) rhat");
            for (int s = 0; s < shells; s++) names.Add($"sum_j T'{s}(r) g_j");
            names.Add("sum_j J(r) (g_i - g_j)");
            names.Add("sum_j J(r) (F_i - F_j)");
            for (int q = 0; q < GateCount; q++) names.Add($"c_i w{q}(|u_i|)");
            names.Add("kappa_i c_i");
            names.Add("kappa_i^2 c_i");
            for (int q = KappaGateFirst; q <= KappaGateLast; q++) names.Add($"kappa_i c_i w{q}(|u_i|)");
            names.Add("sum_j J(r) (c_i - c_j)");
            for (int q = 0; q < GateCount; q++) names.Add($"e_i w{q}(|u_i|)");
            names.Add("kappa_i e_i");
            names.Add("kappa_i^2 e_i");
            for (int q = KappaGateFirst; q <= KappaGateLast; q++) names.Add($"kappa_i e_i w{q}(|u_i|)");
        }
        Names = names;
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

    /// <summary>Range r_f of the pair features (0 without interaction).</summary>
    public double Range { get; }

    /// <summary>
    /// Fills phi[((i d) + a) K + k] for one configuration (positions x[i d + a], active g[i d + a]) and, when
    /// <paramref name="divergence"/> is given, divergence[((i d) + a) K + k] = d phi_k(i, a) / d g_{i,a}: the diagonal of the own-g
    /// Jacobian, whose sum over a is the divergence that implicit score matching of s_g = theta . phi needs (features of g_j,
    /// j != i, contribute none to it).
    /// </summary>
    public void Evaluate(double[] x, double[] g, double[] phi, int maxDegreeOfParallelism = -1, double[]? divergence = null)
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
        _cells.Sweep(new PairFeatureKernel(_pairs, x, g, _forces!, _contact!, _kappa!, _ownSecond!, phi, divergence, d, k, first, _tents, _shells,
            Range, _model), maxDegreeOfParallelism);
        // e_i needs every neighbour's c_j, so it takes a second sweep once the first has written them all
        _cells.Sweep(new SecondContactKernel(_pairs, x, g, _forces!, _contact!, _kappa!, _ownSecond!, phi, divergence, d, k,
            first + 3 + _tents + _shells + WeightedCount, _model), maxDegreeOfParallelism);
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

    private struct PairFeatureKernel(IPairForces pairs, double[] x, double[] g, double[] forces, double[] contact, double[] kappas, double[] ownSecond,
        double[] phi, double[]? divergence, int d, int count, int first, int tents, int shells, double range, ActiveModel model) : INeighbourKernel
    {
        // Sums for one particle: (1 + tents) radial fields and shells neighbour-g fields, d components each (d <= 3).
        private Sums _s;
        private double _divergence;   // div_i F_i = sum_j tr J(r_ij)
        private double _jxx, _jyy, _jzz, _jxy, _jxz, _jyz;   // S = sum_j J(r_ij)
        private double _qxx, _qyy, _qzz;   // diagonal of sum_j J(r_ij)^2

        public void Begin(int i)
        {
            _s = default;
            _divergence = 0;
            _jxx = _jyy = _jzz = _jxy = _jxz = _jyz = 0;
            _qxx = _qyy = _qzz = 0;
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
            AddJacobian(1 + tents + shells, g, i, j, ux, uy, uz, fp, fr);
            AddJacobian(2 + tents + shells, forces, i, j, ux, uy, uz, fp, fr);
        }

        /// <summary>Adds J(r) (w_i - w_j) = f' (rhat . dw) rhat + (f / r) (dw - (rhat . dw) rhat) to a field.</summary>
        private void AddJacobian(int field, double[] w, int i, int j, double ux, double uy, double uz, double fp, double fr)
        {
            double wx = w[i * d] - w[j * d], wy = w[i * d + 1] - w[j * d + 1], wz = d == 3 ? w[i * d + 2] - w[j * d + 2] : 0;
            double along = ux * wx + uy * wy + uz * wz, c = (fp - fr) * along;
            _s.Add(field, c * ux + fr * wx, c * uy + fr * wy, c * uz + fr * wz);
        }

        public void End(int i)
        {
            int fields = 3 + tents + shells, contactG = 1 + tents + shells;
            double v0 = model.V0, k = model.K, speed2 = 0;
            for (int a = 0; a < d; a++)
            {
                double u = Velocity(model, x, g, forces, i * d + a);
                speed2 += u * u;
            }
            double kappa = -k * _divergence;
            kappas[i] = kappa;
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
                if (divergence is null) continue;
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
        double[] ownSecond, double[] phi, double[]? divergence, int d, int count, int first, ActiveModel model) : INeighbourKernel
    {
        private double _ex, _ey, _ez;

        public void Begin(int i) => _ex = _ey = _ez = 0;

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            double r = Math.Sqrt(r2);
            double f = pairs.Force(r);
            if (f == 0) return;
            double ux = dx / r, uy = dy / r, uz = dz / r, fp = pairs.ForceDerivative(r), fr = f / r;
            double wx = contact[i * d] - contact[j * d], wy = contact[i * d + 1] - contact[j * d + 1], wz = d == 3 ? contact[i * d + 2] - contact[j * d + 2] : 0;
            double along = (fp - fr) * (ux * wx + uy * wy + uz * wz);
            _ex += along * ux + fr * wx;
            _ey += along * uy + fr * wy;
            _ez += along * uz + fr * wz;
        }

        public void End(int i)
        {
            double v0 = model.V0, speed2 = 0;
            for (int a = 0; a < d; a++)
            {
                double u = Velocity(model, x, g, forces, i * d + a);
                speed2 += u * u;
            }
            Span<double> weights = stackalloc double[WeightedCount];
            Span<double> slopes = stackalloc double[WeightedCount];
            Weights(v0, speed2, kappas[i], weights, slopes);
            for (int a = 0; a < d; a++)
            {
                int row = (i * d + a) * count + first;
                double e = a == 0 ? _ex : a == 1 ? _ey : _ez;
                phi[row] = e;
                for (int q = 0; q < WeightedCount; q++) phi[row + 1 + q] = weights[q] * e;
                if (divergence is null) continue;
                double own = v0 * ownSecond[i * d + a], ua = Velocity(model, x, g, forces, i * d + a);
                divergence[row] = own;
                for (int q = 0; q < WeightedCount; q++) divergence[row + 1 + q] = weights[q] * own + slopes[q] * e * ua;
            }
        }
    }

    /// <summary>Fixed-size per-particle accumulator (up to 16 fields x 3 axes), so the kernel does not allocate.</summary>
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

        [System.Runtime.CompilerServices.InlineArray(48)]
        private struct Buffer
        {
            private double _e0;
        }
    }
}
