using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// Shards of one run (a simulation split with <c>SimulationOptions.Shard</c> k/N) put back together, for trajectory files
/// (<see cref="Plan"/>, then <see cref="TrajectoryFile.Copy"/>) and energetics files (<see cref="EnergeticsFile.Merge"/>): the
/// shards must be of the same run (model, parameters, seed, size) and cover it exactly once, and both kinds say the same
/// thing about the same mistake.
/// </summary>
public static class ShardMerge
{
    /// <summary>
    /// Checks that the parts fit together (shape, frame spacing, start time, run) and, for shards of one run, puts them in
    /// order of their first trajectory, covering the run once; returns them in merge order and the merged file's header.
    /// </summary>
    /// <exception cref="InvalidInputException">Shards that do not fit, overlap or leave a gap; nothing is merged.</exception>
    public static (List<TrajectoryReader> Ordered, TrajectoryHeader Merged) Plan(List<TrajectoryReader> parts)
    {
        if (parts.Count == 0) throw new InvalidInputException("no shards to merge; give the shard files of one run.");
        var reference = parts[0].Header;
        foreach (var part in parts)
        {
            var e = part.Header;
            if (e.Frames != reference.Frames || e.Dimension != reference.Dimension)
                throw new InvalidInputException($"{e.Path}: {e.Frames} frames x {e.Dimension} coordinates, but {reference.Path} has {reference.Frames} x {reference.Dimension}; shards of one run have the same shape.");
            if (Math.Abs(e.Dt - reference.Dt) > 1e-12 * reference.Dt || e.StartTime != reference.StartTime)
                throw new InvalidInputException($"{e.Path}: frame spacing {e.Dt} / start {e.StartTime} differ from {reference.Path} ({reference.Dt} / {reference.StartTime}).");
            if (!SameRun(e.Metadata, reference.Metadata))
                throw new InvalidInputException($"{e.Path}: model, parameters, seed or run size differ from {reference.Path}; merge only shards of the same run.");
        }
        bool sharded = reference.Metadata.TotalTrajectories is not null;
        if (sharded)
        {
            parts = InOrderCovering(parts, p => p.Header.Path, p => p.Header.Metadata.FirstTrajectory, p => p.Header.Trajectories,
                reference.Metadata.TotalTrajectories, out _);
        }
        long count = parts.Sum(p => (long)p.Header.Trajectories);
        if (count > int.MaxValue) throw new InvalidInputException($"the merged file would hold {count} trajectories, more than one file indexes ({int.MaxValue}); keep the shards separate.");
        var metadata = reference.Metadata with { FirstTrajectory = sharded ? 0 : reference.Metadata.FirstTrajectory, TotalTrajectories = null };
        return (parts, reference with { Path = "", Trajectories = (int)count, Metadata = metadata });
    }

    /// <summary>Whether two shards' provenance names the same run: model, parameters, seed and run size.</summary>
    internal static bool SameRun(TrajectoryMetadata m, TrajectoryMetadata r) =>
        m.Model == r.Model && m.ParametersJson == r.ParametersJson && m.Seed == r.Seed && m.TotalTrajectories == r.TotalTrajectories;

    /// <summary>
    /// Puts shards in order of their first global trajectory index and checks that they cover 0 .. end - 1 exactly once
    /// (no overlap, no gap) and, when <paramref name="total"/> is known, that end equals it. Shared by trajectory and
    /// energetics merges so both say the same thing about the same mistake.
    /// </summary>
    internal static List<T> InOrderCovering<T>(IEnumerable<T> parts, Func<T, string> path, Func<T, long> first, Func<T, long> count,
        long? total, out long end)
    {
        var ordered = parts.OrderBy(first).ToList();
        long expected = 0;
        foreach (var p in ordered)
        {
            long f = first(p);
            if (f != expected)
                throw new InvalidInputException(f < expected
                    ? $"{path(p)}: trajectories {f}..{f + count(p) - 1} overlap another shard; give each shard once."
                    : $"{path(p)}: trajectories {expected}..{f - 1} are missing before this shard; give every shard of the run.");
            expected = f + count(p);
        }
        if (total is { } t && expected != t)
            throw new InvalidInputException($"the shards hold trajectories 0..{expected - 1} but the run has {t}; shards are missing.");
        end = expected;
        return ordered;
    }
}
