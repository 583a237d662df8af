using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Inference;
using ThermoLearn.Randomness;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// Factored versus joint, decided on the belief-linked geometry: the belief-conditioned centroids (the response)
/// regressed on (a) the concatenated factor beliefs (additive; affine rank sum_i (d_i - 1)) and (b) the joint belief
/// (affine rank prod_i d_i - 1 for an independent product), each scored on held-out groups.
/// </summary>
/// <param name="FactoredRSquared">Held-out explained variance of the centroids by the factor beliefs (pooled over folds).</param>
/// <param name="FactoredRSquaredStandardError">Standard error over folds.</param>
/// <param name="JointRSquared">Held-out explained variance by the joint belief.</param>
/// <param name="JointRSquaredStandardError">Standard error over folds.</param>
/// <param name="Margin">JointRSquared - FactoredRSquared: the held-out centroid variance that only the joint belief explains.</param>
/// <param name="MarginStandardError">Standard error of the margin from its spread over the folds, sd_k / sqrt(K).</param>
/// <param name="FactoredInSample">In-sample explained variance of the factored model (all groups).</param>
/// <param name="JointInSample">In-sample explained variance of the joint model.</param>
/// <param name="FactoredRank">Affine rank of the factor-belief features the fit used.</param>
/// <param name="JointRank">Affine rank of the joint-belief features the fit used.</param>
/// <param name="ReferenceShare">Share of the joint belief's own variance that the factor beliefs do not explain linearly
/// (1 - R^2 of the joint belief regressed on the factor beliefs): the non-additive share a linear image of the joint
/// belief would show; 0 when the joint belief is an affine function of the factor beliefs.</param>
/// <param name="Jointness">(Margin / JointRSquared) / ReferenceShare: the representation's non-additive share of its
/// belief-explained variance relative to the joint belief's own; 0 for a factored code, 1 for a linear image of the joint belief.</param>
/// <param name="JointnessStandardError">Standard error over folds.</param>
/// <param name="Folds">Cross-validation folds (groups split at random, the same folds for both models).</param>
/// <param name="Verdict">"factored", "joint" or "neither" (see <see cref="BeliefModelComparison.Decide"/>).</param>
/// <param name="Reason">The verdict's reason with its numbers.</param>
public sealed record ModelComparison(
    double FactoredRSquared,
    double FactoredRSquaredStandardError,
    double JointRSquared,
    double JointRSquaredStandardError,
    double Margin,
    double MarginStandardError,
    double FactoredInSample,
    double JointInSample,
    int FactoredRank,
    int JointRank,
    double ReferenceShare,
    double Jointness,
    double JointnessStandardError,
    int Folds,
    string Verdict,
    string Reason)
{
    /// <summary>Margin in standard errors.</summary>
    public double MarginZ => MarginStandardError > 0 ? Margin / MarginStandardError : double.NaN;
}

/// <summary>A change of the factored-versus-joint margin between two representations of the same prefixes (e.g. two checkpoints).</summary>
/// <param name="Before">Held-out margin R^2_joint - R^2_factored of the first representation.</param>
/// <param name="After">Held-out margin of the second.</param>
/// <param name="Change">After - Before.</param>
/// <param name="StandardError">Paired bootstrap standard error of the change (units resampled once per replicate, both
/// representations measured on the same resample and folds).</param>
/// <param name="Replicates">Bootstrap replicates.</param>
/// <param name="Units">Resampled units (sequences of a sampled dataset, prefixes of an exact one).</param>
public sealed record MarginChange(double Before, double After, double Change, double StandardError, int Replicates, int Units)
{
    /// <summary>Change in standard errors.</summary>
    public double Z => StandardError > 0 ? Change / StandardError : double.NaN;
}

public static class BeliefModelComparison
{
    /// <summary>
    /// How the margin moved between two representations of the same prefixes (<paramref name="before"/> and
    /// <paramref name="after"/>: activations with the dataset's rows, e.g. the final layer at two checkpoints), with a
    /// paired bootstrap standard error: each replicate draws multinomial counts over the dataset's units once, recomputes
    /// both sets of centroids with them (<see cref="BeliefCentroids.Resample"/>) and compares both on the same folds, so
    /// the sampling of the validation prefixes, shared by the two, cancels in the difference. The fold standard errors
    /// of <see cref="Compare"/> describe one margin, not a difference between checkpoints. Not in this error: the
    /// training's own randomness (initial weights and batches, one seed).
    /// </summary>
    public static MarginChange CompareChange(Matrix<double> before, Matrix<double> after, BeliefDataset data, int replicates = 30, int folds = 10, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return CompareChange(RowMatrix.From(before), RowMatrix.From(after), data, replicates, folds, seed);
    }

    internal static MarginChange CompareChange(RowMatrix before, RowMatrix after, BeliefDataset data, int replicates = 30, int folds = 10, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (replicates < 2) throw new InvalidInputException($"margin change: at least 2 bootstrap replicates are needed, not {replicates}.");
        var first = BeliefCentroids.Compute(before, data);
        var second = BeliefCentroids.Compute(after, data);
        double m0 = Compare(first, data.FactorStates, folds, seed, data.FactorTaus).Margin;
        double m1 = Compare(second, data.FactorStates, folds, seed, data.FactorTaus).Margin;
        var se = Resampling.StandardErrors(first.Units, new ErrorOptions(Batches: first.Units, Bootstrap: replicates, Seed: seed), counts =>
            [Compare(second.Resample(after, data, counts), data.FactorStates, folds, seed, data.FactorTaus).Margin
                - Compare(first.Resample(before, data, counts), data.FactorStates, folds, seed, data.FactorTaus).Margin]);
        return new MarginChange(m0, m1, m1 - m0, se[0], replicates, first.Units);
    }

    /// <summary>
    /// Standard errors a held-out explained variance (or the margin) must clear: one-sided 2.3 % chance of a false
    /// "joint" (or a false belief-linked signal) for a Gaussian estimate.
    /// </summary>
    public const double ZThreshold = 2.0;

    /// <summary>
    /// Jointness at which the verdict turns joint: the midpoint between a factored code (0) and a linear image of
    /// the joint belief (1). A trained network that writes the factor beliefs linearly still passes them through
    /// ReLU MLPs, which leave small products of factor beliefs in the residual stream: a significant margin alone
    /// does not make a representation joint.
    /// </summary>
    public const double JointnessThreshold = 0.5;

    /// <summary>
    /// Compares the two models on <paramref name="centroids"/> (their group beliefs are joint beliefs in the radix
    /// layout <paramref name="factorStates"/>). Features have the per-position mean removed, as the centroids do
    /// (position fixed effects in both models); folds are drawn from <paramref name="seed"/>. GHMM factors'
    /// marginals contract with <paramref name="factorTaus"/> (null: all ones, HMM factors).
    /// </summary>
    internal static ModelComparison Compare(BeliefCentroids centroids, IReadOnlyList<int> factorStates, int folds = 10, ulong seed = 0,
        IReadOnlyList<double[]>? factorTaus = null)
    {
        ArgumentNullException.ThrowIfNull(centroids);
        if (factorStates is null || factorStates.Count < 2)
            throw new InvalidInputException("factored versus joint needs a product process with at least two factors.");
        if (folds < 2) throw new InvalidInputException($"model comparison: at least 2 folds are needed, not {folds}.");
        var kept = Enumerable.Range(0, centroids.Groups).Where(g => centroids.Weights[g] > 0).ToArray();
        if (kept.Length < 2 * folds)
            throw new InvalidInputException($"model comparison: {kept.Length} belief groups are too few for {folds} folds; at least {2 * folds} are needed.");
        var y = centroids.Centroids.SelectRows(kept);
        var w = kept.Select(g => centroids.Weights[g]).ToArray();
        // Beliefs minus their baseline cell's mean; the factor beliefs are their marginals (a linear map, so the same baseline).
        var xj = centroids.Beliefs.SelectRows(kept);
        var xf = RowMatrix.ConcatenateColumns(FactoredGeometry.Marginals(xj, factorStates, factorTaus));
        double reference = 1 - WeightedLeastSquares.Score(xj, WeightedLeastSquares.Fit(xf, xj, w).Predict(xf), w).RSquared;

        var fitF = WeightedLeastSquares.Fit(xf, y, w);
        var fitJ = WeightedLeastSquares.Fit(xj, y, w);
        double inF = WeightedLeastSquares.Score(y, fitF.Predict(xf), w).RSquared;
        double inJ = WeightedLeastSquares.Score(y, fitJ.Predict(xj), w).RSquared;

        var fold = Folds(kept.Length, folds, seed);
        var r2F = new double[folds];
        var r2J = new double[folds];
        var jointness = new double[folds];
        double sseF = 0, sseJ = 0, sst = 0;
        for (int k = 0; k < folds; k++)
        {
            var train = Enumerable.Range(0, kept.Length).Where(i => fold[i] != k).ToArray();
            var test = Enumerable.Range(0, kept.Length).Where(i => fold[i] == k).ToArray();
            var wTrain = train.Select(i => w[i]).ToArray();
            var wTest = test.Select(i => w[i]).ToArray();
            var yTrain = y.SelectRows(train);
            var yTest = y.SelectRows(test);
            var (eF, t) = Errors(yTest, WeightedLeastSquares.Fit(xf.SelectRows(train), yTrain, wTrain).Predict(xf.SelectRows(test)), wTest);
            var (eJ, _) = Errors(yTest, WeightedLeastSquares.Fit(xj.SelectRows(train), yTrain, wTrain).Predict(xj.SelectRows(test)), wTest);
            r2F[k] = 1 - eF / t;
            r2J[k] = 1 - eJ / t;
            jointness[k] = (r2J[k] - r2F[k]) / r2J[k] / reference;
            sseF += eF;
            sseJ += eJ;
            sst += t;
        }
        double heldF = 1 - sseF / sst, heldJ = 1 - sseJ / sst;
        var margins = r2J.Zip(r2F, (a, b) => a - b).ToArray();
        double seF = FoldStandardError(r2F), seJ = FoldStandardError(r2J), seM = FoldStandardError(margins);
        double joint = (heldJ - heldF) / heldJ / reference, seX = FoldStandardError(jointness);
        var (verdict, reason) = Decide(heldF, seF, heldJ, seJ, heldJ - heldF, seM, joint, seX);
        return new ModelComparison(heldF, seF, heldJ, seJ, heldJ - heldF, seM, inF, inJ, fitF.Rank, fitJ.Rank, reference, joint, seX, folds, verdict, reason);
    }

    /// <summary>
    /// The decision: "neither" when no model explains held-out centroid variance significantly (best R^2 below
    /// <see cref="ZThreshold"/> standard errors); "joint" when the margin is significant (z above
    /// <see cref="ZThreshold"/>) and the jointness reaches <see cref="JointnessThreshold"/>; otherwise "factored"
    /// (the smaller model is not beaten by a margin that a joint code would show).
    /// </summary>
    public static (string Verdict, string Reason) Decide(double factoredR2, double factoredSe, double jointR2, double jointSe, double margin, double marginSe,
        double jointness, double jointnessSe)
    {
        static string F(double v) => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
        bool factoredSignal = factoredR2 > ZThreshold * factoredSe;
        bool jointSignal = jointR2 > ZThreshold * jointSe;
        if (!factoredSignal && !jointSignal)
            return ("neither", $"neither: no model explains held-out centroid variance (factor beliefs R^2 {F(factoredR2)} +- {F(factoredSe)}, joint belief {F(jointR2)} +- {F(jointSe)}, both below {F(ZThreshold)} standard errors)");
        double z = marginSe > 0 ? margin / marginSe : margin > 0 ? double.PositiveInfinity : double.NegativeInfinity;
        string numbers = $"held-out R^2 factor beliefs {F(factoredR2)} +- {F(factoredSe)}, joint belief {F(jointR2)} +- {F(jointSe)}; "
            + $"margin {F(margin)} +- {F(marginSe)} (z {F(z)}); jointness {F(jointness)} +- {F(jointnessSe)} (0 factored, 1 joint)";
        if (z > ZThreshold && jointness >= JointnessThreshold)
            return ("joint", $"joint: the joint belief explains significantly more than the factor beliefs, at least half the non-additive share of the joint belief itself ({numbers})");
        if (!factoredSignal)
            return ("joint", $"joint: only the joint belief explains held-out centroid variance ({numbers})");
        string why = z > ZThreshold
            ? $"the margin is significant but the jointness is below {F(JointnessThreshold)}"
            : z < -ZThreshold
                ? "the factor beliefs explain more held-out variance than the joint belief (the joint model's extra terms fit noise)"
                : $"the margin is within {F(ZThreshold)} standard errors of 0";
        return ("factored", $"factored: {why} ({numbers})");
    }

    /// <summary>Balanced random folds: a seeded permutation of the <paramref name="count"/> groups, the group at rank i in fold i mod K.</summary>
    internal static int[] Folds(int count, int folds, ulong seed)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var random = RandomStream.For(seed, 0, RandomPurposes.CrossValidationFolds);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var fold = new int[count];
        for (int i = 0; i < order.Length; i++) fold[order[i]] = i % folds;
        return fold;
    }

    /// <summary>Weighted SSE of <paramref name="predicted"/> and SST about the weighted mean of <paramref name="y"/>, pooled over columns.</summary>
    private static (double Sse, double Sst) Errors(RowMatrix y, RowMatrix predicted, double[] w)
    {
        int p = y.Columns;
        double total = w.Sum();
        var mean = new double[p];
        for (int i = 0; i < y.Rows; i++)
        {
            var row = y.Row(i);
            for (int j = 0; j < p; j++) mean[j] += w[i] * row[j] / total;
        }
        double sse = 0, sst = 0;
        for (int i = 0; i < y.Rows; i++)
        {
            var t = y.Row(i);
            var f = predicted.Row(i);
            for (int j = 0; j < p; j++)
            {
                double e = t[j] - f[j], d = t[j] - mean[j];
                sse += w[i] * e * e;
                sst += w[i] * d * d;
            }
        }
        return (sse, sst);
    }

    private static double FoldStandardError(double[] values)
    {
        double mean = values.Average();
        double ss = values.Sum(v => (v - mean) * (v - mean));
        return Math.Sqrt(ss / (values.Length - 1) / values.Length);
    }
}
