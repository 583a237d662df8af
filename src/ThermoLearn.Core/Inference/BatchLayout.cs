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

    private readonly string? _unit;

    private BatchLayout(Batch[] batches, bool wholeTrajectories, int[]? runIndex = null, int runCount = 0, string? unit = null)
    {
        _unit = unit;
        Batches = batches;
        WholeTrajectories = wholeTrajectories;
        RunIndex = runIndex;
        RunCount = runCount;
    }

    /// <summary>For a part of a larger run: the index of each batch in the run's layout (<see cref="ForPart"/>); null otherwise.</summary>
    public IReadOnlyList<int>? RunIndex { get; }

    /// <summary>For a part of a larger run: the number of batches of the whole run; 0 otherwise.</summary>
    public int RunCount { get; }

    /// <summary>A layout with the given batches (for statistics read from files).</summary>
    internal static BatchLayout FromParts(Batch[] batches, bool wholeTrajectories, int[]? runIndex, int runCount, string? unit = null) =>
        new(batches, wholeTrajectories, runIndex, runCount, unit);

    public IReadOnlyList<Batch> Batches { get; }

    /// <summary>True when batches are groups of whole trajectories, false for time blocks.</summary>
    public bool WholeTrajectories { get; }

    public int Count => Batches.Count;

    /// <summary>Describes the error unit for results, e.g. "jackknife over 50 time blocks".</summary>
    public string Unit => _unit ?? (WholeTrajectories ? "groups of whole trajectories" : "time blocks");

    /// <summary>
    /// About <paramref name="target"/> batches over start frames 0..Frames-2 (every transition of lag 1;
    /// a larger lag uses the same blocks, so statistics at several lags share batches).
    /// </summary>
    public static BatchLayout Create(TrajectoryEnsemble data, int target) => Create(data.Trajectories, data.Frames, target);

    /// <summary>The layout of <see cref="Create(TrajectoryEnsemble, int)"/> for <paramref name="t"/> trajectories of <paramref name="frames"/> frames.</summary>
    public static BatchLayout Create(int t, int frames, int target)
    {
        if (target < 2) throw new InvalidInputException($"Standard errors need at least 2 batches (got {target}).");
        int starts = frames - 1;
        if (starts < 1) throw new InvalidInputException($"Trajectories need at least 2 frames to form a transition (got {frames}).");
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

    /// <summary>
    /// The batches of a whole run of <paramref name="total"/> trajectories (the layout <see cref="Create(int, int, int)"/> gives
    /// the run) restricted to the part holding trajectories [<paramref name="first"/>, first + <paramref name="count"/>), in the
    /// part's own trajectory indices, each with its index in the run's layout. The parts' sums per run batch then add up to the
    /// run's; a batch that straddles two parts is the sum of two partial sums.
    /// </summary>
    public static BatchLayout ForPart(long first, int count, long total, int frames, int target, string source)
    {
        if (first < 0 || count < 1 || first + count > total)
            throw new InvalidInputException($"{source}: trajectories {first}..{first + count - 1} are not within the run's {total} trajectories (metadata first_trajectory / total_trajectories).");
        if (total > int.MaxValue) throw new InvalidInputException($"{source}: a run of {total} trajectories is more than one batch layout indexes ({int.MaxValue}).");
        var run = Create((int)total, frames, target);
        var batches = new List<Batch>();
        var index = new List<int>();
        for (int b = 0; b < run.Count; b++)
        {
            var x = run.Batches[b];
            long from = Math.Max(x.TrajectoryFrom, first), to = Math.Min(x.TrajectoryTo, first + count);
            if (from >= to) continue;
            batches.Add(new Batch((int)(from - first), (int)(to - first), x.FrameFrom, x.FrameTo));
            index.Add(b);
        }
        return new BatchLayout(batches.ToArray(), run.WholeTrajectories, index.ToArray(), run.Count);
    }
}
