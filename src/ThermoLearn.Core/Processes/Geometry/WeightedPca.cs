using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// Spectrum of a weighted covariance <c>C = sum_i w_i (x_i - x_bar)(x_i - x_bar)^T / sum_i w_i</c>:
/// eigenvalues (variances along principal directions, units of x squared) in descending order.
/// </summary>
internal sealed class PcaSpectrum
{
    internal PcaSpectrum(double[] variances)
    {
        Variances = variances;
        double total = variances.Sum();
        TotalVariance = total;
        var ratio = new double[variances.Length];
        var cumulative = new double[variances.Length];
        double running = 0;
        for (int k = 0; k < variances.Length; k++)
        {
            ratio[k] = total > 0 ? variances[k] / total : 0;
            running += ratio[k];
            cumulative[k] = running;
        }
        ExplainedRatio = ratio;
        CumulativeRatio = cumulative;
    }

    /// <summary>Eigenvalues of the weighted covariance, descending, negatives from round-off set to 0.</summary>
    public IReadOnlyList<double> Variances { get; }
    public double TotalVariance { get; }
    public IReadOnlyList<double> ExplainedRatio { get; }
    public IReadOnlyList<double> CumulativeRatio { get; }

    /// <summary>Smallest number of components whose cumulative explained ratio reaches <paramref name="fraction"/>.</summary>
    public int ComponentsFor(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new InvalidInputException($"variance fraction must be in (0, 1], not {fraction}.");
        for (int k = 0; k < CumulativeRatio.Count; k++)
            if (CumulativeRatio[k] >= fraction - 1e-12) return k + 1;
        return CumulativeRatio.Count;
    }

    /// <summary>Participation ratio <c>(sum lambda)^2 / sum lambda^2</c> (equal variances in d directions give d).</summary>
    public double ParticipationRatio => SpectralMeasures.ParticipationRatio(Variances.Select(Math.Sqrt).ToArray());

    /// <summary>Effective rank <c>exp(-sum p_k ln p_k)</c>, <c>p_k = sigma_k / sum sigma</c> over singular values sigma = sqrt(lambda) (Roy &amp; Vetterli 2007).</summary>
    public double EffectiveRank => SpectralMeasures.EffectiveRank(Variances.Select(Math.Sqrt).ToArray());

    /// <summary>Number of variances above <paramref name="relativeTolerance"/> times the largest: the affine rank of the data.</summary>
    public int Rank(double relativeTolerance = 1e-9)
    {
        if (Variances.Count == 0 || Variances[0] <= 0) return 0;
        return Variances.Count(v => v > Variances[0] * relativeTolerance);
    }
}

/// <summary>Weighted principal component analysis (weights = prefix probabilities; one row per distinct prefix).</summary>
internal static class WeightedPca
{
    public static PcaSpectrum Fit(RowMatrix x, double[] weights)
    {
        if (x.Rows == 0 || x.Columns == 0) throw new InvalidInputException($"PCA: empty input ({x.Rows} x {x.Columns}).");
        x.EnsureFinite("PCA input");
        double total = WeightedMoments.TotalWeight(weights, x.Rows, "PCA");
        var mean = WeightedMoments.Mean(x, weights, total);
        var cross = WeightedMoments.CentredCross(x, mean, x, mean, weights, symmetric: true);
        int p = x.Columns;
        var covariance = Matrix<double>.Build.Dense(p, p, (i, j) => cross[i * p + j] / total);
        var values = covariance.Evd(Symmetricity.Symmetric).EigenValues.Real().ToArray();
        Array.Sort(values, (a, b) => b.CompareTo(a));
        for (int k = 0; k < values.Length; k++) values[k] = Math.Max(0, values[k]);
        return new PcaSpectrum(values);
    }
}
