using System.CommandLine;
using System.Runtime.ExceptionServices;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Inference;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn reduce PART.stats… [--batches auto|blocks|parts] [--json]</c>: the estimate of all parts' data from the
/// statistics files of <c>estimate --statistics-out</c> (the reduce step of map-reduce on a cluster). Parts that are the
/// shards of one run reduce to the estimate one process makes on the merged file (bit for bit; see <see cref="StatisticsFile"/>);
/// other parts contribute their batches (<c>blocks</c>), or one batch each (<c>parts</c>). Parts with different settings are
/// refused, naming the first difference. JSON keys as <c>estimate</c>'s, plus n_parts and inputs.
/// </summary>
internal static class ReduceCommand
{
    public static Command Create(CliConsole console)
    {
        var batches = new Option<string>("--batches")
        {
            Description = "Batches of the standard error: auto (the run's batches for shards of one run, else blocks), blocks (every batch of every part) or parts (one batch per file).",
            DefaultValueFactory = _ => "auto",
        };
        var json = SharedOptions.Json();
        var files = new Argument<string[]>("parts") { Description = "Statistics files written by 'thermolearn estimate --statistics-out'.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("reduce", "Combine statistics files of parts of a data set into the estimate on all of it.") { batches, json, files };
        command.SetAction(parse =>
        {
            var mode = parse.GetValue(batches)!.Trim().ToLowerInvariant() switch
            {
                "auto" => ReduceBatches.Auto,
                "blocks" => ReduceBatches.Blocks,
                "parts" => ReduceBatches.Parts,
                var other => throw new InvalidInputException($"--batches '{other}': use auto, blocks or parts."),
            };
            var paths = parse.GetValue(files)!;
            var parts = new StatisticsPart[paths.Length];
            // Parallel.For wraps a bad file's InvalidInputException in an AggregateException, which the tool would not
            // recognise (an unhandled crash): keep each part's error and report the first bad file in the order given.
            var errors = new Exception?[paths.Length];
            Parallel.For(0, paths.Length, i =>
            {
                try { parts[i] = StatisticsFile.Read(paths[i]); }
                catch (Exception x) { errors[i] = x; }
            });
            if (errors.FirstOrDefault(x => x is not null) is { } first) ExceptionDispatchInfo.Throw(first);
            var (request, stats, metadata) = StatisticsFile.Reduce(parts, mode);
            var outcome = StreamingOptions.Outcome(request.Estimate(stats));
            var e = outcome.Estimate;
            var model = InferenceInput.KnownModel(metadata);
            double start = stats[0].StartTime;
            var result = EstimateCommand.EstimateFields(e, stats[0].FrameDt);
            result["n_parts"] = parts.Length;
            result["inputs"] = new JsonArray(parts.Select(p => (JsonNode?)p.Source).ToArray());
            foreach (var (key, value) in outcome.Extra!) result[key] = value?.DeepClone();
            var exact = EstimateCommand.AddQuantityAndExact(result, e, model, request.Windows, stats[0].FrameDt, start);
            if (outcome.TimeSeries is { } series) EstimateCommand.AddTimeSeries(result, series, model);
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            else
            {
                console.Out.WriteLine($"{e.Quantity?.Description ?? "EP rate"} ({e.Method}, {e.Basis}): {e.Rate:G6} +- {e.StandardError:G3} "
                    + $"(debiased {e.Debiased:G6}; {e.Frames} frames from {parts.Length} parts, {e.Settings.Errors})");
                EstimateCommand.WriteExact(console, exact, e, model, stats[0].FrameDt);
                if (outcome.TimeSeries is { } s)
                    foreach (var w in s.Windows) console.Out.WriteLine($"  t in [{w.Start:G4}, {w.End:G4}): {w.Debiased:G6} +- {w.StandardError:G3}");
            }
            return CliApp.ExitOk;
        });
        return command;
    }
}
