using ThermoLearn.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Minibatch Adam with early stopping: each epoch visits the training transitions in a seeded random
/// order (a permutation drawn from <see cref="RandomStream"/> keyed by (seed, epoch)), every step runs
/// inside its own dispose scope, and the weights of the epoch with the lowest validation loss are
/// restored at the end. A non-finite loss (training diverged, e.g. a learning rate far too large) stops
/// training before the bad step is applied; the best weights so far are kept (epoch 0, the initial network, when
/// it diverged in the first epoch) and the curve records where it diverged.
/// </summary>
internal static class Trainer
{
    private const long EvaluationChunk = 1 << 16;

    public static TrainingCurve Train(TransitionObjective objective, TransitionTensors train, TransitionTensors validation,
        TrainingOptions options, ulong seed, int fold, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        objective.Standardise(train);
        var parameters = objective.Network.parameters().ToArray();
        long n = train.Count;
        long stepsPerEpoch = (n + options.BatchSize - 1) / options.BatchSize;
        // The current and NEEP losses are dominated by increment noise (per-transition variance ~ 8 sigma / dt),
        // so constant-rate Adam leaves the weights jittering; a cosine decay to 1% averages that noise out.
        using var adam = new AdamStep(parameters, options.LearningRate, options.LearningRate * 0.01, stepsPerEpoch * options.Epochs);
        var trainLoss = new List<double>();
        var validationLoss = new List<double>();
        // The initial weights are kept only if training diverges before one epoch completes: they are not a
        // candidate otherwise, since on small data the noisy held-out loss of an untrained (near-zero) field can
        // beat a trained one by chance and the estimate would collapse to about 0.
        Tensor[] best = Snapshot(parameters);
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        bool stoppedEarly = false;
        Divergence? diverged = null;
        try
        {
            for (int epoch = 1; epoch <= options.Epochs && diverged is null; epoch++)
            {
                cancellation.ThrowIfCancellationRequested();
                var random = RandomStream.For(seed, (ulong)epoch, RandomPurposes.NeuralEpochOrder);
                long[] order = Array.ConvertAll(TransitionUnits.Permutation(checked((int)n), ref random), i => (long)i);
                double sum = 0;
                long steps = 0;
                objective.Network.train();
                using (var epochScope = NewDisposeScope())
                {
                    Tensor permutation = tensor(order);
                    for (long start = 0; start < n; start += options.BatchSize)
                    {
                        using var scope = NewDisposeScope();
                        long length = Math.Min(options.BatchSize, n - start);
                        TransitionBatch batch = train.Select(permutation.narrow(0, start, length));
                        objective.Network.zero_grad(set_to_none: true);
                        Tensor loss = objective.Loss(batch);
                        double value = loss.item<float>();
                        if (!double.IsFinite(value))
                        {
                            diverged = new Divergence(epoch, steps + 1, value);
                            break;
                        }
                        loss.backward();
                        adam.Step();
                        sum += value;
                        steps++;
                    }
                }
                if (diverged is not null) break;
                double epochLoss = sum / steps;
                double check = MeanLoss(objective, validation);
                if (!double.IsFinite(check))
                {
                    // the last steps produced weights whose held-out loss overflows: stop before using them
                    diverged = new Divergence(epoch, steps, check);
                    break;
                }
                trainLoss.Add(epochLoss);
                validationLoss.Add(check);
                progress?.Report(new TrainingProgress(fold, options.Folds, epoch, options.Epochs, epochLoss, check));
                if (check < bestLoss)
                {
                    bestLoss = check;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    Dispose(best);
                    best = Snapshot(parameters);
                }
                else if (++sinceBest >= options.Patience)
                {
                    stoppedEarly = epoch < options.Epochs;
                    break;
                }
            }
            using (no_grad())
            {
                for (int i = 0; i < parameters.Length; i++) parameters[i].copy_(best[i]);
            }
        }
        finally
        {
            Dispose(best);
        }
        objective.Network.eval();
        return new TrainingCurve(trainLoss, validationLoss, bestEpoch, stoppedEarly, diverged);
    }

    /// <summary>Mean loss over all transitions (no gradient), accumulated in float64.</summary>
    public static double MeanLoss(TransitionObjective objective, TransitionTensors data)
    {
        double sum = 0;
        using var noGrad = no_grad();
        for (long start = 0; start < data.Count; start += EvaluationChunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(EvaluationChunk, data.Count - start);
            sum += objective.Loss(data.Slice(start, length)).item<float>() * (double)length;
        }
        return sum / data.Count;
    }

    /// <summary>Per-transition contributions of all transitions, as float64.</summary>
    public static double[] Contributions(TransitionObjective objective, TransitionTensors data)
    {
        var result = new double[data.Count];
        using var noGrad = no_grad();
        for (long start = 0; start < data.Count; start += EvaluationChunk)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(EvaluationChunk, data.Count - start);
            float[] values = objective.Contributions(data.Slice(start, length)).to_type(ScalarType.Float32).data<float>().ToArray();
            for (long i = 0; i < length; i++) result[start + i] = values[i];
        }
        return result;
    }

    private static Tensor[] Snapshot(Tensor[] parameters)
    {
        using var noGrad = no_grad();
        return parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    private static void Dispose(Tensor[] tensors)
    {
        foreach (var t in tensors) t.Dispose();
    }
}
