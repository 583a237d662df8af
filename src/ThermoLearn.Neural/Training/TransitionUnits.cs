using ThermoLearn.Randomness;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// A contiguous run of transitions x_f -> x_{f+1}, f in [<see cref="Start"/>, <see cref="End"/>),
/// of one trajectory: the unit that is held out as a whole, so held-out statistics see
/// independent (or nearly independent, for segments of one long trajectory) pieces of data.
/// </summary>
internal readonly record struct TransitionUnit(int Trajectory, int Start, int End)
{
    public int Count => End - Start;
}

/// <summary>Splits an ensemble into units and deals them into cross-fitting folds.</summary>
internal static class TransitionUnits
{
    /// <summary>Units wanted at least, so that held-out standard errors have enough independent pieces.</summary>
    public const int MinimumUnits = 40;

    /// <summary>
    /// Units of <paramref name="trajectories"/> trajectories of <paramref name="frames"/> frames: one unit per trajectory when
    /// there are at least <see cref="MinimumUnits"/> trajectories; otherwise each trajectory is cut into equal contiguous
    /// segments (their correlation is negligible when a segment is much longer than the relaxation time).
    /// </summary>
    public static TransitionUnit[] Split(int trajectories, int frames)
    {
        int transitions = frames - 1;
        if (transitions < 1)
            throw new InvalidInputException($"neural estimators need at least 2 frames per trajectory (got {frames}).");
        int perTrajectory = trajectories >= MinimumUnits ? 1 : (MinimumUnits + trajectories - 1) / trajectories;
        perTrajectory = Math.Min(perTrajectory, transitions);
        var units = new List<TransitionUnit>(trajectories * perTrajectory);
        for (int r = 0; r < trajectories; r++)
        {
            for (int s = 0; s < perTrajectory; s++)
            {
                int start = (int)((long)transitions * s / perTrajectory);
                int end = (int)((long)transitions * (s + 1) / perTrajectory);
                if (end > start) units.Add(new TransitionUnit(r, start, end));
            }
        }
        return units.ToArray();
    }

    /// <summary>A permutation of 0..n-1 from the given stream (Fisher-Yates).</summary>
    public static int[] Permutation(int n, ref RandomStream random)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>
    /// Deals units into folds after a seeded shuffle: returns, for each fold, its held-out units,
    /// the units it trains on and the units it uses for early stopping.
    /// </summary>
    public static FoldPlan[] Plan(TransitionUnit[] units, TrainingOptions options)
    {
        int needed = 3 * options.Folds;
        if (units.Length < needed)
            throw new InvalidInputException($"neural estimators with {options.Folds} folds need at least {needed} trajectory pieces "
                + $"to train, stop early and hold out; the data give {units.Length}. Use more or longer trajectories, or fewer folds.");
        var random = RandomStream.For(options.Seed, 0, RandomPurposes.NeuralFoldPlan);
        int[] order = Permutation(units.Length, ref random);
        var plans = new FoldPlan[options.Folds];
        for (int k = 0; k < options.Folds; k++)
        {
            var held = new List<TransitionUnit>();
            var pool = new List<TransitionUnit>();
            for (int i = 0; i < order.Length; i++)
            {
                (i % options.Folds == k ? held : pool).Add(units[order[i]]);
            }
            int validation = Math.Clamp((int)Math.Ceiling(options.ValidationFraction * pool.Count), 1, pool.Count - 1);
            plans[k] = new FoldPlan(held.ToArray(), pool.Skip(validation).ToArray(), pool.Take(validation).ToArray());
        }
        return plans;
    }
}

/// <summary>The units one cross-fitting fold scores, trains on and stops early on.</summary>
internal sealed record FoldPlan(TransitionUnit[] HeldOut, TransitionUnit[] Train, TransitionUnit[] Validation);
