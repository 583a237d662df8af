using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Pair forces of an <see cref="ActiveModel"/> behind one interface: one call per step (the neighbour loop inside is
/// monomorphic in the potential struct).
/// </summary>
public interface IPairForces
{
    /// <summary>Cutoff r_c of the interaction.</summary>
    double Cutoff { get; }

    /// <summary>forces[i d + a] = F_{i,a} = sum_j f(r_ij) (x_i - x_j)_a / r_ij (without the strength k).</summary>
    void Forces(double[] positions, double[] forces, int maxDegreeOfParallelism);

    /// <summary>Per particle div_{x_i} F_i; returns their sum.</summary>
    double Divergence(double[] positions, double[] perParticle, int maxDegreeOfParallelism);

    /// <summary>Total pair energy sum_{i &lt; j} U(r_ij).</summary>
    double Energy(double[] positions, int maxDegreeOfParallelism);

    /// <summary>A cell list at the interaction cutoff (for other neighbour sweeps; build it from the positions first).</summary>
    CellList Cells { get; }

    /// <summary>The neighbour lists of the force sweep.</summary>
    NeighbourList Neighbours { get; }

    /// <summary>The pair force magnitude f(r).</summary>
    double Force(double r);

    /// <summary>Its derivative f'(r).</summary>
    double ForceDerivative(double r);

    /// <summary>f''(r) and f'''(r).</summary>
    (double Second, double Third) ForceHigherDerivatives(double r);
}

/// <summary>Builds the <see cref="IPairForces"/> of a model.</summary>
public static class PairForces
{
    /// <summary>The model's pair forces, or null when it does not interact.</summary>
    public static IPairForces? For(ActiveModel model)
    {
        if (model.Interaction == PairInteraction.None) return null;
        int n = model.Particles, d = model.Dimension;
        double? box = model.Box;
        return model.Interaction switch
        {
            PairInteraction.Softplus => new Of<SoftplusRepulsion>(new(new(model.R0, model.Beta), n, d, box)),
            PairInteraction.Wca => new Of<WcaRepulsion>(new(new(2 * model.R0 / Math.Pow(2, 1.0 / 6), 1), n, d, box)),
            PairInteraction.Harmonic => new Of<HarmonicRepulsion>(new(new(2 * model.R0, 1), n, d, box)),
            _ => null,
        };
    }

    private sealed class Of<T>(PairForceField<T> pairField) : IPairForces where T : struct, IPairPotential
    {
        public double Cutoff => pairField.Potential.Cutoff;

        public CellList Cells => pairField.Cells;

        public NeighbourList Neighbours => pairField.Neighbours;

        public double Force(double r) => pairField.Potential.Force(r);

        public double ForceDerivative(double r) => pairField.Potential.ForceDerivative(r);

        public (double Second, double Third) ForceHigherDerivatives(double r) => pairField.Potential.ForceHigherDerivatives(r);

        public void Forces(double[] positions, double[] forces, int maxDegreeOfParallelism) => pairField.Forces(positions, forces, maxDegreeOfParallelism);

        public double Divergence(double[] positions, double[] perParticle, int maxDegreeOfParallelism) => pairField.Divergence(positions, perParticle, maxDegreeOfParallelism);

        public double Energy(double[] positions, int maxDegreeOfParallelism) => pairField.Energy(positions, null, maxDegreeOfParallelism);
    }
}

/// <summary>
/// The state of an <see cref="ActiveModel"/> and its time step. AOUP: Euler-Maruyama for x,
/// x += [v0 g + k F(x) - A x] dt + sqrt(2 eps dt) xi, and the exact Ornstein-Uhlenbeck update for g,
/// g = e^(-gamma dt) g + sqrt(1 - e^(-2 gamma dt)) eta (g stays exactly N(0, I)); ABP: Euler-Maruyama for x and theta.
/// Particle i draws its noise from its own stream (seed, i, <see cref="RandomPurposes.ActiveNoise"/>): per step whole
/// Box-Muller pairs, g's normals first (d of them, then d for x when eps &gt; 0; ABP: theta's, then x's two when D_t &gt; 0,
/// an odd normal left over is dropped), drawn for eight particles at a time by <see cref="GaussianLanes{TLanes, TDouble, TBits}"/>
/// (one stream per SIMD lane; the same numbers at four or eight lanes), so the run is the same for any thread count and
/// vector width (AOUP in 2-D on AVX-512 steps a block's 16 values in two eight-lane vectors, the normals put in place by
/// permutes in registers: the same operations in the same order). Positions in a periodic box are kept wrapped into [0, L)^d. No allocation per step.
/// </summary>
public sealed class ActiveSystem
{
    /// <summary>Particles per noise block: a multiple of both lane widths, so blocks split the same way at either.</summary>
    private const int NoiseBlock = 8;

    /// <summary>Most Box-Muller pairs a particle draws per step (AOUP in 3-D with eps &gt; 0: 6 normals).</summary>
    private const int MaxNormalPairs = 3;

    private readonly ulong[] _s0, _s1, _s2, _s3;   // xoshiro256** state of particle i's noise stream, padded to whole blocks
    private readonly int _normalPairs;             // Box-Muller pairs per particle and step
    private readonly IPairForces? _pairs;
    private readonly double[] _forces;
    private readonly int _threads;

    /// <param name="model">The model (validated here).</param>
    /// <param name="dt">Integration step.</param>
    /// <param name="seed">Seed: particle i's initial state and noise come from streams of (seed, i).</param>
    /// <param name="initial">Optional initial state, N rows of d positions followed by the active columns
    /// (g or theta); null for a lattice start (triangular / fcc, random jitter, random stationary g / uniform theta).</param>
    /// <param name="maxDegreeOfParallelism">-1 all cores; the results do not depend on it.</param>
    public ActiveSystem(ActiveModel model, double dt, ulong seed, double[]? initial = null, int maxDegreeOfParallelism = -1)
    {
        model.Validate();
        if (!(dt > 0) || !double.IsFinite(dt)) throw new InvalidInputException($"dt must be a positive number (got {dt}).");
        Model = model;
        Dt = dt;
        _threads = maxDegreeOfParallelism;
        int n = model.Particles, d = model.Dimension;
        Positions = new double[n * d];
        Active = new double[n * model.ActiveColumns];
        _forces = new double[n * d];
        int padded = (n + NoiseBlock - 1) / NoiseBlock * NoiseBlock;
        _s0 = new ulong[padded];
        _s1 = new ulong[padded];
        _s2 = new ulong[padded];
        _s3 = new ulong[padded];
        for (int i = 0; i < padded; i++)
            (_s0[i], _s1[i], _s2[i], _s3[i]) = RandomStream.For(seed, (ulong)i, RandomPurposes.ActiveNoise).State;
        int normals = model.Kind == ActiveModelKind.Aoup ? (model.Epsilon > 0 ? 2 * d : d) : (model.TranslationalDiffusion > 0 ? 3 : 1);
        _normalPairs = (normals + 1) / 2;
        _pairs = model.Interacting ? PairForces.For(model) : null;
        if (initial is null)
        {
            double nearest = LatticeStart(seed);
            try
            {
                CheckOverlaps();
            }
            catch (InvalidInputException e) when (nearest < 2 * model.R0)
            {
                throw new InvalidInputException(LatticeOverlapMessage(nearest) + " (" + e.Message + ")", e);
            }
        }
        else
        {
            SetState(initial);
            CheckOverlaps();
        }
    }

    public ActiveModel Model { get; }

    public double Dt { get; }

    /// <summary>x[i d + a] (wrapped into [0, L) in a periodic box).</summary>
    public double[] Positions { get; }

    /// <summary>g[i d + a] (AOUP) or theta[i] (ABP).</summary>
    public double[] Active { get; }

    /// <summary>The pair forces (null without interaction).</summary>
    public IPairForces? Pairs => _pairs;

    /// <summary>Tests set this to draw the noise four lanes at a time on a machine with AVX-512.</summary>
    internal bool FourLanes { get; set; }

    /// <summary>Diagnostics (bench pair --phases): called as each phase of a step ends; also handed to the neighbour list.</summary>
    internal Action<StepPhase>? PhaseEnded
    {
        get => _phaseEnded;
        set
        {
            _phaseEnded = value;
            if (_pairs is not null) _pairs.Neighbours.PhaseEnded = value;
        }
    }

    private Action<StepPhase>? _phaseEnded;

    /// <summary>Steps taken since construction.</summary>
    public long StepsTaken { get; private set; }

    /// <summary>Advances the state by <paramref name="steps"/> time steps.</summary>
    public void Step(int steps = 1)
    {
        int n = Model.Particles, blocks = (n + NoiseBlock - 1) / NoiseBlock;
        int chunks = n < 4096 || _threads == 1 ? 1 : Math.Min(n / 1024, 8 * Environment.ProcessorCount);
        for (int s = 0; s < steps; s++)
        {
            if (_pairs is not null)
            {
                _pairs.Forces(Positions, _forces, _threads);
                CheckKicks();
            }
            if (chunks == 1) Update(0, blocks);
            else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads },
                c => Update((int)((long)blocks * c / chunks), (int)((long)blocks * (c + 1) / chunks)));
            PhaseEnded?.Invoke(StepPhase.Update);
            StepsTaken++;
        }
    }

    /// <summary>Steps the particles of noise blocks [<paramref name="firstBlock"/>, <paramref name="endBlock"/>), eight lanes at a time where AVX-512 is accelerated, four otherwise (the same numbers either way).</summary>
    private void Update(int firstBlock, int endBlock)
    {
        if (Vector512.IsHardwareAccelerated && !FourLanes)
        {
            if (Model.Kind == ActiveModelKind.Aoup && Model.Dimension == 2 && Avx512F.IsSupported)
            {
                int full = Math.Min(endBlock, Model.Particles / NoiseBlock);
                if (full > firstBlock) UpdateAoup2D(firstBlock, full);
                firstBlock = Math.Max(firstBlock, full);
            }
            if (endBlock > firstBlock) UpdateBlocks<Lanes512, Vector512<double>, Vector512<ulong>>(firstBlock, endBlock);
        }
        else UpdateBlocks<Lanes256, Vector256<double>, Vector256<ulong>>(firstBlock, endBlock);
    }

    /// <summary>
    /// AOUP in 2-D, full noise blocks on eight lanes: the block's normals go from the lanes to the interleaved (x, y)
    /// layout of its 16 values by two permutes in registers, and x and g are stepped eight values at a time with the
    /// operations of <see cref="UpdateBlocks{TLanes, TDouble, TBits}"/> in its order (so the same bits).
    /// </summary>
    private unsafe void UpdateAoup2D(int firstBlock, int endBlock)
    {
        var m = Model;
        double dt = Dt, k = _pairs is null ? 0 : m.K, box = m.Box ?? 0;
        double noiseX = Math.Sqrt(2 * m.Epsilon * dt);
        var dtV = Vector512.Create(dt);
        var v0V = Vector512.Create(m.V0);
        var kV = Vector512.Create(k);
        var trapV = Vector512.Create(m.A);
        var noiseXV = Vector512.Create(noiseX);
        var boxV = Vector512.Create(box);
        var decayV = Vector512.Create(Math.Exp(-m.Gamma * dt));
        var noiseGV = Vector512.Create(Math.Sqrt(OneMinusExp(2 * m.Gamma * dt)));
        // (normal 0, normal 1) of particles 0-3, then of 4-7: the values' order x0, y0, x1, y1, ...
        var lowHalf = Vector512.Create(0L, 8, 1, 9, 2, 10, 3, 11);
        var highHalf = Vector512.Create(4L, 12, 5, 13, 6, 14, 7, 15);
        ulong[] s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        fixed (double* x = Positions, a = Active, f = _forces)
            for (int b = firstBlock; b < endBlock; b++)
            {
                int first = b * NoiseBlock;
                var lanes = GaussianLanes<Lanes512, Vector512<double>, Vector512<ulong>>.Load(s0, s1, s2, s3, first);
                lanes.NextPair(out var g0, out var g1);
                Vector512<double> n0 = default, n1 = default;
                if (noiseX > 0) lanes.NextPair(out n0, out n1);
                lanes.Store(s0, s1, s2, s3, first);
                for (int h = 0; h < 2; h++)
                {
                    var order = h == 0 ? lowHalf : highHalf;
                    double* xq = x + 2 * first + 8 * h, aq = a + 2 * first + 8 * h;
                    var xi = Vector512.Load(xq);
                    var ai = Vector512.Load(aq);
                    var fi = Vector512.Load(f + 2 * first + 8 * h);
                    xi += (v0V * ai + kV * fi - trapV * xi) * dtV;
                    if (noiseX > 0) xi += noiseXV * Avx512F.PermuteVar8x64x2(n0, order, n1);
                    if (box > 0) xi = PeriodicBox.Wrap(xi, boxV);
                    xi.Store(xq);
                    (decayV * ai + noiseGV * Avx512F.PermuteVar8x64x2(g0, order, g1)).Store(aq);
                }
            }
    }

    private void UpdateBlocks<TLanes, TDouble, TBits>(int firstBlock, int endBlock)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        var m = Model;
        int d = m.Dimension, n = m.Particles, width = TLanes.Count, pairs = _normalPairs;
        double dt = Dt, k = _pairs is null ? 0 : m.K, box = m.Box ?? 0;
        double[] x = Positions, a = Active, f = _forces;
        ulong[] s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        // normals[r * NoiseBlock + j]: normal r of particle j of the block (r = 2 p and 2 p + 1 from Box-Muller pair p)
        Span<double> normals = stackalloc double[2 * MaxNormalPairs * NoiseBlock];
        Span<double> gNoise = stackalloc double[3 * NoiseBlock], xNoise = stackalloc double[3 * NoiseBlock];   // by value q - first d
        bool aoup = m.Kind == ActiveModelKind.Aoup;
        double noiseX = Math.Sqrt(2 * (aoup ? m.Epsilon : m.TranslationalDiffusion) * dt);
        double decay = Math.Exp(-m.Gamma * dt), noiseG = Math.Sqrt(OneMinusExp(2 * m.Gamma * dt));
        double noiseTheta = Math.Sqrt(2 * m.RotationalDiffusion * dt), v0 = m.V0, trap = m.A;
        for (int b = firstBlock; b < endBlock; b++)
        {
            int first = b * NoiseBlock;
            for (int l = 0; l < NoiseBlock; l += width)
            {
                var lanes = GaussianLanes<TLanes, TDouble, TBits>.Load(s0, s1, s2, s3, first + l);
                for (int p = 0; p < pairs; p++)
                {
                    lanes.NextPair(out var even, out var odd);
                    TLanes.CopyTo(even, normals.Slice(2 * p * NoiseBlock + l, width));
                    TLanes.CopyTo(odd, normals.Slice((2 * p + 1) * NoiseBlock + l, width));
                }
                lanes.Store(s0, s1, s2, s3, first + l);
            }
            int count = Math.Min(NoiseBlock, n - first);
            if (aoup && count == NoiseBlock)
            {
                // The block's x and g are the contiguous values q = first d + t, t < 8 d (particle t / d, axis t % d):
                // lay its normals out the same way and step them four at a time, with the scalar loop's operations in
                // its order (so the same bits).
                for (int j = 0; j < NoiseBlock; j++)
                    for (int c = 0; c < d; c++)
                    {
                        gNoise[j * d + c] = normals[c * NoiseBlock + j];
                        if (noiseX > 0) xNoise[j * d + c] = normals[(d + c) * NoiseBlock + j];
                    }
                var dtV = Vector256.Create(dt);
                var v0V = Vector256.Create(v0);
                var kV = Vector256.Create(k);
                var trapV = Vector256.Create(trap);
                var noiseXV = Vector256.Create(noiseX);
                var boxV = Vector256.Create(box);
                var decayV = Vector256.Create(decay);
                var noiseGV = Vector256.Create(noiseG);
                for (int t = 0; t < NoiseBlock * d; t += Vector256<double>.Count)
                {
                    int q = first * d + t;
                    var xi = Vector256.Create(x.AsSpan(q, Vector256<double>.Count));
                    var ai = Vector256.Create(a.AsSpan(q, Vector256<double>.Count));
                    var fi = Vector256.Create(f.AsSpan(q, Vector256<double>.Count));
                    xi += (v0V * ai + kV * fi - trapV * xi) * dtV;
                    if (noiseX > 0) xi += noiseXV * Vector256.Create(xNoise.Slice(t, Vector256<double>.Count));
                    if (box > 0) xi = PeriodicBox.Wrap(xi, boxV);
                    xi.CopyTo(x.AsSpan(q));
                    (decayV * ai + noiseGV * Vector256.Create(gNoise.Slice(t, Vector256<double>.Count))).CopyTo(a.AsSpan(q));
                }
            }
            else if (aoup)
            {
                // g takes normals 0 .. d - 1, x (eps > 0) normals d .. 2 d - 1 (the last, partial block)
                for (int j = 0; j < count; j++)
                    for (int c = 0; c < d; c++)
                    {
                        int q = (first + j) * d + c;
                        double xi = x[q];
                        xi += (v0 * a[q] + k * f[q] - trap * xi) * dt;
                        if (noiseX > 0) xi += noiseX * normals[(d + c) * NoiseBlock + j];
                        if (box > 0) xi = PeriodicBox.Wrap(xi, box);
                        x[q] = xi;
                        a[q] = decay * a[q] + noiseG * normals[c * NoiseBlock + j];
                    }
            }
            else
            {
                // theta takes normal 0, x (D_t > 0) normals 1 and 2
                for (int j = 0; j < count; j++)
                {
                    int i = first + j;
                    (double sin, double cos) = Math.SinCos(a[i]);
                    for (int c = 0; c < 2; c++)
                    {
                        int q = i * 2 + c;
                        double xi = x[q] + (v0 * (c == 0 ? cos : sin) + k * f[q]) * dt;
                        if (noiseX > 0) xi += noiseX * normals[(1 + c) * NoiseBlock + j];
                        if (box > 0) xi = PeriodicBox.Wrap(xi, box);
                        x[q] = xi;
                    }
                    a[i] += noiseTheta * normals[j];
                }
            }
        }
    }

    /// <summary>
    /// Particles on the densest regular lattice that fits (<see cref="InitialLattice"/>: triangular in 2-D, fcc in 3-D,
    /// filling the periodic box, or a patch of packing fraction phi centred on the trap), on N of its M &gt;= N sites in
    /// random order, each moved by a random jitter of at most w / 2 per axis, w = min(0.05 s, (s - 2 r0) / sqrt d) with
    /// s the nearest site distance (0.05 s where the sites are closer than 2 r0): two particles move apart or together by
    /// at most sqrt(d) w, so a lattice free of overlap stays free of them. g ~ N(0, I) (its stationary law) or theta
    /// uniform. Returns s.
    /// </summary>
    private double LatticeStart(ulong seed)
    {
        var m = Model;
        int n = m.Particles, d = m.Dimension;
        var (sites, nearest) = InitialLattice.Sites(m);
        double contact = 2 * m.R0, box = m.Box ?? 0;
        double jitter = nearest > contact ? Math.Min(0.05 * nearest, (nearest - contact) / Math.Sqrt(d)) : 0.05 * nearest;
        // A random permutation of the lattice sites (Fisher-Yates from the stream of (seed, N)), so particle
        // indices are not spatially ordered and the empty sites fall at random.
        int count = sites.Length / d;
        var order = new int[count];
        for (int s = 0; s < count; s++) order[s] = s;
        var shuffle = RandomStream.For(seed, (ulong)n, RandomPurposes.ActiveInitial);
        for (int s = count - 1; s > 0; s--)
        {
            int r = (int)(shuffle.NextUInt64() % (ulong)(s + 1));
            (order[s], order[r]) = (order[r], order[s]);
        }
        for (int i = 0; i < n; i++)
        {
            var rng = RandomStream.For(seed, (ulong)i, RandomPurposes.ActiveInitial);
            int site = order[i];
            for (int c = 0; c < d; c++)
            {
                double x = sites[site * d + c] + jitter * (rng.NextDouble() - 0.5);
                Positions[i * d + c] = box > 0 ? PeriodicBox.Wrap(x, box) : x;
            }
            if (m.Kind == ActiveModelKind.Aoup)
                for (int c = 0; c < d; c++) Active[i * d + c] = rng.NextGaussian();
            else Active[i] = 2 * Math.PI * rng.NextDouble();
        }
        return nearest;
    }

    /// <summary>
    /// Why the lattice start overlaps: no lattice of N sites the start knows fits the periodic box at this phi (the nearest site
    /// distance is below 2 r0), with the largest phi it takes at this N and the nearest N that fits this phi.
    /// </summary>
    private string LatticeOverlapMessage(double nearest)
    {
        var m = Model;
        int n = m.Particles, d = m.Dimension;
        double largest = InitialLattice.LargestPackingFraction(n, d);
        int? fits = null;
        for (int step = 1; step <= 200 && fits is null; step++)
            foreach (int other in new[] { n - step, n + step })
                if (other >= 1 && fits is null && InitialLattice.LargestPackingFraction(other, d) >= m.PackingFraction) fits = other;
        string suggestion = fits is { } f ? FormattableString.Invariant($", n = {f} (the nearest n whose lattice fits phi = {m.PackingFraction})") : "";
        return FormattableString.Invariant(
            $"the lattice start of n = {n} {(d == 2 ? "discs" : "spheres")} at phi = {m.PackingFraction} overlaps: the densest {(d == 2 ? "triangular" : "fcc")} lattice of at least {n} sites that fits the periodic box has neighbours {nearest:G6} apart, below the contact 2 r0 = {2 * m.R0:G6}; it holds n = {n} apart up to phi = {largest:F4}. Use a lower phi{suggestion}, a smaller dt, or an --initial state");
    }

    private void SetState(double[] initial)
    {
        var m = Model;
        int n = m.Particles, d = m.Dimension, columns = d + m.ActiveColumns;
        if (initial.Length != n * columns)
        {
            string hint = initial.Length == n * d ? $" (it has only the {d} position columns: the active state {(m.Kind == ActiveModelKind.Aoup ? "g" : "theta")} is missing)" : "";
            throw new InvalidInputException($"the initial state holds {initial.Length} values; {m.Name} with n = {n}, d = {d} needs {n} rows of {columns} columns (x then {(m.Kind == ActiveModelKind.Aoup ? "g" : "theta")}){hint}.");
        }
        double box = m.Box ?? 0;
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < columns; c++)
            {
                double v = initial[i * columns + c];
                if (!double.IsFinite(v)) throw new InvalidInputException($"the initial state of particle {i} has a non-finite value in column {c} ({v}).");
                if (c < d) Positions[i * d + c] = box > 0 ? PeriodicBox.Wrap(v, box) : v;
                else Active[i * m.ActiveColumns + c - d] = v;
            }
        }
    }

    /// <summary>
    /// Overlapping particles are bad input: a pair so close that one step of its force, k f(r) dt, would move a
    /// particle by more than its radius r0 (the integrator would throw them apart or diverge), or two at the same place
    /// (<see cref="ActiveModel.CoincidentDistance"/>), whose pair has no direction (a soft force such as softplus is bounded at
    /// r = 0, so the kick rule alone let them through, and the run saved a first frame that every estimator refuses).
    /// </summary>
    private void CheckOverlaps()
    {
        if (_pairs is null) return;
        double limit = Model.R0;
        double[] kick = new double[Model.Particles];
        _pairs.Cells.Build(Positions);
        _pairs.Cells.Sweep(new OverlapKernel(_pairs, Math.Abs(Model.K) * Dt, limit, Model.CoincidentDistance * Model.CoincidentDistance, kick), _threads);
        for (int i = 0; i < kick.Length; i++)
        {
            if (kick[i] < 0) continue;
            int j = (int)kick[i];
            int d = Model.Dimension;
            double r2 = 0;
            for (int c = 0; c < d; c++)
            {
                double delta = _pairs.Cells.MinimumImage(Positions[i * d + c] - Positions[j * d + c]);
                r2 += delta * delta;
            }
            double r = Math.Sqrt(r2);
            if (r < Model.CoincidentDistance)
                throw new InvalidInputException(FormattableString.Invariant(
                    $"particles {i} and {j} are at the same place in the initial state (distance {r:G6}, below 1e-9 r0): an interacting pair needs a direction between its particles; separate them."));
            throw new InvalidInputException(FormattableString.Invariant(
                $"particles {i} and {j} overlap in the initial state (distance {r:G6}, contact at 2 r0 = {2 * Model.R0:G6}): one step of their pair force moves them by k f(r) dt = {Math.Abs(Model.K) * _pairs.Force(r) * Dt:G6} > r0 = {limit:G6}; separate them or use a smaller dt."));
        }
    }

    /// <summary>
    /// The rule of <see cref="CheckOverlaps"/> (one step must not move a particle by more than its radius), on every step and for
    /// the net pair force of each particle and axis: k |F_i,a| dt &lt;= r0. Particles pushed that close (noise into a WCA core, a stiff contact at a large
    /// dt) would be thrown apart by more than their size, or to coordinates so large that wrapping them into the box loses
    /// every digit: the run stops with the step, the particle and the kick instead of saving such states. Non-finite forces
    /// stop it too. One pass over the forces, O(N d) against the pair sweep's O(N d neighbours).
    /// </summary>
    private void CheckKicks()
    {
        double[] f = _forces;
        double kDt = Math.Abs(Model.K) * Dt, limit = Model.R0 / kDt;   // |F| <= r0 / (k dt)
        // the common case, every force within the limit: one vector compare per width (NaN compares false, so it fails too)
        // (the mask is compared as integers: all bits set is a NaN as a double, and NaN == NaN is false)
        var within = Vector<long>.AllBitsSet;
        var bound = new Vector<double>(limit);
        int q = 0;
        for (; q <= f.Length - Vector<double>.Count; q += Vector<double>.Count)
            within &= Vector.LessThanOrEqual(Vector.Abs(new Vector<double>(f, q)), bound);
        bool ok = within == Vector<long>.AllBitsSet;
        for (; q < f.Length; q++) ok &= Math.Abs(f[q]) <= limit;
        if (ok) return;
        double largest = 0;
        int worst = 0;
        for (q = 0; q < f.Length; q++)
        {
            double v = Math.Abs(f[q]);
            if (v <= largest) continue;
            largest = v;
            worst = q;
            if (double.IsNaN(v)) break;
        }
        int d = Model.Dimension;
        throw new InvalidInputException(FormattableString.Invariant(
            $"step {StepsTaken + 1}: the pair force on particle {worst / d} (axis {worst % d}) would move it by k |F| dt = {kDt * largest:G6} in one step, more than its radius r0 = {Model.R0:G6}: particles came closer than dt = {Dt:G6} can resolve with the {Model.Interaction.ToString().ToLowerInvariant()} repulsion (the integrator would throw them apart or diverge); use a smaller dt."));
    }

    /// <summary>1 - e^(-u) without cancellation for small u.</summary>
    internal static double OneMinusExp(double u) => u < 1e-5 ? u * (1 - u / 2 * (1 - u / 3)) : 1 - Math.Exp(-u);

    private struct OverlapKernel(IPairForces pairs, double kDt, double limit, double coincident2, double[] kick) : INeighbourKernel
    {
        private int _worst;

        public void Begin(int i) => _worst = -1;

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            if (_worst < 0 && (r2 < coincident2 || kDt * pairs.Force(Math.Sqrt(r2)) > limit)) _worst = j;
        }

        public void End(int i) => kick[i] = _worst;
    }
}
