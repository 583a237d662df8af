using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn merge --out FILE SHARD…</c>: concatenates shard files into one ensemble. When the shards carry
/// provenance (ThermoLearn's sidecar or an HDF5 file), they are put in order of their first global trajectory index
/// and must be of the same run (model, parameters, seed, size) and cover it exactly once, without gaps.
/// Shards that are energetics CSVs (<c>simulate --energetics</c>) merge the same way into one energetics CSV
/// (<see cref="EnergeticsFile"/>); trajectory and energetics shards merge in separate calls.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(CliConsole console)
    {
        var output = new Option<string>("--out") { Description = "Merged file: a trajectory file (format by extension), or a .csv for energetics shards.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var shards = new Argument<string[]>("shards") { Description = "Shard files written by 'thermolearn simulate --shard k/N' (--out files, or all the --energetics CSVs).", Arity = ArgumentArity.OneOrMore };
        var chunkMb = ConvertCommand.ChunkOption();
        var command = new Command("merge", "Merge shard files of one simulation (trajectories, or energetics CSVs) into a single file.") { output, chunkMb, json, shards };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            SimulateCommand.CheckWritable(outPath);
            var files = parse.GetValue(shards)!;
            var energeticsFiles = files.Where(EnergeticsFile.IsEnergeticsCsv).ToList();
            if (energeticsFiles.Count > 0)
            {
                if (energeticsFiles.Count != files.Length)
                    throw new InvalidInputException($"{energeticsFiles[0]} is an energetics CSV but {files.First(f => !energeticsFiles.Contains(f))} is not; "
                        + "merge trajectory shards and energetics shards separately, in two calls.");
                return MergeEnergetics(console, files, outPath, parse.GetValue(json));
            }
            TrajectoryFile.ForPath(outPath);
            long chunkValues = ConvertCommand.ChunkValues(parse.GetValue(chunkMb));
            var readers = new List<TrajectoryReader>();
            TrajectoryHeader merged;
            try
            {
                foreach (string f in files) readers.Add(TrajectoryFile.OpenReader(f));
                var (ordered, header) = Plan(readers);
                merged = header;
                // each shard's values are checked against its own sidecar's fingerprint as they pass, before the output gets its name
                TrajectoryFile.Copy(ordered, header, outPath, chunkValues, r =>
                {
                    for (int i = 0; i < ordered.Count; i++) TrajectoryFile.CheckSidecarFingerprint(ordered[i].Header.Path, r.InputFingerprints[i]);
                });
            }
            finally
            {
                foreach (var r in readers) r.Dispose();
            }
            var report = new JsonObject
            {
                ["output"] = outPath,
                ["shards"] = files.Length,
                ["trajectories"] = merged.Trajectories,
                ["frames"] = merged.Frames,
                ["dimension"] = merged.Dimension,
                ["dt"] = merged.Dt,
                ["model"] = merged.Metadata.Model,
                ["seed"] = merged.Metadata.Seed,
            };
            if (parse.GetValue(json)) JsonOutput.Write(console, report);
            else console.Out.WriteLine($"merged {files.Length} files: {merged.Trajectories} trajectories x {merged.Frames} frames -> {outPath}");
            return CliApp.ExitOk;
        });
        return command;
    }

    private static int MergeEnergetics(CliConsole console, string[] files, string outPath, bool json)
    {
        if (!outPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new InvalidInputException($"--out {outPath}: the shards are energetics CSVs, so the merged file is CSV too; give a name ending in .csv.");
        var merged = EnergeticsFile.Merge(files, outPath);
        if (json)
            JsonOutput.Write(console, new JsonObject
            {
                ["output"] = outPath,
                ["kind"] = "energetics",
                ["shards"] = files.Length,
                ["trajectories"] = merged.Rows,
                ["model"] = merged.Provenance?.Model,
                ["seed"] = merged.Provenance?.Seed,
            });
        else console.Out.WriteLine($"merged {files.Length} energetics files: {merged.Rows} trajectories -> {outPath}");
        return CliApp.ExitOk;
    }

    /// <summary>
    /// Checks that the parts fit together (shape, frame spacing, start time, run) and, for shards of one run, puts them in
    /// order of their first trajectory, covering the run once; returns them in merge order and the merged file's header.
    /// </summary>
    internal static (List<TrajectoryReader> Ordered, TrajectoryHeader Merged) Plan(List<TrajectoryReader> parts)
    {
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
