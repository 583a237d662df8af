using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>One factor's belief subspace in activation space.</summary>
/// <param name="Factor">Index of the factor (0 = most significant digit of the product token).</param>
/// <param name="States">Number of hidden states of the factor.</param>
/// <param name="RSquared">Weighted R^2 of the regression of this factor's (marginal) belief on the activations.</param>
/// <param name="Dimension">Rank of the slope matrix W_i (activation dim x factor states): the dimension of its column space.</param>
/// <param name="Basis">Orthonormal basis Q_i of the column space of W_i (activation dim x Dimension).</param>
public sealed record FactorSubspace(int Factor, int States, double RSquared, int Dimension, double[,] Basis);

/// <summary>
/// Factored versus joint belief geometry in a representation (Shai, Amdahl-Culleton, Christensen et al.,
/// "Transformers learn factored representations", 2026). For factors with d_i states the factored
/// hypothesis predicts <c>sum_i (d_i - 1)</c> dimensions, the joint one <c>prod_i d_i - 1</c>.
/// </summary>
/// <param name="Factors">Per-factor subspaces.</param>
/// <param name="FactoredDimension">sum_i (d_i - 1).</param>
/// <param name="JointDimension">prod_i d_i - 1.</param>
/// <param name="Overlaps">Overlap between factor subspaces i and j (sum of squared principal-angle cosines over the smaller dimension); 1 on the diagonal.</param>
/// <param name="MeanOffDiagonalOverlap">Mean overlap over pairs i &lt; j (0 = orthogonal factor subspaces).</param>
/// <param name="ObservedDimension95">Principal components of the raw activations needed for 95 % of the weighted variance
/// (descriptive only: the raw residual stream also carries position and token; the verdict comes from
/// <see cref="BeliefModelComparison"/> on the belief-conditioned centroids).</param>
/// <param name="JointBeliefRank">Affine rank of the joint beliefs themselves (what a joint representation would need).</param>
public sealed record FactoredAnalysis(
    IReadOnlyList<FactorSubspace> Factors,
    double[,] Overlaps,
    double MeanOffDiagonalOverlap,
    int FactoredDimension,
    int JointDimension,
    int JointBeliefRank,
    int ObservedDimension95);

internal static class FactoredGeometry
{
    /// <summary>
    /// Marginal beliefs of each factor from joint beliefs over the product state space, with the Kronecker
    /// ordering of the product process (factor 0 most significant): joint state
    /// <c>s = s_0 (S_1...S_{F-1}) + ... + s_{F-1}</c>; GHMM factors are contracted with the other factors' tau
    /// vectors (<see cref="ProcessComposition.MarginalBelief"/>; null <paramref name="factorTaus"/>: all ones).
    /// </summary>
    public static RowMatrix[] Marginals(RowMatrix joint, IReadOnlyList<int> factorStates, IReadOnlyList<double[]>? factorTaus = null)
    {
        if (factorStates.Count == 0 || factorStates.Any(s => s < 1))
            throw new InvalidInputException("factor state counts must be positive and at least one factor given.");
        long product = factorStates.Aggregate(1L, (a, s) => a * s);
        if (product != joint.Columns)
            throw new InvalidInputException($"factors with {string.Join(" x ", factorStates)} states make {product} joint states, but the beliefs have {joint.Columns} columns.");
        var result = new RowMatrix[factorStates.Count];
        for (int f = 0; f < factorStates.Count; f++)
        {
            var data = new double[(long)joint.Rows * factorStates[f]];
            for (int r = 0; r < joint.Rows; r++)
                ProcessComposition.MarginalBelief(joint.Row(r), factorStates, f, factorTaus).CopyTo(data, r * factorStates[f]);
            result[f] = new RowMatrix(joint.Rows, factorStates[f], data);
        }
        return result;
    }

    /// <summary>
    /// Regresses each factor's marginal belief on <paramref name="activations"/> (weighted, with intercept),
    /// takes the slope matrix W_i, its orthonormal column basis Q_i, and compares all pairs of subspaces.
    /// </summary>
    public static FactoredAnalysis Analyse(RowMatrix activations, RowMatrix jointBeliefs, IReadOnlyList<int> factorStates, double[] weights, PcaSpectrum? activationSpectrum = null,
        IReadOnlyList<double[]>? factorTaus = null)
    {
        var marginals = Marginals(jointBeliefs, factorStates, factorTaus);
        var factors = new List<FactorSubspace>();
        for (int i = 0; i < marginals.Length; i++)
        {
            var fit = WeightedLeastSquares.Fit(activations, marginals[i], weights);
            var score = WeightedLeastSquares.Score(marginals[i], fit.Predict(activations), weights);
            var basis = SubspaceOverlap.OrthonormalBasis(fit.Coefficients, relativeTolerance: 1e-6);
            factors.Add(new FactorSubspace(i, factorStates[i], score.RSquared, basis.GetLength(1), basis));
        }
        int f = factors.Count;
        var overlaps = new double[f, f];
        double offDiagonal = 0;
        int pairs = 0;
        for (int i = 0; i < f; i++)
        {
            overlaps[i, i] = factors[i].Dimension > 0 ? 1 : 0;
            for (int j = i + 1; j < f; j++)
            {
                double o = SubspaceOverlap.Compare(factors[i].Basis, factors[j].Basis).Overlap;
                overlaps[i, j] = overlaps[j, i] = o;
                offDiagonal += o;
                pairs++;
            }
        }
        var spectrum = activationSpectrum ?? WeightedPca.Fit(activations, weights);
        int observed = spectrum.ComponentsFor(0.95);
        int factored = factorStates.Sum(s => s - 1);
        int joint = checked(factorStates.Aggregate(1, (a, s) => a * s) - 1);
        int jointRank = WeightedPca.Fit(jointBeliefs, weights).Rank();
        return new FactoredAnalysis(factors, overlaps, pairs > 0 ? offDiagonal / pairs : 0, factored, joint, jointRank, observed);
    }
}
