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
        var json = SharedOptions.Json();
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
                var (ordered, header) = ShardMerge.Plan(readers);
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
}
