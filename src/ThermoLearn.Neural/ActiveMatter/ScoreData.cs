namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>
/// Parameters of active Ornstein-Uhlenbeck particles (AOUP) in 2-D that the score estimator needs:
/// dx_i = [v0 g_i + F_i - A x_i] dt + sqrt(2 eps) dW_i, dg_i = -gamma g_i dt + sqrt(2 gamma) dB_i, with F_i = k sum_j F(x_i - x_j)
/// the interaction force. D = diag(eps I, gamma I) on (x, g).
/// </summary>
/// <param name="V0">Self-propulsion speed v0.</param>
/// <param name="Gamma">Rate gamma of the active force (persistence time 1 / gamma).</param>
/// <param name="Epsilon">Translational diffusion eps (0 allowed: then only g is noisy).</param>
/// <param name="Trap">Stiffness A of the harmonic trap centred at the origin (0: none).</param>
internal sealed record AoupParameters(double V0, double Gamma, double Epsilon, double Trap)
{
    internal void Validate()
    {
        if (!(Gamma > 0) || !double.IsFinite(Gamma)) throw new InvalidInputException($"gamma must be positive, got {Gamma}.");
        if (!(Epsilon >= 0) || !double.IsFinite(Epsilon)) throw new InvalidInputException($"eps must be non-negative, got {Epsilon}.");
        if (!(Trap >= 0) || !double.IsFinite(Trap)) throw new InvalidInputException($"the trap stiffness A must be non-negative, got {Trap}.");
        if (!double.IsFinite(V0)) throw new InvalidInputException($"v0 must be finite, got {V0}.");
    }
}

/// <summary>
/// S snapshots of N active particles in 2-D: positions x and active forces g per particle per snapshot, row-major
/// [S, N, 2], in a periodic square box [0, L)^2 (L &gt; 0) or in open space (L = 0, e.g. a trap). Optionally the interaction
/// force F_i = k sum_j F(x_i - x_j) per particle, which the x-part of the entropy production needs when eps &gt; 0.
/// Snapshots are in time order (standard errors use contiguous blocks).
/// </summary>
internal sealed class ScoreData
{
    public const int Dimension = 2;

    public ScoreData(int snapshots, int particles, double box, double[] positions, double[] g, double[]? interactionForces = null,
        double[]? forceDivergence = null, double[]? contacts = null, int basisFeatures = 0, float[]? basis = null, float[]? basisDivergence = null)
    {
        if (snapshots < 1 || particles < 1) throw new InvalidInputException($"need at least one snapshot of one particle, got {snapshots} x {particles}.");
        long size = (long)snapshots * particles * Dimension;
        if (positions.LongLength != size) throw new InvalidInputException($"positions: expected {size} values ({snapshots} snapshots x {particles} particles x 2), got {positions.LongLength}.");
        if (g.LongLength != size) throw new InvalidInputException($"g (active force): expected {size} values ({snapshots} snapshots x {particles} particles x 2), got {g.LongLength}.");
        if (interactionForces is not null && interactionForces.LongLength != size)
            throw new InvalidInputException($"interaction forces: expected {size} values, got {interactionForces.LongLength}.");
        if (!(box >= 0) || !double.IsFinite(box)) throw new InvalidInputException($"the box side L must be positive (periodic) or 0 (open), got {box}.");
        if (forceDivergence is not null && forceDivergence.Length != snapshots)
            throw new InvalidInputException($"force divergence: expected one value per snapshot ({snapshots}), got {forceDivergence.Length}.");
        CheckFinite(positions, "positions", particles);
        CheckFinite(g, "g", particles);
        if (contacts is not null && contacts.LongLength != (long)snapshots * particles * ContactColumns)
            throw new InvalidInputException($"contact fields: expected {(long)snapshots * particles * ContactColumns} values, got {contacts.LongLength}.");
        Contacts = contacts;
        if (basisFeatures < 0 || (basisFeatures > 0) != (basis is not null) || (basis is null) != (basisDivergence is null))
            throw new InvalidInputException($"the particle basis needs its feature count, values and divergences together (got {basisFeatures} features).");
        if (basis is not null && (basis.LongLength != size * basisFeatures || basisDivergence!.LongLength != size * basisFeatures))
            throw new InvalidInputException($"particle basis: expected {size * basisFeatures} values and as many derivatives, got {basis.LongLength} and {basisDivergence!.LongLength}.");
        BasisFeatures = basisFeatures;
        Basis = basis;
        BasisDivergence = basisDivergence;
        if (interactionForces is not null) CheckFinite(interactionForces, "interaction forces", particles);
        Snapshots = snapshots;
        Particles = particles;
        Box = box;
        Positions = positions;
        G = g;
        InteractionForces = interactionForces;
        ForceDivergence = forceDivergence;
    }

    /// <summary>Values per particle of <see cref="Contacts"/>.</summary>
    public const int ContactColumns = 6;

    /// <summary>
    /// Per snapshot and particle, [S, N, 6], or null: the contact field c_i = k (H u)_i = k sum_j J(r_ij) (u_i - u_j)
    /// (u = v0 g + F the velocity at eps = 0, J the pair Jacobian d(f rhat)/dx_i) split as c_i = P_i g_i + c0_i, where
    /// P_i = k v0 sum_j J(r_ij) is symmetric: columns P_xx, P_xy, P_yy, c0_x, c0_y, and kappa_i = -k sum_j tr J(r_ij), the
    /// particle's contraction rate. The network reads c_i with g_i live, so its g-divergence is exact.
    /// </summary>
    public double[]? Contacts { get; }

    /// <summary>Features K of <see cref="Basis"/> (0: none).</summary>
    public int BasisFeatures { get; }

    /// <summary>
    /// Core's particle basis phi_k(i, a) (<see cref="ThermoLearn.ActiveMatter.ParticleBasis"/>) per snapshot, [S, N, 2, K], or null: the
    /// inputs of a network's linear head (float: they enter float tensors).
    /// </summary>
    public float[]? Basis { get; }

    /// <summary>d phi_k(i, a) / d g_{i,a} per snapshot, particle and axis, [S, N, 2, K], or null (summed over a: the own-g divergence;
    /// for the lag filters Hutchinson estimates, see <see cref="ThermoLearn.ActiveMatter.ParticleBasis.Evaluate"/>).</summary>
    public float[]? BasisDivergence { get; }

    /// <summary>k sum_i div_i F_i per snapshot, or null.</summary>
    public double[]? ForceDivergence { get; }

    public int Snapshots { get; }
    public int Particles { get; }

    /// <summary>L of the periodic box, or 0 for open space.</summary>
    public double Box { get; }

    /// <summary>x, [S, N, 2].</summary>
    public double[] Positions { get; }

    /// <summary>g, [S, N, 2].</summary>
    public double[] G { get; }

    /// <summary>F_i = k sum_j F(x_i - x_j), [S, N, 2], or null (no interactions, or not given).</summary>
    public double[]? InteractionForces { get; }

    internal ReadOnlySpan<double> PositionsOf(int snapshot) => Positions.AsSpan(snapshot * Particles * Dimension, Particles * Dimension);

    internal ReadOnlySpan<double> GOf(int snapshot) => G.AsSpan(snapshot * Particles * Dimension, Particles * Dimension);

    /// <summary>Snapshots [start, start + count) as a new set (arrays copied).</summary>
    public ScoreData Slice(int start, int count)
    {
        int row = Particles * Dimension;
        double[] Cut(double[] a) => a.AsSpan(start * row, count * row).ToArray();
        return new ScoreData(count, Particles, Box, Cut(Positions), Cut(G), InteractionForces is null ? null : Cut(InteractionForces),
            ForceDivergence?.AsSpan(start, count).ToArray(),
            Contacts?.AsSpan(start * Particles * ContactColumns, count * Particles * ContactColumns).ToArray(), BasisFeatures,
            Basis?.AsSpan(start * row * BasisFeatures, count * row * BasisFeatures).ToArray(),
            BasisDivergence?.AsSpan(start * row * BasisFeatures, count * row * BasisFeatures).ToArray());
    }

    private static void CheckFinite(double[] values, string what, int particles)
    {
        for (long i = 0; i < values.LongLength; i++)
        {
            if (!double.IsFinite(values[i]))
                throw new InvalidInputException($"{what}: value {values[i]} at snapshot {i / (2L * particles)}, particle {i / 2 % particles}, component {i % 2} is not finite.");
        }
    }
}

/// <summary>
/// Snapshots read by frame range: a long record's particle basis (16 K bytes per particle and snapshot) need not be in memory at
/// once. <paramref name="Read"/>(first, count) gives snapshots [first, first + count), each with the values it has in the whole record.
/// </summary>
/// <param name="Snapshots">S.</param>
/// <param name="Particles">N.</param>
/// <param name="Read">The snapshots of a frame range.</param>
internal sealed record ScoreFrames(int Snapshots, int Particles, Func<int, int, ScoreData> Read)
{
    /// <summary>Snapshots already in memory (a range is a copy; the whole range is the data itself).</summary>
    internal static ScoreFrames Of(ScoreData data) =>
        new(data.Snapshots, data.Particles, (first, count) => first == 0 && count == data.Snapshots ? data : data.Slice(first, count));

    /// <summary>Snapshots [first, first + count) of these, read from the same source.</summary>
    internal ScoreFrames Range(int first, int count) =>
        first < 0 || count < 1 || first + count > Snapshots
            ? throw new ArgumentOutOfRangeException(nameof(count), $"frames [{first}, {first + count}) are not within the {Snapshots} snapshots.")
            : new(count, Particles, (a, m) => Read(first + a, m));
}

