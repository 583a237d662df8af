using ThermoLearn.Inference;
using ThermoLearn.Neural.Networks;
using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Training;
using ThermoLearn.Statistics;
using ThermoLearn.Trajectories;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Inference;

/// <summary>Settings of <see cref="NeuralTrajectoryEntropy.Estimate"/>: training of both fields and the diffusion matrix.</summary>
public sealed record NeuralTrajectoryEntropySettings
{
    /// <summary>Training of the force network d(x, t) and of the score network s(x, t) (same folds, same options).</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Diffusion matrix D, resolved as for the other current estimators (given, or from the data).</summary>
    public DiffusionSpec Diffusion { get; init; } = DiffusionSpec.Estimated;
}

/// <summary>
/// Per-trajectory total entropy production from neural fields, every trajectory scored by networks that never saw it.
/// </summary>
/// <param name="TotalEntropy">Delta s_tot of each trajectory (k_B = 1), in ensemble order.</param>
/// <param name="CurrentTerm">Its first part, int d o dx (the rest is -int d_t ln p dt).</param>
/// <param name="MeanTotal">&lt;Delta s_tot&gt; with its standard error over trajectories.</param>
/// <param name="ExpMinus">&lt;exp(-Delta s_tot)&gt; with its standard error: the integral fluctuation theorem sets it to 1.</param>
/// <param name="Diffusion">The diffusion matrix used (row-major d x d, as in <see cref="EstimateSettings.Diffusion"/>).</param>
/// <param name="Options">Training settings.</param>
/// <param name="ForceCurves">Training curve of each fold's force network.</param>
/// <param name="ScoreCurves">Training curve of each fold's score network.</param>
public sealed record NeuralTrajectoryEntropyEstimate(IReadOnlyList<double> TotalEntropy, IReadOnlyList<double> CurrentTerm,
    MeanEstimate MeanTotal, MeanEstimate ExpMinus, IReadOnlyList<double> Diffusion, TrainingOptions Options,
    IReadOnlyList<TrainingCurve> ForceCurves, IReadOnlyList<TrainingCurve> ScoreCurves);

/// <summary>
/// Delta s_tot = int d o dx - int d_t ln p dt along each trajectory (docs/neural-nonstationary.md, section 3), from two networks with
/// t as an input: the thermodynamic force d(x, t) = D^-1 v learned with the current loss, and the score
/// s(x, t) = grad ln p learned by score matching from the Stratonovich/Ito difference. No density is estimated:
/// the continuity equation gives -d_t ln p = div v + v . s with v = D d (div by automatic differentiation).
/// <para>
/// Discretisation, chosen by running the exact fields of the breathing trap through it (docs/neural-nonstationary.md):
/// both networks are trained with the trapezoid in x at the midpoint time (<see cref="TrapezoidFieldObjective"/>), the
/// current term is int d o dx = sum (d(x_i) + d(x_{i+1}))/2 . dx, and the -d_t ln p term is the trapezoid
/// (g(x_i) + g(x_{i+1}))/2 dt. Evaluating g at x_mid instead shifts &lt;exp(-Delta s_tot)&gt; by +0.6% (about 4 standard
/// errors at 1e5 trajectories of the default breathing trap), because &lt;x_mid^2&gt; is smaller than &lt;x^2&gt; by D dt / 2.
/// Note that int d o dx already holds the system-entropy part -int grad ln p o dx; adding ln p(x_0) / p(x_t) to it
/// would count it twice.
/// </para>
/// <para>
/// Cross-fitting: the trajectories are dealt into folds once (the fold plan depends only on the seed), fold k's force
/// and score networks are trained on the other folds, and fold k's trajectories are scored by them, so the fluctuation
/// theorem is tested out of sample. Needs at least <see cref="TransitionUnits.MinimumUnits"/> trajectories (each
/// trajectory must be held out whole).
/// </para>
/// </summary>
public static class NeuralTrajectoryEntropy
{
    private const long Chunk = 1 << 15;

    public static NeuralTrajectoryEntropyEstimate Estimate(TrajectoryEnsemble data, NeuralTrajectoryEntropySettings settings,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        var options = settings.Training;
        options.Validate();
        if (data.Trajectories < TransitionUnits.MinimumUnits)
            throw new InvalidInputException($"per-trajectory entropy holds whole trajectories out, so it needs at least {TransitionUnits.MinimumUnits} "
                + $"trajectories (got {data.Trajectories}).");
        data.EnsureFinite("trajectory data");
        var (diffusion, _) = NeuralEntropyProductionEstimator.ResolveDiffusion(data, settings.Diffusion);
        int d = data.Dimension;

        // per-trajectory entropy reads the data in memory (each held-out trajectory is scored whole); training passes go
        // through the same blocks as the streamed estimators
        var source = TransitionSource.InMemory(data);
        using var forces = CrossFit.Run(source, options,
            _ => new TrapezoidFieldObjective(new Mlp(d + 1, d, options.Hidden, options.Layers), diffusion, score: false, timeInput: true), progress, cancellation);
        using var scores = CrossFit.Run(source, options,
            _ => new TrapezoidFieldObjective(new Mlp(d + 1, d, options.Hidden, options.Layers), diffusion, score: true, timeInput: true), progress, cancellation);

        var total = new double[data.Trajectories];
        var current = new double[data.Trajectories];
        using var diffusionTensor = FieldObjective.DiffusionTensor(diffusion);
        for (int k = 0; k < forces.Plans.Length; k++)
        {
            var held = forces.Plans[k].HeldOut;
            using var tensors = TransitionTensors.Build(data, held);
            var force = (Mlp)forces.Objectives[k].Network;
            var score = (Mlp)scores.Objectives[k].Network;
            for (long start = 0; start < tensors.Count; start += Chunk)
            {
                long length = Math.Min(Chunk, tensors.Count - start);
                var (currents, rates) = Terms(force, score, diffusionTensor, tensors, start, length);
                for (long i = 0; i < length; i++)
                {
                    int trajectory = held[tensors.Unit[start + i]].Trajectory;
                    current[trajectory] += currents[i];
                    total[trajectory] += currents[i] + rates[i] * data.Dt;
                }
            }
        }
        var expMinus = new double[total.Length];
        for (int r = 0; r < total.Length; r++) expMinus[r] = Math.Exp(-total[r]);
        return new NeuralTrajectoryEntropyEstimate(total, current, MeanEstimate.Of(total), MeanEstimate.Of(expMinus), diffusion, options,
            forces.Curves, scores.Curves);
    }

    /// <summary>
    /// Per transition: (d(x_i) + d(x_{i+1}))/2 . dx at t_mid, and g = -d_t ln p = div(D d) + (D d) . s averaged over both ends at t_mid.
    /// </summary>
    private static (float[] Current, float[] Rate) Terms(Mlp force, Mlp score, Tensor diffusion, TransitionTensors tensors, long start, long length)
    {
        using var scope = NewDisposeScope();
        TransitionBatch batch = tensors.Slice(start, length);
        float[] currentValues;
        using (no_grad())
        {
            // trapezoid, as in training: (d(x_i) + d(x_{i+1})) / 2 . dx, both at t_mid (halved on the host)
            Tensor dSum = force.forward(cat([batch.X0, batch.TMid], 1)).Plus(force.forward(cat([batch.X1, batch.TMid], 1)));
            currentValues = (dSum * batch.Dx).sum(1).data<float>().ToArray();
            for (int i = 0; i < currentValues.Length; i++) currentValues[i] *= 0.5f;
        }
        // Trapezoid in x: (g(x_i) + g(x_{i+1})) / 2, halved on the host (no implicit scalars in tensor arithmetic).
        float[] rate = RateAt(force, score, diffusion, batch.X0, batch.TMid).Plus(RateAt(force, score, diffusion, batch.X1, batch.TMid)).data<float>().ToArray();
        for (int i = 0; i < rate.Length; i++) rate[i] *= 0.5f;
        return (currentValues, rate);
    }

    /// <summary>g(x, t) = div(D d) + (D d) . s at points x [B, dim] and times t [B, 1], the divergence by automatic differentiation.</summary>
    private static Tensor RateAt(Mlp force, Mlp score, Tensor diffusion, Tensor x, Tensor t)
    {
        int dim = (int)x.shape[1];
        Tensor input = x.detach().clone().requires_grad_(true);
        Tensor v = force.forward(cat([input, t], 1)).matmul(diffusion); // D symmetric: (D d)^T = d^T D
        Tensor divergence = zeros(x.shape[0]);
        for (int i = 0; i < dim; i++)
        {
            var gradient = torch.autograd.grad([v.select(1, i).sum()], [input], retain_graph: i + 1 < dim)[0];
            divergence = divergence.Plus(gradient.select(1, i).detach());
        }
        using var noGrad = no_grad();
        Tensor s = score.forward(cat([x, t], 1));
        return divergence.Plus((v.detach() * s).sum(1));
    }
}
