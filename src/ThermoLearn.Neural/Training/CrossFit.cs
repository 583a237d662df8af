using ThermoLearn.Neural.Runtime;
using ThermoLearn.Trajectories;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Per-transition held-out values of a cross-fitted estimate: every transition is scored by the
/// network of the fold that held its trajectory (or segment) out.
/// </summary>
/// <param name="Units">All units, in ensemble order.</param>
/// <param name="Contribution">Per transition (grouped fold by fold): its held-out contribution.</param>
/// <param name="Unit">Per transition: index into <paramref name="Units"/>.</param>
/// <param name="Time">Per transition: midpoint time.</param>
internal sealed record HeldOutValues(TransitionUnit[] Units, double[] Contribution, int[] Unit, double[] Time);

/// <summary>Trained fold networks with the units each one held out, and their training curves.</summary>
internal sealed class CrossFitResult<TObjective> : IDisposable where TObjective : TransitionObjective
{
    public required TObjective[] Objectives { get; init; }
    public required FoldPlan[] Plans { get; init; }
    public required TrainingCurve[] Curves { get; init; }
    /// <summary>Held-out values at lag 1, 2, ... (index lag - 1): lags above 1 feed the coarse-sampling correction.</summary>
    public required HeldOutValues[] HeldOutByLag { get; init; }

    public HeldOutValues HeldOut => HeldOutByLag[0];

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
    public static CrossFitResult<TObjective> Run<TObjective>(TrajectoryEnsemble data, TrainingOptions options,
        Func<int, TObjective> createObjective, IProgress<TrainingProgress>? progress, CancellationToken cancellation, int lags = 1)
        where TObjective : TransitionObjective
    {
        options.Validate();
        data.EnsureFinite("trajectory data");
        TorchRuntime.Initialise(options.Threads);
        TransitionUnit[] units = TransitionUnits.Split(data);
        FoldPlan[] plans = TransitionUnits.Plan(units, options);
        var unitIndex = new Dictionary<TransitionUnit, int>(units.Length);
        for (int i = 0; i < units.Length; i++) unitIndex[units[i]] = i;

        var objectives = new List<TObjective>();
        var curves = new TrainingCurve[plans.Length];
        var contribution = new List<double>[lags];
        var unitOf = new List<int>[lags];
        var time = new List<double>[lags];
        for (int l = 0; l < lags; l++) (contribution[l], unitOf[l], time[l]) = ([], [], []);
        try
        {
            for (int k = 0; k < plans.Length; k++)
            {
                ulong foldSeed = Randomness.RandomStream.SplitMix64(options.Seed + (ulong)k * 0x9E3779B97F4A7C15UL);
                manual_seed(unchecked((long)foldSeed));
                TObjective objective = createObjective(k);
                objectives.Add(objective);
                using (var train = TransitionTensors.Build(data, plans[k].Train))
                using (var validation = TransitionTensors.Build(data, plans[k].Validation))
                {
                    curves[k] = Trainer.Train(objective, train, validation, options, foldSeed, k, progress, cancellation);
                }
                for (int l = 0; l < lags; l++)
                {
                    using var held = TransitionTensors.Build(data, plans[k].HeldOut, l + 1);
                    contribution[l].AddRange(Trainer.Contributions(objective, held));
                    time[l].AddRange(held.Time);
                    foreach (int u in held.Unit) unitOf[l].Add(unitIndex[plans[k].HeldOut[u]]);
                }
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
            HeldOutByLag = Enumerable.Range(0, lags)
                .Select(l => new HeldOutValues(units, contribution[l].ToArray(), unitOf[l].ToArray(), time[l].ToArray())).ToArray(),
        };
    }
}
