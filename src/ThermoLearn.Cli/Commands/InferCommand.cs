using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn infer --in FILE [--dt DT] [--basis poly:1] [--noise-robust] [--plot FILE.png] [--chunk-mb M] [--json]</c>: drift (force)
/// coefficients, diffusion matrix, score and mean local velocity with standard errors (see <see cref="DynamicsEstimator"/>).
/// Without --plot the file is read in chunks into the current statistics (memory bounded by --chunk-mb; the same bits as in memory).
/// </summary>
internal static class InferCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new InferenceInput();
        var basis = new Option<string>("--basis") { Description = "Basis: " + BasisSpec.Help + ".", DefaultValueFactory = _ => "poly:1" };
        var robust = new Option<bool>("--noise-robust") { Description = "Diffusion from successive increments (robust to measurement noise)." };
        var plot = new Option<string?>("--plot") { Description = "Figure (.png/.svg) of the inferred drift: |drift| over 2-D data, drift(x) for 1-D data." };
        var json = SharedOptions.Json();
        var chunkMb = new Option<int>("--chunk-mb")
        {
            Description = "Megabytes of the file held per chunk (two chunks are held); without --plot the file is read in chunks into the sums, never whole.",
            DefaultValueFactory = _ => 128,
        };
        var command = new Command("infer", "Infer drift, diffusion, score and mean local velocity from trajectories, with standard errors.");
        input.AddTo(command);
        foreach (var o in new Option[] { basis, robust, plot, chunkMb, json }) command.Add(o);
        command.SetAction(parse =>
        {
            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null) PlotFile.Validate(plotPath);
            long chunkValues = ConvertCommand.ChunkValues(parse.GetValue(chunkMb));
            // the estimate is a function of the current statistics, which stream, and the figure needs only the data's range
            // (one more pass in chunks): the file is never held whole
            using var reader = input.Open(parse, console);
            var header = reader.Header;
            if (plotPath is not null && header.Dimension > 2)
                throw new InvalidInputException($"--plot draws 1-D or 2-D drift fields; these data have {header.Dimension} coordinates.");
            var b = BasisSpec.Parse(parse.GetValue(basis)!, header.Dimension, () => StreamingOptions.Range(() => input.Open(parse), chunkValues));
            var errors = input.Errors(parse);
            var stats = CurrentStatistics.Accumulate(reader, b, [CurrentStatisticsOptions.Default], errors, chunkValues)[0];
            var result = DynamicsEstimator.Infer(stats, b, parse.GetValue(robust), errors);
            // positions of underdamped motion: the increments are not an overdamped diffusion's, so none of the four fields is the system's
            var smooth = EstimateRunners.SmoothPaths(header.Path, "infer",
                "infer reads these increments as an overdamped diffusion's, so its drift, diffusion matrix (of the order of v^2 dt, not a diffusion "
                + "coefficient), score and mean local velocity are not this system's; for the EP rate use 'thermolearn estimate --method underdamped' on the positions", stats,
                reader.Columns);
            int d = header.Dimension;
            JsonObject Field(LinearVectorField f) => new()
            {
                ["coefficients"] = Rows(f.Coefficients, d),
                ["stderr"] = Rows(f.StandardErrors!, d),
            };
            var output = new JsonObject
            {
                ["basis"] = b.Name,
                ["functions"] = new JsonArray(Enumerable.Range(0, b.Count).Select(a => (JsonNode?)JsonValue.Create(b.Describe(a))).ToArray()),
                ["dimension"] = d,
                ["drift"] = Field(result.Drift),
                ["diffusion"] = new JsonObject
                {
                    ["matrix"] = Rows(result.Diffusion.Matrix, d),
                    ["stderr"] = Rows(result.Diffusion.StandardErrors, d),
                    ["method"] = result.Diffusion.Method,
                },
                ["score"] = Field(result.Score),
                ["mean_local_velocity"] = Field(result.MeanLocalVelocity),
                ["n_frames"] = result.Frames,
                ["n_transitions"] = result.Transitions,
                ["dt"] = header.Dt,
                ["errors"] = result.Settings.Errors,
                ["input"] = parse.GetValue(input.In),
            };
            if (InferenceInput.KnownModel(header.Metadata) is { } model) output["model"] = model.Name;
            EstimateWarning[] warnings = smooth is null ? [] : [smooth];
            EstimateWarning.Print(console, warnings);
            if (EstimateWarning.Json(warnings) is { } list) output["warnings"] = list;
            if (plotPath is not null)
            {
                PlotRange range;
                using (var again = input.Open(parse)) range = PlotRange.Of(again, d, chunkValues);
                if (d == 2) InferencePlots.Field2D(range, result.Drift, [], "|drift| of the inferred force field", plotPath);
                else InferencePlots.Field1D(range, result.Drift, "inferred drift mu F(x)", "drift", plotPath);
            }
            if (parse.GetValue(json)) JsonOutput.Write(console, output);
            else
            {
                console.Out.WriteLine($"basis {b.Name}; {result.Frames} frames; errors: {result.Settings.Errors}");
                // all three fields, as in --json: the score and v are what the command is named for, not only the drift
                foreach (var (label, field) in new[] { ("drift", result.Drift), ("score", result.Score), ("mean-local-velocity", result.MeanLocalVelocity) })
                    for (int a = 0; a < b.Count; a++)
                        console.Out.WriteLine($"  {label}[{b.Describe(a)}] = " + string.Join(", ", Enumerable.Range(0, d).Select(m =>
                            $"{field.Coefficients[a * d + m]:G5} +- {field.StandardErrors![a * d + m]:G2}")));
                console.Out.WriteLine("  D = " + string.Join("; ", Enumerable.Range(0, d).Select(i => string.Join(", ", Enumerable.Range(0, d).Select(j =>
                    $"{result.Diffusion.Matrix[i * d + j]:G5} +- {result.Diffusion.StandardErrors[i * d + j]:G2}")))));
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    private static JsonArray Rows(IReadOnlyList<double> values, int columns)
    {
        var rows = new JsonArray();
        for (int r = 0; r < values.Count / columns; r++)
            rows.Add(JsonOutput.Array(Enumerable.Range(0, columns).Select(c => values[r * columns + c])));
        return rows;
    }
}
