using ThermoLearn.Statistics;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Mean and standard error of a correlated series by block averaging: the series is cut into B contiguous blocks
/// and the standard error is the spread of the block means, sqrt(var(block means) / B). Blocks much longer than the
/// correlation time make the block means independent; <see cref="DefaultBlocks"/> = 20 blocks leaves the error of the
/// error at about 1/sqrt(2 (B - 1)) = 16%.
/// </summary>
public static class BlockStatistics
{
    public const int DefaultBlocks = 20;

    /// <summary>The mean of <paramref name="series"/> with its block standard error; the count is the number of blocks used, min(blocks, n).</summary>
    public static MeanEstimate Mean(ReadOnlySpan<double> series, int blocks = DefaultBlocks)
    {
        int n = series.Length;
        if (n < 2) throw new InvalidInputException($"a standard error needs at least 2 snapshots (got {n}).");
        blocks = Math.Min(blocks, n);
        double mean = 0;
        foreach (double v in series) mean += v;
        mean /= n;
        var means = new double[blocks];
        for (int b = 0; b < blocks; b++)
        {
            int start = (int)((long)n * b / blocks), end = (int)((long)n * (b + 1) / blocks);
            double s = 0;
            for (int t = start; t < end; t++) s += series[t];
            means[b] = s / (end - start);
        }
        double blockMean = means.Average(), variance = 0;
        foreach (double m in means) variance += (m - blockMean) * (m - blockMean);
        variance /= blocks - 1;
        return new MeanEstimate(mean, Math.Sqrt(variance / blocks), blocks);
    }
}
