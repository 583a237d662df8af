using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Models;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn exact --model M [--set name=value]… [--at t] [--json]</c>: the exact entropy-production rate
/// (<c>ep_rate</c>, per unit time; per step for the discrete-time ratchet) and, for models with a protocol, the
/// total over [0, tau] (<c>ep_total</c>).
/// </summary>
internal static class ExactCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new ModelArguments();
        var at = new Option<double>("--at") { Description = "Time t at which to evaluate the EP rate (default 0).", DefaultValueFactory = _ => 0.0 };
        var json = SharedOptions.Json();
        var command = new Command("exact", "Print a model's exact entropy production.");
        model.AddTo(command);
        command.Add(at);
        command.Add(json);
        command.SetAction(parse =>
        {
            double t = parse.GetValue(at);
            if (!double.IsFinite(t) || t < 0) throw new InvalidInputException($"--at must be a finite time >= 0 (got {t}).");
            var m = model.Create(parse);
            double? rate = m.EntropyProductionRate(t);
            double? total = m.TotalEntropyProduction;
            var result = new JsonObject
            {
                ["model"] = m.Name,
                ["parameters"] = m.ParametersJson(),
                ["at"] = t,
                ["ep_rate"] = JsonOutput.Number(rate),
                ["ep_total"] = JsonOutput.Number(total),
                ["ep_unit"] = m is DiscreteMarkovChain ? "per step" : "per unit time",
            };
            if (m.Duration is { } tau) result["tau"] = tau;
            if (m is LinearModel linear)
            {
                var c = linear.StationaryCovariance;
                var rows = new JsonArray();
                for (int i = 0; i < c.GetLength(0); i++)
                    rows.Add(JsonOutput.Array(Enumerable.Range(0, c.GetLength(1)).Select(j => c[i, j])));
                result["stationary_covariance"] = rows;
            }
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            else
            {
                console.Out.WriteLine($"{m.Name}: exact EP rate at t = {t:G6}: {(rate is { } r ? r.ToString("G6") : "unknown")} {result["ep_unit"]}");
                if (total is { } s) console.Out.WriteLine($"total EP over [0, {m.Duration:G6}]: {s:G6}");
            }
            return CliApp.ExitOk;
        });
        return command;
    }
}
