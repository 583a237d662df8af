namespace ThermoLearn.Inference.Bases;

/// <summary>
/// Fourier modes for periodic coordinates of period L: the constant, then for each coordinate j and
/// harmonic k = 1..K the pair cos(2 pi k x_j / L), sin(2 pi k x_j / L). Count = 1 + 2 K d. Modes are
/// separable (no products across coordinates), which suits a ring or a torus with weak coupling; use
/// a polynomial or radial basis for strongly coupled coordinates.
/// </summary>
public sealed class FourierBasis : IBasis
{
    private readonly double _wave;

    public FourierBasis(int dimension, int harmonics, double period = 2 * Math.PI)
    {
        if (dimension < 1) throw new InvalidInputException($"A Fourier basis needs dimension >= 1 (got {dimension}).");
        if (harmonics < 1 || harmonics > 64) throw new InvalidInputException($"Fourier harmonics K must be between 1 and 64 (got {harmonics}).");
        if (!(period > 0) || !double.IsFinite(period)) throw new InvalidInputException($"The Fourier period must be a positive finite number (got {period}).");
        Dimension = dimension;
        Harmonics = harmonics;
        Period = period;
        _wave = 2 * Math.PI / period;
        Count = 1 + 2 * harmonics * dimension;
    }

    public int Dimension { get; }
    public int Harmonics { get; }
    public double Period { get; }
    public int Count { get; }
    public string Name => Math.Abs(Period - 2 * Math.PI) < 1e-12 ? $"fourier:{Harmonics}" : $"fourier:{Harmonics}:{Period:R}";

    public void Evaluate(ReadOnlySpan<double> x, Span<double> values)
    {
        values[0] = 1.0;
        int a = 1;
        for (int j = 0; j < Dimension; j++)
        {
            (double s1, double c1) = Math.SinCos(_wave * x[j]);
            double s = s1, c = c1;
            for (int k = 1; k <= Harmonics; k++)
            {
                values[a++] = c;
                values[a++] = s;
                // angle addition: one SinCos per coordinate instead of one per harmonic
                (s, c) = (s * c1 + c * s1, c * c1 - s * s1);
            }
        }
    }

    public void EvaluateGradient(ReadOnlySpan<double> x, Span<double> gradient)
    {
        int d = Dimension;
        gradient[..(Count * d)].Clear();
        int a = 1;
        for (int j = 0; j < d; j++)
        {
            (double s1, double c1) = Math.SinCos(_wave * x[j]);
            double s = s1, c = c1;
            for (int k = 1; k <= Harmonics; k++)
            {
                gradient[a * d + j] = -k * _wave * s;
                a++;
                gradient[a * d + j] = k * _wave * c;
                a++;
                (s, c) = (s * c1 + c * s1, c * c1 - s * s1);
            }
        }
    }

    public string Describe(int index)
    {
        if (index == 0) return "1";
        int j = (index - 1) / (2 * Harmonics), r = (index - 1) % (2 * Harmonics);
        int k = r / 2 + 1;
        return $"{(r % 2 == 0 ? "cos" : "sin")}({k}*2pi*x{j}/L)";
    }
}
