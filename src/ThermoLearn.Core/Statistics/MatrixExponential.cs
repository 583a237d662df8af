namespace ThermoLearn.Statistics;

/// <summary>
/// exp(A) and its Frechet derivative L(A, E) = d/dh exp(A + h E) at h = 0 for the small dense matrices of jump
/// processes. exp(A) by scaling and squaring of an 18-term Taylor series with ||A / 2^s||_1 &lt;= 1/2 (truncation
/// below 1e-22 relative); L(A, E) as the upper-right block of exp([[A, E], [0, A]]) (Najfeld &amp; Havel,
/// Adv. Appl. Math. 16, 321 (1995)). Row-major arrays of n x n.
/// </summary>
internal static class MatrixExponential
{
    private const int TaylorTerms = 18;

    /// <summary>exp(A) of the n x n row-major matrix <paramref name="a"/>.</summary>
    public static double[] Exp(ReadOnlySpan<double> a, int n)
    {
        double norm = 0;
        for (int j = 0; j < n; j++)
        {
            double column = 0;
            for (int i = 0; i < n; i++) column += Math.Abs(a[i * n + j]);
            norm = Math.Max(norm, column);
        }
        int squarings = norm > 0.5 ? (int)Math.Ceiling(Math.Log2(norm / 0.5)) : 0;
        double scale = Math.Pow(2, -squarings);
        var scaled = new double[n * n];
        for (int k = 0; k < n * n; k++) scaled[k] = a[k] * scale;
        // Horner: I + X (I + X/2 (I + X/3 (... (I + X/m))))
        var sum = Identity(n);
        var next = new double[n * n];
        for (int k = TaylorTerms; k >= 1; k--)
        {
            Multiply(scaled, sum, next, n);
            for (int i = 0; i < n * n; i++) next[i] /= k;
            for (int i = 0; i < n; i++) next[i * n + i] += 1;
            (sum, next) = (next, sum);
        }
        for (int s = 0; s < squarings; s++)
        {
            Multiply(sum, sum, next, n);
            (sum, next) = (next, sum);
        }
        return sum;
    }

    /// <summary>
    /// The Frechet derivative L(A, E) (n x n): the first-order change of exp(A) along E. E is scaled to unit norm
    /// inside (L is linear in E) so that a large E does not force extra squarings.
    /// </summary>
    public static double[] Frechet(ReadOnlySpan<double> a, ReadOnlySpan<double> e, int n)
    {
        double size = 0;
        for (int k = 0; k < n * n; k++) size = Math.Max(size, Math.Abs(e[k]));
        var result = new double[n * n];
        if (size == 0) return result;
        int m = 2 * n;
        var block = new double[m * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                block[i * m + j] = a[i * n + j];
                block[(n + i) * m + n + j] = a[i * n + j];
                block[i * m + n + j] = e[i * n + j] / size;
            }
        var exp = Exp(block, m);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) result[i * n + j] = exp[i * m + n + j] * size;
        return result;
    }

    public static double[] Identity(int n)
    {
        var m = new double[n * n];
        for (int i = 0; i < n; i++) m[i * n + i] = 1;
        return m;
    }

    /// <summary>c = a b (n x n row-major; c must not alias a or b).</summary>
    public static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n)
    {
        c.Clear();
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
            {
                double aik = a[i * n + k];
                if (aik == 0) continue;
                for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
            }
    }
}
