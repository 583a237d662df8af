using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn convert --in A --out B [--chunk-mb M]</c>: rewrites a trajectory file in the format named by B's extension
/// (.npy, .csv, .h5/.hdf5, .parquet/.pq), keeping the values bit for bit and the metadata (dt, start time,
/// model, parameters, seed) wherever the target format can hold it. The file is copied chunk by chunk (memory bounded by
/// --chunk-mb, not by the file); the output is read back, its values' fingerprint compared with the input's, before the
/// command reports success; what the target cannot hold is named on stderr.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Option<string>("--in") { Description = "Trajectory file to read (format from its extension).", Required = true };
        var output = new Option<string>("--out") { Description = "File to write (format from its extension); written under a temporary name, then renamed.", Required = true };
        var dt = new Option<double?>("--dt") { Description = "Time between frames, for an input that does not store it (e.g. .npy without sidecar); one that disagrees with a stored dt is refused unless --dt-override." };
        var dtOverride = new Option<bool>("--dt-override") { Description = "Write --dt even where the input stores another frame spacing." };
        var chunkMb = ChunkOption();
        var json = SharedOptions.Json();
        var command = new Command("convert", "Convert trajectories between .npy, .csv, .h5 and .parquet, keeping data and metadata.")
        {
            input, output, dt, dtOverride, chunkMb, json,
        };
        command.SetAction(parse => Run(console, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(dt), parse.GetValue(dtOverride),
            ChunkValues(parse.GetValue(chunkMb)), parse.GetValue(json)));
        return command;
    }

    /// <summary>--chunk-mb of convert and merge.</summary>
    internal static Option<int> ChunkOption() => new("--chunk-mb")
    {
        Description = "Megabytes of values held at once while copying (the file is never held whole).",
        DefaultValueFactory = _ => 128,
    };

    internal static long ChunkValues(int megabytes) => megabytes is >= 1 and <= 65536
        ? (long)megabytes * (1 << 20) / sizeof(double)
        : throw new InvalidInputException($"--chunk-mb must be between 1 and 65536 (got {megabytes}).");

    private static int Run(CliConsole console, string input, string output, double? dt, bool dtOverride, long chunkValues, bool json)
    {
        if (dtOverride && dt is null) throw new InvalidInputException("--dt-override says that --dt wins over a stored frame spacing; give --dt too.");
        if (dt is { } d && (!(d > 0) || !double.IsFinite(d)))
            throw new InvalidInputException($"--dt {d}: the time between frames must be a positive finite number.");
        var inFormat = TrajectoryFile.ForPath(input);
        var outFormat = TrajectoryFile.ForPath(output);

        TrajectoryHeader header;
        TrajectoryCopyResult copied;
        using (var reader = TrajectoryFile.OpenReader(input, dt, dtOverride))
        {
            header = reader.Header;
            InferenceInput.NoteLayout(console, input);
            copied = TrajectoryFile.Copy([reader], header, output, chunkValues, r => TrajectoryFile.CheckSidecarFingerprint(input, r.InputFingerprints[0]));
        }
        var dropped = Verify(output, header, copied.Fingerprint, chunkValues);
        if (dropped.Count > 0)
            console.Error.WriteLine($"note: {outFormat.Name} files do not keep {string.Join(", ", dropped)} exactly"
                + (dropped.Contains("dt") ? $"; pass --dt {header.Dt} when reading {output}." : "."));

        if (json)
        {
            JsonOutput.Write(console, new JsonObject
            {
                ["input"] = input,
                ["output"] = output,
                ["input_format"] = inFormat.Name,
                ["output_format"] = outFormat.Name,
                ["trajectories"] = header.Trajectories,
                ["frames"] = header.Frames,
                ["dim"] = header.Dimension,
                ["dt"] = JsonOutput.Number(header.Dt),
                ["model"] = header.Metadata.Model,
                ["seed"] = header.Metadata.Seed is { } s ? JsonValue.Create(s) : null,
                ["not_stored"] = new JsonArray(dropped.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()),
            });
        }
        else
        {
            console.Error.WriteLine($"{input} ({inFormat.Name}) -> {output} ({outFormat.Name}): {header.Trajectories} trajectories x {header.Frames} frames x {header.Dimension} dimensions, dt = {header.Dt}.");
        }
        return CliApp.ExitOk;
    }

    /// <summary>
    /// Reads the written file back chunk by chunk: its values must have the fingerprint of those written (a 64-bit hash of every
    /// value's bits: an accidental difference passes with probability 2^-64), else the output is removed and the command fails;
    /// returns the metadata fields the target format does not keep.
    /// </summary>
    internal static List<string> Verify(string output, TrajectoryHeader written, string fingerprint, long chunkValues)
    {
        // A fallback dt one ulp away from the real one shows whether the file stored dt itself.
        TrajectoryHeader back;
        string backPrint;
        try
        {
            using var reader = TrajectoryReader.Open(output, Math.BitIncrement(written.Dt));
            back = reader.Header;
            var builder = new DataFingerprint.Builder();
            long block = Math.Max(1, chunkValues / back.Dimension) * back.Dimension;
            var buffer = new double[Math.Min(block, Math.Max(back.Values, back.Dimension))];
            for (long at = 0; at < back.Values; at += buffer.Length)
            {
                var piece = buffer.AsSpan(0, (int)Math.Min(buffer.Length, back.Values - at));
                reader.ReadNext(piece);
                builder.Append(piece);
            }
            backPrint = builder.Finish();
        }
        catch (InvalidInputException e)
        {
            // e.g. NaN or infinity written to CSV, whose reader takes finite numbers only: the file is complete but unreadable
            Remove(output);
            throw new InvalidInputException($"{output}: the converted file could not be read back ({e.Message.TrimEnd('.')}); it was removed."
                + (TrajectoryFile.ForPath(output) is CsvFormat ? " CSV files hold finite numbers only: convert to .npy, .h5 or .parquet to keep NaN and infinities." : ""));
        }
        bool same = back.Trajectories == written.Trajectories && back.Frames == written.Frames && back.Dimension == written.Dimension && backPrint == fingerprint;
        if (!same)
        {
            Remove(output);
            throw new InvalidOperationException($"{output}: reading the converted file back did not give the same values; the file was removed.");
        }
        var dropped = new List<string>();
        var (a, b) = (written.Metadata, back.Metadata);
        if (BitConverter.DoubleToInt64Bits(back.Dt) != BitConverter.DoubleToInt64Bits(written.Dt)) dropped.Add("dt");
        if (BitConverter.DoubleToInt64Bits(back.StartTime) != BitConverter.DoubleToInt64Bits(written.StartTime)) dropped.Add("start_time");
        if (a.Model != b.Model) dropped.Add("model");
        if (a.ParametersJson != b.ParametersJson) dropped.Add("parameters");
        if (a.Seed != b.Seed) dropped.Add("seed");
        return dropped;
    }

    /// <summary>Deletes a written output and the sidecar written with it.</summary>
    private static void Remove(string output)
    {
        File.Delete(output);
        if (TrajectoryFile.ForPath(output) is ISidecarTrajectoryFormat) File.Delete(TrajectorySidecar.PathFor(output));
    }
}
