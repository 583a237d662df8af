using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Statistics;

/// <summary>
/// The one home of dense linear algebra (solves and decompositions through MathNet.Numerics). Two layouts of the same
/// matrices: <c>double[,]</c> for the small matrices of models (drift, diffusion, covariance; the Lyapunov equation,
/// stability and positive-definiteness checks, Cholesky factors), and row-major <c>double[]</c> (element (i, j) of an
/// n x m matrix at i * m + j) for accumulated statistics and everything that is stored or serialised flat
/// (Gram matrices, normal equations, diffusion matrices of estimates; <see cref="ToRowMajor"/> and
/// <see cref="FromRowMajor"/> convert). Sample-by-feature data (activations, beliefs) use
/// <see cref="RowMatrix"/>, the same row-major layout with its shape attached. Both are internal: public signatures
/// take and return MathNet.Numerics <c>Matrix&lt;double&gt;</c> (or <c>double[,]</c> for small model matrices).
/// </summary>
internal static class DenseMatrix
{
    /// <summary>
    /// Solves the continuous Lyapunov equation A C + C A^T = Q for C (Q symmetric, A with eigenvalues of
    /// positive real part, so the solution is unique). Solved as the Kronecker system
    /// (I (x) A + A (x) I) vec C = vec Q; fine for the small dimensions (d &lt;= ~30) of exact models.
    /// </summary>
    public static double[,] SolveLyapunov(double[,] a, double[,] q)
    {
        int d = a.GetLength(0);
        var m = Matrix<double>.Build.Dense(d * d, d * d);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                int row = i * d + j; // C[i, j]
                for (int k = 0; k < d; k++)
                {
                    m[row, k * d + j] += a[i, k];   // (A C)[i, j] = sum_k A[i,k] C[k,j]
                    m[row, i * d + k] += a[j, k];   // (C A^T)[i, j] = sum_k C[i,k] A[j,k]
                }
            }
        var rhs = Vector<double>.Build.Dense(d * d, idx => q[idx / d, idx % d]);
        var solution = m.Solve(rhs);
        var c = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                c[i, j] = 0.5 * (solution[i * d + j] + solution[j * d + i]); // symmetrise rounding
        return c;
    }

    /// <summary>Smallest real part among the eigenvalues of <paramref name="a"/>.</summary>
    public static double MinEigenvalueRealPart(double[,] a)
    {
        var evd = Matrix<double>.Build.DenseOfArray(a).Evd();
        return evd.EigenValues.Min(z => z.Real);
    }

    /// <summary>Lower-triangular L with L L^T = S, or null when S is not symmetric positive definite.</summary>
    public static double[,]? TryCholesky(double[,] s)
    {
        int d = s.GetLength(0);
        var l = new double[d, d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double sum = s[i, j];
                for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                if (i == j)
                {
                    if (!(sum > 0)) return null;
                    l[i, i] = Math.Sqrt(sum);
                }
                else l[i, j] = sum / l[j, j];
            }
        }
        return l;
    }

    public static bool IsSymmetric(double[,] s, double relativeTolerance = 1e-12)
    {
        int d = s.GetLength(0);
        if (s.GetLength(1) != d) return false;
        double scale = 0;
        foreach (double v in s) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++)
                if (Math.Abs(s[i, j] - s[j, i]) > relativeTolerance * scale) return false;
        return true;
    }

    public static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = a.GetLength(1), p = b.GetLength(1);
        var c = new double[n, p];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < m; k++)
            {
                double aik = a[i, k];
                for (int j = 0; j < p; j++) c[i, j] += aik * b[k, j];
            }
        return c;
    }

    public static double[,] Transpose(double[,] a)
    {
        int n = a.GetLength(0), m = a.GetLength(1);
        var t = new double[m, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) t[j, i] = a[i, j];
        return t;
    }

    public static double[,] Inverse(double[,] a) => Matrix<double>.Build.DenseOfArray(a).Inverse().ToArray();

    public static double Trace(double[,] a)
    {
        double s = 0;
        for (int i = 0; i < a.GetLength(0); i++) s += a[i, i];
        return s;
    }

    public static double LogDeterminant(double[,] spd)
    {
        var l = TryCholesky(spd) ?? throw new InvalidInputException("log-determinant: the matrix is not positive definite.");
        double s = 0;
        for (int i = 0; i < l.GetLength(0); i++) s += Math.Log(l[i, i]);
        return 2 * s;
    }

    public static double[,] Identity(int d)
    {
        var m = new double[d, d];
        for (int i = 0; i < d; i++) m[i, i] = 1;
        return m;
    }

    public static double[,] Diagonal(IReadOnlyList<double> values)
    {
        var m = new double[values.Count, values.Count];
        for (int i = 0; i < values.Count; i++) m[i, i] = values[i];
        return m;
    }

    // Row-major (flat) matrices: the normal equations of the estimators.

    /// <summary>
    /// Solves M X = B for symmetric positive-definite M (n x n) and B (n x k), row-major. A Gram matrix
    /// that is singular (collinear basis functions on the data) throws <see cref="InvalidInputException"/>
    /// naming the functions involved (<paramref name="describe"/>), found from the eigenvector of the
    /// smallest eigenvalue of the normalised Gram matrix.
    /// </summary>
    public static double[] SolveGram(double[] m, int n, double[] b, int k, Func<int, string> describe, string what, bool diagnose = true)
    {
        var scale = new double[n];
        for (int a = 0; a < n; a++)
        {
            double v = m[a * n + a];
            if (!double.IsFinite(v))
                throw new InvalidInputException($"The {what} overflows: basis function {describe(a)} squared and summed over the data is {v}, so the data hold values too large "
                    + "for this basis (e.g. 1e300, or |x| beyond 1e150 in a quadratic); rescale the coordinates, remove the outliers, or use a lower degree.");
            if (!(v > 0))
                throw new InvalidInputException($"The {what} is singular: basis function {describe(a)} is zero on all the data; remove it (use a smaller basis) or check the data.");
            scale[a] = 1 / Math.Sqrt(v);
        }
        var normal = Matrix<double>.Build.Dense(n, n, (i, j) => m[i * n + j] * scale[i] * scale[j]);
        if (diagnose)
        {
            var evd = normal.Evd(Symmetricity.Symmetric);
            double min = evd.EigenValues[0].Real;
            int argmin = 0;
            for (int i = 1; i < n; i++)
                if (evd.EigenValues[i].Real < min) { min = evd.EigenValues[i].Real; argmin = i; }
            if (min < 1e-10)
            {
                var v = evd.EigenVectors.Column(argmin);
                double big = v.AbsoluteMaximum();
                var names = Enumerable.Range(0, n).Where(a => Math.Abs(v[a]) > 0.1 * big).Select(describe).ToList();
                throw new InvalidInputException(
                    $"The {what} is singular (smallest normalised eigenvalue {min:G3}): the basis functions {string.Join(", ", names)} are collinear on the data. "
                    + "Use a smaller basis, or check that the coordinates are not linearly dependent.");
            }
        }
        var rhs = Matrix<double>.Build.Dense(n, k, (i, j) => b[i * k + j] * scale[i]);
        Matrix<double> x;
        try
        {
            x = normal.Cholesky().Solve(rhs);
        }
        catch (ArgumentException)
        {
            throw new InvalidInputException($"The {what} is not positive definite on these data; use a smaller basis.");
        }
        var result = new double[n * k];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++) result[i * k + j] = x[i, j] * scale[i];
        return result;
    }

    /// <summary>
    /// A d x d row-major matrix for a message: its entries when d &lt;= 4, else its size and leading diagonal (a 200 x 200
    /// matrix written out made a 280,000-character error).
    /// </summary>
    internal static string Shown(double[] m, int d)
    {
        static string G4(double v) => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture);
        if (d <= 4) return "[" + string.Join(", ", m.Select(G4)) + "]";
        var diagonal = Enumerable.Range(0, Math.Min(d, 6)).Select(i => G4(m[i * d + i]));
        return $"a {d} x {d} matrix with diagonal [{string.Join(", ", diagonal)}{(d > 6 ? ", ..." : "")}]";
    }

    /// <summary>Inverse of a small symmetric positive-definite matrix (e.g. a diffusion matrix).</summary>
    public static double[] InverseSpd(double[] m, int d, string what)
    {
        var matrix = Matrix<double>.Build.Dense(d, d, (i, j) => m[i * d + j]);
        Matrix<double> inverse;
        try
        {
            inverse = matrix.Cholesky().Solve(Matrix<double>.Build.DenseIdentity(d));
        }
        catch (ArgumentException)
        {
            throw new InvalidInputException($"The {what} must be symmetric positive definite (got {Shown(m, d)}).");
        }
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) r[i * d + j] = inverse[i, j];
        return r;
    }

    /// <summary>A Gram diagonal at or below this is a feature that is not there (<see cref="SolveRidgedCholesky"/>): the square of
    /// values near 1e-140, far below any feature's real scale, and far enough above the subnormals (2.2e-308) that S G S keeps its digits.</summary>
    public const double NegligibleDiagonal = 1e-280;

    /// <summary>
    /// theta = (D G)^-1 J for a row-major k x k Gram matrix G, scalar D, by Cholesky of the Jacobi-scaled matrix
    /// S G S (S = diag(G_pp^-1/2)) with a ridge of 1e-12 on its unit diagonal, so the regularisation is the same relative
    /// amount for every feature whatever their units (pivots below 1e-300 are clamped). A feature whose diagonal is at most
    /// <see cref="NegligibleDiagonal"/> (0, or values of 1e-155 and less, as a speed gate exp(-|u|^2 / (2 s^2)) gives where no
    /// particle is slow) is left out: theta 0. Such a diagonal is subnormal or near it, where S G S loses the digits that
    /// keep it positive definite; two interacting particles in a trap gave NaN (docs/active-matter.md, session 23). For the
    /// many-body current estimator, whose Gram matrices may be singular by symmetry and whose features differ in scale by
    /// many orders of magnitude.
    /// </summary>
    public static double[] SolveRidgedCholesky(double[] gram, double[] j, int k, double diffusion)
    {
        var scale = new double[k];
        for (int p = 0; p < k; p++) scale[p] = gram[p * k + p] > NegligibleDiagonal ? 1 / Math.Sqrt(gram[p * k + p]) : 0;
        var a = new double[k * k];
        for (int p = 0; p < k; p++)
            for (int q = 0; q < k; q++) a[p * k + q] = diffusion * scale[p] * gram[p * k + q] * scale[q];
        for (int p = 0; p < k; p++) a[p * k + p] += diffusion * 1e-12;
        for (int p = 0; p < k; p++)
        {
            for (int q = 0; q <= p; q++)
            {
                double s = a[p * k + q];
                for (int r = 0; r < q; r++) s -= a[p * k + r] * a[q * k + r];
                a[p * k + q] = p == q ? Math.Sqrt(Math.Max(s, 1e-300)) : s / a[q * k + q];
            }
        }
        var y = new double[k];
        for (int p = 0; p < k; p++)
        {
            double s = j[p] * scale[p];
            for (int r = 0; r < p; r++) s -= a[p * k + r] * y[r];
            y[p] = s / a[p * k + p];
        }
        var theta = new double[k];
        for (int p = k - 1; p >= 0; p--)
        {
            double s = y[p];
            for (int r = p + 1; r < k; r++) s -= a[r * k + p] * theta[r];
            theta[p] = s / a[p * k + p];
        }
        for (int p = 0; p < k; p++) theta[p] *= scale[p];
        return theta;
    }

    /// <summary>C = A (p x q) B (q x r), row-major.</summary>
    public static double[] MultiplyRowMajor(double[] a, int p, int q, double[] b, int r)
    {
        var c = new double[p * r];
        for (int i = 0; i < p; i++)
            for (int k = 0; k < q; k++)
            {
                double v = a[i * q + k];
                if (v == 0) continue;
                for (int j = 0; j < r; j++) c[i * r + j] += v * b[k * r + j];
            }
        return c;
    }

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>The row-major values of <paramref name="m"/>.</summary>
    public static double[] ToRowMajor(double[,] m)
    {
        int rows = m.GetLength(0), columns = m.GetLength(1);
        var r = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) r[i * columns + j] = m[i, j];
        return r;
    }

    /// <summary>The d x d matrix of the row-major <paramref name="values"/>; <paramref name="what"/> names it in the error when the count is not d^2.</summary>
    public static double[,] FromRowMajor(IReadOnlyList<double> values, int d, string what)
    {
        if (values.Count != d * d) throw new InvalidInputException($"the {what} has {values.Count} entries, expected {d * d} ({d} x {d}).");
        var m = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) m[i, j] = values[i * d + j];
        return m;
    }
}
