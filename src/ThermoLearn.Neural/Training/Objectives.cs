using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Networks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Current loss for the thermodynamic force (spec section 4; Lyu, Ray &amp; Crutchfield 2025):
/// per transition l = d^T D d - 2 d(x_mid[, t_mid]) . dx / dt (Stratonovich), whose mean is
/// L(d) = &lt;(d - D^-1 v)^T D (d - D^-1 v)&gt; - sigma. The contribution -l has mean -L(d) &lt;= sigma,
/// equal at the optimum with a second-order gap ||d - D^-1 v||_D^2. dt is the batch's step, so the field
/// trained at lag 1 also scores lag-2 (and lag-3) transitions for the coarse-sampling correction; the optimal
/// field at lag L differs by O(dt), which changes the loss only at O(dt^2).
/// </summary>
internal sealed class CurrentObjective : TransitionObjective
{
    private readonly Module<Tensor, Tensor> _field;
    private readonly Tensor _diffusion;
    private readonly bool _timeInput;

    /// <param name="field">The network d(x) (or d(x, t) with <paramref name="timeInput"/>).</param>
    /// <param name="diffusion">D, row-major d x d.</param>
    /// <param name="timeInput">Whether t is the network's last input.</param>
    public CurrentObjective(Module<Tensor, Tensor> field, IReadOnlyList<double> diffusion, bool timeInput)
    {
        _field = field;
        _diffusion = DiffusionTensor(diffusion);
        _timeInput = timeInput;
    }

    public override nn.Module Network => _field;

    public override void Standardise(TransitionTensors train)
    {
        if (_field is not Mlp mlp) return;
        using var scope = NewDisposeScope();
        var all = train.Slice(0, train.Count);
        mlp.Standardise(Input(all.Mid, all.TMid));
    }

    public Tensor Input(Tensor x, Tensor t) => _timeInput ? cat([x, t], 1) : x;

    private Tensor PerTransitionLoss(TransitionBatch batch)
    {
        Tensor d = _field.forward(Input(batch.Mid, batch.TMid));
        Tensor quadratic = (d * d.matmul(_diffusion)).sum(1);
        // an explicit scalar disposed after its last use (see AdamStep on temporary scalars)
        using Scalar twoOverStep = (2 / batch.Step).ToScalar();
        return quadratic.Minus((d * batch.Dx).sum(1).mul_(twoOverStep));
    }

    public override Tensor Loss(TransitionBatch batch) => PerTransitionLoss(batch).mean();

    public override Tensor Contributions(TransitionBatch batch) => -PerTransitionLoss(batch);

    public override void ReleaseAllButNetwork() => _diffusion.Dispose();

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

    public override void Standardise(TransitionTensors train)
    {
        if (_network is not AntisymmetricPairNetwork pair) return;
        using var scope = NewDisposeScope();
        var all = train.Slice(0, train.Count);
        pair.Inner.Standardise(cat([all.X0, all.X1], 1));
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
