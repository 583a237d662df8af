using System.Numerics;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// Weighted means and centred cross-products <c>A_c^T W B_c</c>, the sufficient statistics of weighted
/// least squares and weighted PCA. Rows are split into fixed chunks whose partial sums are added in
/// chunk order, so the result is bit-identical for any thread count.
/// </summary>
internal static class WeightedMoments
{
    private const int ChunkRows = 2048;

    public static double TotalWeight(ReadOnlySpan<double> weights, int rows, string what)
    {
        if (weights.Length != rows)
            throw new InvalidInputException($"{what}: {weights.Length} weights for {rows} rows; give one weight per row.");
        double total = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            double w = weights[i];
            if (!double.IsFinite(w) || w < 0)
                throw new InvalidInputException($"{what}: weight {i} is {w}; weights must be finite and non-negative.");
            total += w;
        }
        if (!(total > 0)) throw new InvalidInputException($"{what}: the weights sum to zero; at least one row needs a positive weight.");
        return total;
    }

    /// <summary>Weighted column means <c>sum_i w_i x_i / sum_i w_i</c>.</summary>
    public static double[] Mean(RowMatrix x, double[] weights, double totalWeight)
    {
        var mean = new double[x.Columns];
        for (int i = 0; i < x.Rows; i++)
        {
            double w = weights[i];
            if (w == 0) continue;
            var row = x.Row(i);
            for (int j = 0; j < mean.Length; j++) mean[j] += w * row[j];
        }
        for (int j = 0; j < mean.Length; j++) mean[j] /= totalWeight;
        return mean;
    }

    /// <summary>
    /// <c>C[j][k] = sum_i w_i (a_ij - ma_j)(b_ik - mb_k)</c>, row-major (a.Columns x b.Columns). When
    /// <paramref name="symmetric"/> (a is b), only the upper triangle is accumulated and then mirrored.
    /// </summary>
    public static double[] CentredCross(RowMatrix a, double[] meanA, RowMatrix b, double[] meanB, double[] weights, bool symmetric)
    {
        int p = a.Columns, q = b.Columns;
        int chunks = Math.Max(1, (a.Rows + ChunkRows - 1) / ChunkRows);
        var partial = new double[chunks][];
        Parallel.For(0, chunks, chunk =>
        {
            var sum = new double[p * q];
            var ca = new double[p];
            var cb = new double[q];
            int end = Math.Min(a.Rows, (chunk + 1) * ChunkRows);
            for (int i = chunk * ChunkRows; i < end; i++)
            {
                double w = weights[i];
                if (w == 0) continue;
                var ra = a.Row(i);
                var rb = b.Row(i);
                for (int j = 0; j < p; j++) ca[j] = w * (ra[j] - meanA[j]);
                for (int k = 0; k < q; k++) cb[k] = rb[k] - meanB[k];
                for (int j = 0; j < p; j++)
                {
                    int start = symmetric ? j : 0;
                    AddScaled(sum.AsSpan(j * q + start, q - start), ca[j], cb.AsSpan(start));
                }
            }
            partial[chunk] = sum;
        });
        var total = new double[p * q];
        foreach (var s in partial)
            for (int k = 0; k < total.Length; k++) total[k] += s[k];
        if (symmetric)
            for (int j = 0; j < p; j++)
                for (int k = 0; k < j; k++) total[j * q + k] = total[k * q + j];
        return total;
    }

    private static void AddScaled(Span<double> destination, double scale, ReadOnlySpan<double> source)
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<double>(scale);
            for (; k <= destination.Length - Vector<double>.Count; k += Vector<double>.Count)
            {
                var d = new Vector<double>(destination.Slice(k));
                (d + s * new Vector<double>(source.Slice(k))).CopyTo(destination.Slice(k));
            }
        }
        for (; k < destination.Length; k++) destination[k] += scale * source[k];
    }
}
