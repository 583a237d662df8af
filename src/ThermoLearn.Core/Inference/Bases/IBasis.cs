namespace ThermoLearn.Inference.Bases;

/// <summary>
/// A finite set of scalar functions b_a(x), a = 0..Count-1, of a position x in R^d. A vector field is
/// expanded as d_mu(x) = sum_a theta[a, mu] b_a(x), so a basis of n functions spans n*d vector fields.
/// Implementations write into caller-owned spans and allocate nothing per call: the estimators
/// evaluate them once per frame in their hot loop.
/// </summary>
public interface IBasis
{
    /// <summary>Dimension d of x.</summary>
    int Dimension { get; }

    /// <summary>Number n of scalar functions.</summary>
    int Count { get; }

    /// <summary>The specification this basis was built from, e.g. "poly:2" (see <see cref="BasisSpec"/>).</summary>
    string Name { get; }

    /// <summary>Writes b_a(x) for all a into <paramref name="values"/> (length <see cref="Count"/>).</summary>
    void Evaluate(ReadOnlySpan<double> x, Span<double> values);

    /// <summary>
    /// Writes b_a(x_i) of <paramref name="points"/> consecutive points (x holds points x Dimension values, C order) as
    /// columns, values[a * stride + i]: the numbers <see cref="Evaluate"/> gives point by point, bit for bit. Bases whose
    /// functions vectorise over points override it (the linear estimators' hot loop).
    /// </summary>
    internal void EvaluateColumns(ReadOnlySpan<double> x, int points, Span<double> values, int stride)
    {
        int d = Dimension, n = Count;
        var row = new double[n];
        for (int i = 0; i < points; i++)
        {
            Evaluate(x.Slice(i * d, d), row);
            for (int a = 0; a < n; a++) values[a * stride + i] = row[a];
        }
    }

    /// <summary>Writes d b_a / d x_j into <paramref name="gradient"/>[a * d + j] (length Count * d).</summary>
    void EvaluateGradient(ReadOnlySpan<double> x, Span<double> gradient);

    /// <summary>A readable name of function <paramref name="index"/>, e.g. "x0^2*x1", used in error messages.</summary>
    string Describe(int index);
}
