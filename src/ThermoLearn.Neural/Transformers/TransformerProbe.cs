using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Processes.Geometry;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Transformers;

/// <summary>What a model does on a <see cref="BeliefDataset"/>: its validation loss and, optionally, its residual streams.</summary>
/// <param name="CrossEntropy">
/// <c>(1/n_ctx) sum_rows w_r sum_y P(y|prefix_r) (-ln q(y|prefix_r))</c> in nats: exact when the dataset is an
/// exact enumeration, otherwise an unbiased estimate whose standard error is <paramref name="StandardError"/>.
/// </param>
/// <param name="StandardError">0 for an exact dataset; the standard error over sampled sequences otherwise.</param>
/// <param name="Residuals">For each residual stream l = 0..layers (0 = embeddings): rows = the dataset's analysis rows, columns = d_model; null when not captured.</param>
public sealed record ProbeResult(double CrossEntropy, double StandardError, Matrix<double>[]? Residuals);

/// <summary>
/// Runs a transformer over every prefix of a <see cref="BeliefDataset"/> in inference mode, level by level
/// through the prefix tree (each distinct prefix computed once, keys and values of its parent reused).
/// </summary>
public static class TransformerProbe
{
    public static ProbeResult Run(BeliefTransformer model, BeliefDataset data, bool captureResiduals)
    {
        var config = model.Config;
        if (data.Length != config.NCtx || data.Vocabulary != config.Vocabulary)
            throw new InvalidInputException($"the model reads {config.NCtx} tokens from a vocabulary of {config.Vocabulary}, "
                + $"but the dataset has length {data.Length} and vocabulary {data.Vocabulary}.");
        int t = data.Length, v = data.Vocabulary, d = config.DModel, layers = config.Layers + 1;
        var levels = new List<int>[t];
        for (int j = 0; j < t; j++) levels[j] = [];
        var local = new int[data.RowCount];
        for (int r = 0; r < data.RowCount; r++)
        {
            local[r] = levels[data.RowPosition[r]].Count;
            levels[data.RowPosition[r]].Add(r);
        }
        var residuals = captureResiduals ? Enumerable.Range(0, layers).Select(_ => new double[(long)data.RowCount * d]).ToArray() : null;
        var rowLoss = new double[data.RowCount];
        bool wasTraining = model.training;
        model.eval();
        (Tensor Keys, Tensor Values)[]? cache = null;
        try
        {
            using var inference = inference_mode();
            for (int j = 0; j < t; j++)
            {
                var rows = levels[j];
                int n = rows.Count;
                if (n == 0) break;
                using var scope = NewDisposeScope();
                var tokens = tensor(rows.Select(r => (long)data.RowTokens[r]).ToArray(), [n], ScalarType.Int64);
                var parents = j == 0 ? null : tensor(rows.Select(r => (long)local[data.RowParent[r]]).ToArray(), [n], ScalarType.Int64);
                var (logits, captured) = model.ExtendPrefixes(tokens, j, parents, cache, out var next);
                var logSoftmax = nn.functional.log_softmax(logits, 1).contiguous();
                var logQ = Floats(logSoftmax);
                for (int i = 0; i < n; i++)
                {
                    var law = data.RowNextTokenLaw(rows[i]);
                    double loss = 0;
                    for (int y = 0; y < v; y++)
                        if (law[y] > 0) loss -= law[y] * logQ[i * v + y];
                    rowLoss[rows[i]] = loss;
                }
                if (residuals is not null)
                    for (int l = 0; l < layers; l++)
                    {
                        var stream = captured[l].contiguous();
                        var values = Floats(stream);
                        var target = residuals[l];
                        for (int i = 0; i < n; i++)
                            for (int k = 0; k < d; k++) target[(long)k * data.RowCount + rows[i]] = values[i * d + k];
                    }
                if (cache is not null)
                    foreach (var (keys, values) in cache)
                    {
                        keys.Dispose();
                        values.Dispose();
                    }
                foreach (var (keys, values) in next)
                {
                    keys.MoveToOuterDisposeScope();
                    values.MoveToOuterDisposeScope();
                }
                cache = next;
            }
        }
        finally
        {
            if (cache is not null)
                foreach (var (keys, values) in cache)
                {
                    keys.Dispose();
                    values.Dispose();
                }
            model.train(wasTraining);
        }

        double mean = 0;
        for (int r = 0; r < data.RowCount; r++) mean += data.RowWeights[r] * rowLoss[r];
        mean /= t;
        double standardError = 0;
        if (!data.Exact && data.SequenceCount > 1)
        {
            // Sampled rows are (sequence, position) pairs: the per-sequence mean losses are i.i.d.
            var perSequence = new double[data.SequenceCount];
            for (int r = 0; r < data.RowCount; r++) perSequence[data.RowSequence[r]] += rowLoss[r] / t;
            double variance = perSequence.Sum(x => (x - mean) * (x - mean)) / (perSequence.Length - 1);
            standardError = Math.Sqrt(variance / perSequence.Length);
        }
        return new ProbeResult(mean, standardError, residuals?.Select(r => Matrix<double>.Build.Dense(data.RowCount, d, r)).ToArray());
    }

    /// <summary>The values of a contiguous float32 CPU tensor, without copying them element by element.</summary>
    private static ReadOnlySpan<float> Floats(Tensor contiguous) => MemoryMarshal.Cast<byte, float>(contiguous.bytes);
}
