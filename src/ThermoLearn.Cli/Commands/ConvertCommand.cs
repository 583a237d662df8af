using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn convert --in A --out B</c>: rewrites a trajectory file in the format named by B's extension
/// (.npy, .csv, .h5/.hdf5, .parquet/.pq), keeping the values bit for bit and the metadata (dt, start time,
/// model, parameters, seed) wherever the target format can hold it. The output is read back and compared
/// before the command reports success; what the target cannot hold is named on stderr.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Option<string>("--in") { Description = "Trajectory file to read (format from its extension).", Required = true };
        var output = new Option<string>("--out") { Description = "File to write (format from its extension); written under a temporary name, then renamed.", Required = true };
        var dt = new Option<double?>("--dt") { Description = "Time between frames, for an input that does not store it (e.g. .npy without sidecar); one that disagrees with a stored dt is refused unless --dt-override." };
        var dtOverride = new Option<bool>("--dt-override") { Description = "Write --dt even where the input stores another frame spacing." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var command = new Command("convert", "Convert trajectories between .npy, .csv, .h5 and .parquet, keeping data and metadata.")
        {
            input, output, dt, dtOverride, json,
        };
        command.SetAction(parse => Run(console, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(dt), parse.GetValue(dtOverride), parse.GetValue(json)));
        return command;
    }

    private static int Run(CliConsole console, string input, string output, double? dt, bool dtOverride, bool json)
    {
        if (dtOverride && dt is null) throw new InvalidInputException("--dt-override says that --dt wins over a stored frame spacing; give --dt too.");
        if (dt is { } d && (!(d > 0) || !double.IsFinite(d)))
            throw new InvalidInputException($"--dt {d}: the time between frames must be a positive finite number.");
        var inFormat = TrajectoryFile.ForPath(input);
        var outFormat = TrajectoryFile.ForPath(output);

        var ensemble = TrajectoryFile.Read(input, dt, dtOverride);
        TrajectoryFile.Write(output, ensemble);
        var dropped = Verify(output, ensemble);
        if (dropped.Count > 0)
            console.Error.WriteLine($"note: {outFormat.Name} files do not keep {string.Join(", ", dropped)} exactly"
                + (dropped.Contains("dt") ? $"; pass --dt {ensemble.Dt} when reading {output}." : "."));

        if (json)
        {
            JsonOutput.Write(console, new JsonObject
            {
                ["input"] = input,
                ["output"] = output,
                ["input_format"] = inFormat.Name,
                ["output_format"] = outFormat.Name,
                ["trajectories"] = ensemble.Trajectories,
                ["frames"] = ensemble.Frames,
                ["dim"] = ensemble.Dimension,
                ["dt"] = JsonOutput.Number(ensemble.Dt),
                ["model"] = ensemble.Metadata.Model,
                ["seed"] = ensemble.Metadata.Seed is { } s ? JsonValue.Create(s) : null,
                ["not_stored"] = new JsonArray(dropped.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()),
            });
        }
        else
        {
            console.Error.WriteLine($"{input} ({inFormat.Name}) -> {output} ({outFormat.Name}): {ensemble.Trajectories} trajectories x {ensemble.Frames} frames x {ensemble.Dimension} dimensions, dt = {ensemble.Dt}.");
        }
        return CliApp.ExitOk;
    }

    /// <summary>
    /// Reads the written file back: the values must be bit-identical (else the output is removed and the
    /// command fails); returns the metadata fields the target format does not keep.
    /// </summary>
    private static List<string> Verify(string output, TrajectoryEnsemble written)
    {
        // A fallback dt one ulp away from the real one shows whether the file stored dt itself.
        var back = TrajectoryFile.Read(output, Math.BitIncrement(written.Dt));
        bool same = back.Trajectories == written.Trajectories && back.Frames == written.Frames && back.Dimension == written.Dimension
            && BitwiseEqual(back.Data, written.Data);
        if (!same)
        {
            File.Delete(output);
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

    /// <summary>Equality of bit patterns: NaN payloads and -0.0 included, which == on doubles does not see.</summary>
    private static bool BitwiseEqual(double[] x, double[] y) =>
        x.Length == y.Length && System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(y.AsSpan()));
}
