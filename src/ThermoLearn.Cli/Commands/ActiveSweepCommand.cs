using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn active-sweep --in A.h5 --in B.h5 … [--method identity,current] [--blocks B] [--plot FILE.png|svg] [--json]</c>:
/// the EP rate per particle sigma / N of several snapshot files (e.g. one per packing fraction across MIPS), by each
/// method, with standard errors, and a figure of sigma / N against phi with error bars. Each method gives the value that
/// <c>estimate</c> sets against the exact rates and identity 4 (<see cref="ActiveEstimateOptions.Compared"/>): the identity itself,
/// and the current estimator's jackknife-debiased rate (its fitted rate J^T M^-1 J is biased upwards by its fit; JSON rows keep it
/// as <c>ep_rate_fitted</c>). Several files at one packing
/// fraction are independent runs (replicas) of one model (the same parameters; anything else is refused): their mean is the value at that phi and its standard error is the spread
/// between the runs, s / sqrt(R). The block errors of one run cover only its own time window; at MIPS, where the
/// clusters coarsen over many persistence times, runs from different starts differ by several of them, so the plotted
/// error bars come from the replicas wherever there are two or more.
/// </summary>
internal static class ActiveSweepCommand
{
    public static Command Create(CliConsole console)
    {
        var inputs = new Option<string[]>("--in") { Description = "Snapshot files (thermolearn simulate --model aoup); repeat the flag.", Required = true, Arity = ArgumentArity.OneOrMore };
        var methods = new Option<string>("--method") { Description = "Comma-separated methods: identity (eps = 0), current (its jackknife-debiased rate, the value estimate sets against exact rates and the identity).", DefaultValueFactory = _ => "identity,current" };
        var blocks = new Option<int>("--blocks") { Description = "Blocks of snapshots for the standard errors (at most one a snapshot: a file with fewer snapshots uses fewer, says how many and warns).", DefaultValueFactory = _ => BlockStatistics.DefaultBlocks };
        var plot = new Option<string?>("--plot") { Description = "Figure of sigma / N against phi (.png/.svg)." };
        var json = SharedOptions.Json();
        var command = new Command("active-sweep", "EP rate per particle of several active-matter snapshot files (e.g. across MIPS), with a figure against phi.");
        foreach (var o in new Option[] { inputs, methods, blocks, plot, json }) command.Add(o);
        command.SetAction(parse =>
        {
            string[] files = parse.GetValue(inputs) ?? [];
            var names = parse.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => m.ToLowerInvariant()).Distinct().ToArray();
            foreach (var m in names)
                if (m is not ("identity" or "current")) throw new InvalidInputException($"--method {m}: use identity and/or current.");
            if (names.Length == 0) throw new InvalidInputException("--method names no method; use identity, current or both.");
            int b = parse.GetValue(blocks);
            if (b < 2) throw new InvalidInputException($"--blocks must be at least 2 (got {b}).");
            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null) PlotFile.Validate(plotPath);
            var rows = new List<(string File, double Phi, string Method, ManyBodyEntropyEstimate Estimate)>();
            var warnings = new List<EstimateWarning>();
            var progress = new ProgressReporter(console, "active-sweep");
            var modelAt = new Dictionary<double, (string File, ActiveModel Model)>();
            var seedAt = new Dictionary<(double Phi, ulong Seed), string>();
            // a file given twice would count as two runs that agree exactly: a spread, and so an error, of zero
            var seen = new Dictionary<string, string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            foreach (var file in files)
                if (!seen.TryAdd(Path.GetFullPath(file), file))
                    throw new InvalidInputException($"active-sweep: {file} is given twice ({seen[Path.GetFullPath(file)]}); runs at one phi are averaged as independent replicas, so give each file once.");
            for (int f = 0; f < files.Length; f++)
            {
                var snapshots = ActiveSnapshotFile.Read(files[f]);
                // one seed of one model is one run: two files with it (a copy, or the same run saved twice) are not independent replicas
                if (snapshots.Seed is { } runSeed && !seedAt.TryAdd((snapshots.Model.PackingFraction, runSeed), files[f])
                    && modelAt.TryGetValue(snapshots.Model.PackingFraction, out var same) && same.Model == snapshots.Model)
                    throw new InvalidInputException($"active-sweep: {seedAt[(snapshots.Model.PackingFraction, runSeed)]} and {files[f]} are runs of one model at phi = "
                        + $"{snapshots.Model.PackingFraction:G6} with the same seed ({runSeed}), so the same noise: not independent replicas, and their spread would understate the error; simulate the replicas with different --seed values.");
                // runs at one phi are averaged as replicas, so they must be runs of one model (seeds and frames may differ)
                if (modelAt.TryGetValue(snapshots.Model.PackingFraction, out var earlier) && earlier.Model != snapshots.Model)
                    throw new InvalidInputException($"active-sweep: {earlier.File} and {files[f]} are both at phi = {snapshots.Model.PackingFraction:G6} "
                        + $"but are runs of different models ({earlier.Model} against {snapshots.Model}); files at one phi are averaged as runs of one model.");
                modelAt.TryAdd(snapshots.Model.PackingFraction, (files[f], snapshots.Model));
                foreach (var m in names)
                {
                    var e = m == "identity" ? IdentityEntropyProduction.Estimate(snapshots, b) : CurrentEntropyProduction.Estimate(snapshots, new CurrentEstimatorOptions { Blocks = b }).Estimate;
                    rows.Add((files[f], snapshots.Model.PackingFraction, m, e));
                    foreach (var w in ActiveEstimateOptions.FewerBlocks(b, e, null, 0)) warnings.Add(new EstimateWarning(w.Id, $"{files[f]}, {m}: {w.Message}", w.Fields));
                }
                progress.Report((f + 1.0) / files.Length, null);
            }
            rows = rows.OrderBy(r => r.Phi).ToList();   // stable: the runs at one phi keep the order of --in
            var combined = rows.GroupBy(r => (r.Phi, r.Method)).Select(g => Combine(g.Key.Phi, g.Key.Method, g.Select(r => r.Estimate).ToArray())).ToArray();
            if (plotPath is not null)
            {
                var series = names.Select(m =>
                {
                    var r = combined.Where(x => x.Method == m).ToArray();
                    return (Label(m), r.Select(x => x.Phi).ToArray(), r.Select(x => x.Rate).ToArray(), r.Select(x => x.StandardError).ToArray());
                }).ToArray();
                ActiveMatterPlots.RateAgainstPackingFraction(series, "AOUP entropy production across MIPS", plotPath);
            }
            if (parse.GetValue(json))
            {
                var list = new JsonArray();
                foreach (var r in rows)
                {
                    var (of, value) = ActiveEstimateOptions.Compared(r.Estimate);
                    var row = new JsonObject
                    {
                        ["input"] = r.File, ["phi"] = r.Phi, ["method"] = r.Method, ["compared"] = of,
                        ["ep_rate_per_particle"] = value / r.Estimate.Particles, ["stderr_per_particle"] = r.Estimate.StandardErrorPerParticle,
                        ["ep_rate"] = value, ["stderr"] = r.Estimate.StandardError, ["particles"] = r.Estimate.Particles, ["n_snapshots"] = r.Estimate.Snapshots,
                        ["blocks"] = r.Estimate.Blocks,
                    };
                    if (of != "ep_rate") row["ep_rate_fitted"] = r.Estimate.Rate;
                    list.Add(row);
                }
                var byPhi = new JsonArray();
                foreach (var c in combined)
                    byPhi.Add(new JsonObject
                    {
                        ["phi"] = c.Phi, ["method"] = c.Method, ["runs"] = c.Runs,
                        ["ep_rate_per_particle"] = c.Rate, ["stderr_per_particle"] = c.StandardError, ["stderr_from"] = c.ErrorFrom,
                        ["block_stderr_per_particle"] = c.BlockError,
                    });
                var result = new JsonObject { ["quantity"] = "steady-state EP rate per particle sigma / N, per unit time", ["rows"] = list, ["by_phi"] = byPhi, ["blocks_asked"] = b };
                if (EstimateWarning.Json(warnings) is { } warned) result["warnings"] = warned;
                JsonOutput.Write(console, result);
            }
            else
            {
                foreach (var r in rows)
                    console.Out.WriteLine($"phi = {r.Phi:G4}  {Label(r.Method),-28}  sigma / N = {ActiveEstimateOptions.Compared(r.Estimate).Value / r.Estimate.Particles:G5} "
                        + $"+- {r.Estimate.StandardErrorPerParticle:G3} ({r.Estimate.Blocks} blocks)  ({r.File})");
                foreach (var c in combined.Where(c => c.Runs > 1))
                    console.Out.WriteLine($"phi = {c.Phi:G4}  {Label(c.Method),-28}  sigma / N = {c.Rate:G5} +- {c.StandardError:G3} (mean of {c.Runs} runs, error from their spread; "
                        + $"the runs' own block errors average {c.BlockError:G3})");
            }
            EstimateWarning.Print(console, warnings);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>The method as the figure and the text name it: the current estimator's value is its jackknife-debiased rate.</summary>
    internal static string Label(string method) => method == "current" ? "current (jackknife-debiased)" : method;

    /// <summary>
    /// The value at one phi from its runs (each run's <see cref="ActiveEstimateOptions.Compared"/> value per particle): one run gives its own estimate and block error; R &gt;= 2 independent runs give
    /// their mean and s / sqrt(R), s the sample standard deviation between the runs. The runs' block errors are kept
    /// (root mean square over the runs, divided by sqrt(R)) to show how much of the spread they cover.
    /// </summary>
    internal static (double Phi, string Method, int Runs, double Rate, double StandardError, string ErrorFrom, double BlockError) Combine(
        double phi, string method, ManyBodyEntropyEstimate[] runs)
    {
        int r = runs.Length;
        double blockError = Math.Sqrt(runs.Sum(e => e.StandardErrorPerParticle * e.StandardErrorPerParticle) / r) / Math.Sqrt(r);
        double[] values = runs.Select(e => ActiveEstimateOptions.Compared(e).Value / e.Particles).ToArray();
        if (r == 1) return (phi, method, 1, values[0], runs[0].StandardErrorPerParticle, "blocks", blockError);
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (r - 1);
        return (phi, method, r, mean, Math.Sqrt(variance / r), "runs", blockError);
    }
}
