using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Inference;

/// <summary>Small dense solves for the normal equations of the estimators, with readable failures.</summary>
internal static class DenseAlgebra
{
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
            throw new InvalidInputException($"The {what} must be symmetric positive definite (got [{string.Join(", ", m.Select(v => v.ToString("G4")))}]).");
        }
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) r[i * d + j] = inverse[i, j];
        return r;
    }

    /// <summary>C = A (p x q) B (q x r), row-major.</summary>
    public static double[] Multiply(double[] a, int p, int q, double[] b, int r)
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
}
