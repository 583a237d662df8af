using ThermoLearn.Randomness;

namespace ThermoLearn.Inference;

/// <summary>
/// Standard errors of a smooth function f of batch sums S = sum_b S_b. Default: the delete-one-batch
/// jackknife, var = (B-1)/B sum_b (f(S - S_b) - mean)^2, which is the delta method evaluated with the
/// batch-means covariance (Efron &amp; Stein 1981; for J^T G^-1 J it linearises to
/// 2 theta . dJ - theta^T dG theta). Optional: bootstrap over batches (whole trajectories when the
/// layout groups trajectories), with counter-based random streams keyed by (seed, replicate).
/// </summary>
public sealed record ErrorOptions(int Batches = 50, int Bootstrap = 0, ulong Seed = 0)
{
    public static ErrorOptions Default { get; } = new();

    public void Validate()
    {
        if (Batches < 2 || Batches > 100_000) throw new InvalidInputException($"Batches for standard errors must be between 2 and 100000 (got {Batches}).");
        if (Bootstrap < 0 || Bootstrap == 1 || Bootstrap > 100_000) throw new InvalidInputException($"Bootstrap replicates must be 0 (jackknife) or between 2 and 100000 (got {Bootstrap}).");
    }

    internal string Describe(int batches, string unit) =>
        Bootstrap > 0 ? $"bootstrap ({Bootstrap} replicates, seed {Seed}) over {batches} {unit}" : $"jackknife over {batches} {unit}";
}

internal static class Resampling
{
    /// <summary>
    /// Standard errors of each component of f. <paramref name="evaluate"/> receives batch weights
    /// (1 = included once) and returns f of the weighted sums.
    /// </summary>
    public static double[] StandardErrors(int batches, ErrorOptions options, Func<double[], double[]> evaluate) =>
        StandardErrorsAndMeans(batches, options, evaluate, out _);

    /// <summary>
    /// Standard errors and finite-data bias of each component of f, whose full-data value is <paramref name="value"/>.
    /// Jackknife bias (B - 1)(mean_b f(S - S_b) - f(S)): exact for a bias c / tau, since each replicate sees (B - 1)/B of the data
    /// (Quenouille 1956; Efron &amp; Stein 1981); bootstrap: mean of the replicates - f(S).
    /// </summary>
    public static (double[] StandardErrors, double[] Bias) Errors(int batches, ErrorOptions options, Func<double[], double[]> evaluate, double[] value)
    {
        // one batch (a shard holding part of one batch of its run): no error from this part alone; reduce the parts
        if (batches < 2) return (Enumerable.Repeat(double.NaN, value.Length).ToArray(), new double[value.Length]);
        var se = StandardErrorsAndMeans(batches, options, evaluate, out var means);
        var bias = new double[se.Length];
        for (int k = 0; k < se.Length; k++)
            bias[k] = options.Bootstrap > 0 ? means[k] - value[k] : (batches - 1.0) * (means[k] - value[k]);
        return (se, bias);
    }

    private static double[] StandardErrorsAndMeans(int batches, ErrorOptions options, Func<double[], double[]> evaluate, out double[] means)
    {
        var weights = new double[batches];
        if (options.Bootstrap > 0)
        {
            double[]? sum = null, sumSq = null;
            for (int r = 0; r < options.Bootstrap; r++)
            {
                Array.Clear(weights);
                var random = RandomStream.For(options.Seed, (ulong)r, RandomPurposes.BootstrapResample);
                for (int i = 0; i < batches; i++) weights[(int)(random.NextUInt64() % (ulong)batches)] += 1;
                var f = evaluate(weights);
                sum ??= new double[f.Length];
                sumSq ??= new double[f.Length];
                for (int k = 0; k < f.Length; k++) { sum[k] += f[k]; sumSq[k] += f[k] * f[k]; }
            }
            int nb = options.Bootstrap;
            var se = new double[sum!.Length];
            means = new double[se.Length];
            for (int k = 0; k < se.Length; k++)
            {
                double mean = sum[k] / nb;
                means[k] = mean;
                se[k] = Math.Sqrt(Math.Max(0, (sumSq![k] - nb * mean * mean) / (nb - 1)));
            }
            return se;
        }
        var leaveOut = new double[batches][];
        for (int b = 0; b < batches; b++)
        {
            Array.Fill(weights, 1.0);
            weights[b] = 0;
            leaveOut[b] = evaluate(weights);
        }
        int m = leaveOut[0].Length;
        var result = new double[m];
        means = new double[m];
        for (int k = 0; k < m; k++)
        {
            double mean = 0;
            for (int b = 0; b < batches; b++) mean += leaveOut[b][k];
            mean /= batches;
            means[k] = mean;
            double ss = 0;
            for (int b = 0; b < batches; b++) { double e = leaveOut[b][k] - mean; ss += e * e; }
            result[k] = Math.Sqrt((batches - 1.0) / batches * ss);
        }
        return result;
    }
}
