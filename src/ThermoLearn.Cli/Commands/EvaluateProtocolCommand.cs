using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;

namespace ThermoLearn.Cli.Commands;

/// <summary><c>thermolearn evaluate-protocol</c>: re-measures a saved protocol's work and error on fresh paths.</summary>
public static class EvaluateProtocolCommand
{
    public static Command Create(CliConsole console)
    {
        var task = new Option<string>("--task") { Description = "Task: " + string.Join(", ", TaskCatalog.Names) + ".", Required = true };
        var protocol = new Option<string>("--protocol") { Description = "Protocol file written by 'thermolearn optimize --out'.", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override a task setting name=value (the file's settings are used otherwise)." };
        var alpha = new Option<double?>("--alpha") { Description = "Weight of the error in the reported objective (task default if omitted)." };
        var trajectories = new Option<int>("--trajectories") { Description = "Trajectories to measure.", DefaultValueFactory = _ => 100_000 };
        var seed = SharedOptions.Seed("Random seed (use one not used for the optimisation).", 1001);
        var json = SharedOptions.Json();
        var command = new Command("evaluate-protocol", "Measure a saved protocol's <W> and error (with standard errors) on fresh trajectories, extrapolated to dt -> 0 from chains at dt/2 and dt/4 on one Brownian path (work_at_dt: the chain at the task's dt = tau / steps), next to the linear ramp and the task's references.")
        {
            task, protocol, set, alpha, trajectories, seed, json,
        };
        command.SetAction(parse =>
        {
            string taskName = parse.GetValue(task)!, path = parse.GetValue(protocol)!;
            int count = parse.GetValue(trajectories);
            if (count < 2) throw new InvalidInputException($"--trajectories must be >= 2 (got {count}).");
            _ = TaskCatalog.Settings(taskName);
            var document = ProtocolFile.Read(path);
            if (document.Task != taskName)
                throw new InvalidInputException($"{path}: the protocol was made for task '{document.Task}', not '{taskName}'.");
            var settings = document.Settings.ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (var (name, value) in OptimizeCommand.ParseSettings(parse.GetValue(set))) settings[name] = value;
            var controlTask = TaskCatalog.Create(taskName, document.Tau, settings);
            // a file without "controls" gets the names 0, 1, ...; named controls must be the task's, in its order
            bool named = !document.Controls.Select((c, i) => c == i.ToString(CultureInfo.InvariantCulture)).All(x => x);
            if (named && !document.Controls.SequenceEqual(controlTask.ControlNames))
                throw new InvalidInputException($"{path}: the protocol's controls are ({string.Join(", ", document.Controls)}) but task '{taskName}' has ({string.Join(", ", controlTask.ControlNames)}), in that order.");
            controlTask.Validate(document.Samples, path);
            OptimizeCommand.WarnIfPastStabilityLimit(console, controlTask, document.Samples, path);
            OptimizeCommand.WarnIfTrapReferenceBiased(console, controlTask, path);
            // the protocol and the linear ramp, each on count paths at steps, 2 x steps and 4 x steps (ControlTask.Measure)
            OptimizeCommand.AnnounceTime(console, 14.0 * count * controlTask.Steps, $"evaluate-protocol: 2 x {count} paths x {controlTask.Steps} steps (and twice and four times as many, to extrapolate to dt -> 0)");
            double a = parse.GetValue(alpha) ?? controlTask.DefaultAlpha;
            ulong s = parse.GetValue(seed);
            var measured = controlTask.Measure(document.Samples, a, s, count);
            var baseline = controlTask.Measure(controlTask.LinearRamp(), a, s, count);
            var result = new JsonObject { ["task"] = taskName, ["tau"] = document.Tau, ["alpha"] = a, ["protocol_file"] = path };
            foreach (var (key, value) in OptimizeCommand.MeasurementJson(measured)) result[key] = value?.DeepClone();
            if (controlTask is TranslateTrapTask trap) OptimizeCommand.AddTrapReferences(result, trap);
            result["baseline"] = OptimizeCommand.MeasurementJson(baseline);
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            else
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{taskName}, tau = {document.Tau}: W = {measured.Work.Mean:F4} +- {measured.Work.StandardError:F4}, error = {measured.Error.Mean:F4} +- {measured.Error.StandardError:F4} ({count} trajectories, seed {s})"));
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  linear ramp: W = {baseline.Work.Mean:F4} +- {baseline.Work.StandardError:F4}, error = {baseline.Error.Mean:F4}"));
                OptimizeCommand.WriteReferences(console, controlTask, measured);
            }
            return CliApp.ExitOk;
        });
        return command;
    }
}
