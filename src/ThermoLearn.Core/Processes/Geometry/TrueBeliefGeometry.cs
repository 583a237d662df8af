using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// What the hypotheses predict for a model's belief-linked centroid dimension, measured on the true beliefs of the
/// dataset's prefixes through the same pipeline as the activations (<see cref="BeliefCentroids"/>: the same groups,
/// prefix weights, (position, last token) baseline, belief-explained projection, 80/90/95/99 % thresholds and
/// bootstrap). An affine rank such as sum_i (d_i - 1) bounds the dimension a code can have; how many components it
/// needs for 95 % of the variance depends on how the prefixes' weights spread the beliefs over those directions, so
/// a model is compared with the same measure of the beliefs themselves (docs/beliefs.md, "What the hypotheses predict").
/// </summary>
/// <param name="FactoredRank">sum_i (d_i - 1), d_i the state count of factor i: the affine rank bound of a factored code.</param>
/// <param name="JointRank">prod_i d_i - 1: the affine rank bound of a joint code.</param>
/// <param name="NextTokenRank">Affine rank of the factors' next-token laws over the dataset's prefixes (weighted).</param>
/// <param name="FactorBeliefs">The concatenated factor (marginal) beliefs as activations: what an ideal factored code shows
/// (any isometric linear image of them has the same spectrum).</param>
/// <param name="JointBelief">The joint belief as activations: what an ideal joint code shows.</param>
/// <param name="NextTokenLaws">The factors' next-token laws side by side as activations: the least a final layer must carry,
/// since the unembedding reads the next-token prediction from it (an affine image of the factor beliefs; fewer
/// directions than the beliefs when a factor's law depends on its belief through fewer directions, as RRXOR's
/// P(next = 1) = (b_S + b_0 + b_1) / 2 + b_T does).</param>
public sealed record TrueBeliefGeometry(
    int FactoredRank,
    int JointRank,
    int NextTokenRank,
    CentroidDimension FactorBeliefs,
    CentroidDimension JointBelief,
    CentroidDimension NextTokenLaws)
{
    /// <summary>
    /// Measures the three reference geometries on <paramref name="data"/> with <paramref name="replicates"/> bootstrap
    /// replicates (the same units and seed as a model's centroid dimension, so the two are comparable replicate by replicate).
    /// </summary>
    public static TrueBeliefGeometry Compute(BeliefDataset data, int replicates = 100, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        CentroidDimension Measure(RowMatrix x) => BeliefCentroids.Compute(x, data).Dimension(x, data, replicates, seed);
        var joint = Measure(data.Beliefs);
        var factors = data.FactorStates.Count > 1
            ? Measure(RowMatrix.ConcatenateColumns(FactoredGeometry.Marginals(data.Beliefs, data.FactorStates, data.FactorTaus)))
            : joint;
        var laws = data.FactorNextTokenLaws();
        int factoredRank = data.FactorStates.Sum(s => s - 1);
        int jointRank = checked(data.FactorStates.Aggregate(1, (a, s) => a * s) - 1);
        return new TrueBeliefGeometry(factoredRank, jointRank, WeightedPca.Fit(laws, data.RowWeights).Rank(), factors, joint, Measure(laws));
    }
}
