using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Randomness;
using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// An affine map <c>y = x B + c</c> fitted by weighted least squares: B (features x outputs) are the
/// slope coefficients, c the intercept.
/// </summary>
internal sealed class WeightedLinearFit
{
    internal WeightedLinearFit(double[,] coefficients, double[] intercept, int rank)
    {
        Coefficients = coefficients;
        Intercept = intercept;
        Rank = rank;
    }

    /// <summary>Slopes B, features x outputs (the intercept is not included).</summary>
    public double[,] Coefficients { get; }

    public double[] Intercept { get; }

    /// <summary>Numerical rank of the weighted, centred features that the fit used.</summary>
    public int Rank { get; }

    public int Features => Coefficients.GetLength(0);
    public int Outputs => Coefficients.GetLength(1);

    public RowMatrix Predict(RowMatrix x)
    {
        if (x.Columns != Features)
            throw new InvalidInputException($"the fit expects {Features} features per row, but the matrix has {x.Columns} columns.");
        int k = Outputs;
        var data = new double[(long)x.Rows * k];
        for (int i = 0; i < x.Rows; i++)
        {
            var row = x.Row(i);
            var output = data.AsSpan(i * k, k);
            Intercept.CopyTo(output);
            for (int j = 0; j < row.Length; j++)
            {
                double v = row[j];
                for (int m = 0; m < k; m++) output[m] += v * Coefficients[j, m];
            }
        }
        return new RowMatrix(x.Rows, k, data);
    }
}

/// <summary>
/// Goodness of a weighted fit. With residual e = y - y_hat and weighted mean y_bar:
/// <c>R^2 = 1 - sum_i w_i |e_i|^2 / sum_i w_i |y_i - y_bar|^2</c> (pooled over outputs),
/// <c>RMSE = sqrt(sum_i w_i |e_i|^2 / (k sum_i w_i))</c> for k outputs (units of y).
/// </summary>
public sealed record RegressionScore(double RSquared, double Rmse, IReadOnlyList<double> RSquaredPerOutput)
{
    public double MeanSquaredError => Rmse * Rmse;
}

/// <summary>A fit with its controls: in-sample, held-out rows, and labels shuffled across rows.</summary>
/// <param name="Fit">The fit on all rows.</param>
/// <param name="HeldOutRows">Number of rows in the held-out set.</param>
/// <param name="InSample">Fit and score on all rows.</param>
/// <param name="HeldOut">Fit on a random (1 - fraction) of rows, scored on the rest.</param>
/// <param name="ShuffledLabels">Labels permuted across rows, fitted on the training rows and scored on the held-out rows: about 0 (or below) when the fit is not an artefact of capacity.</param>
internal sealed record RegressionReport(WeightedLinearFit Fit, RegressionScore InSample, RegressionScore HeldOut, RegressionScore ShuffledLabels, int HeldOutRows);

/// <summary>
/// Weighted least squares with intercept: minimise <c>sum_i w_i |y_i - x_i B - c|^2</c>. Solved from the
/// centred normal equations <c>(X_c^T W X_c) B = X_c^T W Y_c</c>, <c>c = y_bar - x_bar B</c>, after scaling
/// features to unit weighted variance; directions with relative eigenvalue below 1e-10 are dropped
/// (pseudo-inverse), so collinear features give the minimum-norm solution instead of noise. A feature whose weighted
/// standard deviation is below 1e-10 of the largest feature's is constant up to round-off and is left out (slope 0)
/// rather than scaled: scaled to unit variance, its round-off would be a full feature (a GHMM factor's marginal
/// eta_0 = 1/3 for TomQuantum, tau = (3, 0, 0), counted one direction too many in every TomQuantum product).
/// Used for the belief regression of Shai et al., "Transformers represent belief state geometry in their
/// residual stream", NeurIPS 2024 (weights = prefix probabilities).
/// </summary>
internal static class WeightedLeastSquares
{
    private const double RelativeEigenvalueTolerance = 1e-10;

    public static WeightedLinearFit Fit(RowMatrix x, RowMatrix y, double[] weights)
    {
        if (x.Rows != y.Rows)
            throw new InvalidInputException($"regression: {x.Rows} feature rows but {y.Rows} label rows; they must match.");
        if (x.Rows == 0 || x.Columns == 0 || y.Columns == 0)
            throw new InvalidInputException($"regression: empty input ({x.Rows} rows, {x.Columns} features, {y.Columns} outputs).");
        x.EnsureFinite("regression features");
        y.EnsureFinite("regression labels");
        double total = WeightedMoments.TotalWeight(weights, x.Rows, "regression");
        var mx = WeightedMoments.Mean(x, weights, total);
        var my = WeightedMoments.Mean(y, weights, total);
        var gram = WeightedMoments.CentredCross(x, mx, x, mx, weights, symmetric: true);
        var cross = WeightedMoments.CentredCross(x, mx, y, my, weights, symmetric: false);
        int p = x.Columns, k = y.Columns;

        double largest = 0;
        for (int j = 0; j < p; j++) largest = Math.Max(largest, gram[j * p + j]);
        double constant = largest * RelativeEigenvalueTolerance * RelativeEigenvalueTolerance;
        var scale = new double[p];
        for (int j = 0; j < p; j++) scale[j] = gram[j * p + j] > constant ? 1 / Math.Sqrt(gram[j * p + j]) : 0;
        var g = Matrix<double>.Build.Dense(p, p, (i, j) => gram[i * p + j] * scale[i] * scale[j]);
        var c = Matrix<double>.Build.Dense(p, k, (i, m) => cross[i * k + m] * scale[i]);
        var evd = g.Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Real();
        var vectors = evd.EigenVectors;
        double max = values.Maximum();
        var projected = vectors.TransposeThisAndMultiply(c);
        int rank = 0;
        for (int e = 0; e < p; e++)
        {
            bool keep = max > 0 && values[e] > max * RelativeEigenvalueTolerance;
            if (keep) rank++;
            for (int m = 0; m < k; m++) projected[e, m] = keep ? projected[e, m] / values[e] : 0;
        }
        var solution = vectors * projected;
        var coefficients = new double[p, k];
        var intercept = (double[])my.Clone();
        for (int j = 0; j < p; j++)
            for (int m = 0; m < k; m++)
            {
                coefficients[j, m] = solution[j, m] * scale[j];
                intercept[m] -= mx[j] * coefficients[j, m];
            }
        return new WeightedLinearFit(coefficients, intercept, rank);
    }

    public static RegressionScore Score(RowMatrix y, RowMatrix predicted, double[] weights)
    {
        if (y.Rows != predicted.Rows || y.Columns != predicted.Columns)
            throw new InvalidInputException($"score: labels are {y.Rows} x {y.Columns} but predictions are {predicted.Rows} x {predicted.Columns}.");
        double total = WeightedMoments.TotalWeight(weights, y.Rows, "score");
        var mean = WeightedMoments.Mean(y, weights, total);
        int k = y.Columns;
        var sse = new double[k];
        var sst = new double[k];
        for (int i = 0; i < y.Rows; i++)
        {
            double w = weights[i];
            if (w == 0) continue;
            var t = y.Row(i);
            var f = predicted.Row(i);
            for (int m = 0; m < k; m++)
            {
                double e = t[m] - f[m], d = t[m] - mean[m];
                sse[m] += w * e * e;
                sst[m] += w * d * d;
            }
        }
        var perOutput = new double[k];
        for (int m = 0; m < k; m++) perOutput[m] = sst[m] > 0 ? 1 - sse[m] / sst[m] : double.NaN;
        double sseTotal = sse.Sum(), sstTotal = sst.Sum();
        double r2 = sstTotal > 0 ? 1 - sseTotal / sstTotal : double.NaN;
        return new RegressionScore(r2, Math.Sqrt(sseTotal / (k * total)), perOutput);
    }

    /// <summary>
    /// Fits on all rows and runs the two controls: a held-out split (each row goes to the test set with
    /// probability <paramref name="heldOutFraction"/>, drawn from <paramref name="seed"/>) and the same split
    /// with labels permuted across rows (seeded Fisher-Yates).
    /// </summary>
    public static RegressionReport FitWithControls(RowMatrix x, RowMatrix y, double[] weights, ulong seed, double heldOutFraction = 0.2)
    {
        if (!(heldOutFraction > 0 && heldOutFraction < 1))
            throw new InvalidInputException($"held-out fraction must be in (0, 1), not {heldOutFraction}.");
        var fit = Fit(x, y, weights);
        var inSample = Score(y, fit.Predict(x), weights);

        var split = RandomStream.For(seed, 0, RandomPurposes.HeldOutSplit);
        var train = new List<int>();
        var test = new List<int>();
        for (int i = 0; i < x.Rows; i++) (split.NextDouble() < heldOutFraction ? test : train).Add(i);
        var nan = new RegressionScore(double.NaN, double.NaN, Enumerable.Repeat(double.NaN, y.Columns).ToArray());
        if (train.Count == 0 || test.Count == 0 || !(train.Sum(i => weights[i]) > 0) || !(test.Sum(i => weights[i]) > 0))
            return new RegressionReport(fit, inSample, nan, nan, test.Count);
        var trainWeights = train.Select(i => weights[i]).ToArray();
        var testWeights = test.Select(i => weights[i]).ToArray();
        var trainX = x.SelectRows(train);
        var testX = x.SelectRows(test);
        var trainFit = Fit(trainX, y.SelectRows(train), trainWeights);
        var heldOut = Score(y.SelectRows(test), trainFit.Predict(testX), testWeights);

        // Labels permuted across rows, fitted on the training rows and scored on the held-out rows: in-sample R^2
        // of shuffled labels is not near 0 when a few heavy rows dominate the weights (short prefixes carry most
        // probability), so the control is judged out of sample, where it is about 0 or negative.
        var shuffle = RandomStream.For(seed, 0, RandomPurposes.ShuffledLabels);
        var order = Enumerable.Range(0, x.Rows).ToArray();
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(shuffle.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var shuffledY = y.SelectRows(order);
        var shuffledFit = Fit(trainX, shuffledY.SelectRows(train), trainWeights);
        var shuffled = Score(shuffledY.SelectRows(test), shuffledFit.Predict(testX), testWeights);
        return new RegressionReport(fit, inSample, heldOut, shuffled, test.Count);
    }
}
