using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Neural.Inference;
using ThermoLearn.Neural.Training;

namespace ThermoLearn.Cli.Commands;

/// <summary>What the neural methods of <c>estimate</c> take beyond the common options: training settings, or a saved model.</summary>
/// <param name="Training">Network and training settings (--hidden, --epochs, --batch, --lr, --folds, --threads, --seed).</param>
/// <param name="LoadModel">--load-model FILE: evaluate a saved model instead of training.</param>
internal sealed record NeuralArguments(TrainingOptions Training, string? LoadModel);

/// <summary>
/// The options of <c>estimate --method neural-current|neep</c> and the two registry entries that run them
/// (<see cref="NeuralEntropyProductionEstimator"/>). Options that only the neural methods read are refused with
/// a linear method, and training options are refused with --load-model, so no option is silently ignored.
/// </summary>
internal sealed class NeuralEstimateOptions
{
    public Option<int?> Epochs { get; } = new("--epochs") { Description = "Neural methods: maximum training epochs, the length of the cosine learning-rate decay (default 30; the epoch with the best held-out loss is kept)." };
    public Option<string?> Hidden { get; } = new("--hidden") { Description = "Neural methods: hidden layers x width, e.g. 2x64 (default)." };
    public Option<int?> Batch { get; } = new("--batch") { Description = "Neural methods: transitions per Adam step (default 4096)." };
    public Option<double?> Lr { get; } = new("--lr") { Description = "Neural methods: initial Adam learning rate, cosine decay to 1% (default 0.003)." };
    public Option<int?> Folds { get; } = new("--folds") { Description = "Neural methods: cross-fitting folds; each transition is scored by a network that never saw it (default 2)." };
    public Option<int?> Threads { get; } = new("--threads") { Description = "Neural methods: libtorch CPU threads (default 1: bit-identical results for a given --seed)." };
    public Option<string?> SaveModel { get; } = new("--save-model") { Description = "Neural methods: write the trained networks and the settings that rebuild them to FILE." };
    public Option<string?> LoadModel { get; } = new("--load-model") { Description = "Neural methods: evaluate a model saved with --save-model on these data (no training)." };

    /// <summary>The options that set up trajectory-network training (refused on active-matter snapshots, whose score network has its own).</summary>
    public Option[] TrainingOptions => [Epochs, Hidden, Batch, Lr, Folds, Threads];

    public void AddTo(Command command)
    {
        foreach (var o in TrainingOptions) command.Add(o);
        command.Add(SaveModel);
        command.Add(LoadModel);
    }

    public static bool IsNeural(string method) => method is NeuralMethods.Current or NeuralMethods.Neep;

    /// <summary>Checks the combination of options before any data are read; returns null for the linear methods.</summary>
    public NeuralArguments? Parse(ParseResult parse, string method, ulong seed, string? plot)
    {
        var given = TrainingOptions.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        string? save = parse.GetValue(SaveModel), load = parse.GetValue(LoadModel);
        if (!IsNeural(method))
        {
            var all = given.Concat(save is null ? [] : ["--save-model"]).Concat(load is null ? [] : ["--load-model"]).ToList();
            if (all.Count > 0)
                throw new InvalidInputException($"{string.Join(", ", all)} apply only to --method {NeuralMethods.Current} or {NeuralMethods.Neep} (got --method {method}).");
            return null;
        }
        if (load is not null)
        {
            if (given.Count > 0)
                throw new InvalidInputException($"--load-model evaluates a trained model; {string.Join(", ", given)} set up training: give one or the other.");
            if (save is not null) throw new InvalidInputException("--load-model and --save-model together would only copy the file; give one of them.");
            if (!File.Exists(load)) throw new InvalidInputException($"--load-model {load}: no such file.");
            if (plot is not null) throw new InvalidInputException("--plot draws the training curve; a model given with --load-model has none.");
        }
        if (save is not null)
        {
            SimulateCommand.CheckWritable(save);
            if (load is null && Path.GetFullPath(save) == Path.GetFullPath(parse.GetValue<string>("--in")!))
                throw new InvalidInputException("--save-model names the input file; give another name.");
        }
        var (layers, width) = ParseHidden(parse.GetValue(Hidden) ?? "2x64");
        var training = new TrainingOptions
        {
            Epochs = parse.GetValue(Epochs) ?? 30,
            Layers = layers,
            Hidden = width,
            BatchSize = parse.GetValue(Batch) ?? 4096,
            LearningRate = parse.GetValue(Lr) ?? 3e-3,
            Folds = parse.GetValue(Folds) ?? 2,
            Threads = parse.GetValue(Threads) ?? 1,
            Seed = seed,
        };
        try
        {
            training.Validate();
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"neural training options: {FlagNames.Render(e)}", e);
        }
        return new NeuralArguments(training, load);
    }

    /// <summary>"LxW" (hidden layers x width), e.g. 2x64.</summary>
    public static (int Layers, int Width) ParseHidden(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('x');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int layers)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int width) && layers is >= 1 and <= 16 && width is >= 1 and <= 4096)
            return (layers, width);
        throw new InvalidInputException($"--hidden '{text}': give hidden layers x width, e.g. 2x64 (1-16 layers, width 1-4096).");
    }

    /// <summary>
    /// Trains (or loads and evaluates) a neural estimator for the registry on the file, read sequentially in chunks once per
    /// pass (every epoch of every fold): memory is bounded by the chunks and a shuffle block, not by the file; the result is the
    /// in-memory one bit for bit (<see cref="NeuralEntropyProductionEstimator.Fit(Func{IO.TrajectoryReader}, long, NeuralEstimatorSettings, IProgress{TrainingProgress}?, CancellationToken)"/>).
    /// </summary>
    public static EstimateOutcome Run(EstimateContext c, string method)
    {
        var neural = c.Neural ?? throw new InvalidOperationException("neural arguments were not parsed.");
        if (method == NeuralMethods.Neep && c.CorrectionOrder > 0 && c.CorrectionExplicit)
            throw new InvalidInputException($"--correction applies to {NeuralMethods.Current}; neep learns Delta S for one step dt only (use --correction none).");
        int correction = method == NeuralMethods.Current ? c.CorrectionOrder : 0;
        int windows = c.Windows > 1 ? c.Windows : 0;
        if (neural.LoadModel is { } path)
        {
            var model = NeuralModel.Load(path);
            try
            {
                if (model.Info.Method != method)
                    throw new InvalidInputException($"--load-model {path}: the file holds a {model.Info.Method} model; use --method {model.Info.Method}.");
                if (windows > 0 && !model.Info.TimeInput)
                    throw new InvalidInputException($"--load-model {path}: --windows needs a model trained with --windows (t as an input); this one is stationary.");
                var (estimate, series) = NeuralEntropyProductionEstimator.Evaluate(model, c.Open, c.ChunkValues, windows, correction);
                var extra = new JsonObject { ["loaded_model"] = Describe(model.Info, path) };
                return new EstimateOutcome(estimate, series, Extra: extra);
            }
            finally
            {
                model.Dispose();
            }
        }
        var reporter = new ProgressReporter(c.Console, method);
        var progress = new SynchronousProgress<TrainingProgress>(p =>
            reporter.Report(p.Fraction, $"fold {p.Fold + 1}/{p.Folds}, epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:G5}, held-out {p.ValidationLoss:G5}"));
        var settings = new NeuralEstimatorSettings
        {
            Method = method,
            Training = neural.Training,
            Diffusion = c.Diffusion,
            Windows = windows,
            TimeInput = windows > 0,
            Correction = correction,
        };
        var fit = NeuralEntropyProductionEstimator.Fit(c.Open, c.ChunkValues, settings, progress);
        foreach (var (curve, k) in fit.Curves.Select((curve, k) => (curve, k)))
        {
            if (curve.Diverged is { } d)
                c.Console.Error.WriteLine($"warning: training of fold {k + 1} diverged (loss {d.Loss} at epoch {d.Epoch}, step {d.Step}); kept the weights of epoch "
                    + $"{curve.BestEpoch}{(curve.BestEpoch == 0 ? " (untrained: the estimate is not meaningful)" : "")}; lower --lr (now {neural.Training.LearningRate}).");
        }
        var training = Training(fit);
        return new EstimateOutcome(fit.Estimate, fit.TimeSeries, Extra: new JsonObject { ["training"] = training }, Neural: fit);
    }

    private static JsonObject Describe(NeuralModelInfo info, string path) => new()
    {
        ["file"] = path,
        ["method"] = info.Method,
        ["network"] = NeuralEntropyProductionEstimator.Describe(info),
        ["dimension"] = info.Dimension,
        ["folds"] = info.Folds,
        ["trained_dt"] = info.Dt,
    };

    /// <summary>The "training" JSON object: settings and the per-epoch curve of every fold.</summary>
    private static JsonObject Training(NeuralFit fit)
    {
        var curves = new JsonArray();
        for (int k = 0; k < fit.Curves.Count; k++)
        {
            var curve = fit.Curves[k];
            curves.Add(new JsonObject
            {
                ["fold"] = k + 1,
                ["train_loss"] = JsonOutput.Array(curve.TrainLoss),
                ["heldout_loss"] = JsonOutput.Array(curve.ValidationLoss),
                ["best_epoch"] = curve.BestEpoch,
                ["stopped_early"] = curve.StoppedEarly,
                ["diverged"] = curve.Diverged is { } d
                    ? new JsonObject { ["epoch"] = d.Epoch, ["step"] = d.Step, ["loss"] = d.Loss.ToString(CultureInfo.InvariantCulture) }
                    : null,
            });
        }
        var o = fit.Options;
        return new JsonObject
        {
            ["network"] = fit.Estimate.Basis,
            ["epochs"] = o.Epochs,
            ["batch"] = o.BatchSize,
            ["lr"] = o.LearningRate,
            ["folds"] = o.Folds,
            ["patience"] = o.Patience,
            ["seed"] = o.Seed,
            ["threads"] = o.Threads,
            ["diverged"] = fit.Diverged,
            ["curves"] = curves,
        };
    }
}
