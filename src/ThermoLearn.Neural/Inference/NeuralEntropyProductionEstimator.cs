using ThermoLearn.Neural.Networks;
using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Training;
using ThermoLearn.Trajectories;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Inference;

/// <summary>Settings of a neural entropy-production estimate.</summary>
public sealed record NeuralEstimatorSettings
{
    /// <summary><see cref="NeuralMethods.Current"/> (thermodynamic-force field from the current loss) or <see cref="NeuralMethods.Neep"/>.</summary>
    public string Method { get; init; } = NeuralMethods.Current;

    public TrainingOptions Training { get; init; } = new();

    /// <summary>Diffusion matrix D for the current loss; null estimates it from the second cumulant &lt;dx dx^T&gt;/(2 dt).</summary>
    public double[,]? Diffusion { get; init; }

    /// <summary>Current loss only: learn d(x, t) with t as an input (non-stationary data).</summary>
    public bool TimeInput { get; init; }

    /// <summary>Report sigma(t) on this many equal time windows (0: none).</summary>
    public int Windows { get; init; }
}

/// <summary>A finished neural estimate and the cross-fitted networks behind it (dispose to free them).</summary>
public sealed class NeuralFit : IDisposable
{
    internal NeuralFit(NeuralEntropyProductionEstimate estimate, NeuralModel model)
    {
        Estimate = estimate;
        Model = model;
    }

    public NeuralEntropyProductionEstimate Estimate { get; }

    public NeuralModel Model { get; }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Neural entropy-production estimators (spec section 4). <see cref="NeuralMethods.Current"/> learns the
/// thermodynamic force d = D^-1 v by minimising the current loss L(d) = &lt;d^T D d&gt; - 2&lt;J_d&gt;/tau
/// (Lyu, Ray &amp; Crutchfield 2025), whose minimum is -sigma; <see cref="NeuralMethods.Neep"/> learns
/// Delta S(x_i, x_{i+1}) with the NEEP loss -&lt;Delta S&gt; + &lt;exp(-Delta S)&gt; (Kim et al., PRL 125, 140604, 2020).
/// Both report the held-out mean of per-transition contributions (K-fold cross-fitting over trajectories),
/// with a standard error from independent held-out trajectories.
/// </summary>
public static class NeuralEntropyProductionEstimator
{
    public static NeuralFit Fit(TrajectoryEnsemble data, NeuralEstimatorSettings settings,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var options = settings.Training;
        options.Validate();
        if (settings.Windows < 0) throw new InvalidInputException($"windows must be 0 or positive (got {settings.Windows}).");
        double[,]? diffusion = null;
        CrossFitResult<TransitionObjective> fit;
        NeuralModelInfo info;
        switch (settings.Method)
        {
            case NeuralMethods.Current:
                data.EnsureFinite("trajectory data");
                diffusion = settings.Diffusion ?? DiffusionFromIncrements.Estimate(data);
                DiffusionFromIncrements.Validate(diffusion, data.Dimension);
                info = new NeuralModelInfo(NeuralMethods.Current, data.Dimension, settings.TimeInput, options.Hidden, options.Layers,
                    data.Dt, Flatten(diffusion), options.Folds);
                fit = CrossFit.Run<TransitionObjective>(data, options,
                    _ => new CurrentObjective((Mlp)NeuralModel.Create(info), diffusion, data.Dt, settings.TimeInput), progress, cancellation);
                break;
            case NeuralMethods.Neep:
                if (settings.TimeInput) throw new InvalidInputException("neep has no time input; use neural-current for non-stationary data.");
                info = new NeuralModelInfo(NeuralMethods.Neep, data.Dimension, false, options.Hidden, options.Layers, data.Dt, null, options.Folds);
                fit = CrossFit.Run<TransitionObjective>(data, options,
                    _ => new NeepObjective((AntisymmetricPairNetwork)NeuralModel.Create(info), data.Dt), progress, cancellation);
                break;
            default:
                throw new InvalidInputException($"unknown neural method '{settings.Method}'; known: {NeuralMethods.Current}, {NeuralMethods.Neep}.");
        }
        // The networks move into the model; the objectives' other tensors (D) are released here.
        var networks = fit.Objectives.Select(o => o.Network).ToArray();
        var estimate = Summarise(fit.HeldOut, settings.Method, data, diffusion, options, fit.Curves, settings.Windows);
        foreach (var objective in fit.Objectives) objective.ReleaseAllButNetwork();
        return new NeuralFit(estimate, new NeuralModel(info, networks));
    }

    /// <summary>
    /// Applies a trained (e.g. loaded) model to data it was not trained on: the fold-averaged field scores every
    /// transition, and the standard error comes from the data's trajectories (or segments).
    /// </summary>
    public static NeuralEntropyProductionEstimate Evaluate(NeuralModel model, TrajectoryEnsemble data, int windows = 0)
    {
        var info = model.Info;
        if (data.Dimension != info.Dimension)
            throw new InvalidInputException($"the model was trained on {info.Dimension}-dimensional data but these data have dimension {data.Dimension}.");
        if (info.Method == NeuralMethods.Neep && Math.Abs(data.Dt - info.Dt) > 1e-9 * info.Dt)
            throw new InvalidInputException($"a neep model learns Delta S per step of dt = {info.Dt}; these data have dt = {data.Dt}.");
        if (windows < 0) throw new InvalidInputException($"windows must be 0 or positive (got {windows}).");
        data.EnsureFinite("trajectory data");
        TorchRuntime.Initialise();
        double[,]? diffusion = info.Diffusion is null ? null : Unflatten(info.Diffusion, info.Dimension);
        TransitionObjective objective = info.Method == NeuralMethods.Current
            ? new CurrentObjective(new FieldAverage(model.Networks.Cast<Module<Tensor, Tensor>>().ToArray()), diffusion!, data.Dt, info.TimeInput)
            : new NeepObjective(new PairAverage(model.Networks.Cast<Module<Tensor, Tensor, Tensor>>().ToArray()), data.Dt);
        try
        {
            TransitionUnit[] units = TransitionUnits.Split(data);
            using var all = TransitionTensors.Build(data, units);
            double[] values = Trainer.Contributions(objective, all);
            var heldOut = new HeldOutValues(units, values, all.Unit, all.Time);
            var options = new TrainingOptions { Hidden = info.Hidden, Layers = info.Layers, Folds = info.Folds };
            return Summarise(heldOut, info.Method, data, diffusion, options, [], windows);
        }
        finally
        {
            objective.Dispose();
        }
    }

    private static NeuralEntropyProductionEstimate Summarise(HeldOutValues heldOut, string method, TrajectoryEnsemble data,
        double[,]? diffusion, TrainingOptions options, IReadOnlyList<TrainingCurve> curves, int windows)
    {
        HeldOutMean total = HeldOutStatistics.Mean(heldOut);
        var rates = new List<WindowRate>();
        if (windows > 0)
        {
            double start = data.StartTime, span = (data.Frames - 1) * data.Dt;
            for (int w = 0; w < windows; w++)
            {
                double a = start + span * w / windows, b = start + span * (w + 1) / windows;
                bool last = w == windows - 1;
                HeldOutMean m = HeldOutStatistics.Mean(heldOut, t => t >= a && (t < b || last));
                rates.Add(new WindowRate(a, b, m.Mean, m.StandardError, m.Transitions));
            }
        }
        return new NeuralEntropyProductionEstimate(total.Mean, total.StandardError, method, total.Transitions, data.Trajectories,
            data.Dt, diffusion, options, curves, rates);
    }

    private static double[] Flatten(double[,] m)
    {
        int d = m.GetLength(0);
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) r[i * d + j] = m[i, j];
        return r;
    }

    internal static double[,] Unflatten(double[] values, int d)
    {
        if (values.Length != d * d) throw new InvalidInputException($"the model's diffusion matrix has {values.Length} entries, expected {d * d}.");
        var m = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) m[i, j] = values[i * d + j];
        return m;
    }
}
