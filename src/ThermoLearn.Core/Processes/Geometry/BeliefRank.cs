using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using ThermoLearn.Inference;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// Scale-free dimension of the belief-linked geometry: the rank of the affine map from the joint belief to the
/// centroids, chosen by held-out prediction.
/// </summary>
/// <param name="Rank">Smallest rank whose held-out explained variance is within one paired fold standard error of the best rank's.</param>
/// <param name="LowerRank">Smallest rank within two standard errors of the best (the lower end of the ranks the data cannot tell apart).</param>
/// <param name="BestRank">Rank with the largest held-out explained variance (the upper end).</param>
/// <param name="MaxRank">Largest rank tried: min(affine rank of the joint-belief features, activation dimension).</param>
/// <param name="HeldOutRSquared">Pooled held-out explained variance at ranks 0..MaxRank.</param>
/// <param name="DropStandardError">Paired fold standard error of R^2(best) - R^2(r) at ranks 0..MaxRank (0 above the best).</param>
/// <param name="GainStandardError">Paired fold standard error of <see cref="Gain"/>, sd_k(R^2_k(Rank) - R^2_k(0)) / sqrt(K).</param>
/// <param name="Folds">Cross-validation folds (groups at random, seeded).</param>
public sealed record BeliefRank(int Rank, int LowerRank, int BestRank, int MaxRank, IReadOnlyList<double> HeldOutRSquared,
    IReadOnlyList<double> DropStandardError, double GainStandardError, int Folds)
{
    /// <summary>Held-out explained variance that the counted directions add to rank 0: R^2(Rank) - R^2(0).</summary>
    public double Gain => HeldOutRSquared[Rank] - HeldOutRSquared[0];

    /// <summary>Held-out explained variance that the chosen rank gives up against the best: R^2(best) - R^2(rank).</summary>
    public double Drop => HeldOutRSquared[BestRank] - HeldOutRSquared[Rank];

    /// <summary>Held-out explained variance that the last counted direction adds: R^2(rank) - R^2(rank - 1) (0 at rank 0).</summary>
    public double LastGain => Rank == 0 ? 0 : HeldOutRSquared[Rank] - HeldOutRSquared[Rank - 1];
}

/// <summary>
/// The scale-free rank split in two: the directions linear in the factor beliefs, and those the joint belief adds
/// beyond them. A ReLU network that writes the factor beliefs linearly leaves small products of them in its
/// activations (1e-4 of the variance in the trained products of docs/beliefs.md), which a rank on the joint belief
/// resolves with tens of thousands of groups; the split keeps them out of the factored count and reports them with
/// the variance they hold.
/// </summary>
/// <param name="Factored">Rank of the map from the concatenated factor beliefs to the centroids (at most
/// sum_i (d_i - 1)): the part the factored prediction speaks of.</param>
/// <param name="JointExcess">Rank of the map from the joint belief to what the full factored fit leaves, that fit made
/// on each fold's training groups. Its <c>HeldOutRSquared</c> is the share of the centroid variance (not of the
/// residual's), so R^2(0) is the factored fit's held-out R^2 and <see cref="BeliefRank.Gain"/> the held-out variance
/// the excess directions add.</param>
public sealed record BeliefRankSplit(BeliefRank Factored, BeliefRank JointExcess)
{
    /// <summary>Held-out share of the centroid variance that the joint excess adds to the factored fit.</summary>
    public double ExcessShare => JointExcess.Gain;

    /// <summary>Paired fold standard error of <see cref="ExcessShare"/>.</summary>
    public double ExcessShareStandardError => JointExcess.GainStandardError;
}

/// <summary>How the chosen scale-free ranks move with the sample (<see cref="BeliefRankBootstrap"/>).</summary>
/// <param name="Replicates">Bootstrap replicates.</param>
/// <param name="Units">Resampled units (sequences of a sampled dataset, prefixes of an exact one).</param>
/// <param name="Rank">The rank on the joint belief (full data).</param>
/// <param name="RankMean">Its mean over the replicates.</param>
/// <param name="RankStandardError">Its bootstrap standard error.</param>
/// <param name="Split">The split (full data); null for a single process, and then the split's errors are NaN.</param>
/// <param name="FactoredMean">Mean of the factored part over the replicates.</param>
/// <param name="FactoredStandardError">Bootstrap standard error of the factored part.</param>
/// <param name="ExcessMean">Mean of the joint excess's rank over the replicates.</param>
/// <param name="ExcessStandardError">Bootstrap standard error of the joint excess's rank.</param>
/// <param name="ExcessShareStandardError">Bootstrap standard error of the excess share.</param>
public sealed record BeliefRankErrors(int Replicates, int Units, BeliefRank Rank, double RankMean, double RankStandardError, BeliefRankSplit? Split,
    double FactoredMean, double FactoredStandardError, double ExcessMean, double ExcessStandardError, double ExcessShareStandardError);

/// <summary>
/// Bootstrap of the scale-free ranks: each replicate resamples the units with replacement (multinomial counts multiply
/// the prefix weights, as for the centroid dimension), recomputes the centroids and group beliefs, and chooses every
/// rank afresh (folds from the same seed over the groups that keep weight). The fold standard errors inside a rank
/// describe the held-out comparison on one sample; this describes how the chosen rank itself moves with the sample.
/// Each replicate costs one rank (three for a product), so it is separate from the dimension's bootstrap.
/// </summary>
public static class BeliefRankBootstrap
{
    /// <summary>Bootstraps the ranks of <paramref name="activations"/> (rows = <paramref name="data"/>'s prefixes, e.g. the final layer).</summary>
    public static BeliefRankErrors Compute(Matrix<double> activations, BeliefDataset data, int replicates = 30, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(activations);
        return Compute(RowMatrix.From(activations), data, replicates, seed);
    }

    internal static BeliefRankErrors Compute(RowMatrix activations, BeliefDataset data, int replicates, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (replicates < 2) throw new InvalidInputException($"belief rank bootstrap: at least 2 replicates are needed, not {replicates}.");
        var centroids = BeliefCentroids.Compute(activations, data);
        var (rank, split) = centroids.Ranks(data, seed);
        double[] Values(BeliefRank r, BeliefRankSplit? s) =>
            [r.Rank, s?.Factored.Rank ?? double.NaN, s?.JointExcess.Rank ?? double.NaN, s?.ExcessShare ?? double.NaN];
        var value = Values(rank, split);
        var (se, bias) = Resampling.Errors(centroids.Units, new ErrorOptions(Batches: centroids.Units, Bootstrap: replicates, Seed: seed), counts =>
        {
            var (r, s) = centroids.Resample(activations, data, counts).Ranks(data, seed);
            return Values(r, s);
        }, value);
        return new BeliefRankErrors(replicates, centroids.Units, rank, value[0] + bias[0], se[0], split, value[1] + bias[1], se[1], value[2] + bias[2], se[2], se[3]);
    }
}

/// <summary>
/// Reduced-rank regression of the centroids Y (groups x p) on the joint belief X (groups x prod_i d_i), weighted by
/// the group weights. With weighted centring and rows scaled by sqrt(w_g), the least-squares fit is
/// <c>Y_hat = X B</c>; the rank-r fit minimising the weighted squared error is <c>X B Q_r Q_r^T</c>, Q_r the top r
/// right singular vectors of Y_hat (Eckart-Young applied to the fitted values; Izenman 1975, "Reduced-rank regression
/// for the multivariate linear model"). Its rank counts the directions of activation space that vary linearly with
/// the belief, whatever share of the variance each holds: unlike the 95 % count, a direction at 1 % of the variance
/// counts when held-out prediction resolves it, and a direction that only fits noise does not, since it lowers the
/// held-out fit on average.
/// <para>The regressors are the joint belief (affine rank up to prod_i d_i - 1, more than the factored sum_i (d_i - 1)),
/// so the rank is not capped by the factored hypothesis: a linear image of the factor beliefs gives sum_i (d_i - 1),
/// one of the joint belief up to prod_i d_i - 1.</para>
/// <para>Choice of rank (the one-standard-error rule of cross-validation, Hastie, Tibshirani and Friedman, ESL 7.10):
/// R^2(r) is pooled over K folds for r = 0..R; with r* its maximiser and d_k(r) = R^2_k(r*) - R^2_k(r) the paired drop
/// in fold k, the rank is the smallest r with pooled drop <c>R^2(r*) - R^2(r) &lt;= se(r)</c>,
/// <c>se(r) = sd_k(d_k(r)) / sqrt(K)</c> (or below 1e-9, round-off, for noise-free data). The paired difference cancels
/// the fold-to-fold spread that both ranks share, so a small direction is resolved when its held-out gain exceeds
/// the spread of that gain. The lower rank uses two standard errors.</para>
/// <para>With <c>given</c> regressors G (the factor beliefs), each fold replaces Y by its residual from the full
/// least-squares fit on G over the fold's training groups, and the rank is that of the map from X to the residual
/// (<see cref="Split"/>). R^2 stays a share of Y's held-out variance, so rank 0 scores the fit on G alone.</para>
/// </summary>
internal static class BeliefRankEstimator
{
    /// <summary>Relative squared singular value below which a feature direction is treated as collinear (as in <see cref="WeightedLeastSquares"/>).</summary>
    private const double RelativeEigenvalueTolerance = 1e-10;

    /// <summary>Held-out drops below this are round-off of noise-free data, not signal.</summary>
    private const double RoundOff = 1e-9;

    /// <summary>
    /// The factored part (rank on <paramref name="factorBeliefs"/>) and the joint excess (rank on
    /// <paramref name="jointBelief"/> of what the factor beliefs leave), on the same folds.
    /// </summary>
    public static BeliefRankSplit Split(RowMatrix factorBeliefs, RowMatrix jointBelief, RowMatrix y, double[] weights, int folds = 10, ulong seed = 0) =>
        new(Estimate(factorBeliefs, y, weights, folds, seed), Estimate(jointBelief, y, weights, folds, seed, given: factorBeliefs));

    public static BeliefRank Estimate(RowMatrix x, RowMatrix y, double[] weights, int folds = 10, ulong seed = 0, RowMatrix? given = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(weights);
        if (x.Rows != y.Rows || weights.Length != y.Rows || (given is not null && given.Rows != y.Rows))
            throw new InvalidInputException($"belief rank: features ({x.Rows} rows), centroids ({y.Rows}), weights ({weights.Length})"
                + (given is null ? "" : $" and given features ({given.Rows})") + " must have the same rows.");
        if (folds < 2) throw new InvalidInputException($"belief rank: at least 2 folds are needed, not {folds}.");
        var kept = Enumerable.Range(0, y.Rows).Where(g => weights[g] > 0).ToArray();
        if (kept.Length < 2 * folds)
            throw new InvalidInputException($"belief rank: {kept.Length} groups with positive weight are too few for {folds} folds; at least {2 * folds} are needed.");
        x = x.SelectRows(kept);
        y = y.SelectRows(kept);
        var w = kept.Select(g => weights[g]).ToArray();
        given = given?.SelectRows(kept);
        int maxRank = Math.Min(Fit(x, y, w, Enumerable.Range(0, x.Rows).ToArray()).Rank, y.Columns);
        var fold = BeliefModelComparison.Folds(x.Rows, folds, seed);
        var sse = new double[folds, maxRank + 1];
        var sst = new double[folds];
        for (int k = 0; k < folds; k++)
        {
            var train = Enumerable.Range(0, x.Rows).Where(i => fold[i] != k).ToArray();
            var test = Enumerable.Range(0, x.Rows).Where(i => fold[i] == k).ToArray();
            var response = given is null ? y : Residual(Fit(given, y, w, train), given, y);
            Score(Fit(x, response, w, train), x, response, y, w, test, maxRank, sse, sst, k);
        }
        var r2 = new double[maxRank + 1];
        var perFold = new double[folds, maxRank + 1];
        double totalSst = 0;
        for (int k = 0; k < folds; k++) totalSst += sst[k];
        for (int r = 0; r <= maxRank; r++)
        {
            double s = 0;
            for (int k = 0; k < folds; k++)
            {
                s += sse[k, r];
                perFold[k, r] = 1 - sse[k, r] / sst[k];
            }
            r2[r] = 1 - s / totalSst;
        }
        int best = 0;
        for (int r = 1; r <= maxRank; r++)
            if (r2[r] > r2[best]) best = r;
        var se = new double[maxRank + 1];
        for (int r = 0; r < best; r++)
        {
            var d = new double[folds];
            for (int k = 0; k < folds; k++) d[k] = perFold[k, best] - perFold[k, r];
            double mean = d.Average();
            se[r] = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (folds - 1) / folds);
        }
        int Smallest(double z)
        {
            for (int r = 0; r < best; r++)
                if (r2[best] - r2[r] <= Math.Max(z * se[r], RoundOff)) return r;
            return best;
        }
        int rank = Smallest(1);
        var gain = new double[folds];
        for (int k = 0; k < folds; k++) gain[k] = perFold[k, rank] - perFold[k, 0];
        double meanGain = gain.Average();
        double gainSe = Math.Sqrt(gain.Sum(v => (v - meanGain) * (v - meanGain)) / (folds - 1) / folds);
        return new BeliefRank(rank, Smallest(2), best, maxRank, r2, se, gainSe, folds);
    }

    /// <summary>Rows of <paramref name="y"/> minus the prediction of <paramref name="fit"/> (full rank) from <paramref name="x"/>.</summary>
    private static RowMatrix Residual(RankFit fit, RowMatrix x, RowMatrix y)
    {
        int q = x.Columns, p = y.Columns;
        var residual = new double[(long)y.Rows * p];
        var centred = new double[q];
        for (int i = 0; i < y.Rows; i++)
        {
            var xi = x.Row(i);
            var yi = y.Row(i);
            for (int j = 0; j < q; j++) centred[j] = xi[j] - fit.MeanX[j];
            for (int c = 0; c < p; c++)
            {
                double predicted = fit.MeanY[c];
                for (int j = 0; j < q; j++) predicted += centred[j] * fit.Coefficients[j, c];
                residual[(long)i * p + c] = yi[c] - predicted;
            }
        }
        return new RowMatrix(y.Rows, p, residual);
    }

    /// <summary>A weighted least-squares fit (centring means, slopes) and the right singular vectors of its fitted values.</summary>
    private sealed record RankFit(double[] MeanX, double[] MeanY, Matrix<double> Coefficients, Matrix<double> Directions, int Rank);

    /// <summary>Fits on <paramref name="rows"/> only.</summary>
    private static RankFit Fit(RowMatrix x, RowMatrix y, double[] w, int[] rows)
    {
        int q = x.Columns, p = y.Columns, n = rows.Length;
        double total = 0;
        foreach (int i in rows) total += w[i];
        var mx = new double[q];
        var my = new double[p];
        foreach (int i in rows)
        {
            var xi = x.Row(i);
            var yi = y.Row(i);
            for (int j = 0; j < q; j++) mx[j] += w[i] / total * xi[j];
            for (int j = 0; j < p; j++) my[j] += w[i] / total * yi[j];
        }
        var xc = Matrix<double>.Build.Dense(n, q);
        var yc = Matrix<double>.Build.Dense(n, p);
        for (int a = 0; a < n; a++)
        {
            int i = rows[a];
            double s = Math.Sqrt(w[i] / total);
            var xi = x.Row(i);
            var yi = y.Row(i);
            for (int j = 0; j < q; j++) xc[a, j] = s * (xi[j] - mx[j]);
            for (int j = 0; j < p; j++) yc[a, j] = s * (yi[j] - my[j]);
        }
        // Thin SVD through the q x q Gram matrix (a full SVD of xc would build an n x n U): xc = U S V^T with
        // U^T yc = S^-1 V^T xc^T yc, so the least-squares slopes are V S^-2 V^T xc^T yc.
        var gram = xc.TransposeThisAndMultiply(xc);
        var evd = gram.Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, q).OrderByDescending(j => evd.EigenValues[j].Real).ToArray();
        double top = order.Length > 0 ? evd.EigenValues[order[0]].Real : 0;
        var kept = order.Where(j => top > 0 && evd.EigenValues[j].Real > RelativeEigenvalueTolerance * top).ToArray();
        int rank = kept.Length;
        var v = Matrix<double>.Build.Dense(q, rank, (i, j) => evd.EigenVectors[i, kept[j]]);
        var m = Matrix<double>.Build.DiagonalOfDiagonalArray(kept.Select(j => 1 / Math.Sqrt(evd.EigenValues[j].Real)).ToArray())
            * v.TransposeThisAndMultiply(xc.TransposeThisAndMultiply(yc));
        var coefficients = v * Matrix<double>.Build.DiagonalOfDiagonalArray(kept.Select(j => 1 / Math.Sqrt(evd.EigenValues[j].Real)).ToArray()) * m;
        var directions = rank == 0 ? Matrix<double>.Build.Dense(p, 0) : m.Svd(computeVectors: true).VT.Transpose();
        return new RankFit(mx, my, coefficients, directions, rank);
    }

    /// <summary>
    /// Adds fold <paramref name="k"/>'s weighted SSE of <paramref name="response"/> at ranks 0..maxRank and the SST of
    /// <paramref name="y"/> about the test rows' weighted mean (the response is y, or y's residual from given regressors).
    /// </summary>
    private static void Score(RankFit fit, RowMatrix x, RowMatrix response, RowMatrix y, double[] w, int[] test, int maxRank, double[,] sse, double[] sst, int k)
    {
        int q = x.Columns, p = y.Columns;
        int usable = Math.Min(maxRank, fit.Directions.ColumnCount);
        double total = test.Sum(i => w[i]);
        var mean = new double[p];
        foreach (int i in test)
        {
            var yi = y.Row(i);
            for (int j = 0; j < p; j++) mean[j] += w[i] / total * yi[j];
        }
        var xt = Matrix<double>.Build.Dense(test.Length, q);
        for (int a = 0; a < test.Length; a++)
        {
            var xi = x.Row(test[a]);
            for (int j = 0; j < q; j++) xt[a, j] = xi[j] - fit.MeanX[j];
        }
        var z = xt * fit.Coefficients * fit.Directions.SubMatrix(0, p, 0, usable);
        var e0 = Matrix<double>.Build.Dense(test.Length, p);
        for (int a = 0; a < test.Length; a++)
        {
            var ei = response.Row(test[a]);
            for (int j = 0; j < p; j++) e0[a, j] = ei[j] - fit.MeanY[j];
        }
        var projected = e0 * fit.Directions.SubMatrix(0, p, 0, usable);
        for (int a = 0; a < test.Length; a++)
        {
            int i = test[a];
            var yi = y.Row(i);
            double residual = 0, spread = 0;
            for (int j = 0; j < p; j++)
            {
                residual += e0[a, j] * e0[a, j];
                spread += (yi[j] - mean[j]) * (yi[j] - mean[j]);
            }
            sst[k] += w[i] * spread;
            // |e0 - sum_{j<r} c_j q_j|^2 = |e0|^2 - sum_{j<r} (2 c_j (e0 . q_j) - c_j^2), q_j orthonormal.
            sse[k, 0] += w[i] * residual;
            for (int r = 1; r <= maxRank; r++)
            {
                if (r <= usable)
                {
                    double c = z[a, r - 1];
                    residual -= 2 * c * projected[a, r - 1] - c * c;
                }
                sse[k, r] += w[i] * residual;
            }
        }
    }
}
