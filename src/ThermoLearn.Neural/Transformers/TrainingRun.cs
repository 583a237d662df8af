using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ThermoLearn.IO;
using ThermoLearn.Processes.Geometry;

namespace ThermoLearn.Neural.Transformers;

/// <summary>
/// A training run on disk: <c>run.json</c> (what was trained on, model shape, training options, result and
/// checkpoint list), <c>training-log.csv</c> and <c>checkpoints/tokens-N.bin</c> (TorchSharp state dicts).
/// The folder is written under a temporary name next to the target and renamed when complete, so a run folder
/// that exists is a finished run.
/// </summary>
public sealed record TrainingRun(
    string Directory,
    JsonNode Process,
    TransformerConfig Model,
    TransformerTrainingOptions Training,
    double CeFloorNats,
    bool ExactValidation,
    TrainingSummary Result,
    IReadOnlyList<TrainingCheckpoint> Checkpoints,
    IReadOnlyList<TrainingLogEntry> Log)
{
    public const string Format = "thermolearn-beliefs-run/1";
    private const string RunFile = "run.json";
    private const string LogFile = "training-log.csv";
    private const string CheckpointFolder = "checkpoints";

    internal static JsonSerializerOptions Json { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // A quantity not measured is null (the first log line has no training loss yet); run files written before
        // that said "NaN" there, and still load.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Checks that a run can be written to <paramref name="directory"/> (absent or empty, parent exists) before any training.</summary>
    public static void CheckTarget(string directory)
    {
        string full = Path.GetFullPath(directory);
        string? parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar));
        if (parent is null || !System.IO.Directory.Exists(parent))
            throw new InvalidInputException($"{directory}: the parent folder '{parent}' does not exist.");
        if (File.Exists(full)) throw new InvalidInputException($"{directory}: a file with this name exists; give a new folder for the run.");
        if (System.IO.Directory.Exists(full) && System.IO.Directory.EnumerateFileSystemEntries(full).Any())
            throw new InvalidInputException($"{directory}: the folder exists and is not empty; give a new folder for the run.");
    }

    /// <summary>Trains <paramref name="model"/> and writes the run folder (atomically, by renaming a finished temporary folder).</summary>
    public static TrainingRun Execute(string directory, JsonNode process, BeliefTransformer model, TransformerTrainingOptions options,
        TrainingBatchSource source, BeliefDataset validation, IProgress<TransformerTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        CheckTarget(directory);
        options.Validate();
        string full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        System.IO.Directory.CreateDirectory(Path.Combine(temporary, CheckpointFolder));
        try
        {
            string Save(long tokens, BeliefTransformer m)
            {
                string name = $"{CheckpointFolder}/tokens-{tokens:D12}.bin";
                m.save(Path.Combine(temporary, name));
                return name;
            }
            double floor = validation.CrossEntropyFloor();
            var result = TransformerTrainer.Train(model, source, validation, options, Save, progress, cancel);
            var run = new TrainingRun(full, process.DeepClone(), model.Config, options, floor, validation.Exact,
                new TrainingSummary(result.Steps, result.Tokens, result.Seconds, result.TokensPerSecond, result.FinalValidationLoss, result.MinimumValidationLoss),
                result.Checkpoints, result.Log);
            File.WriteAllText(Path.Combine(temporary, RunFile), run.ToJson().ToJsonString(Json));
            File.WriteAllText(Path.Combine(temporary, LogFile), FormatLog(result.Log));
            if (System.IO.Directory.Exists(full)) System.IO.Directory.Delete(full);
            System.IO.Directory.Move(temporary, full);
            return run;
        }
        catch
        {
            try { System.IO.Directory.Delete(temporary, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Reads a run folder written by <see cref="Execute"/>; a missing or malformed file is an <see cref="InvalidInputException"/>.</summary>
    public static TrainingRun Load(string directory)
    {
        string full = Path.GetFullPath(directory);
        string runFile = Path.Combine(full, RunFile);
        if (!File.Exists(runFile)) throw new InvalidInputException($"{directory}: no {RunFile} here; give a folder written by 'thermolearn beliefs train'.");
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(runFile))?.AsObject() ?? throw new InvalidInputException($"{runFile}: empty file.");
            if ((string?)root["format"] != Format) throw new InvalidInputException($"{runFile}: format '{root["format"]}' is not '{Format}'.");
            T Get<T>(string key) => root[key].Deserialize<T>(Json) ?? throw new InvalidInputException($"{runFile}: '{key}' is missing.");
            var model = Get<TransformerConfig>("model");
            model.Validate();
            var checkpoints = Get<List<TrainingCheckpoint>>("checkpoints");
            if (checkpoints.Count == 0) throw new InvalidInputException($"{runFile}: the run lists no checkpoints.");
            foreach (var c in checkpoints)
                if (!File.Exists(Path.Combine(full, c.Name))) throw new InvalidInputException($"{runFile}: checkpoint file '{c.Name}' is missing.");
            return new TrainingRun(full, root["process"]?.DeepClone() ?? throw new InvalidInputException($"{runFile}: 'process' is missing."),
                model, Get<TransformerTrainingOptions>("training"), Get<double>("ce_floor_nats"), Get<bool>("exact_validation"),
                Get<TrainingSummary>("result"), checkpoints,
                Get<List<TrainingLogEntry>>("log").Select(e => e.TrainLoss is { } l && double.IsNaN(l) ? e with { TrainLoss = null } : e).ToList());
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{runFile}: not a valid run file ({e.Message}).", e);
        }
    }

    /// <summary>The model saved at <paramref name="checkpoint"/>.</summary>
    public BeliefTransformer LoadModel(TrainingCheckpoint checkpoint)
    {
        var model = new BeliefTransformer(Model);
        string path = Path.Combine(Directory, checkpoint.Name);
        try
        {
            model.load(path);
        }
        catch (Exception e) when (e is not InvalidInputException)
        {
            model.Dispose();
            throw new InvalidInputException($"{path}: cannot load this checkpoint into a {Model} model ({e.Message}).", e);
        }
        model.eval();
        return model;
    }

    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["process"] = Process.DeepClone(),
        ["model"] = JsonSerializer.SerializeToNode(Model, Json),
        ["training"] = JsonSerializer.SerializeToNode(Training, Json),
        ["ce_floor_nats"] = CeFloorNats,
        ["exact_validation"] = ExactValidation,
        ["result"] = JsonSerializer.SerializeToNode(Result, Json),
        ["checkpoints"] = JsonSerializer.SerializeToNode(Checkpoints, Json),
        ["log"] = JsonSerializer.SerializeToNode(Log, Json),
    };

    private static string FormatLog(IReadOnlyList<TrainingLogEntry> log)
    {
        var text = new StringBuilder("step,tokens,seconds,train_loss,val_ce\n");
        foreach (var e in log)
            text.Append(CultureInfo.InvariantCulture, $"{e.Step},{e.Tokens},{e.Seconds:R},{Cell(e.TrainLoss)},{Cell(e.ValidationLoss)}\n");
        return text.ToString();
    }

    /// <summary>A measured loss, or an empty cell when none was measured at that line.</summary>
    private static string Cell(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}

/// <summary>Outcome of a training run: losses in nats, time in seconds of wall clock.</summary>
public sealed record TrainingSummary(long Steps, long Tokens, double Seconds, double TokensPerSecond, double FinalValidationLoss, double MinimumValidationLoss);
