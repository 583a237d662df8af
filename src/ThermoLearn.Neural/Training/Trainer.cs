using ThermoLearn.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Minibatch Adam with early stopping: each epoch reads the training transitions sequentially in blocks and visits each
/// block in a seeded random order (a permutation drawn from <see cref="RandomStream"/> keyed by (seed, epoch, block)), every step runs
/// inside its own dispose scope, and the weights of the epoch with the lowest validation loss are
/// restored at the end. A non-finite loss (training diverged, e.g. a learning rate far too large) stops
/// training before the bad step is applied; the best weights so far are kept (epoch 0, the initial network, when
/// it diverged in the first epoch) and the curve records where it diverged.
/// </summary>
internal static class Trainer
{
    /// <summary>
    /// Trains on the units <paramref name="train"/> of <paramref name="source"/>, stopping early on <paramref name="validation"/>.
    /// Every epoch reads the data once, in file order, in blocks of <see cref="TrainingOptions.ShuffleBlock"/> transitions;
    /// block b of epoch e is visited in the order of a permutation from the stream (seed, e + 2^32 b) and cut into minibatches
    /// (the last of a block may be shorter). Standardisation comes from one more pass (float64 moments in file order). No step
    /// depends on how the file is chunked, so a streamed file trains the in-memory network bit for bit.
    /// </summary>
    public static TrainingCurve Train(TransitionObjective objective, TransitionSource source, IReadOnlyList<TransitionUnit> train,
        IReadOnlyList<TransitionUnit> validation, TrainingOptions options, ulong seed, int fold, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        objective.Standardise(source.Moments(train));
        var parameters = objective.Network.parameters().ToArray();
        long n = TransitionSource.Count(train), block = options.ShuffleBlock, batch = options.BatchSize;
        long stepsPerEpoch = n / block * ((block + batch - 1) / batch) + (n % block + batch - 1) / batch;
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
                double sum = 0;
                long steps = 0;
                ulong b = 0;
                objective.Network.train();
                foreach (var rows in source.Blocks(train, 1, block))
                {
                    var random = RandomStream.For(seed, (ulong)epoch + (b++ << 32), RandomPurposes.NeuralEpochOrder);
                    long[] order = Array.ConvertAll(TransitionUnits.Permutation(rows.Length, ref random), i => (long)i);
                    using var tensors = TransitionTensors.From(rows);
                    using var blockScope = NewDisposeScope();
                    Tensor permutation = tensor(order);
                    for (long start = 0; start < rows.Length; start += batch)
                    {
                        using var scope = NewDisposeScope();
                        long length = Math.Min(batch, rows.Length - start);
                        TransitionBatch minibatch = tensors.Select(permutation.narrow(0, start, length));
                        objective.Network.zero_grad(set_to_none: true);
                        Tensor loss = objective.Loss(minibatch);
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
                    if (diverged is not null) break;
                }
                if (diverged is not null) break;
                double epochLoss = sum / steps;
                double check = MeanLoss(objective, source, validation);
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

    /// <summary>Mean loss over the units' transitions (no gradient): block means of <see cref="CrossFit.EvaluationBlock"/> transitions, weighted and summed in float64.</summary>
    public static double MeanLoss(TransitionObjective objective, TransitionSource source, IReadOnlyList<TransitionUnit> units)
    {
        double sum = 0;
        long count = 0;
        using var noGrad = no_grad();
        foreach (var rows in source.Blocks(units, 1, CrossFit.EvaluationBlock))
        {
            using var tensors = TransitionTensors.From(rows);
            using var scope = NewDisposeScope();
            sum += objective.Loss(tensors.Slice(0, rows.Length)).item<float>() * (double)rows.Length;
            count += rows.Length;
        }
        return sum / count;
    }

    /// <summary>
    /// Scores the units' transitions at <paramref name="lag"/> (no gradient) into <paramref name="into"/>: each value, as
    /// float64, is added to unit <c>global[i]</c> (the index in the ensemble's units of <paramref name="units"/>[i]) in frame order.
    /// </summary>
    public static void Score(TransitionObjective objective, TransitionSource source, IReadOnlyList<TransitionUnit> units, int[] global, int lag, HeldOutSums into)
    {
        using var noGrad = no_grad();
        foreach (var rows in source.Blocks(units, lag, CrossFit.EvaluationBlock))
        {
            float[] values;
            using (var tensors = TransitionTensors.From(rows))
            using (var scope = NewDisposeScope())
                values = objective.Contributions(tensors.Slice(0, rows.Length)).to_type(ScalarType.Float32).data<float>().ToArray();
            for (int i = 0; i < rows.Length; i++) into.Add(global[rows.Unit[i]], rows.Time[i], values[i]);
        }
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
