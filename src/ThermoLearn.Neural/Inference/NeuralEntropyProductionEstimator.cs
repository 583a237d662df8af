using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
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

    /// <summary>
    /// Diffusion matrix D of the current loss, resolved by Core exactly as for the linear estimators
    /// (<see cref="DiffusionSpec"/>: given, or the drift-corrected second cumulant, or its noise-robust variant).
    /// </summary>
    public DiffusionSpec Diffusion { get; init; } = DiffusionSpec.Estimated;

    /// <summary>Current loss only: learn d(x, t) with t as an input (non-stationary data).</summary>
    public bool TimeInput { get; init; }

    /// <summary>Report sigma(t) on this many equal time windows (0: none).</summary>
    public int Windows { get; init; }

    /// <summary>
    /// Current loss only: coarse-sampling correction as for the linear estimator. The held-out data are also scored at
    /// lag 2 (order 1: 2 sigma(dt) - sigma(2 dt)) or lags 2 and 3 (order 2: 3 sigma(dt) - 3 sigma(2 dt) + sigma(3 dt)),
    /// which cancels the O(dt) (and O(dt^2)) bias of the current loss; 0: none.
    /// </summary>
    public int Correction { get; init; }

    /// <summary>
    /// Current loss only: evaluate d at both ends of each transition (trapezoid, as Core's linear estimators) instead of
    /// at the midpoint. The midpoint's quadratic term &lt;d(x_mid)^T D d(x_mid)&gt; is low by O(dt) (&lt;x_mid x_mid^T&gt; falls short of
    /// &lt;x x^T&gt; by D dt / 2), an O(dt) bias of the rate and of the learned field; the trapezoid's is O(dt^2) for linear
    /// fields, and it needs no second lag, so it suits sigma(t) on short windows. Costs two network passes per transition.
    /// </summary>
    public bool Trapezoid { get; init; }
}

/// <summary>
/// A finished neural estimate: the rate in the result type every estimator returns
/// (<see cref="EntropyProductionEstimate"/>), sigma(t) when windows were asked for, the training curve of each
/// cross-fitting fold, and the fold networks behind it (dispose to free them).
/// </summary>
public sealed class NeuralFit : IDisposable
{
    internal NeuralFit(EntropyProductionEstimate estimate, EntropyProductionTimeSeries? timeSeries, IReadOnlyList<TrainingCurve> curves,
        TrainingOptions options, NeuralModel model)
    {
        Estimate = estimate;
        TimeSeries = timeSeries;
        Curves = curves;
        Options = options;
        Model = model;
    }

    /// <summary>The held-out rate, its standard error and provenance (method, network in <see cref="EntropyProductionEstimate.Basis"/>, data size).</summary>
    public EntropyProductionEstimate Estimate { get; }

    /// <summary>sigma(t) per time window when <see cref="NeuralEstimatorSettings.Windows"/> &gt; 0, else null.</summary>
    public EntropyProductionTimeSeries? TimeSeries { get; }

    /// <summary>Training curve of each fold.</summary>
    public IReadOnlyList<TrainingCurve> Curves { get; }

    /// <summary>The training settings used.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Whether training of any fold diverged (non-finite loss); the estimate then uses each fold's best weights before that.</summary>
    public bool Diverged => Curves.Any(c => c.Diverged is not null);

    public NeuralModel Model { get; }

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Neural entropy-production estimators (docs/neural-estimators.md; the losses in docs/inference.md, "The losses, once"). <see cref="NeuralMethods.Current"/> learns the
/// thermodynamic force d = D^-1 v by minimising the current loss L(d) = &lt;d^T D d&gt; - 2&lt;J_d&gt;/tau
/// (Lyu, Ray &amp; Crutchfield 2025), whose minimum is -sigma; <see cref="NeuralMethods.Neep"/> learns
/// Delta S(x_i, x_{i+1}) with the NEEP loss -&lt;Delta S&gt; + &lt;exp(-Delta S)&gt; (Kim et al., PRL 125, 140604, 2020).
/// Both report the held-out mean of per-transition contributions (K-fold cross-fitting over trajectories),
/// with a standard error from independent held-out trajectories, as an <see cref="EntropyProductionEstimate"/>
/// like the linear estimators. The value is a variational lower bound whose gap is second order in the network's
/// error, so no finite-basis bias correction applies (<see cref="EntropyProductionEstimate.Debiased"/> = Rate).
/// D comes from Core's <see cref="DiffusionSpec"/> (the same resolution as the linear current estimator).
/// </summary>
public static class NeuralEntropyProductionEstimator
{
    public static NeuralFit Fit(TrajectoryEnsemble data, NeuralEstimatorSettings settings,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.EnsureFinite("trajectory data");
        return Fit(TransitionSource.InMemory(data), spec => ResolveDiffusion(data, spec), settings, progress, cancellation);
    }

    /// <summary>
    /// The same from a file larger than memory: <paramref name="open"/> opens it once per pass (reading it sequentially in
    /// chunks of at most about <paramref name="chunkValues"/> values, two held at a time), and every epoch of every fold reads it
    /// once; memory holds a chunk pair, a shuffle block (<see cref="TrainingOptions.ShuffleBlock"/>) and per-unit sums, never the
    /// file. The result is the in-memory one bit for bit (same diffusion, standardisation, minibatches and held-out sums).
    /// </summary>
    public static NeuralFit Fit(Func<TrajectoryReader> open, long chunkValues, NeuralEstimatorSettings settings,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(open);
        return Fit(TransitionSource.Streamed(open, chunkValues), spec => ResolveDiffusion(open, chunkValues, spec), settings, progress, cancellation);
    }

    private static NeuralFit Fit(TransitionSource data, Func<DiffusionSpec, (double[] Matrix, string Source)> resolveDiffusion, NeuralEstimatorSettings settings,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        var options = settings.Training;
        options.Validate();
        if (settings.Windows < 0) throw new InvalidInputException($"windows must be 0 or positive (got {settings.Windows}).");
        CheckCorrection(settings.Correction, settings.Method, data.Frames);
        TransitionUnits.Plan(TransitionUnits.Split(data.Trajectories, data.Frames), options); // enough trajectory pieces? (before any other work)
        double[]? diffusion = null;
        string diffusionSource = "";
        CrossFitResult<TransitionObjective> fit;
        NeuralModelInfo info;
        switch (settings.Method)
        {
            case NeuralMethods.Current:
                (diffusion, diffusionSource) = resolveDiffusion(settings.Diffusion);
                info = new NeuralModelInfo(NeuralMethods.Current, data.Dimension, settings.TimeInput, options.Hidden, options.Layers,
                    data.Dt, diffusion, options.Folds, settings.Trapezoid);
                fit = CrossFit.Run<TransitionObjective>(data, options,
                    _ => settings.Trapezoid
                        ? new TrapezoidFieldObjective((Mlp)NeuralModel.Create(info), diffusion, score: false, settings.TimeInput)
                        : new CurrentObjective((Mlp)NeuralModel.Create(info), diffusion, settings.TimeInput),
                    progress, cancellation, settings.Correction + 1, settings.Windows);
                break;
            case NeuralMethods.Neep:
                if (settings.TimeInput) throw new InvalidInputException("neep has no time input; use neural-current for non-stationary data.");
                if (settings.Trapezoid) throw new InvalidInputException("the trapezoid rule applies to the current loss (neural-current); neep scores whole transitions.");
                info = new NeuralModelInfo(NeuralMethods.Neep, data.Dimension, false, options.Hidden, options.Layers, data.Dt, null, options.Folds);
                fit = CrossFit.Run<TransitionObjective>(data, options,
                    _ => new NeepObjective((AntisymmetricPairNetwork)NeuralModel.Create(info), data.Dt), progress, cancellation, 1, settings.Windows);
                break;
            default:
                throw new InvalidInputException($"unknown neural method '{settings.Method}'; known: {NeuralMethods.Current}, {NeuralMethods.Neep}.");
        }
        // The networks move into the model; the objectives' other tensors (D) are released here.
        var networks = fit.Objectives.Select(o => o.Network).ToArray();
        string errors = $"held out: {options.Folds}-fold cross-fitting over {fit.Units.Length} {UnitName(data.Trajectories, fit.Units.Length)}";
        var (estimate, series) = Summarise(fit.HeldOutByLag, info, data.Header, diffusion, diffusionSource, errors);
        foreach (var objective in fit.Objectives) objective.ReleaseAllButNetwork();
        return new NeuralFit(estimate, series, fit.Curves, options, new NeuralModel(info, networks));
    }

    /// <summary>
    /// Applies a trained (e.g. loaded) model to data it was not trained on: the fold-averaged field scores every
    /// transition, and the standard error comes from the data's trajectories (or segments). With
    /// <paramref name="windows"/> &gt; 0 the time series is returned as well.
    /// </summary>
    public static (EntropyProductionEstimate Estimate, EntropyProductionTimeSeries? TimeSeries) Evaluate(NeuralModel model, TrajectoryEnsemble data,
        int windows = 0, int correction = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        Check(model, data.Dimension, data.Dt, data.Frames, windows, correction);
        data.EnsureFinite("trajectory data");
        return Evaluate(model, TransitionSource.InMemory(data), windows, correction);
    }

    /// <summary>The same from a file read sequentially in chunks of at most about <paramref name="chunkValues"/> values (bit for bit the in-memory result).</summary>
    public static (EntropyProductionEstimate Estimate, EntropyProductionTimeSeries? TimeSeries) Evaluate(NeuralModel model, Func<TrajectoryReader> open,
        long chunkValues, int windows = 0, int correction = 0)
    {
        ArgumentNullException.ThrowIfNull(open);
        var source = TransitionSource.Streamed(open, chunkValues);
        Check(model, source.Dimension, source.Dt, source.Frames, windows, correction);
        return Evaluate(model, source, windows, correction);
    }

    private static void Check(NeuralModel model, int dimension, double dt, int frames, int windows, int correction)
    {
        var info = model.Info;
        if (dimension != info.Dimension)
            throw new InvalidInputException($"the model was trained on {info.Dimension}-dimensional data (input width {InputWidth(info)} of its "
                + $"{Describe(info)} network) but these data have dimension {dimension}.");
        if (info.Method == NeuralMethods.Neep && Math.Abs(dt - info.Dt) > 1e-9 * info.Dt)
            throw new InvalidInputException($"a neep model learns Delta S per step of dt = {info.Dt}; these data have dt = {dt}.");
        if (windows < 0) throw new InvalidInputException($"windows must be 0 or positive (got {windows}).");
        CheckCorrection(correction, info.Method, frames);
    }

    private static (EntropyProductionEstimate Estimate, EntropyProductionTimeSeries? TimeSeries) Evaluate(NeuralModel model, TransitionSource data,
        int windows, int correction)
    {
        var info = model.Info;
        TorchRuntime.Initialise();
        if (info.Diffusion is not null && info.Diffusion.Length != info.Dimension * info.Dimension)
            throw new InvalidInputException($"the model's diffusion matrix has {info.Diffusion.Length} entries, expected {info.Dimension * info.Dimension}.");
        double[]? diffusion = info.Diffusion;
        // A current model is scored by the rule it was trained with (midpoint or trapezoid): the two rules' optimal
        // fields differ at O(dt), and scoring one with the other's loss moves the rate at O(dt).
        var field = info.Method == NeuralMethods.Current ? new FieldAverage(model.Networks.Cast<Module<Tensor, Tensor>>().ToArray()) : null;
        TransitionObjective objective = info.Method == NeuralMethods.Current
            ? info.Trapezoid
                ? new TrapezoidFieldObjective(field!, diffusion!, score: false, info.TimeInput)
                : new CurrentObjective(field!, diffusion!, info.TimeInput)
            : new NeepObjective(new PairAverage(model.Networks.Cast<Module<Tensor, Tensor, Tensor>>().ToArray()), data.Dt);
        try
        {
            TransitionUnit[] units = TransitionUnits.Split(data.Trajectories, data.Frames);
            var identity = Enumerable.Range(0, units.Length).ToArray();
            double span = (data.Frames - 1) * data.Dt;
            var heldOut = new HeldOutSums[correction + 1];
            for (int l = 0; l <= correction; l++)
            {
                heldOut[l] = new HeldOutSums(units.Length, windows, data.Header.StartTime, span);
                Trainer.Score(objective, data, units, identity, l + 1, heldOut[l]);
            }
            string errors = $"loaded model ({info.Folds} fold networks averaged) on {units.Length} {UnitName(data.Trajectories, units.Length)}";
            return Summarise(heldOut, info, data.Header, diffusion, info.Diffusion is null ? "" : "saved with the model", errors);
        }
        finally
        {
            objective.Dispose();
        }
    }

    /// <summary>The network as the <c>basis</c> of an estimate, e.g. "mlp:2x64" (current) or "antisymmetric-mlp:2x64" (NEEP), "+t" with a time input.</summary>
    public static string Describe(NeuralModelInfo info) =>
        (info.Method == NeuralMethods.Neep ? "antisymmetric-mlp:" : "mlp:") + $"{info.Layers}x{info.Hidden}" + (info.TimeInput ? "+t" : "");

    private static int InputWidth(NeuralModelInfo info) => info.Method == NeuralMethods.Neep ? 2 * info.Dimension : info.Dimension + (info.TimeInput ? 1 : 0);

    private static string UnitName(int trajectories, int units) => units == trajectories ? "trajectories" : "trajectory segments";

    /// <summary>D by Core's resolution (as the linear current estimator does): given, or the drift-corrected second cumulant
    /// with a linear drift model (<see cref="DynamicsEstimator"/>).</summary>
    internal static (double[] Matrix, string Source) ResolveDiffusion(TrajectoryEnsemble data, DiffusionSpec spec)
    {
        int d = data.Dimension;
        double[] matrix;
        string source;
        if (spec.Matrix is { } given)
        {
            matrix = given;
            source = "given";
        }
        else
        {
            var estimate = DynamicsEstimator.Infer(data, new PolynomialBasis(d, 1), spec.NoiseRobust, correction: CoarseSamplingCorrection.None).Diffusion;
            matrix = estimate.Matrix.ToArray();
            source = estimate.Method;
        }
        if (matrix.Length != d * d)
            throw new InvalidInputException($"the diffusion matrix has {matrix.Length} entries, but the data are {d}-dimensional ({d * d} entries expected).");
        return (matrix, source);
    }

    /// <summary>The same from a file read in chunks (the chunked current statistics give the in-memory D bit for bit).</summary>
    private static (double[] Matrix, string Source) ResolveDiffusion(Func<TrajectoryReader> open, long chunkValues, DiffusionSpec spec)
    {
        using var reader = open();
        int d = reader.Header.Dimension;
        if (spec.Matrix is { } given)
        {
            if (given.Length != d * d)
                throw new InvalidInputException($"the diffusion matrix has {given.Length} entries, but the data are {d}-dimensional ({d * d} entries expected).");
            return (given, "given");
        }
        var estimate = DynamicsEstimator.Infer(reader, new PolynomialBasis(d, 1), spec.NoiseRobust, ErrorOptions.Default, chunkValues, CoarseSamplingCorrection.None).Diffusion;
        return (estimate.Matrix.ToArray(), estimate.Method);
    }

    private static void CheckCorrection(int order, string method, int frames)
    {
        var correction = CoarseSamplingCorrection.FromOrder(order);
        if (order > 0 && method != NeuralMethods.Current)
            throw new InvalidInputException($"the coarse-sampling correction needs the current loss ({NeuralMethods.Current}); {method} learns Delta S for one step dt only.");
        correction.CheckFrames(frames);
    }

    private static (EntropyProductionEstimate, EntropyProductionTimeSeries?) Summarise(HeldOutSums[] heldOut, NeuralModelInfo info,
        TrajectoryHeader data, double[]? diffusion, string diffusionSource, string errors)
    {
        var correction = CoarseSamplingCorrection.FromOrder(heldOut.Length - 1);
        string method = correction.Label(info.Method);
        var (total, transitions) = HeldOutStatistics.Combination(heldOut, correction.Weights);
        var settings = new EstimateSettings(data.Dt, 1, errors, diffusion ?? [], diffusionSource);
        var estimate = new EntropyProductionEstimate(total.Mean, total.StandardError, total.Mean, method, Describe(info),
            (long)data.Trajectories * data.Frames, transitions, transitions * data.Dt, settings)
        {
            // held-out values of variational objectives: the current loss at a learned field is at most sigma (equal at the
            // thermodynamic force); NEEP's -<e^-dS> + <dS> + 1 at most the KL rate of frame pairs, i.e. the sampled chain's EP
            Quantity = info.Method == NeuralMethods.Neep ? EstimatedQuantity.SampledChainLowerBound : EstimatedQuantity.ContinuousLowerBound,
        };
        int windows = heldOut[0].Windows;
        if (windows == 0) return (estimate, null);
        var rates = new List<WindowedRate>();
        for (int w = 0; w < windows; w++)
        {
            var (m, _) = HeldOutStatistics.Combination(heldOut, correction.Weights, 1 + w);
            rates.Add(new WindowedRate(heldOut[0].Start(w), heldOut[0].End(w), m.Mean, m.StandardError, m.Mean));
        }
        return (estimate, new EntropyProductionTimeSeries(rates, estimate, $"{method} {Describe(info)}, held-out per window"));
    }
}
