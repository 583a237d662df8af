using ThermoLearn.Neural.Runtime;
using ThermoLearn.Trajectories;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>Trained fold networks with the units each one held out, and their training curves.</summary>
internal sealed class CrossFitResult<TObjective> : IDisposable where TObjective : TransitionObjective
{
    public required TObjective[] Objectives { get; init; }
    public required FoldPlan[] Plans { get; init; }
    public required TrainingCurve[] Curves { get; init; }
    /// <summary>Held-out sums per unit at lag 1, 2, ... (index lag - 1): lags above 1 feed the coarse-sampling correction.</summary>
    public required HeldOutSums[] HeldOutByLag { get; init; }

    /// <summary>All units, in ensemble order (the index of <see cref="HeldOutSums"/>).</summary>
    public required TransitionUnit[] Units { get; init; }

    public void Dispose()
    {
        foreach (var o in Objectives) o.Dispose();
    }
}

/// <summary>
/// Trains one network per fold on the other folds (early stopping on a validation subset of them)
/// and scores the held-out fold: K-fold cross-fitting, so the estimate uses all data while each
/// transition is evaluated out of sample, and its standard error comes from held-out trajectories.
/// With <c>lags</c> &gt; 1 the held-out units are also scored at lags 2.. (same network) for the
/// coarse-sampling correction.
/// </summary>
internal static class CrossFit
{
    /// <summary>Transitions per block of the held-out and validation passes (the evaluation's batch).</summary>
    public const int EvaluationBlock = 1 << 16;

    /// <param name="source">The data, in memory or streamed (every pass reads them sequentially).</param>
    /// <param name="options">Training settings.</param>
    /// <param name="createObjective">The objective of fold k.</param>
    /// <param name="progress">Per-epoch progress.</param>
    /// <param name="cancellation">Stops training.</param>
    /// <param name="lags">Held-out lags scored (1 + the coarse-sampling correction's order).</param>
    /// <param name="windows">Time windows of the held-out sums (0: none).</param>
    public static CrossFitResult<TObjective> Run<TObjective>(TransitionSource source, TrainingOptions options,
        Func<int, TObjective> createObjective, IProgress<TrainingProgress>? progress, CancellationToken cancellation, int lags = 1, int windows = 0)
        where TObjective : TransitionObjective
    {
        options.Validate();
        TorchRuntime.Initialise(options.Threads);
        TransitionUnit[] units = TransitionUnits.Split(source.Trajectories, source.Frames);
        FoldPlan[] plans = TransitionUnits.Plan(units, options);
        var unitIndex = new Dictionary<TransitionUnit, int>(units.Length);
        for (int i = 0; i < units.Length; i++) unitIndex[units[i]] = i;

        var objectives = new List<TObjective>();
        var curves = new TrainingCurve[plans.Length];
        double span = (source.Frames - 1) * source.Dt;
        var heldOut = Enumerable.Range(0, lags).Select(_ => new HeldOutSums(units.Length, windows, source.Header.StartTime, span)).ToArray();
        try
        {
            for (int k = 0; k < plans.Length; k++)
            {
                ulong foldSeed = Randomness.RandomStream.SplitMix64(options.Seed + (ulong)k * Randomness.RandomPurposes.NeuralFoldSeedStride);
                manual_seed(unchecked((long)foldSeed));
                TObjective objective = createObjective(k);
                objectives.Add(objective);
                curves[k] = Trainer.Train(objective, source, plans[k].Train, plans[k].Validation, options, foldSeed, k, progress, cancellation);
                var held = plans[k].HeldOut;
                var global = Array.ConvertAll(held, u => unitIndex[u]);
                for (int l = 0; l < lags; l++) Trainer.Score(objective, source, held, global, l + 1, heldOut[l]);
            }
        }
        catch
        {
            foreach (var o in objectives) o.Dispose();
            throw;
        }
        return new CrossFitResult<TObjective>
        {
            Objectives = objectives.ToArray(),
            Plans = plans,
            Curves = curves,
            HeldOutByLag = heldOut,
            Units = units,
        };
    }
}
