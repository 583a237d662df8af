namespace ThermoLearn.Inference.Bases;

/// <summary>
/// Local functions for local EP maps: the constant plus Gaussian bumps
/// exp(-|x - c|^2 / (2 h^2)) centred on a regular grid of M points per coordinate spanning
/// [lower_j, upper_j], with width h_j equal to the grid spacing of coordinate j (scaled per coordinate).
/// Count = 1 + M^d.
/// </summary>
public sealed class RadialBasis : IBasis
{
    private readonly double[] _lower, _upper, _spacing;

    public RadialBasis(int perDimension, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper)
    {
        int d = lower.Length;
        if (d < 1 || upper.Length != d) throw new InvalidInputException("A radial basis needs lower and upper bounds of the same dimension >= 1.");
        if (perDimension < 2 || Math.Pow(perDimension, d) > 4096)
            throw new InvalidInputException($"A radial basis needs 2 or more centres per coordinate and at most 4096 in all (got {perDimension}^{d}).");
        Dimension = d;
        PerDimension = perDimension;
        _lower = lower.ToArray();
        _upper = upper.ToArray();
        _spacing = new double[d];
        for (int j = 0; j < d; j++)
        {
            if (!(upper[j] > lower[j]) || !double.IsFinite(upper[j] - lower[j]))
                throw new InvalidInputException($"Radial basis: coordinate {j} has range [{lower[j]}, {upper[j]}]; the data must vary along every coordinate.");
            _spacing[j] = (upper[j] - lower[j]) / (perDimension - 1);
        }
        Count = 1 + (int)Math.Pow(perDimension, d);
    }

    public int Dimension { get; }
    public int PerDimension { get; }

    /// <summary>Lower corner of the grid of centres.</summary>
    public IReadOnlyList<double> Lower => _lower;

    /// <summary>Upper corner of the grid of centres.</summary>
    public IReadOnlyList<double> Upper => _upper;
    public int Count { get; }
    public string Name => $"rbf:{PerDimension}";

    public void Evaluate(ReadOnlySpan<double> x, Span<double> values)
    {
        int d = Dimension, m = PerDimension;
        Span<double> factor = stackalloc double[d * m];
        Factors(x, factor, default);
        values[0] = 1.0;
        for (int c = 0; c < Count - 1; c++)
        {
            double v = 1.0;
            int rest = c;
            for (int j = 0; j < d; j++) { v *= factor[j * m + rest % m]; rest /= m; }
            values[c + 1] = v;
        }
    }

    public void EvaluateGradient(ReadOnlySpan<double> x, Span<double> gradient)
    {
        int d = Dimension, m = PerDimension;
        Span<double> factor = stackalloc double[d * m];
        Span<double> slope = stackalloc double[d * m];
        Factors(x, factor, slope);
        for (int j = 0; j < d; j++) gradient[j] = 0;
        for (int c = 0; c < Count - 1; c++)
        {
            for (int j = 0; j < d; j++)
            {
                double v = 1.0;
                int rest = c;
                for (int k = 0; k < d; k++) { int i = k * m + rest % m; v *= k == j ? slope[i] : factor[i]; rest /= m; }
                gradient[(c + 1) * d + j] = v;
            }
        }
    }

    public string Describe(int index)
    {
        if (index == 0) return "1";
        var centre = new double[Dimension];
        int rest = index - 1;
        for (int j = 0; j < Dimension; j++) { centre[j] = _lower[j] + _spacing[j] * (rest % PerDimension); rest /= PerDimension; }
        return $"bump({string.Join(", ", centre.Select(v => v.ToString("G4")))})";
    }

    private void Factors(ReadOnlySpan<double> x, Span<double> factor, Span<double> slope)
    {
        int m = PerDimension;
        for (int j = 0; j < Dimension; j++)
        {
            double h = _spacing[j];
            for (int i = 0; i < m; i++)
            {
                double u = (x[j] - _lower[j] - i * h) / h;
                double g = Math.Exp(-0.5 * u * u);
                factor[j * m + i] = g;
                if (!slope.IsEmpty) slope[j * m + i] = -u / h * g;
            }
        }
    }
}
