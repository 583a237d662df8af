using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Statistics;

/// <summary>
/// Small dense linear-algebra helpers on <c>double[,]</c> used by the exact models: the continuous
/// Lyapunov equation, stability and positive-definiteness checks, Cholesky factors.
/// </summary>
public static class DenseMatrix
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
}
