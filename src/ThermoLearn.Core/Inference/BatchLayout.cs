using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>
/// How the transitions of an ensemble are cut into batches for standard errors: whole trajectories
/// when there are enough of them (independent units), otherwise contiguous time blocks within each
/// trajectory. Consecutive increments are correlated through x (over the relaxation time), so the
/// batches must be long compared with it; blocks of a long trajectory are nearly independent and their
/// spread gives an honest error (batch means; Flyvbjerg &amp; Petersen, J. Chem. Phys. 91, 461 (1989)).
/// Batches are also the unit of parallel work, reduced in batch order, so results do not depend on the
/// thread count.
/// </summary>
internal sealed class BatchLayout
{
    /// <summary>Batches: trajectories [TrajectoryFrom, TrajectoryTo) x start frames [FrameFrom, FrameTo).</summary>
    public readonly record struct Batch(int TrajectoryFrom, int TrajectoryTo, int FrameFrom, int FrameTo);

    private BatchLayout(Batch[] batches, bool wholeTrajectories)
    {
        Batches = batches;
        WholeTrajectories = wholeTrajectories;
    }

    public IReadOnlyList<Batch> Batches { get; }

    /// <summary>True when batches are groups of whole trajectories, false for time blocks.</summary>
    public bool WholeTrajectories { get; }

    public int Count => Batches.Count;

    /// <summary>Describes the error unit for results, e.g. "jackknife over 50 time blocks".</summary>
    public string Unit => WholeTrajectories ? "groups of whole trajectories" : "time blocks";

    /// <summary>
    /// About <paramref name="target"/> batches over start frames 0..Frames-2 (every transition of lag 1;
    /// a larger lag uses the same blocks, so statistics at several lags share batches).
    /// </summary>
    public static BatchLayout Create(TrajectoryEnsemble data, int target)
    {
        if (target < 2) throw new InvalidInputException($"Standard errors need at least 2 batches (got {target}).");
        int t = data.Trajectories, starts = data.Frames - 1;
        if (starts < 1) throw new InvalidInputException($"Trajectories need at least 2 frames to form a transition (got {data.Frames}).");
        if (t >= target)
        {
            var list = new Batch[target];
            for (int b = 0; b < target; b++)
                list[b] = new Batch((int)((long)t * b / target), (int)((long)t * (b + 1) / target), 0, starts);
            return new BatchLayout(list, true);
        }
        int blocks = Math.Min((target + t - 1) / t, starts);
        var blocksList = new Batch[t * blocks];
        for (int r = 0; r < t; r++)
            for (int k = 0; k < blocks; k++)
                blocksList[r * blocks + k] = new Batch(r, r + 1, (int)((long)starts * k / blocks), (int)((long)starts * (k + 1) / blocks));
        return new BatchLayout(blocksList, blocks == 1);
    }
}
