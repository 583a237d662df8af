using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Processes;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn process info --process NAME|FILE.json [--set k=v] [--depth L] [--n-ctx N] [--json]</c>: entropy rate,
/// excess entropy, statistical complexity (null unless the mixed-state presentation is finite), block entropies
/// (bits), mixed-state counts through depth L and the cross-entropy floor for context N (nats).
/// </summary>
internal static class ProcessInfoCommand
{
    public static Command Create(CliConsole console)
    {
        var process = ProcessCommand.ProcessOption();
        var set = ProcessCommand.SetOption();
        var depth = new Option<int>("--depth") { Description = "Depth of the mixed-state presentation counts (and at least the longest block entropy).", DefaultValueFactory = _ => 10 };
        var nCtx = new Option<int>("--n-ctx") { Description = "Context length for the cross-entropy floor (nats).", DefaultValueFactory = _ => 10 };
        var tolerance = new Option<double>("--tolerance") { Description = "Grid spacing identifying equal beliefs.", DefaultValueFactory = _ => 1e-9 };
        var json = SharedOptions.Json();
        var command = new Command("info", "Exact information measures and mixed-state counts of a process.") { process, set, depth, nCtx, tolerance, json };
        command.SetAction(parse =>
        {
            var p = ProcessCatalog.Create(parse.GetValue(process)!, parse.GetValue(set));
            int l = parse.GetValue(depth), n = parse.GetValue(nCtx);
            double tol = parse.GetValue(tolerance);
            if (l < 0 || l > 40) throw new InvalidInputException($"--depth {l} must be in 0..40.");
            if (n < 1 || n > 40) throw new InvalidInputException($"--n-ctx {n} must be in 1..40.");
            if (!(tol > 0 && tol < 0.1)) throw new InvalidInputException($"--tolerance {tol} must be in (0, 0.1).");

            var msp = MixedStatePresentation.Build(p, l, tol);
            var measures = InformationMeasures.Compute(p, Math.Max(12, Math.Max(l, n + 1)), tol);
            double? floor = n + 1 <= measures.MaxLength ? measures.CrossEntropyFloorNats(n) : null;

            var result = new JsonObject
            {
                ["process"] = p.Name,
                ["tokens"] = p.Tokens,
                ["states"] = p.States,
                ["generalized"] = p.IsGeneralized,
                ["stationary"] = JsonOutput.Array(p.Stationary.ToArray()),
                ["entropy_rate"] = JsonOutput.Number(measures.EntropyRate),
                ["excess_entropy"] = JsonOutput.Number(measures.ExcessEntropy),
                ["statistical_complexity"] = JsonOutput.Number(measures.StatisticalComplexity),
                ["measures_exact"] = measures.IsExact,
                ["extrapolation_error"] = JsonOutput.Number(measures.ExtrapolationError),
                ["excess_entropy_error"] = JsonOutput.Number(measures.ExcessEntropyError),
                ["block_entropies"] = JsonOutput.Array(measures.BlockEntropies),
                ["myopic_entropies"] = JsonOutput.Array(measures.MyopicEntropies),
                ["msp_depth"] = msp.Depth,
                ["msp_tolerance"] = tol,
                ["msp_states"] = msp.CumulativeDistinct[^1],
                ["msp_states_per_depth"] = new JsonArray(msp.DistinctPerDepth.Select(c => (JsonNode?)c).ToArray()),
                ["msp_cumulative_states"] = new JsonArray(msp.CumulativeDistinct.Select(c => (JsonNode?)c).ToArray()),
                ["msp_word_counts"] = new JsonArray(msp.WordCounts.Select(c => (JsonNode?)c).ToArray()),
                ["msp_tree_nodes"] = msp.TreeNodes,
                ["msp_finite"] = msp.IsFinite,
                ["msp_total_states"] = msp.IsFinite ? msp.StateCount : null,
                ["msp_recurrent"] = msp.RecurrentStates,
                ["n_ctx"] = n,
                ["ce_floor_nats"] = JsonOutput.Number(floor),
            };
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console, result);
                return CliApp.ExitOk;
            }
            var o = console.Out;
            o.WriteLine($"{p}");
            o.WriteLine($"entropy rate h_mu      {measures.EntropyRate:F6} bits/token{(measures.IsExact ? " (exact)" : $" (extrapolated, +- {measures.ExtrapolationError:E1})")}");
            o.WriteLine($"excess entropy E       {measures.ExcessEntropy:F6} bits{(measures.IsExact ? " (exact)" : $" (extrapolated, +- {measures.ExcessEntropyError:E1})")}");
            string undefined = msp.IsFinite
                ? $"undefined ({msp.RecurrentStates} recurrent mixed states in more than one closed component: the process is not ergodic)"
                : "undefined (the mixed-state presentation is not finite)";
            o.WriteLine($"statistical complexity {(measures.StatisticalComplexity is { } c ? $"{c:F6} bits" : undefined)}");
            o.WriteLine($"h(L), L = 1..{measures.MaxLength}: {string.Join(" ", measures.MyopicEntropies.Select(h => h.ToString("F6")))}");
            o.WriteLine($"mixed states through depth {msp.Depth}: {msp.CumulativeDistinct[^1]} distinct (tolerance {tol:G3}); per depth {string.Join(" ", msp.DistinctPerDepth)}");
            o.WriteLine($"words per length: {string.Join(" ", msp.WordCounts)}; tree nodes {msp.TreeNodes}");
            o.WriteLine(msp.IsFinite ? $"finite presentation: {msp.StateCount} mixed states, {msp.RecurrentStates} recurrent" : "presentation not finite within the exploration budget");
            o.WriteLine($"cross-entropy floor, n_ctx {n}: {(floor is { } f ? $"{f:F6} nats" : "not computed (the block entropies needed are too costly)")}");
            return CliApp.ExitOk;
        });
        return command;
    }
}
