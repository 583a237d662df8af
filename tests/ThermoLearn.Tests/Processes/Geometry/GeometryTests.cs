using ThermoLearn.Processes.Geometry;
using ThermoLearn.Randomness;
using ThermoLearn.Statistics;
using Xunit;

namespace ThermoLearn.Tests.Processes.Geometry;

public class WeightedLeastSquaresTests
{
    private static RowMatrix Random(int rows, int columns, ulong seed)
    {
        var r = RandomStream.For(seed, 0);
        var data = new double[rows * columns];
        for (int k = 0; k < data.Length; k++) data[k] = r.NextGaussian();
        return new RowMatrix(rows, columns, data);
    }

    private static double[] RandomWeights(int rows, ulong seed)
    {
        var r = RandomStream.For(seed, 1);
        return Enumerable.Range(0, rows).Select(_ => r.NextDouble() + 0.01).ToArray();
    }

    [Fact]
    public void HandComputedWeightedSimpleRegression()
    {
        // x = (0,1,2), y = (1,3,2), w = (1,2,1): x_bar = 1, y_bar = 9/4, cov_w = 1, var_w = 2 -> slope 1/2,
        // intercept 7/4; residuals (-3/4, 3/4, -3/4): SSE = 9/4, SST = 11/4 -> R^2 = 2/11, RMSE = sqrt(9/16).
        var x = RowMatrix.FromArray(new double[,] { { 0 }, { 1 }, { 2 } });
        var y = RowMatrix.FromArray(new double[,] { { 1 }, { 3 }, { 2 } });
        double[] w = [1, 2, 1];
        var fit = WeightedLeastSquares.Fit(x, y, w);
        Assert.Equal(0.5, fit.Coefficients[0, 0], 12);
        Assert.Equal(1.75, fit.Intercept[0], 12);
        var score = WeightedLeastSquares.Score(y, fit.Predict(x), w);
        Assert.Equal(2.0 / 11.0, score.RSquared, 12);
        Assert.Equal(0.75, score.Rmse, 12);
    }

    [Fact]
    public void RecoversAnExactAffineMapWithRandomWeights()
    {
        var x = Random(500, 7, 11);
        var b = Random(7, 3, 12);
        double[] c = [0.3, -1.2, 2.0];
        var y = new double[500 * 3];
        for (int i = 0; i < 500; i++)
            for (int m = 0; m < 3; m++)
            {
                y[i * 3 + m] = c[m];
                for (int j = 0; j < 7; j++) y[i * 3 + m] += x[i, j] * b[j, m];
            }
        var w = RandomWeights(500, 13);
        var fit = WeightedLeastSquares.Fit(x, new RowMatrix(500, 3, y), w);
        for (int j = 0; j < 7; j++)
            for (int m = 0; m < 3; m++) Assert.Equal(b[j, m], fit.Coefficients[j, m], 10);
        for (int m = 0; m < 3; m++) Assert.Equal(c[m], fit.Intercept[m], 10);
        var score = WeightedLeastSquares.Score(new RowMatrix(500, 3, y), fit.Predict(x), w);
        Assert.Equal(1.0, score.RSquared, 12);
        Assert.True(score.Rmse < 1e-10);
        Assert.Equal(7, fit.Rank);
    }

    [Fact]
    public void IntegerWeightsEqualDuplicatedRows()
    {
        var x = Random(40, 3, 21);
        var y = Random(40, 2, 22);
        var w = Enumerable.Range(0, 40).Select(i => (double)(i % 3)).ToArray();
        var duplicated = Enumerable.Range(0, 40).SelectMany(i => Enumerable.Repeat(i, i % 3)).ToArray();
        var a = WeightedLeastSquares.Fit(x, y, w);
        var b = WeightedLeastSquares.Fit(x.SelectRows(duplicated), y.SelectRows(duplicated), Enumerable.Repeat(1.0, duplicated.Length).ToArray());
        for (int j = 0; j < 3; j++)
            for (int m = 0; m < 2; m++) Assert.Equal(b.Coefficients[j, m], a.Coefficients[j, m], 10);
        for (int m = 0; m < 2; m++) Assert.Equal(b.Intercept[m], a.Intercept[m], 10);
    }

    [Fact]
    public void CollinearFeaturesGiveTheMinimumNormSolution()
    {
        // Second column = first column: y = 2 x0 is fitted by slopes (1, 1), the minimum-norm split.
        var x0 = Random(100, 1, 31);
        var x = RowMatrix.ConcatenateColumns([x0, x0]);
        var y = new RowMatrix(100, 1, x0.Data.Select(v => 2 * v + 1).ToArray());
        var fit = WeightedLeastSquares.Fit(x, y, Enumerable.Repeat(1.0, 100).ToArray());
        Assert.Equal(1, fit.Rank);
        Assert.Equal(1.0, fit.Coefficients[0, 0], 9);
        Assert.Equal(1.0, fit.Coefficients[1, 0], 9);
        Assert.Equal(1.0, fit.Intercept[0], 9);
    }

    [Fact]
    public void AColumnConstantToRoundOffIsNotAFeature()
    {
        // Third column = (a + 1/3) - a: the constant 1/3 up to the round-off of the sum (an ulp of a, ~1e-16), as a GHMM
        // factor's marginal eta_0 = 1/3 (TomQuantum, tau = (3, 0, 0)) comes out of a tau contraction. Scaling it to unit
        // variance before the pseudo-inverse would turn its round-off into a full feature (rank 3, and a fitted noise slope).
        int n = 400;
        var x = Random(n, 3, 51);
        var values = new double[n * 3];
        for (int i = 0; i < n; i++)
        {
            values[i * 3] = x[i, 0];
            values[i * 3 + 1] = x[i, 1];
            values[i * 3 + 2] = (x[i, 2] + 1.0 / 3) - x[i, 2];
        }
        var features = new RowMatrix(n, 3, values);
        Assert.Contains(values.Where((_, k) => k % 3 == 2), v => v != 1.0 / 3);
        var y = new RowMatrix(n, 1, Enumerable.Range(0, n).Select(i => 2 * x[i, 0] - x[i, 1] + 0.5).ToArray());
        var fit = WeightedLeastSquares.Fit(features, y, RandomWeights(n, 52));
        Assert.Equal(2, fit.Rank);
        Assert.Equal(0, fit.Coefficients[2, 0]);
        Assert.Equal(2.0, fit.Coefficients[0, 0], 10);
        Assert.Equal(-1.0, fit.Coefficients[1, 0], 10);
    }

    [Fact]
    public void ControlsSeparateSignalFromCapacity()
    {
        // Labels are an exact linear map of 5 features plus nothing else: held-out R^2 = 1, while shuffled labels
        // fitted on ~1600 rows and scored on ~400 held-out rows have R^2 of order -p/n_test = -0.015 with a spread
        // of about 0.01 per output: [-0.06, 0.03] is more than 3 sd either side (fixed seed).
        int n = 2000;
        var x = Random(n, 5, 41);
        var y = new RowMatrix(n, 2, Enumerable.Range(0, n).SelectMany(i => new[] { x[i, 0] - x[i, 3], 0.5 * x[i, 1] + 2 }).ToArray());
        var report = WeightedLeastSquares.FitWithControls(x, y, Enumerable.Repeat(1.0, n).ToArray(), seed: 7);
        Assert.Equal(1.0, report.InSample.RSquared, 12);
        Assert.Equal(1.0, report.HeldOut.RSquared, 12);
        Assert.InRange(report.HeldOutRows, 300, 500);
        Assert.InRange(report.ShuffledLabels.RSquared, -0.06, 0.03);
    }

    [Fact]
    public void BadInputIsReported()
    {
        var x = Random(4, 2, 1);
        var y = Random(3, 1, 2);
        Assert.Throws<InvalidInputException>(() => WeightedLeastSquares.Fit(x, y, [1, 1, 1, 1]));
        var y4 = Random(4, 1, 2);
        Assert.Throws<InvalidInputException>(() => WeightedLeastSquares.Fit(x, y4, [1, 1, -1, 1]));
        Assert.Throws<InvalidInputException>(() => WeightedLeastSquares.Fit(x, y4, [0, 0, 0, 0]));
        Assert.Throws<InvalidInputException>(() => WeightedLeastSquares.Fit(x, y4, [1, 1, 1]));
        var nan = new RowMatrix(4, 2, [1, 2, 3, double.NaN, 5, 6, 7, 8]);
        var e = Assert.Throws<InvalidInputException>(() => WeightedLeastSquares.Fit(nan, y4, [1, 1, 1, 1]));
        Assert.Contains("row 1, column 1", e.Message);
        Assert.Throws<InvalidInputException>(() => new RowMatrix(2, 2, [1, 2, 3]));
    }

    [Fact]
    public void PublicMatricesCarryTheSameValues()
    {
        // Public signatures take MathNet matrices (column-major) and the library computes on row-major RowMatrix:
        // the copies across must keep every element in place (a transposed copy would fail the off-diagonal checks).
        var x = Random(3, 2, 5);
        var m = x.ToMatrix();
        Assert.Equal((3, 2), (m.RowCount, m.ColumnCount));
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) Assert.Equal(x[i, j], m[i, j]);
        Assert.Equal(x.Data, RowMatrix.From(m).Data);
    }
}

public class WeightedPcaTests
{
    [Fact]
    public void KnownVariancesAndDimensionMeasures()
    {
        // Four points (±3, ±1, 0) with equal weight: variances 9 and 1 (and 0).
        var x = RowMatrix.FromArray(new double[,] { { 3, 1, 0 }, { 3, -1, 0 }, { -3, 1, 0 }, { -3, -1, 0 } });
        var pca = WeightedPca.Fit(x, [1, 1, 1, 1]);
        Assert.Equal(9.0, pca.Variances[0], 12);
        Assert.Equal(1.0, pca.Variances[1], 12);
        Assert.Equal(0.0, pca.Variances[2], 12);
        Assert.Equal(0.9, pca.ExplainedRatio[0], 12);
        Assert.Equal(1, pca.ComponentsFor(0.8));
        Assert.Equal(1, pca.ComponentsFor(0.9));
        Assert.Equal(2, pca.ComponentsFor(0.95));
        Assert.Equal(2, pca.ComponentsFor(0.99));
        Assert.Equal(2, pca.Rank());
        Assert.Equal(100.0 / 82.0, pca.ParticipationRatio, 12);
        Assert.Equal(Math.Exp(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25))), pca.EffectiveRank, 12);
    }

    [Fact]
    public void WeightsEnterTheMeanAndCovariance()
    {
        // x = (0, 3, -3) with weights (2, 1, 1): mean 0, variance (9 + 9) / 4 = 4.5.
        var x = RowMatrix.FromArray(new double[,] { { 0 }, { 3 }, { -3 } });
        Assert.Equal(4.5, WeightedPca.Fit(x, [2, 1, 1]).Variances[0], 12);
        // Weights (1, 1, 0): mean 1.5, variance 2.25.
        Assert.Equal(2.25, WeightedPca.Fit(x, [1, 1, 0]).Variances[0], 12);
    }

    [Fact]
    public void EqualSpectraGiveTheirDimension()
    {
        double[] s = [2, 2, 2, 2];
        Assert.Equal(4.0, SpectralMeasures.ParticipationRatio(s), 12);
        Assert.Equal(4.0, SpectralMeasures.EffectiveRank(s), 12);
        Assert.Equal(0.0, SpectralMeasures.ParticipationRatio([]), 12);
    }
}

public class SubspaceOverlapTests
{
    [Fact]
    public void CoordinateSubspaces()
    {
        var e01 = new double[,] { { 1, 0 }, { 0, 1 }, { 0, 0 }, { 0, 0 } };
        var e23 = new double[,] { { 0, 0 }, { 0, 0 }, { 1, 0 }, { 0, 1 } };
        var e0 = new double[,] { { 1 }, { 0 }, { 0 }, { 0 } };
        Assert.Equal(0.0, SubspaceOverlap.Compare(e01, e23).Overlap, 12);
        Assert.Equal(1.0, SubspaceOverlap.Compare(e01, e0).Overlap, 12);
        Assert.Equal(1.0, SubspaceOverlap.Compare(e01, e01).Overlap, 12);
        Assert.Equal(2.0, SubspaceOverlap.Compare(e01, e01).ParticipationRatio, 12);
    }

    [Fact]
    public void LinesAtAnAngleHaveOverlapCosineSquared()
    {
        double theta = 0.3;
        var a = new double[,] { { 1 }, { 0 }, { 0 } };
        var b = new double[,] { { Math.Cos(theta) }, { Math.Sin(theta) }, { 0 } };
        var c = SubspaceOverlap.Compare(a, b);
        Assert.Equal(Math.Cos(theta), c.Cosines[0], 12);
        Assert.Equal(Math.Cos(theta) * Math.Cos(theta), c.Overlap, 12);
    }

    [Fact]
    public void BasisOfAColumnSpaceDropsDependentColumns()
    {
        // Columns (1,1,0), (2,2,0), (0,0,3): a plane, spanned by e0+e1 and e2.
        var w = new double[,] { { 1, 2, 0 }, { 1, 2, 0 }, { 0, 0, 3 } };
        var q = SubspaceOverlap.OrthonormalBasis(w);
        Assert.Equal(2, q.GetLength(1));
        var plane = new double[,] { { Math.Sqrt(0.5), 0 }, { Math.Sqrt(0.5), 0 }, { 0, 1 } };
        Assert.Equal(1.0, SubspaceOverlap.Compare(q, plane).Overlap, 12);
        Assert.Throws<InvalidInputException>(() => SubspaceOverlap.Compare(q, new double[,] { { 1 }, { 0 } }));
    }
}

public class FactoredGeometryTests
{
    private static double[] RandomSimplexPoint(ref RandomStream r, int states)
    {
        var p = new double[states];
        for (int k = 0; k < states; k++) p[k] = -Math.Log(r.NextDoubleNonZero());
        double sum = p.Sum();
        for (int k = 0; k < states; k++) p[k] /= sum;
        return p;
    }

    private static (RowMatrix Joint, RowMatrix[] Factors) ProductBeliefs(int rows, int[] states, ulong seed)
    {
        var r = RandomStream.For(seed, 0);
        int jointStates = states.Aggregate(1, (a, s) => a * s);
        var joint = new double[rows * jointStates];
        var factors = states.Select(s => new double[rows * s]).ToArray();
        for (int i = 0; i < rows; i++)
        {
            double[] kron = [1.0];
            for (int f = 0; f < states.Length; f++)
            {
                var b = RandomSimplexPoint(ref r, states[f]);
                b.CopyTo(factors[f], i * states[f]);
                kron = kron.SelectMany(a => b.Select(v => a * v)).ToArray();
            }
            kron.CopyTo(joint, i * jointStates);
        }
        return (new RowMatrix(rows, jointStates, joint), states.Select((s, f) => new RowMatrix(rows, s, factors[f])).ToArray());
    }

    [Fact]
    public void MarginalsOfAKroneckerProductAreTheFactors()
    {
        var (joint, factors) = ProductBeliefs(50, [3, 2, 4], 5);
        var marginals = FactoredGeometry.Marginals(joint, [3, 2, 4]);
        for (int f = 0; f < 3; f++)
            for (int k = 0; k < factors[f].Data.Length; k++) Assert.Equal(factors[f].Data[k], marginals[f].Data[k], 12);
        Assert.Throws<InvalidInputException>(() => FactoredGeometry.Marginals(joint, [3, 3]));
    }

    [Fact]
    public void OrthogonalFactorEmbeddingIsFactored()
    {
        // Three 3-state factors written linearly into orthogonal planes of a 12-dim space: each factor
        // is recovered exactly (R^2 = 1) in a 2-dim subspace, the subspaces do not overlap, the activations
        // need 6 = sum (3 - 1) dimensions while the joint beliefs have affine rank 26 = 3^3 - 1.
        int rows = 600, d = 12;
        int[] states = [3, 3, 3];
        var (joint, factors) = ProductBeliefs(rows, states, 9);
        var activations = new double[rows * d];
        for (int i = 0; i < rows; i++)
            for (int f = 0; f < 3; f++)
            {
                // Factor f occupies coordinates 4f..4f+1 (b1 - b0, b2 - b0 scaled), coordinates 4f+2..4f+3 stay 0.
                var b = factors[f].Row(i);
                activations[i * d + 4 * f] = 2 * (b[1] - b[0]);
                activations[i * d + 4 * f + 1] = b[2] - b[0] + 0.5 * b[1];
            }
        var x = new RowMatrix(rows, d, activations);
        var w = Enumerable.Repeat(1.0 / rows, rows).ToArray();
        var result = FactoredGeometry.Analyse(x, joint, states, w);
        Assert.All(result.Factors, f => Assert.Equal(1.0, f.RSquared, 10));
        Assert.All(result.Factors, f => Assert.Equal(2, f.Dimension));
        Assert.Equal(0.0, result.MeanOffDiagonalOverlap, 12);
        Assert.Equal(6, result.FactoredDimension);
        Assert.Equal(26, result.JointDimension);
        Assert.Equal(26, result.JointBeliefRank);
        Assert.InRange(result.ObservedDimension95, 4, 6);
    }

    [Fact]
    public void MixedFactorsHaveTheirPrincipalAngle()
    {
        // Two 2-state factors a = P0(state 0), b = P1(state 0) mixed into one plane: x0 = a + 3b, x1 = a - 2b.
        // Then a = (2 x0 + 3 x1)/5 and b = (x0 - x1)/5: directions (2,3) and (1,-1), cos^2 = 1/26.
        int rows = 300;
        var (joint, factors) = ProductBeliefs(rows, [2, 2], 3);
        var data = new double[rows * 4];
        for (int i = 0; i < rows; i++)
        {
            data[i * 4] = factors[0][i, 0] + 3 * factors[1][i, 0];
            data[i * 4 + 1] = factors[0][i, 0] - 2 * factors[1][i, 0];
        }
        var result = FactoredGeometry.Analyse(new RowMatrix(rows, 4, data), joint, [2, 2], Enumerable.Repeat(1.0, rows).ToArray());
        Assert.All(result.Factors, f => Assert.Equal(1, f.Dimension));
        Assert.Equal(1.0, result.Factors[0].RSquared, 10);
        Assert.Equal(1.0, result.Factors[1].RSquared, 10);
        Assert.Equal(1.0 / 26.0, result.Overlaps[0, 1], 9);
    }
}
