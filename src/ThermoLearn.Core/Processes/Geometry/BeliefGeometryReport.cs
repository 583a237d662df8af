using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>Principal-component summary: components needed for 80/90/95/99 % of the weighted variance, and two continuous dimension measures.</summary>
public sealed record PcaSummary(int For80, int For90, int For95, int For99, double ParticipationRatio, double EffectiveRank, IReadOnlyList<double> ExplainedRatio)
{
    internal static PcaSummary From(PcaSpectrum spectrum) => new(
        spectrum.ComponentsFor(0.80), spectrum.ComponentsFor(0.90), spectrum.ComponentsFor(0.95), spectrum.ComponentsFor(0.99),
        spectrum.ParticipationRatio, spectrum.EffectiveRank, spectrum.ExplainedRatio);
}

/// <summary>
/// Belief regression and PCA of one representation (a residual stream, or all of them concatenated).
/// Layer is "0".."L" (0 = embeddings, l = after block l) or "concat".
/// </summary>
public sealed record RepresentationGeometry(string Layer, RegressionScore InSample, RegressionScore HeldOut, RegressionScore ShuffledLabels, PcaSummary Pca);

/// <summary>
/// Belief-state geometry of a model's residual streams (Shai et al., NeurIPS 2024, arXiv:2405.15943): per
/// layer and concatenated, the weighted least-squares map from activations to beliefs with its controls, the
/// weighted PCA of the activations, and for product processes the factored analysis of the final layer and of
/// the concatenation. <see cref="FinalPrediction"/> holds the final layer's regressed beliefs (rows x states).
/// The belief-linked geometry of the final layer: <see cref="Centroids"/> (dimension of the belief-conditioned
/// centroids, with bootstrap errors) and, for products, <see cref="Comparison"/> (factored / joint / neither).
/// <see cref="CentroidsConcatenated"/> is the same centroid dimension on all residual streams side by side
/// (supporting evidence: Shai et al. find RRXOR's belief geometry in the concatenated layers, not in the final one).
/// <see cref="NextTokenShare"/> (and <see cref="NextTokenShareConcatenated"/>): the share of the belief-explained centroid
/// variance that the factors' next-token laws explain (<see cref="BeliefCentroids.ExplainedShare"/>), 1 when a
/// representation carries of the belief only what the unembedding reads; compare <see cref="TrueBeliefGeometry"/>.
/// </summary>
public sealed record BeliefGeometryReport(
    IReadOnlyList<RepresentationGeometry> Layers,
    RepresentationGeometry Concatenated,
    FactoredAnalysis? FactoredFinal,
    FactoredAnalysis? FactoredConcatenated,
    Matrix<double> FinalPrediction,
    CentroidDimension Centroids,
    CentroidDimension CentroidsConcatenated,
    ModelComparison? Comparison,
    double NextTokenShare,
    double NextTokenShareConcatenated)
{
    public RepresentationGeometry Final => Layers[^1];

    /// <summary>
    /// Analyses <paramref name="residuals"/> (one matrix per stream, rows = the dataset's rows); the seed drives the
    /// held-out split, the label shuffle, the centroid bootstrap (<paramref name="bootstrap"/> replicates) and the
    /// model-comparison folds.
    /// </summary>
    public static BeliefGeometryReport Compute(IReadOnlyList<Matrix<double>> residuals, BeliefDataset data, ulong seed, int bootstrap = 100)
    {
        ArgumentNullException.ThrowIfNull(residuals);
        return Compute(residuals.Select(RowMatrix.From).ToArray(), data, seed, bootstrap);
    }

    internal static BeliefGeometryReport Compute(IReadOnlyList<RowMatrix> residuals, BeliefDataset data, ulong seed, int bootstrap = 100)
    {
        if (residuals.Count == 0) throw new InvalidInputException("no residual streams to analyse.");
        foreach (var r in residuals)
            if (r.Rows != data.RowCount)
                throw new InvalidInputException($"activations have {r.Rows} rows but the dataset has {data.RowCount} prefixes.");
        var weights = data.RowWeights;
        var layers = new List<RepresentationGeometry>();
        WeightedLinearFit? finalFit = null;
        PcaSpectrum? finalSpectrum = null;
        for (int l = 0; l < residuals.Count; l++)
        {
            var (geometry, fit, spectrum) = Analyse(l.ToString(System.Globalization.CultureInfo.InvariantCulture), residuals[l], data, seed);
            layers.Add(geometry);
            finalFit = fit;
            finalSpectrum = spectrum;
        }
        var concatenated = RowMatrix.ConcatenateColumns(residuals);
        var (concat, _, concatSpectrum) = Analyse("concat", concatenated, data, seed);
        FactoredAnalysis? factoredFinal = null, factoredConcat = null;
        if (data.FactorStates is { Count: > 1 } factors)
        {
            factoredFinal = FactoredGeometry.Analyse(residuals[^1], data.Beliefs, factors, weights, finalSpectrum, data.FactorTaus);
            factoredConcat = FactoredGeometry.Analyse(concatenated, data.Beliefs, factors, weights, concatSpectrum, data.FactorTaus);
        }
        var centroids = BeliefCentroids.Compute(residuals[^1], data);
        var dimension = centroids.Dimension(residuals[^1], data, bootstrap, seed);
        var concatenatedCentroids = BeliefCentroids.Compute(concatenated, data);
        var concatenatedDimension = concatenatedCentroids.Dimension(concatenated, data, bootstrap, seed);
        var laws = data.FactorNextTokenLaws();
        var comparison = data.FactorStates is { Count: > 1 } states
            ? BeliefModelComparison.Compare(centroids, states, BeliefCentroids.RankFolds, seed, data.FactorTaus, dimension.RankSplit)
            : null;
        return new BeliefGeometryReport(layers, concat, factoredFinal, factoredConcat, finalFit!.Predict(residuals[^1]).ToMatrix(), dimension, concatenatedDimension, comparison,
            centroids.ExplainedShare(laws, data), concatenatedCentroids.ExplainedShare(laws, data));
    }

    private static (RepresentationGeometry, WeightedLinearFit, PcaSpectrum) Analyse(string name, RowMatrix x, BeliefDataset data, ulong seed)
    {
        var report = WeightedLeastSquares.FitWithControls(x, data.Beliefs, data.RowWeights, seed);
        var spectrum = WeightedPca.Fit(x, data.RowWeights);
        return (new RepresentationGeometry(name, report.InSample, report.HeldOut, report.ShuffledLabels, PcaSummary.From(spectrum)), report.Fit, spectrum);
    }
}
