using ThermoLearn.Neural.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>Shape of a <see cref="LocalScoreNetwork"/>.</summary>
/// <param name="Neighbours">K: neighbour slots per particle (the nearest within the cutoff).</param>
/// <param name="Cutoff">r_c: neighbours farther away are not seen; messages fade as (1 - r^2 / R_i^2)^2, R_i = min(r_c, distance
/// to the (K + 1)-th nearest).</param>
/// <param name="Hidden">Width of the particle state and of every hidden layer.</param>
/// <param name="Rounds">Message-passing rounds (receptive field: Rounds x r_c).</param>
/// <param name="RadialBasis">Gaussians exp(-((r - mu_b) / w)^2), mu_b evenly in [0, r_c], encoding |r_ij|.</param>
/// <param name="ForceInput">Whether particle i also sees its pair force F_i / v0 (from the model; interacting data only): the
/// active force that balances it in a jammed cluster, which the network would otherwise have to rebuild from the positions.</param>
/// <param name="ContactInput">Whether particle i also reads its contact field c_i = k (H u)_i, contraction rate kappa_i and speed
/// |u_i| (<see cref="ScoreData.Contacts"/>; needs the force input), and the output adds a learned multiple of c_i to s_{g_i}:
/// s_g = W h_i + a(h_i) c_i x scale, a(h) = w . h + b (scale: the s_g scale over the data's root-mean-square c_i component). In the
/// relaxed linear picture s_g = -g_i + c_i / (gamma v0); at MIPS the best constant multiple is far smaller and depends on the particle
/// (docs/active-matter.md), which a(h_i) can learn. Training starts at the best constant (<see cref="LocalScoreNetwork.StartContactCoefficient"/>).</param>
/// <param name="LinearFeatures">0, or the number of features of Core's particle basis (<see cref="ThermoLearn.ActiveMatter.ParticleBasis"/>)
/// in a linear head: s_g += theta . phi_i with theta = theta_0 (1 + u), u learned from 0, theta_0 the closed-form linear score-matching
/// fit on the training data (<see cref="LocalScoreNetwork.StartLinear"/>). The features are inputs (<see cref="ScoreData.Basis"/>) with
/// their own-g divergence (exact; for the lag filters an unbiased Hutchinson estimate, one probe per snapshot), so the head's part of
/// the loss is exact or unbiased; training starts at the linear estimate.</param>
public sealed record LocalScoreShape(int Neighbours = 16, double Cutoff = 4.0, int Hidden = 32, int Rounds = 2, int RadialBasis = 16, bool ForceInput = false,
    bool ContactInput = false, int LinearFeatures = 0)
{
    /// <summary>Short name, e.g. "local:k16,rc4,h32,r2,b16" (+ ",f" with the force input, ",c" with the contact input, ",lK" with a linear head of K features).</summary>
    public string Name => FormattableString.Invariant($"local:k{Neighbours},rc{Cutoff:g4},h{Hidden},r{Rounds},b{RadialBasis}{(ForceInput ? ",f" : "")}{(ContactInput ? ",c" : "")}{(LinearFeatures > 0 ? $",l{LinearFeatures}" : "")}");

    internal void Validate()
    {
        if (Neighbours < 1) throw new InvalidInputException($"neighbours must be at least 1, got {Neighbours}.");
        if (!(Cutoff > 0) || !double.IsFinite(Cutoff)) throw new InvalidInputException($"the neighbour cutoff must be positive, got {Cutoff}.");
        if (Hidden < 1 || Rounds < 1 || RadialBasis < 1)
            throw new InvalidInputException($"hidden width, rounds and radial basis size must be at least 1, got {Hidden}, {Rounds}, {RadialBasis}.");
        if (ContactInput && !ForceInput) throw new InvalidInputException("the contact input needs the force input (the speed |u_i| = |v0 g_i + F_i| reads F_i).");
        if (LinearFeatures < 0) throw new InvalidInputException($"the linear head's feature count must be 0 (none) or positive, got {LinearFeatures}.");
    }
}

/// <summary>
/// Tensors describing B configurations of N particles for <see cref="LocalScoreNetwork"/>.
/// Positions enter through constants plus a zero-valued displacement <see cref="Shift"/> that carries the gradient:
/// r_ij = R_ij + (shift_j - shift_i) and x_i = X_i + shift_i, so d/dx_i of the network is d/d shift_i at shift = 0 while
/// the constants R_ij keep the float64 minimum image.
/// </summary>
/// <param name="G">g_i, [B, N, 2] (requires grad when the g-divergence is needed).</param>
/// <param name="Shift">Zero, [B, N, 2] (requires grad when the x-divergence is needed).</param>
/// <param name="Centred">x_i relative to the trap centre, [B, N, 2], or null without a trap.</param>
/// <param name="Displacement">R_ij, [B, N, K + 1, 2] (slot K: the (K + 1)-th nearest, which only sets the fading radius).</param>
/// <param name="Index">j of each slot, [B, N (K + 1)] (int64).</param>
/// <param name="Mask">1 for a neighbour, 0 for an empty slot, [B, N, K + 1].</param>
/// <param name="Force">F_i / v0, [B, N, 2], when the shape asks for it.</param>
/// <param name="Contacts">P_xx, P_xy, P_yy, c0_x, c0_y, kappa per particle, [B, N, 6] (<see cref="ScoreData.Contacts"/>), when the shape asks for them.</param>
/// <param name="Basis">The linear head's features phi of the scored particles (all N, or a batch's centres), [B, N', 2, K], when the shape has the head.</param>
/// <param name="BasisDivergence">Their own-g derivatives d phi_k(i, a) / d g_{i,a}, [B, N', 2, K].</param>
internal sealed record ScoreInput(Tensor G, Tensor Shift, Tensor? Centred, Tensor Displacement, Tensor Index, Tensor Mask, Tensor? Force = null,
    Tensor? Contacts = null, Tensor? Basis = null, Tensor? BasisDivergence = null);

/// <summary>
/// A permutation-equivariant, spatially local network for the score s = grad log rho of N active particles in 2-D,
/// s_i = (s_{x_i}, s_{g_i}) = f(particle i and its neighbourhood). Particle state h_i^0 = phi_0(g_i [, x_i / l_x]) (x_i only
/// with a trap); each round l: m_ij = w(r_ij) phi_l(h_i, h_j, r_ij / r_c, RBF(|r_ij|), g_j), h_i &lt;- h_i + psi_l(h_i, sum_j m_ij);
/// output s_i = W h_i (scaled per channel). w(r_ij) = (1 - r_ij^2/R_i^2)^2 with R_i = min(r_c, |r_{i,(K+1)}|), the distance to
/// the nearest particle not among the K, makes the output continuous in the positions even as neighbours enter or leave
/// (they do so at weight 0), so its x-divergence has no hidden jumps: implicit score matching would otherwise exploit the
/// missing delta terms and run its loss to minus infinity. Shared weights and sums over neighbours make it
/// permutation-equivariant; relative positions make it translation-equivariant in a periodic box, so one network serves
/// any N (Boffi &amp; Vanden-Eijnden, PNAS 2024, arXiv:2309.12991, use a local transformer in the same role).
/// SiLU throughout: smooth, so the divergences of score matching exist.
/// </summary>
public sealed class LocalScoreNetwork : Module<Tensor, Tensor>
{
    private readonly Sequential _embed;
    private readonly ModuleList<Sequential> _messages;
    private readonly ModuleList<Sequential> _updates;
    private readonly Linear _output;
    private readonly Linear? _contactCoefficient;
    private readonly Tensor? _contactScale;
    private readonly Tensor? _linearStart;
    private readonly Tensor? _linearBound;
    private readonly Parameter? _linearRelative;
    private readonly Tensor _centres;
    private readonly Tensor _positionScale;
    private readonly Tensor _outputScale;
    private readonly Scalar _inverseCutoff, _inverseWidth, _tiny, _zero, _cutoff;

    /// <param name="shape">Sizes.</param>
    /// <param name="trapped">Whether particle i also sees x_i (a trap breaks translation invariance).</param>
    public LocalScoreNetwork(LocalScoreShape shape, bool trapped) : base(nameof(LocalScoreNetwork))
    {
        shape.Validate();
        Shape = shape;
        Trapped = trapped;
        int h = shape.Hidden;
        int nodeInputs = (trapped ? 4 : 2) + (shape.ForceInput ? 2 : 0) + (shape.ContactInput ? 2 : 0);
        int edgeInputs = 2 * h + 2 + shape.RadialBasis + 2;
        _embed = Sequential(("linear0", Linear(nodeInputs, h)), ("silu0", SiLU()), ("linear1", Linear(h, h)));
        _messages = new ModuleList<Sequential>();
        _updates = new ModuleList<Sequential>();
        for (int l = 0; l < shape.Rounds; l++)
        {
            _messages.Add(Sequential(("linear0", Linear(edgeInputs, h)), ("silu0", SiLU()), ("linear1", Linear(h, h)), ("silu1", SiLU())));
            _updates.Add(Sequential(("linear0", Linear(2 * h, h)), ("silu0", SiLU()), ("linear1", Linear(h, h))));
        }
        _output = Linear(h, 4);
        if (shape.ContactInput)
        {
            // only networks with the contact input carry this buffer, so files saved before it existed still load
            _contactCoefficient = Linear(h, 1);
            _contactScale = ones(1);
            register_buffer("contact_scale", _contactScale);
        }
        if (shape.LinearFeatures > 0)
        {
            _linearStart = zeros(shape.LinearFeatures);
            register_buffer("linear_start", _linearStart);
            _linearBound = zeros(shape.LinearFeatures);
            register_buffer("linear_bound", _linearBound);
            _linearRelative = new Parameter(zeros(shape.LinearFeatures));
        }
        _centres = linspace(0, shape.Cutoff, shape.RadialBasis);
        _positionScale = ones(1);
        _outputScale = ones(4);
        register_buffer("centres", _centres);
        register_buffer("position_scale", _positionScale);
        register_buffer("output_scale", _outputScale);
        _inverseCutoff = (1.0 / shape.Cutoff).ToScalar();
        _inverseWidth = (shape.RadialBasis / shape.Cutoff).ToScalar();
        _tiny = 1e-12.ToScalar();
        _zero = 0.0.ToScalar();
        _cutoff = shape.Cutoff.ToScalar();
        RegisterComponents();
    }

    public LocalScoreShape Shape { get; }
    public bool Trapped { get; }

    /// <summary>
    /// Sets the input length l_x (trap) and the output scales: s_x in units of 1 / l_x (1 / r_c without a trap), s_g in
    /// units of <paramref name="gScoreScale"/>, so the last layer starts near the right magnitude.
    /// </summary>
    internal void SetScales(double positionScale, double gScoreScale, double contactScale = 1)
    {
        if (_contactScale is not null)
            using (no_grad()) _contactScale.fill_(contactScale);
        using var noGrad = no_grad();
        _positionScale.fill_(positionScale);
        double sx = Trapped ? 1 / positionScale : 1 / Shape.Cutoff;
        using var scales = tensor(new float[] { (float)sx, (float)sx, (float)gScoreScale, (float)gScoreScale });
        _outputScale.copy_(scales);
    }

    /// <summary>
    /// Starts the contact coefficient a(h) = w . h + b at the constant <paramref name="coefficient"/> (w = 0) and the s_g rows
    /// of the output layer at 0, so the network starts as s_g = coefficient x contact scale x c_i (the best shared multiple of
    /// the contact field) instead of a random field of the s_g scale that training must first unlearn.
    /// </summary>
    internal void StartContactCoefficient(double coefficient)
    {
        if (_contactCoefficient is null) return;
        using var noGrad = no_grad();
        _contactCoefficient.weight!.zero_();
        _contactCoefficient.bias!.fill_(coefficient);
        _output.weight!.narrow(0, 2, 2).zero_();
        _output.bias!.narrow(0, 2, 2).zero_();
    }

    /// <summary>
    /// Starts the network as the linear fit s_g = theta . phi_i: the head at <paramref name="theta"/> (u = 0), the s_g rows of the
    /// output layer and the contact coefficient at 0, so the rest of the network adds nothing until training moves it.
    /// <paramref name="bounds"/>: the largest |phi_k| component of the training data. The head clips each component to it, so it
    /// does not extrapolate: features such as kappa_i^2 c_i are unbounded, and one particle in a collision the training frames
    /// never saw (kappa_i c_i 170 times the largest trained, measured at N = 4,096) otherwise gives s_g of order 10^5. Inside the
    /// bounds (all training rows) the head is the fit; a clipped component is constant in g (its derivative enters as 0).
    /// </summary>
    internal void StartLinear(double[] theta, double[] bounds)
    {
        if (_linearStart is null || _linearRelative is null || _linearBound is null) throw new InvalidOperationException("this network has no linear head.");
        if (theta.Length != Shape.LinearFeatures || bounds.Length != Shape.LinearFeatures)
            throw new ArgumentException($"the linear head has {Shape.LinearFeatures} features, got {theta.Length} coefficients and {bounds.Length} bounds.", nameof(theta));
        using var noGrad = no_grad();
        using var values = tensor(Array.ConvertAll(theta, v => (float)v));
        using var limits = tensor(Array.ConvertAll(bounds, v => (float)v));
        _linearBound.copy_(limits);
        _linearStart.copy_(values);
        _linearRelative.zero_();
        _output.weight!.narrow(0, 2, 2).zero_();
        _output.bias!.narrow(0, 2, 2).zero_();
        if (_contactCoefficient is null) return;
        _contactCoefficient.weight!.zero_();
        _contactCoefficient.bias!.zero_();
    }

    /// <summary>theta = theta_0 (1 + u): a relative parametrisation, so Adam's steps move each coefficient in proportion to its size.</summary>
    private Tensor LinearCoefficients() => _linearStart!.Plus(_linearStart! * _linearRelative!);

    /// <summary>
    /// The linear head's own-g divergence sum_a d s_lin(i, a) / d g_{i,a} = sum_a theta . d phi_i,a / d g_{i,a} (clipped
    /// components: 0) per scored particle, [B, N'], from the data's feature divergences (exact, the lag filters' unbiased);
    /// null without the head. The head reads phi as constants, so Hutchinson's estimate over the output sees only the rest of the network.
    /// </summary>
    internal Tensor? LinearDivergence(ScoreInput input)
    {
        if (_linearStart is null) return null;
        Tensor divergence = input.BasisDivergence ?? throw new InvalidInputException("this score network has a linear head over the particle basis; the data carry no basis.");
        Tensor inside = input.Basis!.abs().le(_linearBound!).to_type(divergence.dtype);
        return (divergence * inside * LinearCoefficients()).sum([2L, 3L]);
    }

    /// <summary>Not used: the network needs neighbour lists; call <see cref="Score"/>.</summary>
    public override Tensor forward(Tensor input) => throw new NotSupportedException("LocalScoreNetwork.forward needs neighbour lists: use Score.");

    /// <summary>
    /// (s_x, s_g) as one tensor [B, N, 4]: columns 0-1 s_x, 2-3 s_g. With <paramref name="layers"/> (a neighbourhood batch,
    /// <see cref="ScoreInput"/> ordered by hops from its centres: layers[h] = particles within h hops, h = 0..Rounds) round l
    /// updates only the particles within Rounds - 1 - l hops, whose neighbours' states are then exact, and the output is the
    /// centres' scores [B, layers[0], 4]: the same values as on the whole configuration at a fraction of the cost.
    /// </summary>
    internal Tensor Score(ScoreInput input, int[]? layers = null)
    {
        long b = input.G.shape[0], n = input.G.shape[1], slots = input.Mask.shape[2], k = slots - 1, h = Shape.Hidden;
        var nodeParts = new List<Tensor> { input.G };
        if (input.Centred is not null) nodeParts.Add(input.Centred.Plus(input.Shift) / _positionScale);
        if (Shape.ForceInput) nodeParts.Add(input.Force ?? throw new InvalidInputException("this score network reads the pair forces F_i; the data carry none."));
        Tensor? contact = null;
        if (Shape.ContactInput)
        {
            Tensor c = input.Contacts ?? throw new InvalidInputException("this score network reads the contact fields; the data carry none (non-interacting model?).");
            // c_i = P_i g_i + c0_i with g live; speed |u_i| / v0 = |g_i + F_i / v0|; kappa_i
            Tensor gx = input.G.narrow(2, 0, 1), gy = input.G.narrow(2, 1, 1);
            Tensor pxx = c.narrow(2, 0, 1), pxy = c.narrow(2, 1, 1), pyy = c.narrow(2, 2, 1);
            contact = cat([pxx * gx + pxy * gy, pxy * gx + pyy * gy], 2).Plus(c.narrow(2, 3, 2));
            Tensor speed = input.G.Plus(input.Force!).Squared().sum(2, keepdim: true).add(_tiny, StableScalars.One).sqrt();
            nodeParts.Add(cat([speed.log(), c.narrow(2, 5, 1).asinh()], 2));
        }
        Tensor node = nodeParts.Count == 1 ? input.G : cat(nodeParts, 2);
        Tensor state = _embed.forward(node);
        // r_ij with the gradient of the positions: R_ij + shift_j - shift_i
        Tensor shiftJ = Gather(input.Shift, input.Index, b, n, slots);
        Tensor all = input.Displacement.Plus(shiftJ).Minus(input.Shift.unsqueeze(2));
        Tensor allDistance = all.Squared().sum(3, keepdim: true).add(_tiny, StableScalars.One).sqrt();
        // fading radius R_i: the (K + 1)-th nearest when one lies within r_c, else r_c
        Tensor boundaryMask = input.Mask.narrow(2, k, 1).unsqueeze(3);
        Tensor radius = (allDistance.narrow(2, k, 1) * boundaryMask).Plus(boundaryMask.neg().add(StableScalars.One, StableScalars.One) * _cutoff);
        // edges of the particles any round updates (all of them, or those within Rounds - 1 hops of a batch's centres)
        long m = layers is null ? n : layers[Shape.Rounds - 1];
        Tensor r = all.narrow(1, 0, m).narrow(2, 0, k);
        Tensor distance = allDistance.narrow(1, 0, m).narrow(2, 0, k);
        Tensor scaled = distance / radius.narrow(1, 0, m);
        Tensor weight = scaled.Squared().neg().add(StableScalars.One, StableScalars.One).clamp_min(_zero).Squared() * input.Mask.narrow(1, 0, m).narrow(2, 0, k).unsqueeze(3);
        Tensor radial = (distance.Minus(_centres) * _inverseWidth).Squared().neg().exp();
        Tensor index = input.Index.view(b, n, slots).narrow(1, 0, m).narrow(2, 0, k).reshape(b, m * k);
        Tensor gJ = Gather(input.G, index, b, m, k);
        Tensor edge = cat([r * _inverseCutoff, radial, gJ], 3);
        for (int l = 0; l < Shape.Rounds; l++)
        {
            long u = layers is null ? n : layers[Shape.Rounds - 1 - l];
            Tensor own = u == n ? state : state.narrow(1, 0, u);
            Tensor hI = own.unsqueeze(2).expand(b, u, k, h);
            Tensor edgeU = u == m ? edge : edge.narrow(1, 0, u);
            Tensor indexU = u == m ? index : index.view(b, m, k).narrow(1, 0, u).reshape(b, u * k);
            Tensor hJ = Gather(state, indexU, b, u, k);
            Tensor weightU = u == m ? weight : weight.narrow(1, 0, u);
            Tensor message = _messages[l].forward(cat([hI, hJ, edgeU], 3)) * weightU;
            Tensor pooled = message.sum(2);
            Tensor updated = own.Plus(_updates[l].forward(cat([own, pooled], 2)));
            state = u == n ? updated : cat([updated, state.narrow(1, u, n - u)], 1);
        }
        if (layers is not null) state = state.narrow(1, 0, layers[0]);
        Tensor output = _output.forward(state) * _outputScale;
        if (_contactCoefficient is null && _linearStart is null) return output;
        Tensor sg = output.narrow(2, 2, 2);
        if (_contactCoefficient is not null)
        {
            // s_g += a(h_i) c_i / (gamma v0): the contact field enters linearly, its weight per particle is learned
            Tensor cI = layers is null ? contact! : contact!.narrow(1, 0, layers[0]);
            sg = sg.Plus(_contactCoefficient.forward(state) * cI * _contactScale!);
        }
        if (_linearStart is not null)
        {
            Tensor basis = input.Basis ?? throw new InvalidInputException("this score network has a linear head over the particle basis; the data carry no basis.");
            sg = sg.Plus((basis.minimum(_linearBound!).maximum(_linearBound!.neg()) * LinearCoefficients()).sum(3));
        }
        return cat([output.narrow(2, 0, 2), sg], 2);
    }

    /// <summary>Rows of <paramref name="values"/> [B, N', C] at the neighbour indices [B, n K]: [B, n, K, C].</summary>
    private static Tensor Gather(Tensor values, Tensor index, long b, long n, long k)
    {
        long c = values.shape[2];
        return values.gather(1, index.unsqueeze(2).expand(b, n * k, c)).view(b, n, k, c);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inverseCutoff.Dispose();
            _inverseWidth.Dispose();
            _tiny.Dispose();
            _zero.Dispose();
            _cutoff.Dispose();
        }
        base.Dispose(disposing);
    }
}
