using System.Diagnostics;
using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Training;
using ThermoLearn.Processes.Geometry;
using ThermoLearn.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Transformers;

public enum TransformerOptimizer
{
    /// <summary>Plain stochastic gradient descent, <c>theta -= lr * grad</c> (the NeurIPS 2024 setting with lr 0.01).</summary>
    Sgd,

    /// <summary>Adam (Kingma &amp; Ba 2015) with betas (0.9, 0.999); optionally warmed up and decayed (<see cref="TransformerTrainingOptions.FinalLearningRate"/>).</summary>
    Adam,
}

/// <summary>
/// How to train: optimiser, learning rate, batch size (sequences of n_ctx + 1 tokens), budget in training tokens
/// (predicted tokens = steps x batch x n_ctx) and/or wall-clock seconds, the token counts at which to checkpoint,
/// and the seed of the initial weights and of the data stream. Defaults: SGD, lr 0.01, batch 64 (NeurIPS 2024).
/// </summary>
public sealed record TransformerTrainingOptions
{
    public TransformerOptimizer Optimizer { get; init; } = TransformerOptimizer.Sgd;
    public double LearningRate { get; init; } = 0.01;

    /// <summary>
    /// Adam only: when set, the rate climbs linearly over <see cref="WarmupTokens"/> and then follows a cosine from
    /// <see cref="LearningRate"/> down to this value at the end of the token budget (which must then be given);
    /// null: constant rate.
    /// </summary>
    public double? FinalLearningRate { get; init; }

    /// <summary>Training tokens of linear warm-up before the cosine decay (with <see cref="FinalLearningRate"/>).</summary>
    public long WarmupTokens { get; init; }
    public int BatchSize { get; init; } = 64;
    public ulong Seed { get; init; }
    public long? MaxTokens { get; init; }
    public double? MaxSeconds { get; init; }
    public IReadOnlyList<long> CheckpointTokens { get; init; } = [];

    /// <summary>Exact validation runs at every checkpoint and at least this often (seconds of wall clock).</summary>
    public double ValidationIntervalSeconds { get; init; } = 60;

    /// <summary>Threads for libtorch's intra-op parallelism.</summary>
    public int Threads { get; init; } = 2;

    public void Validate()
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InvalidInputException($"learning rate must be a positive number, not {LearningRate}.");
        if (FinalLearningRate is { } final)
        {
            if (!(final >= 0 && final <= LearningRate)) throw new InvalidInputException($"the final learning rate must be between 0 and the learning rate {LearningRate}, not {final}.");
            if (Optimizer != TransformerOptimizer.Adam) throw new InvalidInputException("a learning-rate schedule (final rate, warm-up) is for the adam optimizer; sgd runs at a constant rate.");
            if (MaxTokens is null) throw new InvalidInputException("a learning-rate schedule decays over the token budget: give a number of tokens.");
        }
        else if (WarmupTokens != 0) throw new InvalidInputException("warm-up belongs to a learning-rate schedule: give the final learning rate too.");
        if (WarmupTokens < 0 || (MaxTokens is { } budget && FinalLearningRate is not null && WarmupTokens >= budget))
            throw new InvalidInputException($"warm-up must be 0 or more tokens and shorter than the token budget {MaxTokens}, not {WarmupTokens}.");
        if (BatchSize < 1 || BatchSize > 1 << 20) throw new InvalidInputException($"batch size must be in 1..{1 << 20}, not {BatchSize}.");
        if (MaxTokens is null && MaxSeconds is null) throw new InvalidInputException("give a training budget: a number of tokens or of seconds.");
        if (MaxTokens is { } t && t < 1) throw new InvalidInputException($"the token budget must be positive, not {t}.");
        if (MaxSeconds is { } s && !(s > 0 && double.IsFinite(s))) throw new InvalidInputException($"the time budget must be a positive number of seconds, not {s}.");
        if (CheckpointTokens.Any(c => c < 1)) throw new InvalidInputException("checkpoint token counts must be positive.");
        if (!(ValidationIntervalSeconds > 0)) throw new InvalidInputException($"validation interval must be positive, not {ValidationIntervalSeconds}.");
        if (Threads < 1 || Threads > 1024) throw new InvalidInputException($"threads must be in 1..1024, not {Threads}.");
    }
}

/// <summary>Fills <paramref name="tokens"/> (batch x (n_ctx + 1), row-major) with fresh sequences for batch number <paramref name="batchIndex"/>; must be a pure function of its arguments and the seed it was made with.</summary>
public delegate void TrainingBatchSource(long batchIndex, int batchSize, long[] tokens);

/// <summary>
/// A line of the training log: TrainLoss is the mean training cross-entropy (nats) over the steps since the
/// previous entry (null when no step was taken since then, as at step 0), ValidationLoss the validation
/// cross-entropy (nats) when it was computed at this point.
/// </summary>
public sealed record TrainingLogEntry(long Step, long Tokens, double Seconds, double? TrainLoss, double? ValidationLoss);

/// <summary>A saved model: Name is the name it was saved under (relative to the run folder); losses in nats.</summary>
public sealed record TrainingCheckpoint(long Tokens, long Step, double Seconds, double ValidationLoss, string Name);

public sealed record TransformerTrainingProgress(double Fraction, long Tokens, double TrainLoss, double? ValidationLoss);

public sealed record TrainingResult(
    IReadOnlyList<TrainingLogEntry> Log,
    IReadOnlyList<TrainingCheckpoint> Checkpoints,
    long Steps,
    long Tokens,
    double Seconds,
    double FinalValidationLoss,
    double MinimumValidationLoss)
{
    public double TokensPerSecond => Tokens / Seconds;
}

/// <summary>
/// Next-token training of a <see cref="BeliefTransformer"/> on fresh batches from a process: loss = mean
/// cross-entropy of tokens[1..n_ctx] given tokens[0..j]; the validation loss is measured on a
/// <see cref="BeliefDataset"/> (exact over all prefixes when it is an exact enumeration).
/// </summary>
public static class TransformerTrainer
{
    /// <summary>
    /// A model with weights drawn from <paramref name="seed"/> with PyTorch's default laws (linear weights and biases
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), embeddings N(0, 1), LayerNorm 1 and 0), using the tool's own
    /// <see cref="RandomStream"/> (one stream per parameter tensor) rather than libtorch's global generator, which
    /// other code running in the same process may reseed or draw from at any time.
    /// </summary>
    public static BeliefTransformer CreateModel(TransformerConfig config, ulong seed)
    {
        config.Validate();
        var model = new BeliefTransformer(config);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = no_grad();
        ulong index = 0;
        foreach (var (name, parameter) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var stream = RandomStream.For(seed, index++, RandomPurposes.TransformerInitialisation);
            string leaf = name[(name.LastIndexOf('.') + 1)..];
            string owner = name.Contains('.') ? name[..name.LastIndexOf('.')] : "";
            var values = new float[parameter.numel()];
            if (owner.EndsWith("embedding", StringComparison.Ordinal) || name == "position_embedding")
                for (int k = 0; k < values.Length; k++) values[k] = (float)stream.NextGaussian();
            else if (owner.Split('.')[^1].StartsWith("ln", StringComparison.Ordinal))
                Array.Fill(values, leaf == "weight" ? 1f : 0f);
            else
            {
                long fanIn = leaf == "weight" ? parameter.shape[1] : parameters[owner + ".weight"].shape[1];
                double bound = 1 / Math.Sqrt(fanIn);
                for (int k = 0; k < values.Length; k++) values[k] = (float)((2 * stream.NextDouble() - 1) * bound);
            }
            parameter.copy_(tensor(values, parameter.shape));
        }
        return model;
    }

    /// <summary>
    /// Trains until the token or time budget is spent; saveCheckpoint is called at each checkpoint (and at the
    /// end) with the token count and returns the name it saved under.
    /// </summary>
    public static TrainingResult Train(BeliefTransformer model, TrainingBatchSource source, BeliefDataset validation, TransformerTrainingOptions options,
        Func<long, BeliefTransformer, string>? saveCheckpoint = null, IProgress<TransformerTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        var config = model.Config;
        if (validation.Length != config.NCtx || validation.Vocabulary != config.Vocabulary)
            throw new InvalidInputException($"validation data (length {validation.Length}, vocabulary {validation.Vocabulary}) does not match the model (n_ctx {config.NCtx}, vocabulary {config.Vocabulary}).");
        TorchRuntime.Initialise(options.Threads);
        int batch = options.BatchSize, t = config.NCtx;
        long tokensPerStep = (long)batch * t;
        var pending = new Queue<long>(options.CheckpointTokens.Distinct().Order());
        var parameters = model.parameters().ToArray();
        // Plain SGD is written out, theta <- theta - lr grad, with its scalar held for the whole run, and Adam is the
        // neural estimators' AdamStep: an implicit native scalar (as TorchSharp's optim.Adam makes
        // every step) can be finalised while the native call still reads it (Runtime/StableScalars.cs); its schedule is
        // AdamStep's (constant unless a final rate is given).
        bool sgd = options.Optimizer == TransformerOptimizer.Sgd;
        using var minusLearningRate = (-options.LearningRate).ToScalar();
        long totalSteps = options.FinalLearningRate is null ? 1 : (options.MaxTokens!.Value + tokensPerStep - 1) / tokensPerStep;
        using var adam = sgd ? null : new AdamStep(parameters, options.LearningRate, options.FinalLearningRate ?? options.LearningRate, totalSteps,
            Math.Min(options.WarmupTokens / tokensPerStep, totalSteps - 1));
        var buffer = new long[batch * (t + 1)];
        var log = new List<TrainingLogEntry>();
        var checkpoints = new List<TrainingCheckpoint>();
        var clock = Stopwatch.StartNew();
        double lastLog = 0, lastValidation = 0, lossSum = 0, minimum = double.PositiveInfinity;
        long lossSteps = 0, step = 0, tokens = 0;
        double? lastVal = null;
        model.train();

        double Validate()
        {
            double v = TransformerProbe.Run(model, validation, captureResiduals: false).CrossEntropy;
            minimum = Math.Min(minimum, v);
            lastVal = v;
            lastValidation = clock.Elapsed.TotalSeconds;
            return v;
        }

        void Record(double? validationLoss)
        {
            double? mean = lossSteps > 0 ? lossSum / lossSteps : null;
            log.Add(new TrainingLogEntry(step, tokens, clock.Elapsed.TotalSeconds, mean, validationLoss));
            lossSum = 0;
            lossSteps = 0;
            lastLog = clock.Elapsed.TotalSeconds;
        }

        // A record made with no step since the previous one has no training loss: progress shows the latest real one.
        double LastTrainLoss()
        {
            for (int i = log.Count - 1; i >= 0; i--)
                if (log[i].TrainLoss is { } loss) return loss;
            return double.NaN;
        }

        double Fraction()
        {
            double f = 0;
            if (options.MaxTokens is { } mt) f = Math.Max(f, (double)tokens / mt);
            if (options.MaxSeconds is { } ms) f = Math.Max(f, clock.Elapsed.TotalSeconds / ms);
            return Math.Min(1, f);
        }

        Record(Validate());
        while (true)
        {
            if (options.MaxTokens is { } maxTokens && tokens >= maxTokens) break;
            if (options.MaxSeconds is { } maxSeconds && clock.Elapsed.TotalSeconds >= maxSeconds) break;
            cancel.ThrowIfCancellationRequested();
            source(step, batch, buffer);
            using (var scope = NewDisposeScope())
            {
                var sequences = tensor(buffer, [batch, t + 1], ScalarType.Int64);
                var logits = model.forward(sequences.narrow(1, 0, t));
                var loss = nn.functional.cross_entropy(logits.reshape(-1, config.Vocabulary), sequences.narrow(1, 1, t).reshape(-1));
                // Dropping the gradients (set to none) saves a fill kernel per parameter per step.
                model.zero_grad(set_to_none: true);
                loss.backward();
                if (adam is not null) adam.Step();
                else
                    using (no_grad())
                        foreach (var parameter in parameters)
                            if (parameter.grad is { } gradient) parameter.add_(gradient, minusLearningRate);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new InvalidInputException($"training diverged at step {step} (loss {value}); use a smaller learning rate.");
                lossSum += value;
                lossSteps++;
            }
            step++;
            tokens += tokensPerStep;

            bool checkpoint = false;
            while (pending.Count > 0 && tokens >= pending.Peek())
            {
                pending.Dequeue();
                checkpoint = true;
            }
            double now = clock.Elapsed.TotalSeconds;
            if (checkpoint)
            {
                double v = Validate();
                Record(v);
                string name = saveCheckpoint?.Invoke(tokens, model) ?? "";
                checkpoints.Add(new TrainingCheckpoint(tokens, step, clock.Elapsed.TotalSeconds, v, name));
            }
            else if (now - lastValidation >= options.ValidationIntervalSeconds) Record(Validate());
            else if (now - lastLog >= 1.0) Record(null);
            if (progress is not null && (checkpoint || step % 64 == 0))
                progress.Report(new TransformerTrainingProgress(Fraction(), tokens, LastTrainLoss(), lastVal));
        }

        double final = Validate();
        Record(final);
        if (checkpoints.Count == 0 || checkpoints[^1].Tokens != tokens)
        {
            string name = saveCheckpoint?.Invoke(tokens, model) ?? "";
            checkpoints.Add(new TrainingCheckpoint(tokens, step, clock.Elapsed.TotalSeconds, final, name));
        }
        progress?.Report(new TransformerTrainingProgress(1, tokens, LastTrainLoss(), final));
        return new TrainingResult(log, checkpoints, step, tokens, clock.Elapsed.TotalSeconds, final, minimum);
    }
}
