using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ThermoLearn.ActiveMatter;

/// <summary>The two interacting active-matter models.</summary>
public enum ActiveModelKind
{
    /// <summary>Active Ornstein-Uhlenbeck particles: dx_i = [v0 g_i + k F_i - A x_i] dt + sqrt(2 eps) dW_i, dg_i = -gamma g_i dt + sqrt(2 gamma) dB_i.</summary>
    Aoup,

    /// <summary>Active Brownian particles (2-D): dx_i = [v0 e(theta_i) + mu F_i] dt + sqrt(2 D_t) dW_i, dtheta_i = sqrt(2 D_r) dB_i.</summary>
    Abp,
}

/// <summary>The pair interaction of an active model (all measured in the particle radius r0).</summary>
public enum PairInteraction
{
    /// <summary>No interaction.</summary>
    None,

    /// <summary><see cref="SoftplusRepulsion"/>(r0, beta).</summary>
    Softplus,

    /// <summary><see cref="WcaRepulsion"/> with sigma = 2 r0 / 2^(1/6) (so the cutoff is the contact distance 2 r0) and epsilon 1.</summary>
    Wca,

    /// <summary><see cref="HarmonicRepulsion"/> with sigma = 2 r0 and stiffness 1.</summary>
    Harmonic,
}

/// <summary>
/// An interacting active-matter model: N particles in d dimensions with pair forces F_i = sum_j f(r_ij) r_hat_ij.
/// AOUP: dx_i = [v0 g_i + k F_i - A x_i] dt + sqrt(2 eps) dW_i, dg_i = -gamma g_i dt + sqrt(2 gamma) dB_i (g ~ N(0, I)
/// in the steady state); ABP (d = 2): dx_i = [v0 e(theta_i) + mu F_i] dt + sqrt(2 D_t) dW_i, dtheta_i = sqrt(2 D_r) dB_i.
/// With A = 0 the particles live in a periodic box of side L = (N v_d r0^d / phi)^(1/d) (v_2 = pi, v_3 = 4 pi / 3:
/// L = sqrt(N pi r0^2 / phi) in 2-D); with A &gt; 0 in open space, held by the harmonic trap -A x.
/// Reference: Boffi &amp; Vanden-Eijnden, PNAS 121 (2024) e2318106121, arXiv:2309.12991.
/// </summary>
public sealed record ActiveModel
{
    public ActiveModelKind Kind { get; init; } = ActiveModelKind.Aoup;

    /// <summary>Number of particles N.</summary>
    public int Particles { get; init; } = 1024;

    /// <summary>Spatial dimension d (2 or 3; ABP: 2).</summary>
    public int Dimension { get; init; } = 2;

    /// <summary>Packing fraction phi = N v_d r0^d / L^d of the periodic box (A = 0), or of the initial lattice patch (a disc or ball) in a trap.</summary>
    public double PackingFraction { get; init; } = 0.5;

    /// <summary>Self-propulsion speed v0.</summary>
    public double V0 { get; init; } = 1;

    /// <summary>AOUP: relaxation rate gamma of g (persistence time 1/gamma).</summary>
    public double Gamma { get; init; } = 1;

    /// <summary>AOUP: translational noise eps (0: no thermal noise on x).</summary>
    public double Epsilon { get; init; }

    /// <summary>Strength of the pair force: k (AOUP) or the mobility mu (ABP).</summary>
    public double K { get; init; } = 1;

    /// <summary>AOUP: stiffness A of the harmonic trap (0: periodic box).</summary>
    public double A { get; init; }

    /// <summary>ABP: translational diffusion D_t.</summary>
    public double TranslationalDiffusion { get; init; }

    /// <summary>ABP: rotational diffusion D_r.</summary>
    public double RotationalDiffusion { get; init; } = 1;

    public PairInteraction Interaction { get; init; } = PairInteraction.Softplus;

    /// <summary>Particle radius r0 (contact at 2 r0).</summary>
    public double R0 { get; init; } = 1;

    /// <summary>Sharpness beta of the softplus repulsion.</summary>
    public double Beta { get; init; } = 7.5;

    /// <summary>The model's name in the catalogue ("aoup", "abp").</summary>
    public string Name => Kind == ActiveModelKind.Aoup ? "aoup" : "abp";

    /// <summary>Columns of the active state per particle: g (d of them) for AOUP, theta (1) for ABP.</summary>
    public int ActiveColumns => Kind == ActiveModelKind.Aoup ? Dimension : 1;

    /// <summary>Whether the particles live in a periodic box (A = 0) rather than a trap.</summary>
    public bool Periodic => A == 0;

    /// <summary>Side L of the periodic box, or null in a trap.</summary>
    public double? Box => Periodic ? InitialSide : null;

    /// <summary>Side of the cube of packing fraction phi holding N particles: (N v_d r0^d / phi)^(1/d).</summary>
    public double InitialSide
    {
        get
        {
            double volume = Dimension == 2 ? Math.PI * R0 * R0 : 4.0 / 3 * Math.PI * R0 * R0 * R0;
            return Math.Pow(Particles * volume / PackingFraction, 1.0 / Dimension);
        }
    }

    /// <summary>
    /// Two interacting particles closer than this (1e-9 r0, minimum image) are at the same place: their pair has no direction, so
    /// f / r and every contact feature built on it are infinite. Refused in an initial state and in snapshot files.
    /// </summary>
    internal double CoincidentDistance => 1e-9 * R0;

    /// <summary>Interaction cutoff (0 with no interaction).</summary>
    public double Cutoff => Interaction switch
    {
        PairInteraction.Softplus => new SoftplusRepulsion(R0, Beta).Cutoff,
        PairInteraction.Wca => 2 * R0,
        PairInteraction.Harmonic => 2 * R0,
        _ => 0,
    };

    /// <summary>The pair force is on (an interaction and a non-zero strength).</summary>
    public bool Interacting => Interaction != PairInteraction.None && K != 0;

    /// <summary>
    /// The largest packing fraction of non-overlapping discs (hexagonal, pi / (2 sqrt 3) = 0.9069) or spheres (face-centred cubic,
    /// pi / (3 sqrt 2) = 0.7405): above it phi no longer describes particles of radius r0, whose initial placement cannot exist.
    /// </summary>
    public double DensestPacking => Dimension == 3 ? Math.PI / (3 * Math.Sqrt(2)) : Math.PI / (2 * Math.Sqrt(3));

    private string DensestPackingReason => Dimension == 3
        ? "above the densest packing of equal spheres (face-centred cubic, pi / (3 sqrt 2) = 0.7405) no placement of the spheres of radius r0 leaves them without overlap."
        : "above the densest packing of equal discs (hexagonal, pi / (2 sqrt 3) = 0.9069) no placement of the discs of radius r0 leaves them without overlap.";

    /// <summary>Checks every parameter; bad values throw <see cref="InvalidInputException"/> naming the parameter.</summary>
    public void Validate()
    {
        static void Positive(double v, string name) { if (!(v > 0) || !double.IsFinite(v)) throw new InvalidInputException($"{name} must be a positive number (got {v.ToString(CultureInfo.InvariantCulture)})."); }
        static void NonNegative(double v, string name) { if (!(v >= 0) || !double.IsFinite(v)) throw new InvalidInputException($"{name} must be a non-negative number (got {v.ToString(CultureInfo.InvariantCulture)})."); }
        if (Particles < 1) throw new InvalidInputException($"n (the number of particles) must be positive (got {Particles}).");
        if (Dimension is not (2 or 3)) throw new InvalidInputException($"d must be 2 or 3 (got {Dimension}).");
        if (Kind == ActiveModelKind.Abp && Dimension != 2) throw new InvalidInputException($"abp is two-dimensional (orientation angle theta); got d = {Dimension}.");
        if (!(PackingFraction > 0 && PackingFraction <= DensestPacking))
            throw new InvalidInputException(FormattableString.Invariant($"phi (packing fraction) must lie in (0, {DensestPacking:F4}] (got {PackingFraction}): ")
                + (PackingFraction > DensestPacking ? DensestPackingReason : "a packing fraction is the positive share of the box the discs cover."));
        NonNegative(V0, "v0");
        Positive(R0, "r0");
        Positive(Beta, "beta");
        if (!double.IsFinite(K)) throw new InvalidInputException($"{(Kind == ActiveModelKind.Aoup ? "k" : "mu")} must be a finite number.");
        if (K < 0)
            throw new InvalidInputException(FormattableString.Invariant($"{(Kind == ActiveModelKind.Aoup ? "k (the strength of the pair force)" : "mu (the mobility)")} must be non-negative (got {K}): ")
                + "the pair potentials are repulsive contact forces, and a negative strength turns them into attractions that pull particles onto "
                + "each other without limit (the softplus force is bounded at r = 0, so they pile up at one point): there is no steady state. Use 0 for no interaction.");
        if (Kind == ActiveModelKind.Aoup)
        {
            Positive(Gamma, "gamma");
            NonNegative(Epsilon, "eps");
            NonNegative(A, "A");
        }
        else
        {
            NonNegative(TranslationalDiffusion, "Dt");
            NonNegative(RotationalDiffusion, "Dr");
        }
        if (Periodic && Interacting && InitialSide < 2 * Cutoff)
            throw new InvalidInputException(FormattableString.Invariant(
                $"the periodic box (L = {InitialSide:G6} for n = {Particles}, phi = {PackingFraction}) is smaller than twice the interaction cutoff (2 r_c = {2 * Cutoff:G6}); use more particles or a lower phi."));
    }

    /// <summary>The parameters as a JSON object (the provenance stored in snapshot files; read back by <see cref="FromJson"/>).</summary>
    public JsonObject ToJson() => new()
    {
        ["kind"] = Name,
        ["n"] = Particles,
        ["d"] = Dimension,
        ["phi"] = PackingFraction,
        ["v0"] = V0,
        ["gamma"] = Gamma,
        ["eps"] = Epsilon,
        ["k"] = K,
        ["A"] = A,
        ["Dt"] = TranslationalDiffusion,
        ["Dr"] = RotationalDiffusion,
        ["potential"] = Interaction.ToString().ToLowerInvariant(),
        ["r0"] = R0,
        ["beta"] = Beta,
        ["box"] = Box,
    };

    /// <summary>Reads <see cref="ToJson"/>'s object; <paramref name="where"/> names the source in messages.</summary>
    public static ActiveModel FromJson(string json, string where)
    {
        try
        {
            var o = JsonNode.Parse(json)!.AsObject();
            var kind = (string?)o["kind"] switch
            {
                "aoup" => ActiveModelKind.Aoup,
                "abp" => ActiveModelKind.Abp,
                var other => throw new InvalidInputException($"{where}: unknown active model kind '{other}' (aoup or abp)."),
            };
            var m = new ActiveModel
            {
                Kind = kind,
                Particles = (int)o["n"]!,
                Dimension = (int)o["d"]!,
                PackingFraction = (double)o["phi"]!,
                V0 = (double)o["v0"]!,
                Gamma = (double)o["gamma"]!,
                Epsilon = (double)o["eps"]!,
                K = (double)o["k"]!,
                A = (double)o["A"]!,
                TranslationalDiffusion = (double)o["Dt"]!,
                RotationalDiffusion = (double)o["Dr"]!,
                Interaction = ParseInteraction((string?)o["potential"] ?? "", where),
                R0 = (double)o["r0"]!,
                Beta = (double)o["beta"]!,
            };
            m.Validate();
            // the side is stored as provenance and recomputed from n, phi, d and r0; a side that disagrees says that the
            // parameters were edited or belong to another run, and the box (hence every minimum image) would silently change
            if (o.TryGetPropertyValue("box", out var stored))
            {
                double? side = stored is null ? null : (double)stored;
                bool agree = side is { } l ? m.Box is { } b && Math.Abs(l - b) <= 1e-9 * b : m.Box is null;
                if (!agree)
                    throw new InvalidInputException(FormattableString.Invariant(
                        $"{where}: the stored box side {(side is { } l2 ? $"L = {l2:G6}" : "null (a trap)")} disagrees with the parameters, which give {(m.Box is { } b2 ? $"a periodic box of side L = {b2:G6} (n = {m.Particles}, phi = {m.PackingFraction}, d = {m.Dimension}, r0 = {m.R0})" : $"a trap (A = {m.A}) without a box")}; the parameters were edited or belong to another run."));
            }
            return m;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidInputException($"{where}: malformed active-model parameters ({e.Message}).");
        }
    }

    /// <summary>"softplus", "wca", "harmonic" or "none".</summary>
    public static PairInteraction ParseInteraction(string text, string where) => text.Trim().ToLowerInvariant() switch
    {
        "softplus" => PairInteraction.Softplus,
        "wca" => PairInteraction.Wca,
        "harmonic" => PairInteraction.Harmonic,
        "none" => PairInteraction.None,
        var other => throw new InvalidInputException($"{where}: unknown pair potential '{other}'; use softplus, wca, harmonic or none."),
    };
}
