using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Networks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// What the losses on one field network d(x) (or d(x, t)) with diffusion D share: the network, D as a tensor, the input
/// (x, with t appended when the field is time-dependent), standardisation on the training midpoints, the mean loss and the
/// contributions (minus the per-transition loss, whose mean bounds sigma from below). Subclasses give the per-transition loss.
/// </summary>
internal abstract class FieldObjective : TransitionObjective
{
    private readonly Module<Tensor, Tensor> _field;
    private readonly bool _timeInput;

    /// <param name="field">The network d(x) (or d(x, t) with <paramref name="timeInput"/>).</param>
    /// <param name="diffusion">D, row-major d x d.</param>
    /// <param name="timeInput">Whether t is the network's last input.</param>
    protected FieldObjective(Module<Tensor, Tensor> field, IReadOnlyList<double> diffusion, bool timeInput)
    {
        _field = field;
        Diffusion = DiffusionTensor(diffusion);
        _timeInput = timeInput;
    }

    /// <summary>D as a float32 [d, d] tensor.</summary>
    protected Tensor Diffusion { get; }

    public override nn.Module Network => _field;

    /// <summary>The field at <paramref name="x"/> (time <paramref name="t"/> used when the field takes it).</summary>
    protected Tensor Field(Tensor x, Tensor t) => _field.forward(_timeInput ? cat([x, t], 1) : x);

    public override void Standardise(TransitionMoments train)
    {
        if (_field is not Mlp mlp) return; // a fold average of trained fields is already standardised
        var (mean, std) = train.Midpoint(_timeInput);
        mlp.Standardise(mean, std);
    }

    /// <summary>The loss of each transition of the batch.</summary>
    protected abstract Tensor PerTransitionLoss(TransitionBatch batch);

    public override Tensor Loss(TransitionBatch batch) => PerTransitionLoss(batch).mean();

    public override Tensor Contributions(TransitionBatch batch) => PerTransitionLoss(batch).neg();

    public override void ReleaseAllButNetwork() => Diffusion.Dispose();

    /// <summary>D (row-major d x d) as a float32 [d, d] tensor (symmetric, so d D = d D^T) that lives as long as the objective.</summary>
    internal static Tensor DiffusionTensor(IReadOnlyList<double> diffusion)
    {
        int d = (int)Math.Round(Math.Sqrt(diffusion.Count));
        var values = new float[d * d];
        for (int k = 0; k < d * d; k++) values[k] = (float)diffusion[k];
        return tensor(values, [d, d]).DetachFromDisposeScope();
    }
}

/// <summary>
/// Current loss for the thermodynamic force (docs/neural.md, "Current loss"; Lyu, Ray &amp; Crutchfield 2025):
/// per transition l = d^T D d - 2 d(x_mid[, t_mid]) . dx / dt (Stratonovich), whose mean is
/// L(d) = &lt;(d - D^-1 v)^T D (d - D^-1 v)&gt; - sigma. The contribution -l has mean -L(d) &lt;= sigma,
/// equal at the optimum with a second-order gap ||d - D^-1 v||_D^2. dt is the batch's step, so the field
/// trained at lag 1 also scores lag-2 (and lag-3) transitions for the coarse-sampling correction; the optimal
/// field at lag L differs by O(dt), which changes the loss only at O(dt^2).
/// </summary>
internal sealed class CurrentObjective(Module<Tensor, Tensor> field, IReadOnlyList<double> diffusion, bool timeInput)
    : FieldObjective(field, diffusion, timeInput)
{
    protected override Tensor PerTransitionLoss(TransitionBatch batch)
    {
        Tensor d = Field(batch.Mid, batch.TMid);
        Tensor quadratic = (d * d.matmul(Diffusion)).sum(1);
        // an explicit scalar disposed after its last use (see AdamStep on temporary scalars)
        using Scalar twoOverStep = (2 / batch.Step).ToScalar();
        return quadratic.Minus((d * batch.Dx).sum(1).mul_(twoOverStep));
    }
}

/// <summary>
/// NEEP loss -Delta S + exp(-Delta S) per transition with an antisymmetric Delta S (Kim et al., PRL 125,
/// 140604, 2020). Its minimum is at the log ratio of forward and backward path probabilities, whose mean
/// is sigma dt. The contribution (Delta S - exp(-Delta S) + 1) / dt is the variational lower bound: its
/// mean is at most sigma, with equality at the optimum (where &lt;exp(-Delta S)&gt; = 1, the integral
/// fluctuation theorem), and its gap is second order in the network's error.
/// </summary>
internal sealed class NeepObjective : TransitionObjective
{
    // exp(-Delta S) of an untrained network must not overflow float32 on an outlier pair.
    private static readonly Scalar MaxNegativeEntropy = 30.0.ToScalar();
    private readonly Module<Tensor, Tensor, Tensor> _network;
    private readonly double _dt;

    public NeepObjective(Module<Tensor, Tensor, Tensor> network, double dt)
    {
        _network = network;
        _dt = dt;
    }

    public override nn.Module Network => _network;

    public override void Standardise(TransitionMoments train)
    {
        if (_network is not AntisymmetricPairNetwork pair) return;
        var (mean, std) = train.Pair();
        pair.Inner.Standardise(mean, std);
    }

    private Tensor EntropyProduction(TransitionBatch batch) => _network.forward(batch.X0, batch.X1);

    public override Tensor Loss(TransitionBatch batch)
    {
        Tensor s = EntropyProduction(batch);
        return s.neg().Plus(s.neg().clamp_max(MaxNegativeEntropy).exp()).mean();
    }

    public override Tensor Contributions(TransitionBatch batch)
    {
        Tensor s = EntropyProduction(batch);
        // explicit scalars (StableScalars; the step's disposed after its last use), not implicit temporaries
        using Scalar step = _dt.ToScalar();
        return s.Minus(s.neg().clamp_max(MaxNegativeEntropy).exp()).add_(StableScalars.One).div_(step);
    }
}
