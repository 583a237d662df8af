using ThermoLearn.Processes.Geometry;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Transformers;

/// <summary>What a model does on a <see cref="BeliefDataset"/>: its validation loss and, optionally, its residual streams.</summary>
/// <param name="CrossEntropy">
/// <c>(1/n_ctx) sum_s w_s sum_j sum_y P(y|prefix) (-ln q(y|prefix))</c> in nats: exact when the dataset is an
/// exact enumeration, otherwise an unbiased estimate whose standard error is <paramref name="StandardError"/>.
/// </param>
/// <param name="StandardError">0 for an exact dataset; the standard error over sampled sequences otherwise.</param>
/// <param name="Residuals">For each residual stream l = 0..layers (0 = embeddings): rows = the dataset's analysis rows, columns = d_model; null when not captured.</param>
public sealed record ProbeResult(double CrossEntropy, double StandardError, RowMatrix[]? Residuals);

/// <summary>Runs a transformer over every sequence of a <see cref="BeliefDataset"/> in inference mode, in chunks.</summary>
public static class TransformerProbe
{
    public static ProbeResult Run(BeliefTransformer model, BeliefDataset data, bool captureResiduals, int chunkSize = 4096)
    {
        var config = model.Config;
        if (data.Length != config.NCtx || data.Vocabulary != config.Vocabulary)
            throw new InvalidInputException($"the model reads {config.NCtx} tokens from a vocabulary of {config.Vocabulary}, "
                + $"but the dataset has length {data.Length} and vocabulary {data.Vocabulary}.");
        int n = data.SequenceCount, t = data.Length, v = data.Vocabulary, d = config.DModel;
        int layers = config.Layers + 1;
        var residuals = captureResiduals ? Enumerable.Range(0, layers).Select(_ => new double[(long)data.RowCount * d]).ToArray() : null;
        var perSequence = new double[n];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var inference = inference_mode();
            int nextRow = 0;
            var logProbabilities = new float[chunkSize * t * v];
            var stream = captureResiduals ? new float[chunkSize * t * d] : [];
            for (int start = 0; start < n; start += chunkSize)
            {
                int count = Math.Min(chunkSize, n - start);
                using var scope = NewDisposeScope();
                var tokens = tensor(data.Tokens.AsSpan(start * t, count * t).ToArray().Select(x => (long)x).ToArray(), [count, t], ScalarType.Int64);
                Tensor logits;
                Tensor[]? captured = null;
                if (captureResiduals) (logits, captured) = model.ForwardWithResiduals(tokens);
                else logits = model.forward(tokens);
                nn.functional.log_softmax(logits, 2).data<float>().CopyTo(logProbabilities.AsSpan(0, count * t * v));
                for (int s = 0; s < count; s++)
                {
                    double sum = 0;
                    int baseIndex = ((start + s) * t) * v;
                    for (int k = 0; k < t * v; k++)
                    {
                        double p = data.NextTokenLaws[baseIndex + k];
                        if (p > 0) sum -= p * logProbabilities[s * t * v + k];
                    }
                    perSequence[start + s] = sum / t;
                }
                if (captured is null) continue;
                // Rows are numbered in order of their first (sequence, position), so each chunk's rows are contiguous.
                int firstRow = nextRow;
                while (nextRow < data.RowCount && data.RowSequence[nextRow] < start + count) nextRow++;
                for (int l = 0; l < layers; l++)
                {
                    captured[l].contiguous().data<float>().CopyTo(stream.AsSpan(0, count * t * d));
                    var target = residuals![l];
                    for (int r = firstRow; r < nextRow; r++)
                    {
                        int source = ((data.RowSequence[r] - start) * t + data.RowPosition[r]) * d;
                        for (int k = 0; k < d; k++) target[(long)r * d + k] = stream[source + k];
                    }
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        double mean = 0;
        for (int s = 0; s < n; s++) mean += data.SequenceWeights[s] * perSequence[s];
        double standardError = 0;
        if (!data.Exact && n > 1)
        {
            double variance = 0;
            for (int s = 0; s < n; s++) variance += (perSequence[s] - mean) * (perSequence[s] - mean);
            standardError = Math.Sqrt(variance / (n - 1) / n);
        }
        var matrices = residuals?.Select(r => new RowMatrix(data.RowCount, d, r)).ToArray();
        return new ProbeResult(mean, standardError, matrices);
    }
}
