using ThermoLearn.Inference;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>A dimension measurement: weighted PCA summary with bootstrap standard errors.</summary>
/// <param name="Pca">Components for 80/90/95/99 % of the variance, participation ratio, effective rank.</param>
/// <param name="For80StandardError">Bootstrap standard error of <c>Pca.For80</c>.</param>
/// <param name="For90StandardError">Bootstrap standard error of <c>Pca.For90</c>.</param>
/// <param name="For95StandardError">Bootstrap standard error of <c>Pca.For95</c>.</param>
/// <param name="For99StandardError">Bootstrap standard error of <c>Pca.For99</c>.</param>
/// <param name="ParticipationRatioStandardError">Bootstrap standard error of <c>Pca.ParticipationRatio</c>.</param>
public sealed record DimensionEstimate(PcaSummary Pca, double For80StandardError, double For90StandardError, double For95StandardError,
    double For99StandardError, double ParticipationRatioStandardError);

/// <summary>
/// Dimension of the belief-conditioned centroids, with bootstrap standard errors.
/// </summary>
/// <param name="Groups">Number of (position, last token, belief state) groups with positive weight.</param>
/// <param name="Tolerance">Grid spacing on which beliefs were rounded to form the groups.</param>
/// <param name="Centroids">The centroids themselves (within-group scatter of single-prefix groups included).</param>
/// <param name="BeliefExplained">The centroids' projection on the affine span of the joint belief (weighted least
/// squares on all groups): the part of the centroid geometry any affine function of the belief state can carry,
/// free of the scatter that does not vary with the belief. This is the dimension that tests the hypotheses.</param>
/// <param name="Replicates">Bootstrap replicates (resampling units with replacement: sequences of a sampled dataset, prefixes of an exact one).</param>
/// <param name="Units">Resampled units.</param>
/// <param name="Rank">Scale-free dimension: rank of the affine map from the joint belief to the centroids chosen by
/// held-out prediction (<see cref="BeliefRankEstimator"/>); null when fewer than 20 groups have weight (10 folds of 2).</param>
/// <param name="RankSplit">For products, the rank split into its factored part and the joint excess beyond it
/// (<see cref="BeliefRankEstimator.Split"/>): the factored part is what "within 1 of sum_i (d_i - 1)" reads; null
/// for a single process or when <paramref name="Rank"/> is.</param>
public sealed record CentroidDimension(int Groups, double Tolerance, DimensionEstimate Centroids, DimensionEstimate BeliefExplained, int Replicates, int Units,
    BeliefRank? Rank, BeliefRankSplit? RankSplit);

/// <summary>
/// The belief-linked part of a representation: prefixes are grouped by (position, belief state), the activations
/// averaged within each group with prefix-probability weights, and the per-position mean removed:
/// <c>c_g = sum_{r in g} w_r a_r / W_g - m_pos(g)</c>, <c>W_g = sum_{r in g} w_r</c>,
/// <c>m_p = sum_{r at p} w_r a_r / sum_{r at p} w_r</c>. The raw residual stream also carries position, the
/// current token and whatever else the network keeps; the centroids keep only what varies with the belief
/// (estimates of <c>E[a | belief, position] - E[a | position]</c>), so their dimension is the one that tests
/// the factored (sum_i (d_i - 1)) and joint (prod_i d_i - 1) hypotheses of Shai, Amdahl-Culleton,
/// Christensen et al., "Transformers learn factored representations" (2026).
/// <para>By default the baseline is the mean per (position, last token) rather than per position: the residual
/// stream keeps the current token's embedding, an arbitrary (non-additive) function of the composite token that
/// is nearly a function of the belief too, and would otherwise count as "joint" geometry (measured on a
/// mess3 x mess3 model: held-out R^2 0.52 factored vs 0.76 joint with the position baseline, 0.66 vs 0.70 with
/// the token baseline). Both models and the beliefs get the same baseline (cell fixed effects).</para>
/// <para>Beliefs are grouped after rounding each entry to a grid of spacing <see cref="Tolerance"/>. When most
/// groups hold one prefix (non-unifilar processes, sampled datasets) a centroid is that prefix's activation with
/// the position mean removed; within-group scatter then stays in the centroids and raises the 99 % dimension most.</para>
/// </summary>
internal sealed class BeliefCentroids
{
    /// <summary>Default grid spacing for grouping beliefs: identical mixed states up to float64 round-off of the belief update.</summary>
    public const double DefaultTolerance = 1e-9;

    private readonly int[] _groupOfRow;
    private readonly int _cells;
    private readonly int[] _unitOfRow;

    private BeliefCentroids(int[] groupOfRow, int[] groupCell, int cells, int[] unitOfRow, int units, RowMatrix centroids, double[] weights,
        RowMatrix beliefs, double tolerance, bool tokenBaseline)
    {
        _groupOfRow = groupOfRow;
        _cells = cells;
        GroupCell = groupCell;
        TokenBaseline = tokenBaseline;
        _unitOfRow = unitOfRow;
        Units = units;
        Centroids = centroids;
        Weights = weights;
        Beliefs = beliefs;
        Tolerance = tolerance;
    }

    /// <summary>Centroids with the per-position mean removed (groups x activation dimension).</summary>
    public RowMatrix Centroids { get; }

    /// <summary>Group weights W_g (sum of the member prefixes' weights).</summary>
    public double[] Weights { get; }

    /// <summary>Weighted mean belief of each group minus its baseline cell's mean (groups x joint states): the features of the joint model.</summary>
    public RowMatrix Beliefs { get; }

    /// <summary>Baseline cell of each group: its position, or (position, last token) when <see cref="TokenBaseline"/>; the cell's mean is removed.</summary>
    public int[] GroupCell { get; }

    /// <summary>True when the per-(position, last token) mean is removed instead of the per-position mean.</summary>
    public bool TokenBaseline { get; }

    public int Groups => Weights.Length;

    /// <summary>
    /// The centroids' weighted least-squares projection on the affine span of the group beliefs (groups x activation
    /// dimension): the belief-explained part whose spectrum <see cref="Dimension"/> reports and that
    /// <see cref="ExplainedShare"/> regresses. Fitted once, on first use.
    /// </summary>
    public RowMatrix BeliefExplained => _beliefExplained ??= Explain(Centroids, Beliefs, Weights);

    private RowMatrix? _beliefExplained;

    public double Tolerance { get; }

    /// <summary>Independent resampling units: sequences of a sampled dataset, prefixes (rows) of an exact one.</summary>
    public int Units { get; }

    /// <summary>Groups the dataset's prefixes by (position, belief rounded to <paramref name="tolerance"/>) and averages <paramref name="activations"/> in each.</summary>
    public static BeliefCentroids Compute(RowMatrix activations, BeliefDataset data, double tolerance = DefaultTolerance, bool tokenBaseline = true)
    {
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentNullException.ThrowIfNull(data);
        if (activations.Rows != data.RowCount)
            throw new InvalidInputException($"centroids: activations have {activations.Rows} rows but the dataset has {data.RowCount} prefixes.");
        if (!(tolerance > 0 && tolerance < 1))
            throw new InvalidInputException($"centroids: the belief grid spacing must be in (0, 1), not {tolerance}.");
        activations.EnsureFinite("centroid activations");
        var groupOfRow = new int[data.RowCount];
        var cellOfGroup = new List<int>();
        var index = new Dictionary<(int, BeliefKey), int>();
        int cells = tokenBaseline ? data.Length * data.Vocabulary : data.Length;
        for (int r = 0; r < data.RowCount; r++)
        {
            int cell = tokenBaseline ? data.RowPosition[r] * data.Vocabulary + data.RowTokens[r] : data.RowPosition[r];
            var key = (cell, new BeliefKey(data.Beliefs.Row(r), tolerance));
            if (!index.TryGetValue(key, out int g))
            {
                g = cellOfGroup.Count;
                index.Add(key, g);
                cellOfGroup.Add(cell);
            }
            groupOfRow[r] = g;
        }
        int[] unitOfRow;
        int units;
        if (data.Exact)
        {
            unitOfRow = Enumerable.Range(0, data.RowCount).ToArray();
            units = data.RowCount;
        }
        else
        {
            unitOfRow = data.RowSequence;
            units = data.SequenceCount;
        }
        var groupCell = cellOfGroup.ToArray();
        var (centroids, weights) = Average(activations, data.RowWeights, groupOfRow, groupCell, cells);
        var (beliefs, _) = Average(data.Beliefs, data.RowWeights, groupOfRow, groupCell, cells);
        return new BeliefCentroids(groupOfRow, groupCell, cells, unitOfRow, units, centroids, weights, beliefs, tolerance, tokenBaseline);
    }

    /// <summary>
    /// Weighted group means of <paramref name="x"/>; when <paramref name="cells"/> &gt; 0, minus the weighted mean
    /// of the groups in the same baseline cell. Groups with zero weight get a zero row and weight 0.
    /// </summary>
    private static (RowMatrix Means, double[] Weights) Average(RowMatrix x, ReadOnlySpan<double> rowWeights, int[] groupOfRow, int[] groupCell, int cells)
    {
        int groups = groupCell.Length, p = x.Columns;
        var sums = new double[(long)groups * p];
        var weights = new double[groups];
        for (int r = 0; r < x.Rows; r++)
        {
            double w = rowWeights[r];
            if (w == 0) continue;
            int g = groupOfRow[r];
            weights[g] += w;
            var row = x.Row(r);
            var sum = sums.AsSpan(g * p, p);
            for (int j = 0; j < p; j++) sum[j] += w * row[j];
        }
        var cellSums = new double[Math.Max(cells, 0) * p];
        var cellWeights = new double[Math.Max(cells, 0)];
        for (int g = 0; g < groups; g++)
        {
            var sum = sums.AsSpan(g * p, p);
            if (cells > 0)
            {
                var ps = cellSums.AsSpan(groupCell[g] * p, p);
                for (int j = 0; j < p; j++) ps[j] += sum[j];
                cellWeights[groupCell[g]] += weights[g];
            }
            if (weights[g] > 0)
                for (int j = 0; j < p; j++) sum[j] /= weights[g];
        }
        if (cells > 0)
            for (int g = 0; g < groups; g++)
            {
                if (weights[g] == 0) continue;
                int cell = groupCell[g];
                var sum = sums.AsSpan(g * p, p);
                for (int j = 0; j < p; j++) sum[j] -= cellSums[cell * p + j] / cellWeights[cell];
            }
        return (new RowMatrix(groups, p, sums), weights);
    }

    /// <summary>
    /// Share of the belief-explained centroid variance that an affine function of <paramref name="features"/> explains
    /// (in sample): per-prefix values such as the next-token laws, averaged in the same groups with the same baseline as
    /// the centroids, and the weighted R^2 of the belief-explained centroids regressed on them. Features
    /// that are linear in the joint belief (next-token laws are) lie in the span the belief-explained part is projected
    /// on, so the share is 1 when the centroids carry nothing of the belief beyond what the features carry.
    /// </summary>
    public double ExplainedShare(RowMatrix features, BeliefDataset data)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(data);
        if (features.Rows != _groupOfRow.Length || data.RowCount != _groupOfRow.Length)
            throw new InvalidInputException($"centroids: features ({features.Rows} rows) and dataset ({data.RowCount}) must both have the {_groupOfRow.Length} rows the grouping was built for.");
        var (groupFeatures, _) = Average(features, data.RowWeights, _groupOfRow, GroupCell, _cells);
        var explained = BeliefExplained;
        return WeightedLeastSquares.Score(explained, WeightedLeastSquares.Fit(groupFeatures, explained, Weights).Predict(groupFeatures), Weights).RSquared;
    }

    /// <summary>
    /// The same grouping with every unit's prefixes weighted by its count in <paramref name="unitCounts"/> (a bootstrap
    /// replicate: multinomial counts over <see cref="Units"/>): centroids, group beliefs and baselines recomputed; groups
    /// left with no weight get weight 0.
    /// </summary>
    public BeliefCentroids Resample(RowMatrix activations, BeliefDataset data, double[] unitCounts)
    {
        ArgumentNullException.ThrowIfNull(activations);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(unitCounts);
        if (activations.Rows != _groupOfRow.Length || data.RowCount != _groupOfRow.Length)
            throw new InvalidInputException($"centroids: activations have {activations.Rows} rows and the dataset {data.RowCount}, but the grouping was built for {_groupOfRow.Length}.");
        if (unitCounts.Length != Units)
            throw new InvalidInputException($"centroids: {unitCounts.Length} unit counts given for {Units} units.");
        var w = Reweighted(data.RowWeights, unitCounts);
        var (c, gw) = Average(activations, w, _groupOfRow, GroupCell, _cells);
        var (b, _) = Average(data.Beliefs, w, _groupOfRow, GroupCell, _cells);
        return new BeliefCentroids(_groupOfRow, GroupCell, _cells, _unitOfRow, Units, c, gw, b, Tolerance, TokenBaseline);
    }

    /// <summary>Row weights with each unit's weight multiplied by its bootstrap count.</summary>
    private double[] Reweighted(ReadOnlySpan<double> rowWeights, double[] unitCounts)
    {
        var w = new double[rowWeights.Length];
        for (int r = 0; r < w.Length; r++) w[r] = rowWeights[r] * unitCounts[_unitOfRow[r]];
        return w;
    }

    /// <summary>
    /// Dimension of the centroids and of their belief-explained part (weighted PCA with group weights W_g) with
    /// bootstrap standard errors: <paramref name="replicates"/> resamplings of the units with replacement
    /// (multinomial counts multiply the prefix weights), centroids, baselines, fit and spectra recomputed in each.
    /// </summary>
    public CentroidDimension Dimension(RowMatrix activations, BeliefDataset data, int replicates = 100, ulong seed = 0)
    {
        if (replicates < 2) throw new InvalidInputException($"centroid dimension: at least 2 bootstrap replicates are needed, not {replicates}.");
        if (activations.Rows != _groupOfRow.Length)
            throw new InvalidInputException($"centroid dimension: activations have {activations.Rows} rows but the grouping was built for {_groupOfRow.Length}.");
        var value = Measure(Centroids, BeliefExplained, Weights);
        var errors = Resampling.StandardErrors(Units, new ErrorOptions(Batches: Units, Bootstrap: replicates, Seed: seed), counts =>
        {
            var w = Reweighted(data.RowWeights, counts);
            var (c, gw) = Average(activations, w, _groupOfRow, GroupCell, _cells);
            var (b, _) = Average(data.Beliefs, w, _groupOfRow, GroupCell, _cells);
            return Measure(c, Explain(c, b, gw), gw).Values;
        });
        DimensionEstimate Estimate(PcaSummary pca, int offset) =>
            new(pca, errors[offset], errors[offset + 1], errors[offset + 2], errors[offset + 3], errors[offset + 4]);
        int groups = Weights.Count(w => w > 0);
        var (rank, split) = groups >= 2 * RankFolds ? Ranks(data, seed) : (null, null);
        return new CentroidDimension(groups, Tolerance, Estimate(value.Centroids, 0), Estimate(value.Explained, 5), replicates, Units, rank, split);
    }

    /// <summary>Cross-validation folds of the scale-free rank (the model comparison's 10).</summary>
    internal const int RankFolds = 10;

    /// <summary>The scale-free rank on the joint belief and, for products of <paramref name="data"/>'s factors, its split.</summary>
    internal (BeliefRank Rank, BeliefRankSplit? Split) Ranks(BeliefDataset data, ulong seed)
    {
        var rank = BeliefRankEstimator.Estimate(Beliefs, Centroids, Weights, RankFolds, seed);
        // Group factor beliefs are the marginals of the group joint beliefs (linear, so the same baseline).
        var split = data.FactorStates.Count > 1
            ? BeliefRankEstimator.Split(RowMatrix.ConcatenateColumns(FactoredGeometry.Marginals(Beliefs, data.FactorStates, data.FactorTaus)), Beliefs, Centroids, Weights, RankFolds, seed)
            : null;
        return (rank, split);
    }

    private static RowMatrix Explain(RowMatrix centroids, RowMatrix beliefs, double[] weights) =>
        WeightedLeastSquares.Fit(beliefs, centroids, weights).Predict(beliefs);

    private static (PcaSummary Centroids, PcaSummary Explained, double[] Values) Measure(RowMatrix centroids, RowMatrix beliefExplained, double[] weights)
    {
        var raw = PcaSummary.From(WeightedPca.Fit(centroids, weights));
        var explained = PcaSummary.From(WeightedPca.Fit(beliefExplained, weights));
        return (raw, explained, [raw.For80, raw.For90, raw.For95, raw.For99, raw.ParticipationRatio,
            explained.For80, explained.For90, explained.For95, explained.For99, explained.ParticipationRatio]);
    }
}
