using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Models;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn simulate --model aoup|abp [--set …] --steps S --dt DT [--save-every K] [--burn-in B] [--initial FILE.npy]
/// [--seed S] [--threads T] --out FILE.h5|FILE.npy [--json]</c>: one system of n particles, frames 0, K, 2K, … S after
/// B discarded steps, written as snapshots (docs/formats.md). The flags that belong to trajectory ensembles
/// (--trajectories, --shard, --scheme, --energetics) are rejected for these models.
/// </summary>
internal sealed class ActiveSimulateOptions
{
    private readonly Option<int> _burnIn = new("--burn-in") { Description = "Active models: steps discarded before the first frame.", DefaultValueFactory = _ => 0 };
    private readonly Option<string?> _initial = new("--initial") { Description = "Active models: initial state, a .npy of shape (n, d + active columns): positions then g (aoup) or theta (abp)." };

    public void AddTo(Command command)
    {
        command.Add(_burnIn);
        command.Add(_initial);
    }

    /// <summary>Bad input when an active-only flag is given for a trajectory model.</summary>
    public void RejectFor(ParseResult parse)
    {
        if (parse.GetResult(_burnIn) is { Implicit: false } || parse.GetValue(_initial) is not null)
            throw new InvalidInputException("--burn-in and --initial belong to the active models (aoup, abp); other models start from their own initial law.");
    }

    public int Run(ParseResult parse, CliConsole console, ModelArguments modelArguments, Option<int?> trajectories, Option<int> steps, Option<double> dt,
        Option<int> saveEvery, Option<ulong> seed, Option<int> threads, Option<string> output, Option<bool> json, Option[] ensembleOnly)
    {
        string name = parse.GetValue(modelArguments.Model)!;
        if (parse.GetValue(trajectories) is not null)
            throw new InvalidInputException($"--trajectories does not apply to {name}: it simulates one system of n particles (set n with --set n=…).");
        foreach (var option in ensembleOnly)
            if (parse.GetResult(option) is { Implicit: false })
                throw new InvalidInputException($"{option.Name} does not apply to {name} (active-matter snapshots; see docs/active-matter.md).");
        string outPath = parse.GetValue(output)!;
        SimulateCommand.CheckWritable(outPath);
        if (!(outPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) || outPath.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) || outPath.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase)))
            throw new InvalidInputException($"--out {outPath}: active-matter snapshots are written as .h5/.hdf5 or .npy.");
        var model = ActiveModelCatalog.Create(name, ModelCatalog.ParseAssignments(parse.GetValue(modelArguments.Set) ?? []));
        int totalSteps = parse.GetValue(steps), every = parse.GetValue(saveEvery), burnIn = parse.GetValue(_burnIn), threadCount = parse.GetValue(threads);
        if (totalSteps < 0) throw new InvalidInputException($"--steps must be non-negative (got {totalSteps}).");
        if (every < 1) throw new InvalidInputException($"--save-every must be positive (got {every}).");
        if (totalSteps % every != 0) throw new InvalidInputException($"--steps ({totalSteps}) must be a multiple of --save-every ({every}).");
        if (threadCount == 0 || threadCount < -1) throw new InvalidInputException($"--threads must be -1 (all cores) or a positive count (got {threadCount}).");
        double[]? initial = null;
        if (parse.GetValue(_initial) is { } initialPath)
        {
            if (!File.Exists(initialPath)) throw new InvalidInputException($"--initial {initialPath}: no such file.");
            if (!initialPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new InvalidInputException($"--initial {initialPath}: give a .npy array of shape (n, columns).");
            // its shape against the one needed, a non-finite value by particle and column (ActiveSnapshotFile.ReadInitialState)
            try { initial = ActiveSnapshotFile.ReadInitialState(initialPath, model); }
            catch (InvalidInputException e) { throw new InvalidInputException($"--initial {e.Message}", e); }
        }
        var options = new ActiveRunOptions
        {
            Dt = parse.GetValue(dt),
            BurnInSteps = burnIn,
            Frames = totalSteps / every + 1,
            SaveEvery = every,
            Seed = parse.GetValue(seed),
            MaxDegreeOfParallelism = threadCount,
            Initial = initial,
        };
        // class 5 of issue 15: a run of hours is said before it starts
        double particleSteps = (double)model.Particles * ((double)burnIn + totalSteps);
        if (Resources.TimeEstimate.Announcement(Resources.TimeEstimate.Seconds(particleSteps, Resources.TimeEstimate.ActiveParticleStepsPerCpuSecond, threadCount),
                $"simulate: {model.Particles} particles x {(double)burnIn + totalSteps:G3} steps", threadCount) is { } line)
            console.Error.WriteLine("note: " + line);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var snapshots = ActiveSimulator.Run(model, options, new ProgressReporter(console, "simulate"));
        double seconds = clock.Elapsed.TotalSeconds;
        ActiveSnapshotFile.Write(outPath, snapshots);
        if (parse.GetValue(json))
        {
            JsonOutput.Write(console, new JsonObject
            {
                ["model"] = model.Name,
                ["parameters"] = model.ToJson(),
                ["particles"] = model.Particles,
                ["frames"] = snapshots.Frames,
                ["dt"] = options.Dt,
                ["frame_dt"] = snapshots.FrameDt,
                ["burn_in"] = burnIn,
                ["steps"] = totalSteps,
                ["save_every"] = every,
                ["seed"] = options.Seed,
                ["box"] = model.Box,
                ["cutoff"] = model.Interacting ? model.Cutoff : null,
                ["columns"] = new JsonArray(snapshots.ColumnNames.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["particle_steps_per_second"] = (double)model.Particles * (burnIn + totalSteps) / seconds,
                ["output"] = outPath,
            });
        }
        else
        {
            string where = model.Box is { } l ? $"periodic box L = {l:G6}" : $"trap A = {model.A:G6}";
            console.Out.WriteLine($"simulated {model.Name}: {model.Particles} particles ({where}), {snapshots.Frames} frames every {snapshots.FrameDt:G6} "
                + $"after {burnIn} burn-in steps (dt = {options.Dt:G6}, seed {options.Seed}) -> {outPath}");
            console.Out.WriteLine($"columns: {string.Join(", ", snapshots.ColumnNames)}; {(double)model.Particles * (burnIn + totalSteps) / seconds:G3} particle-steps/s");
        }
        return CliApp.ExitOk;
    }
}
