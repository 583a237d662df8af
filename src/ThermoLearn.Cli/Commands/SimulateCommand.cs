using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Energetics;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn simulate --model M [--set …]… --trajectories N --steps S --dt DT [--save-every K] [--seed S]
/// [--shard k/N] [--scheme NAME] --out FILE.npy|FILE.csv [--energetics FILE.csv] [--json]</c>.
/// Outputs are checked before the run and written atomically; on any failure no output file is left.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new ModelArguments();
        var trajectories = new Option<int?>("--trajectories") { Description = "Number of trajectories (of the whole run when sharded); not for the active models aoup/abp (one system of n particles)." };
        var steps = new Option<int>("--steps") { Description = "Integration steps per trajectory.", Required = true };
        var dt = new Option<double>("--dt") { Description = "Integration step.", Required = true };
        var saveEvery = new Option<int>("--save-every") { Description = "Save every K-th step (steps must be a multiple).", DefaultValueFactory = _ => 1 };
        var seed = SharedOptions.Seed("Random seed; trajectory i uses streams of (seed, i).");
        var shard = new Option<string?>("--shard") { Description = "Simulate only part k of N (k/N) of the trajectories; merge the parts with 'thermolearn merge'." };
        var scheme = new Option<string?>("--scheme") { Description = "Integrator: exact (default for linear models: no integrator bias in the positions at any dt; work and heat are first order in dt), euler-maruyama (default for other overdamped models), heun (weak order 2), baoab (underdamped models: their default). Jump processes are sampled exactly." };
        var threads = new Option<int>("--threads") { Description = "Threads (-1: all cores); the output does not depend on it.", DefaultValueFactory = _ => -1 };
        var output = new Option<string>("--out") { Description = "Trajectory file (.npy, .csv, .h5, .parquet).", Required = true };
        var energetics = new Option<string?>("--energetics") { Description = "CSV of per-trajectory work, heat, energy change and entropies." };
        var json = SharedOptions.Json();
        var active = new ActiveSimulateOptions();
        var command = new Command("simulate", "Simulate trajectories of a model with per-trajectory energetics, or snapshots of an active model (aoup, abp).");
        model.AddTo(command);
        foreach (var o in new Option[] { trajectories, steps, dt, saveEvery, seed, shard, scheme, threads, output, energetics, json }) command.Add(o);
        active.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            if (ActiveModelCatalog.Contains(parse.GetValue(model.Model)!))
                return active.Run(parse, console, model, trajectories, steps, dt, saveEvery, seed, threads, output, json, [shard, scheme, energetics]);
            active.RejectFor(parse);
            if (parse.GetValue(trajectories) is not { } trajectoryCount)
                throw new InvalidInputException("--trajectories is required: give the number of trajectories to simulate.");
            string? energeticsPath = parse.GetValue(energetics);
            CheckWritable(outPath);
            TrajectoryFile.ForPath(outPath);
            if (energeticsPath is not null)
            {
                CheckWritable(energeticsPath);
                if (!energeticsPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                    throw new InvalidInputException($"--energetics {energeticsPath}: the energetics file is CSV; give a name ending in .csv.");
                if (Path.GetFullPath(energeticsPath) == Path.GetFullPath(outPath))
                    throw new InvalidInputException("--energetics and --out name the same file; give two different names.");
            }
            var m = model.Create(parse);
            // jump processes and discrete chains have no energies: the file would silently not be written
            if (energeticsPath is not null && m is MarkovJumpProcess or DiscreteMarkovChain)
                throw new InvalidInputException($"--energetics: {m.Name} is a jump process (states, no potential), so it has no work or heat; "
                    + "drop --energetics (its EP is printed by 'thermolearn exact' and estimated by 'thermolearn estimate --method jump').");
            var options = new SimulationOptions
            {
                Trajectories = trajectoryCount,
                Steps = parse.GetValue(steps),
                Dt = parse.GetValue(dt),
                SaveEvery = parse.GetValue(saveEvery),
                Seed = parse.GetValue(seed),
                Scheme = parse.GetValue(scheme),
                Shard = parse.GetValue(shard) is { } text ? Shard.Parse(text) : Shard.Whole,
                MaxDegreeOfParallelism = parse.GetValue(threads),
                ComputeEnergetics = true,
            };
            if (options.MaxDegreeOfParallelism == 0 || options.MaxDegreeOfParallelism < -1)
                throw new InvalidInputException($"--threads must be -1 (all cores) or a positive count (got {options.MaxDegreeOfParallelism}).");
            var (_, shardCount) = options.Shard.Range(options.Trajectories);
            if (options.Steps >= 1 && options.SaveEvery >= 1)
            {
                double bytes = 8.0 * shardCount * ((double)(options.Steps / options.SaveEvery) + 1) * m.StateDimension + 40.0 * shardCount;
                ThermoLearn.Resources.MemoryBudget.Require(bytes, $"{shardCount} trajectories x {options.Steps / options.SaveEvery + 1} frames x {m.StateDimension} coordinates",
                    $"simulate fewer trajectories, save fewer frames (--save-every), or split the run with --shard k/N and 'thermolearn merge'");
                if (bytes > 1e9)
                    console.Error.WriteLine($"note: this run holds about {ThermoLearn.Resources.MemoryBudget.Format(bytes)} in memory "
                        + $"({ThermoLearn.Resources.MemoryBudget.Format(ThermoLearn.Resources.MemoryBudget.AvailableBytes())} available).");
            }
            if (SimulationHealth.Limit(m, options.Scheme ?? Simulator.DefaultScheme(m), options.Steps * options.Dt) is { } limit && options.Dt > limit.MaxDt)
                console.Error.WriteLine($"warning: --dt {options.Dt:G6} is past the scheme's stability limit {limit.Description}; the run will likely blow up.");
            // class 5 of issue 15: a long run is said before it starts (nothing is refused on time alone)
            double stepsToRun = (double)shardCount * options.Steps * m.StateDimension;
            if (ThermoLearn.Resources.TimeEstimate.Announcement(ThermoLearn.Resources.TimeEstimate.Seconds(stepsToRun, ThermoLearn.Resources.TimeEstimate.SimulationStepsPerCpuSecond,
                    options.MaxDegreeOfParallelism), $"simulate: {shardCount} trajectories x {options.Steps} steps x {m.StateDimension} coordinates",
                    options.MaxDegreeOfParallelism) is { } announcement)
                console.Error.WriteLine("note: " + announcement);
            var progress = new ProgressReporter(console, "simulate");
            var result = Simulator.Run(m, options, progress);
            TrajectoryFile.Write(outPath, result.Trajectories);
            if (energeticsPath is not null && result.Energetics is { } e)
            {
                try { EnergeticsFile.Write(energeticsPath, e, result.Trajectories.Metadata); }
                catch
                {
                    TryDelete(outPath);
                    TryDelete(TrajectorySidecar.PathFor(outPath));
                    TryDelete(energeticsPath);
                    throw;
                }
            }
            MeanEstimate? work = result.Energetics?.MeanWork, heat = result.Energetics?.MeanHeat, entropy = result.Energetics?.MeanMediumEntropy;
            var report = new JsonObject
            {
                ["model"] = m.Name,
                ["parameters"] = m.ParametersJson(),
                ["trajectories"] = result.Trajectories.Trajectories,
                ["total_trajectories"] = options.Trajectories,
                ["first_trajectory"] = result.FirstTrajectory,
                ["shard"] = options.Shard.ToString(),
                ["steps"] = options.Steps,
                ["dt"] = options.Dt,
                ["save_every"] = options.SaveEvery,
                ["frames"] = result.Trajectories.Frames,
                ["seed"] = options.Seed,
                ["scheme"] = result.Scheme,
                ["exact_ep_rate"] = JsonOutput.Number(result.ExactEntropyProductionRate),
                ["mean_work"] = JsonOutput.Number(work?.Mean),
                ["mean_work_stderr"] = JsonOutput.Number(work?.StandardError),
                ["mean_heat"] = JsonOutput.Number(heat?.Mean),
                ["mean_heat_stderr"] = JsonOutput.Number(heat?.StandardError),
                ["mean_medium_entropy"] = JsonOutput.Number(entropy?.Mean),
                ["mean_medium_entropy_stderr"] = JsonOutput.Number(entropy?.StandardError),
                ["output"] = outPath,
                ["energetics"] = energeticsPath,
            };
            if (parse.GetValue(json)) JsonOutput.Write(console, report);
            else
            {
                console.Out.WriteLine($"simulated {result.Trajectories.Trajectories} trajectories x {result.Trajectories.Frames} frames of {m.Name} "
                    + $"({result.Scheme}, dt = {options.Dt:G6}, seed {options.Seed}) -> {outPath}");
                if (result.ExactEntropyProductionRate is { } rate) console.Out.WriteLine($"exact EP rate: {rate:G6}");
                if (work is { } w) console.Out.WriteLine($"mean work: {w}; mean heat: {heat}; mean medium entropy: {entropy}");
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    internal static void CheckWritable(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || !Directory.Exists(folder))
            throw new InvalidInputException($"{path}: the folder '{folder}' does not exist; create it first.");
        if (Directory.Exists(path)) throw new InvalidInputException($"{path} is a folder; give a file name.");
    }

    private static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
