using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Inference;

/// <summary>
/// The share of Gaussian measurement noise in the moments of a polynomial basis, removed exactly (docs/inference.md,
/// "Measurement noise", "Polynomial bases"). Positions y = x + eta with eta ~ N(0, Sigma) independent across frames and of x.
/// For monomials x^e (multi-index e) the binomial expansion of (x + eta)^e gives
/// <code>
///   E[y^e] = sum_{g &lt;= e} C(e, g) E[x^g] m(e - g),        m(h) = E[eta^h] (Gaussian: 0 for odd |h|),
/// </code>
/// a triangular system in the degree, solved from the lowest degree up: E[x^e] = E[y^e] - sum_{g &lt; e} C(e, g) E[x^g] m(e - g).
/// This is the inverse heat operator exp(-(1/2) Sigma : grad grad) applied to x^e and averaged over the noisy positions, a finite
/// sum for a polynomial. Every product of two functions of poly:N is a monomial of degree &lt;= 2N, and every such monomial is
/// such a product, so the Gram sums give every E[y^e] the Gram needs. For the currents, with dy = dx + eta_e - eta_s, eta_s
/// independent of x_s and dx, and eta_e independent of x_e and of eta_s:
/// <code>
///   E[y_s^f dy_i] = sum_{g &lt;= f} C(f, g) (E[x_s^g dx_i] m(f - g) - E[x_s^g] m(f - g + e_i))
///   E[y_e^f dy_i] = sum_{g &lt;= f} C(f, g) (E[x_e^g dx_i] m(f - g) + E[x_e^g] m(f - g + e_i))
/// </code>
/// (E[eta^h eta_i] = m(h + e_i)); the functions g &lt;= f are in the basis, so the same triangular solve gives the noise-free
/// Ito currents (start point) and Stratonovich currents (the mean of both ends, whose noise terms leave
/// (E[x_e^g] - E[x_s^g])/2 m(f - g + e_i), zero for stationary data). For poly:1 these are the affine sums of
/// <see cref="MeasurementNoise"/> (Gram + G Sigma G^T, Ito - G Sigma / tau, Stratonovich unchanged). A Legendre time basis
/// multiplies functions by c_k(t) of the exact time: each pair of time functions is its own set of moments, solved alike.
/// </summary>
internal sealed class PolynomialDeconvolution : GaussianDeconvolution
{
    private readonly int _d, _spatial, _times, _n;
    private readonly int[][] _monomials;          // exponent vectors of degree <= max(2N, N + 1), by degree
    private readonly int _gramMonomials;          // monomials of degree <= 2N (a prefix of _monomials)
    private readonly int[] _pairFirst, _pairSecond; // [e < _gramMonomials]: spatial functions i, j with f_i + f_j = e
    private readonly int[] _function;             // [e]: the spatial function x^e (degree <= N), else -1
    private readonly int[] _spatialMonomial;      // [i]: the monomial of spatial function i
    private readonly int[] _product;              // [i * S + j]: monomial f_i + f_j
    private readonly (int G, int H, double Weight)[][] _below;      // [e]: g <= e, h = e - g, C(e, g) (g = e last)
    private readonly int[][] _plusUnit;           // [h][j]: monomial h + e_j (for degree h <= N), else -1
    private readonly int[] _firstNonzero;         // [h != 0]: i, the first coordinate with h_i > 0
    private readonly (int J, double Factor, int Lower)[][] _isserlis; // [h != 0]: (j, (h - e_i)_j, h - e_i - e_j)

    internal PolynomialDeconvolution(PolynomialBasis basis, int timeDegree)
    {
        _d = basis.Dimension;
        _spatial = basis.Count;
        _times = timeDegree + 1;
        _n = _spatial * _times;
        int degree = basis.Degree, top = Math.Max(2 * degree, degree + 1);
        var list = new List<int[]>();
        for (int total = 0; total <= top; total++) PolynomialBasis.AddMonomials(new int[_d], 0, total, list);
        _monomials = [.. list];
        var index = new Dictionary<string, int>();
        for (int e = 0; e < _monomials.Length; e++) index[Key(_monomials[e])] = e;
        int Find(int[] e) => index.TryGetValue(Key(e), out int id) ? id : -1;
        _gramMonomials = _monomials.Count(e => e.Sum() <= 2 * degree);

        _function = new int[_monomials.Length];
        Array.Fill(_function, -1);
        var spatialMonomial = _spatialMonomial = new int[_spatial];
        for (int i = 0; i < _spatial; i++)
        {
            var f = new int[_d];
            for (int j = 0; j < _d; j++) f[j] = basis.Exponent(i, j);
            spatialMonomial[i] = Find(f);
            _function[spatialMonomial[i]] = i;
        }
        _product = new int[_spatial * _spatial];
        for (int i = 0; i < _spatial; i++)
            for (int j = 0; j < _spatial; j++)
                _product[i * _spatial + j] = Find([.. _monomials[spatialMonomial[i]].Zip(_monomials[spatialMonomial[j]], (a, b) => a + b)]);
        _pairFirst = new int[_gramMonomials];
        _pairSecond = new int[_gramMonomials];
        for (int e = 0; e < _gramMonomials; e++)
        {
            // split e into two monomials of degree <= N: the first takes up to N from the coordinates in order
            var first = new int[_d];
            int left = degree;
            for (int j = 0; j < _d; j++) { first[j] = Math.Min(_monomials[e][j], left); left -= first[j]; }
            _pairFirst[e] = _function[Find(first)];
            _pairSecond[e] = _function[Find([.. _monomials[e].Zip(first, (a, b) => a - b)])];
        }

        _below = new (int, int, double)[_monomials.Length][];
        for (int e = 0; e < _monomials.Length; e++)
        {
            var terms = new List<(int, int, double)>();
            var exponents = _monomials[e];
            var g = new int[_d];
            while (true)
            {
                double weight = 1;
                for (int j = 0; j < _d; j++) weight *= Binomial(exponents[j], g[j]);
                terms.Add((Find(g), Find([.. exponents.Zip(g, (a, b) => a - b)]), weight));
                int k = 0;
                while (k < _d && g[k] == exponents[k]) g[k++] = 0;
                if (k == _d) break;
                g[k]++;
            }
            // g = e (h = 0) is the last one the odometer reaches
            _below[e] = [.. terms];
        }
        _plusUnit = new int[_monomials.Length][];
        for (int h = 0; h < _monomials.Length; h++)
            _plusUnit[h] = [.. Enumerable.Range(0, _d).Select(j =>
            {
                var up = (int[])_monomials[h].Clone();
                up[j]++;
                return up.Sum() <= top ? Find(up) : -1;
            })];
        _firstNonzero = new int[_monomials.Length];
        _isserlis = new (int, double, int)[_monomials.Length][];
        for (int h = 1; h < _monomials.Length; h++)
        {
            var r = (int[])_monomials[h].Clone();
            int i = Array.FindIndex(r, v => v > 0);
            r[i]--;
            _firstNonzero[h] = i;
            var terms = new List<(int, double, int)>();
            for (int j = 0; j < _d; j++)
            {
                if (r[j] == 0) continue;
                var lower = (int[])r.Clone();
                lower[j]--;
                terms.Add((j, r[j], Find(lower)));
            }
            _isserlis[h] = [.. terms];
        }
    }

    /// <summary>
    /// The moments less the share of noise of covariance <paramref name="sigma"/> (row-major d x d): Gram sums and Ito and
    /// Stratonovich currents by the triangular solves above, second cumulant - Sigma / tau, successive products + Sigma.
    /// </summary>
    internal override CurrentMoments Subtract(CurrentMoments m, double[] sigma)
    {
        int d = _d, n = _n;
        if (m.N != n || m.D != d) throw new ArgumentException($"moments of {m.N} functions in {m.D} dimensions for a deconvolution of {n} in {d}", nameof(m));
        var gauss = GaussianMoments(sigma);
        var (gramStart, start) = Gram(m.GramStart, gauss);
        var (gramMid, mid) = Gram(m.GramMid, gauss);
        double tau = m.Step;
        // Ito: + (1/tau) sum_g C(f, g) E[x_s^g] m(f - g + e_i); Stratonovich: - (1/tau) sum_g C(f, g) (E[x_mid^g] - E[x_s^g]) m(f - g + e_i)
        var ito = Currents(m.Ito, start, gauss, 1 / tau);
        var difference = new double[start.Length];
        for (int i = 0; i < difference.Length; i++) difference[i] = mid[i] - start[i];
        var strat = Currents(m.Strat, difference, gauss, -1 / tau);
        // the TUR's current second moment is kept: it takes the affine sums (MeasurementNoise.Remove without a deconvolution)
        return MeasurementNoise.WithNoiseFreeIncrements(m, sigma, gramStart, gramMid, strat, ito, m.CurrentSecondMoment);
    }

    /// <summary>m(h) = E[eta^h] for eta ~ N(0, Sigma), by Stein's lemma: E[eta_i eta^r] = sum_j Sigma_ij r_j E[eta^(r - e_j)].</summary>
    private double[] GaussianMoments(double[] sigma)
    {
        var m = new double[_monomials.Length];
        m[0] = 1;
        for (int h = 1; h < m.Length; h++)
        {
            int i = _firstNonzero[h];
            double s = 0;
            foreach (var (j, factor, lower) in _isserlis[h]) s += sigma[i * _d + j] * factor * m[lower];
            m[h] = s;
        }
        return m;
    }

    /// <summary>
    /// The Gram matrix of x from that of y, and the moments E[x^g c_k] (block (k, 0): [k * monomials + g]) the currents need.
    /// Index a = i * (K + 1) + k for spatial function i and time function k.
    /// </summary>
    private (double[] Gram, double[] Moments) Gram(double[] observed, double[] gauss)
    {
        int n = _n, t = _times, count = _gramMonomials, s = _spatial;
        var gram = new double[n * n];
        var moments = new double[t * count];
        var mu = new double[count];
        for (int k = 0; k < t; k++)
            for (int l = 0; l < t; l++)
            {
                for (int e = 0; e < count; e++)
                {
                    double v = observed[(_pairFirst[e] * t + k) * n + _pairSecond[e] * t + l];
                    var below = _below[e];
                    for (int q = 0; q < below.Length - 1; q++) v -= below[q].Weight * mu[below[q].G] * gauss[below[q].H];
                    mu[e] = v;
                }
                for (int i = 0; i < s; i++)
                    for (int j = 0; j < s; j++) gram[(i * t + k) * n + j * t + l] = mu[_product[i * s + j]];
                if (l == 0) mu.CopyTo(moments, k * count);
            }
        return (gram, moments);
    }

    /// <summary>
    /// Currents of x from those of y: J_x[f] = J_y[f] - sum_{g &lt; f} C(f, g) m(f - g) J_x[g] + scale sum_{g &lt;= f} C(f, g)
    /// mu[g] m(f - g + e_i), function by function in the basis' order (by degree), per time function and coordinate i.
    /// </summary>
    private double[] Currents(double[] observed, double[] mu, double[] gauss, double scale)
    {
        int d = _d, t = _times, count = _gramMonomials;
        var result = new double[observed.Length];
        for (int f = 0; f < _spatial; f++)
        {
            var below = _below[_spatialMonomial[f]];
            for (int k = 0; k < t; k++)
            {
                int a = f * t + k;
                for (int i = 0; i < d; i++)
                {
                    double v = observed[a * d + i];
                    for (int q = 0; q < below.Length; q++)
                    {
                        var (g, h, weight) = below[q];
                        if (q < below.Length - 1) v -= weight * gauss[h] * result[(_function[g] * t + k) * d + i];
                        v += scale * weight * mu[k * count + g] * gauss[_plusUnit[h][i]];
                    }
                    result[a * d + i] = v;
                }
            }
        }
        return result;
    }

    private static double Binomial(int n, int k)
    {
        double r = 1;
        for (int i = 1; i <= k; i++) r = r * (n - k + i) / i;
        return r;
    }

    private static string Key(int[] e) => string.Join(",", e);
}
