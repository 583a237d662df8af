using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Neural.Transformers;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn beliefs train --process NAME|FILE.json [--set k=v]… --out RUN_DIR [--tokens N | --max-seconds S]
/// [--seed S] [model and training options] [--json]</c>. Defaults: the NeurIPS 2024 Mess3 model (4 layers,
/// d_model 64, one head of 8, d_mlp 256, n_ctx 10) with SGD lr 0.01, batch 64, 300 s. The run folder appears only when complete.
/// </summary>
internal static class BeliefsTrainCommand
{
    public static Command Create(CliConsole console)
    {
        var process = new Option<string>("--process") { Description = "Process: mess3, rrxor, z1r, tom_quantum, FILE.json, or a product such as mess3*mess3*mess3.", Required = true };
        var settings = new Option<string[]>("--set") { Description = "Process parameter name=value (e.g. x=0.05, 1:a=0.7, noise=0.1); repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--out") { Description = "Run folder to create (must not exist or be empty).", Required = true };
        var tokens = new Option<long?>("--tokens") { Description = "Training budget in tokens (steps x batch x n_ctx)." };
        var seconds = new Option<double?>("--max-seconds") { Description = "Training budget in seconds of wall clock (default 300 when --tokens is not given)." };
        var seed = SharedOptions.Seed("Seed of the initial weights and of the training sequences.");
        var layers = new Option<int>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => 4 };
        var dModel = new Option<int>("--d-model") { Description = "Residual stream width.", DefaultValueFactory = _ => 64 };
        var heads = new Option<int>("--heads") { Description = "Attention heads per block.", DefaultValueFactory = _ => 1 };
        var dHead = new Option<int>("--d-head") { Description = "Width of each head.", DefaultValueFactory = _ => 8 };
        var dMlp = new Option<int>("--d-mlp") { Description = "Hidden width of the MLPs.", DefaultValueFactory = _ => 256 };
        var nCtx = new Option<int>("--n-ctx") { Description = "Context length (inputs per sequence).", DefaultValueFactory = _ => 10 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd or adam.", DefaultValueFactory = _ => "sgd" };
        var lr = new Option<double>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 0.01 };
        var lrFinal = new Option<double?>("--lr-final") { Description = "Adam only: decay the rate along a cosine to this value at the end of --tokens (default: constant rate)." };
        var warmup = new Option<long>("--warmup-tokens") { Description = "Tokens of linear learning-rate warm-up before the decay (with --lr-final).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 64 };
        var checkpoints = new Option<string>("--checkpoints") { Description = "Comma-separated token counts at which to save the model (the end is always saved).", DefaultValueFactory = _ => "64000,640000,3200000" };
        var validateEvery = new Option<double>("--validate-every") { Description = "Seconds between validation-loss evaluations (also at every checkpoint).", DefaultValueFactory = _ => 30 };
        var validationSequences = new Option<int>("--validation-sequences") { Description = "Sequences sampled for validation when the prefix tree is too large to enumerate.", DefaultValueFactory = _ => 4096 };
        var threads = SharedOptions.TorchThreads(2);
        var json = SharedOptions.Json();
        var command = new Command("train", "Train a decoder-only transformer on sequences from a process; write config, checkpoints and training log to a run folder.");
        foreach (var o in new Option[] { process, settings, output, tokens, seconds, seed, layers, dModel, heads, dHead, dMlp, nCtx, optimizer, lr, lrFinal, warmup, batch, checkpoints, validateEvery, validationSequences, threads, json })
            command.Add(o);
        command.SetAction((parse, cancel) =>
        {
            string runDir = parse.GetValue(output)!;
            TrainingRun.CheckTarget(runDir);
            var task = new BeliefTask(parse.GetValue(process)!, parse.GetValue(settings) ?? [], parse.GetValue(nCtx), parse.GetValue(validationSequences), parse.GetValue(seed));
            if (task.ValidationSequences < 2) throw new InvalidInputException($"--validation-sequences must be at least 2, not {task.ValidationSequences}.");
            var hmm = task.CreateProcess();
            var config = new TransformerConfig
            {
                Vocabulary = hmm.Tokens, Layers = parse.GetValue(layers), DModel = parse.GetValue(dModel), Heads = parse.GetValue(heads),
                DHead = parse.GetValue(dHead), DMlp = parse.GetValue(dMlp), NCtx = task.NCtx,
            };
            config.Validate();
            long? maxTokens = parse.GetValue(tokens);
            double? maxSeconds = parse.GetValue(seconds);
            if (maxTokens is null && maxSeconds is null) maxSeconds = 300;
            if (parse.GetValue(lrFinal) is not null && (parse.GetValue(optimizer)!.ToLowerInvariant() != "adam" || maxTokens is null))
                throw new InvalidInputException("--lr-final decays the rate of --optimizer adam over the --tokens budget; give both (sgd runs at a constant --lr).");
            if (parse.GetValue(warmup) != 0 && parse.GetValue(lrFinal) is null)
                throw new InvalidInputException("--warmup-tokens belongs to a schedule: give --lr-final too (the rate after the warm-up decays to it).");
            var options = new TransformerTrainingOptions
            {
                Optimizer = ParseOptimizer(parse.GetValue(optimizer)!),
                LearningRate = parse.GetValue(lr),
                FinalLearningRate = parse.GetValue(lrFinal),
                WarmupTokens = parse.GetValue(warmup),
                BatchSize = parse.GetValue(batch),
                Seed = task.Seed,
                MaxTokens = maxTokens,
                MaxSeconds = maxSeconds,
                CheckpointTokens = ParseCheckpoints(parse.GetValue(checkpoints)!),
                ValidationIntervalSeconds = parse.GetValue(validateEvery),
                Threads = parse.GetValue(threads),
            };
            options.Validate();
            // class 5 of issue 15: the model and one batch's activations checked against the machine before anything is allocated
            Resources.MemoryBudget.Require(config.TrainingBytes(options.BatchSize),
                $"training a transformer of {config.Parameters():G3} parameters ({config.Layers} blocks, d_model {config.DModel}, d_mlp {config.DMlp}) "
                + $"on batches of {options.BatchSize} x {config.NCtx} tokens (weights, gradients, optimiser state and activations)",
                $"use a smaller --batch, --d-model, --d-mlp, --layers or --n-ctx");
            // class 5 of issue 15: a token budget of hours is said before it starts (a --max-seconds budget bounds itself)
            if (maxTokens is { } budget)
            {
                double trainSeconds = Resources.TimeEstimate.Seconds((double)budget * config.Parameters(), Resources.TimeEstimate.TransformerParameterTokensPerCpuSecond, options.Threads);
                if (maxSeconds is { } cap) trainSeconds = Math.Min(trainSeconds, cap);
                if (Resources.TimeEstimate.Announcement(trainSeconds, $"beliefs train: {budget:G3} tokens on {config.Parameters():G3} parameters", options.Threads) is { } line)
                    console.Error.WriteLine("note: " + line);
            }
            if (maxTokens is { } total && parse.GetResult(checkpoints) is { Implicit: false } && options.CheckpointTokens.Where(c => c > total).ToList() is { Count: > 0 } beyond)
                throw new InvalidInputException($"--checkpoints {string.Join(",", beyond)} lie beyond the run's --tokens {total}; they would never be saved. "
                    + "Give checkpoints up to --tokens (the end of the run is always saved), or train longer.");
            var dataset = task.CreateDataset(hmm);
            var reporter = new ProgressReporter(console, "train");
            var progress = new SynchronousProgress<TransformerTrainingProgress>(p =>
                reporter.Report(p.Fraction, $"{p.Tokens:N0} tokens, train CE {p.TrainLoss:F4}" + (p.ValidationLoss is { } v ? $", val CE {v:F5}" : "")));
            using var model = TransformerTrainer.CreateModel(config, task.Seed);
            var run = TrainingRun.Execute(runDir, task.ToJson(), model, options, BeliefTask.Batches(hmm, task.NCtx, task.Seed), dataset, progress, cancel);
            var result = new JsonObject
            {
                ["run"] = run.Directory,
                ["process"] = hmm.Name,
                ["exact_validation"] = run.ExactValidation,
                ["val_ce"] = JsonOutput.Number(run.Result.FinalValidationLoss),
                ["min_val_ce"] = JsonOutput.Number(run.Result.MinimumValidationLoss),
                ["ce_floor_nats"] = JsonOutput.Number(run.CeFloorNats),
                ["gap_nats"] = JsonOutput.Number(run.Result.FinalValidationLoss - run.CeFloorNats),
                ["steps"] = run.Result.Steps,
                ["tokens"] = run.Result.Tokens,
                ["seconds"] = JsonOutput.Number(run.Result.Seconds),
                ["tokens_per_second"] = JsonOutput.Number(run.Result.TokensPerSecond),
                ["checkpoints"] = new JsonArray(run.Checkpoints.Select(c => (JsonNode?)new JsonObject
                {
                    ["tokens"] = c.Tokens, ["val_ce"] = JsonOutput.Number(c.ValidationLoss), ["file"] = c.Name,
                }).ToArray()),
            };
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            else
                console.Error.WriteLine($"trained {run.Result.Tokens:N0} tokens in {run.Result.Seconds:F1} s ({run.Result.TokensPerSecond:N0} tokens/s); "
                    + $"validation CE {run.Result.FinalValidationLoss:F6} nats, floor {run.CeFloorNats:F6} (gap {run.Result.FinalValidationLoss - run.CeFloorNats:F6}); run in {run.Directory}");
            return Task.FromResult(CliApp.ExitOk);
        });
        return command;
    }

    private static TransformerOptimizer ParseOptimizer(string text) => text.ToLowerInvariant() switch
    {
        "sgd" => TransformerOptimizer.Sgd,
        "adam" => TransformerOptimizer.Adam,
        _ => throw new InvalidInputException($"--optimizer '{text}' is not known; use sgd or adam."),
    };

    private static long[] ParseCheckpoints(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(part =>
            double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 1 && v < 9e18 && Math.Floor(v) == v
                ? (long)v
                : throw new InvalidInputException($"--checkpoints: '{part}' is not a positive whole number of tokens (e.g. 64000,6.4e5).")).ToArray();
    }
}
