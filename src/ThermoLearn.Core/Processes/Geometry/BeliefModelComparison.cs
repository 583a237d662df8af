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
/// <param name="FactoredPrediction">sum_i (d_i - 1), d_i the state count of factor i: the factored prediction the
/// split's factored part is held against (<see cref="FactoredAnalysis.FactoredDimension"/>; equal to the features' affine
/// rank <paramref name="FactoredRank"/> for the factor beliefs of every built-in process).</param>
/// <param name="Split">The scale-free rank split on the same folds (<see cref="BeliefRankEstimator.Split"/>): the factored
/// part against <paramref name="FactoredPrediction"/> and the joint excess with the held-out variance it adds. The
/// verdict rests on it.</param>
/// <param name="SplitJointness">The excess share as a fraction of the belief-linked held-out variance, relative to
/// <paramref name="ReferenceShare"/>: <c>(ExcessShare / (R^2_excess(E) - R^2_factored(0))) / ReferenceShare</c>; 0 for a
/// factored code, 1 for a linear image of the joint belief.</param>
/// <param name="SplitJointnessStandardError">Its standard error from the excess share's paired fold se, the denominator
/// taken as known (the belief-linked R^2 is resolved far better than the share: 0.5-0.99 against se 1e-4-1e-3 on
/// the runs in docs/beliefs.md).</param>
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
    int FactoredPrediction,
    BeliefRankSplit Split,
    double SplitJointness,
    double SplitJointnessStandardError,
    string Verdict,
    string Reason)
{
    /// <summary>Margin in standard errors.</summary>
    public double MarginZ => MarginStandardError > 0 ? Margin / MarginStandardError : double.NaN;

    /// <summary>Excess share in standard errors.</summary>
    public double ExcessShareZ => Split.ExcessShareStandardError > 0 ? Split.ExcessShare / Split.ExcessShareStandardError : double.NaN;

    /// <summary>Whether the factored part is within 1 of the factored prediction <see cref="FactoredPrediction"/>.</summary>
    public bool FactoredPartWithinOne => BeliefModelComparison.WithinOne(Split.Factored.Rank, FactoredPrediction);
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
    /// training's own randomness (initial weights and batches, one seed), which is far larger: over three training
    /// seeds the change's sd was 10 to 30 times this error (docs/beliefs.md, "Training seeds").
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
        double m0 = Score(first, data.FactorStates, folds, seed, data.FactorTaus).Margin;
        double m1 = Score(second, data.FactorStates, folds, seed, data.FactorTaus).Margin;
        var se = Resampling.StandardErrors(first.Units, new ErrorOptions(Batches: first.Units, Bootstrap: replicates, Seed: seed), counts =>
            [Score(second.Resample(after, data, counts), data.FactorStates, folds, seed, data.FactorTaus).Margin
                - Score(first.Resample(before, data, counts), data.FactorStates, folds, seed, data.FactorTaus).Margin]);
        return new MarginChange(m0, m1, m1 - m0, se[0], replicates, first.Units);
    }

    /// <summary>
    /// Standard errors a held-out explained variance (the factored part's gain, the excess share) must clear: one-sided
    /// 2.3 % chance of a false "joint" (or a false belief-linked signal) for a Gaussian estimate.
    /// </summary>
    public const double ZThreshold = 2.0;

    /// <summary>The done-when test of a factored code: a measured dimension within 1 of the prediction sum_i (d_i - 1).</summary>
    public static bool WithinOne(int dimension, int prediction) => Math.Abs(dimension - prediction) <= 1;

    /// <summary>
    /// Jointness at which the verdict turns joint: the midpoint between a factored code (0) and a linear image of
    /// the joint belief (1). A trained network that writes the factor beliefs linearly still passes them through
    /// ReLU MLPs, which leave small products of factor beliefs in the residual stream: a significant excess share
    /// alone does not make a representation joint.
    /// </summary>
    public const double JointnessThreshold = 0.5;

    /// <summary>
    /// Compares the two models on <paramref name="centroids"/> (their group beliefs are joint beliefs in the radix
    /// layout <paramref name="factorStates"/>) and decides from the rank split. Features have the per-position mean
    /// removed, as the centroids do (position fixed effects in both models); folds are drawn from
    /// <paramref name="seed"/>. GHMM factors' marginals contract with <paramref name="factorTaus"/> (null: all ones,
    /// HMM factors). <paramref name="split"/>: the centroids' rank split when already computed with the same folds and
    /// seed (<see cref="BeliefCentroids.Dimension"/>'s), else it is computed here.
    /// </summary>
    internal static ModelComparison Compare(BeliefCentroids centroids, IReadOnlyList<int> factorStates, int folds = 10, ulong seed = 0,
        IReadOnlyList<double[]>? factorTaus = null, BeliefRankSplit? split = null)
    {
        var s = Score(centroids, factorStates, folds, seed, factorTaus);
        split ??= BeliefRankEstimator.Split(s.FactorBeliefs, s.JointBelief, s.Centroids, s.Weights, folds, seed);
        // Belief-linked held-out variance: what the joint excess reaches above the position baseline (rank 0 of the factored part).
        double linked = split.JointExcess.HeldOutRSquared[split.JointExcess.Rank] - split.Factored.HeldOutRSquared[0];
        double scale = linked > 0 && s.Reference > 0 ? 1 / (linked * s.Reference) : double.NaN;
        double jointness = split.ExcessShare * scale, jointnessSe = split.ExcessShareStandardError * scale;
        int prediction = factorStates.Sum(d => d - 1);
        var (verdict, reason) = Decide(split.Factored.Rank, prediction, split.Factored.Gain, split.Factored.GainStandardError,
            split.JointExcess.Rank, split.ExcessShare, split.ExcessShareStandardError, jointness, jointnessSe, s.Margin, s.MarginSe);
        return new ModelComparison(s.HeldF, s.SeF, s.HeldJ, s.SeJ, s.Margin, s.MarginSe, s.InF, s.InJ, s.FactoredRank, s.JointRank, s.Reference,
            s.Jointness, s.JointnessSe, folds, prediction, split, jointness, jointnessSe, verdict, reason);
    }

    /// <summary>The full-rank comparison's numbers, and the features and response it used (groups with weight).</summary>
    private sealed record Scores(double HeldF, double SeF, double HeldJ, double SeJ, double Margin, double MarginSe, double InF, double InJ,
        int FactoredRank, int JointRank, double Reference, double Jointness, double JointnessSe,
        RowMatrix FactorBeliefs, RowMatrix JointBelief, RowMatrix Centroids, double[] Weights);

    private static Scores Score(BeliefCentroids centroids, IReadOnlyList<int> factorStates, int folds, ulong seed, IReadOnlyList<double[]>? factorTaus)
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
        return new Scores(heldF, FoldStandardError(r2F), heldJ, FoldStandardError(r2J), heldJ - heldF, FoldStandardError(margins), inF, inJ,
            fitF.Rank, fitJ.Rank, reference, (heldJ - heldF) / heldJ / reference, FoldStandardError(jointness), xf, xj, y, w);
    }

    /// <summary>
    /// The decision, from the rank split:
    /// <list type="bullet">
    /// <item>"neither" when no belief-linked direction is resolved: neither the factored part's held-out gain nor the
    /// excess share clears <see cref="ZThreshold"/> standard errors (a part of rank 0 gains nothing);</item>
    /// <item>"joint" when the excess share clears it and either the factored part does not, or the excess holds at least
    /// <see cref="JointnessThreshold"/> of the belief-linked variance relative to the joint belief's own non-additive
    /// share (<paramref name="jointness"/>);</item>
    /// <item>otherwise "factored", and the reason says whether the factored part is within 1 of the prediction
    /// <paramref name="prediction"/> (a shortfall means a factor is not represented, not that the code is joint).</item>
    /// </list>
    /// The full-rank margin (R^2 joint - R^2 factor beliefs) with its fold se is printed beside it: it equals the excess
    /// share when the excess spans the whole joint space.
    /// </summary>
    public static (string Verdict, string Reason) Decide(int factoredPart, int prediction, double factoredGain, double factoredGainSe,
        int excess, double excessShare, double excessShareSe, double jointness, double jointnessSe, double margin, double marginSe)
    {
        static string F(double v) => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
        static double Z(double value, double se) => se > 0 ? value / se : value > 0 ? double.PositiveInfinity : value < 0 ? double.NegativeInfinity : 0;
        double zF = Z(factoredGain, factoredGainSe), zE = Z(excessShare, excessShareSe);
        bool factoredSignal = factoredPart > 0 && zF > ZThreshold;
        bool excessSignal = excess > 0 && zE > ZThreshold;
        bool within = WithinOne(factoredPart, prediction);
        string numbers = $"factored part {factoredPart} of the predicted {prediction} ({(within ? "within" : "not within")} 1), held-out gain {F(factoredGain)} +- {F(factoredGainSe)}; "
            + $"joint excess {excess} adding {F(excessShare)} +- {F(excessShareSe)} (z {F(zE)}); jointness {F(jointness)} +- {F(jointnessSe)} (0 factored, 1 joint); "
            + $"full-rank margin {F(margin)} +- {F(marginSe)} (z {F(Z(margin, marginSe))})";
        if (!factoredSignal && !excessSignal)
            return ("neither", $"neither: no belief-linked direction is resolved, neither the factored part's gain nor the excess share clears {F(ZThreshold)} standard errors ({numbers})");
        if (excessSignal && !factoredSignal)
            return ("joint", $"joint: only the joint excess explains held-out centroid variance ({numbers})");
        if (excessSignal && jointness >= JointnessThreshold)
            return ("joint", $"joint: the joint excess is significant and holds at least half the non-additive share of the joint belief itself ({numbers})");
        string why = excessSignal
            ? $"the excess share is significant but the jointness is below {F(JointnessThreshold)}"
            : excess == 0
                ? "no joint excess direction is resolved"
                : $"the excess share is within {F(ZThreshold)} standard errors of 0";
        string shortfall = within ? "" : "; the factored part falls short of the prediction: some factor is not represented";
        return ("factored", $"factored: {why}{shortfall} ({numbers})");
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
