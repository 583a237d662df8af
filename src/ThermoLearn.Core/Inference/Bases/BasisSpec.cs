using System.Globalization;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference.Bases;

/// <summary>
/// Parses basis specifications used on the command line and in results:
/// <c>poly:N</c> (polynomials to total degree N), <c>fourier:K</c> or <c>fourier:K:L</c> (K harmonics of
/// period L, default 2 pi), <c>rbf:M</c> (constant plus M Gaussian bumps per coordinate over the data's range).
/// A time basis is requested separately (a time degree), since it is formed per window.
/// </summary>
public static class BasisSpec
{
    public const string Help = "poly:N (N = 0..12), fourier:K[:PERIOD], rbf:M (M >= 2 centres per coordinate)";

    /// <summary>Builds the basis named by <paramref name="spec"/> for the data (the data gives the dimension and, for rbf, the range).</summary>
    public static IBasis Parse(string spec, TrajectoryEnsemble data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Parse(spec, data.Dimension, () => Range(data.Data, data.Dimension));
    }

    /// <summary>
    /// Builds the basis named by <paramref name="spec"/> in <paramref name="dimension"/> dimensions; <paramref name="range"/>
    /// gives the data's lower and upper corners when the basis needs them (rbf), and is not called otherwise.
    /// </summary>
    public static IBasis Parse(string spec, int dimension, Func<(double[] Lower, double[] Upper)> range)
    {
        string[] parts = (spec ?? "").Trim().ToLowerInvariant().Split(':');
        int d = dimension;
        try
        {
            switch (parts[0])
            {
                case "poly" when parts.Length == 2:
                    return new PolynomialBasis(d, ParseInt(parts[1], spec!));
                case "fourier" when parts.Length is 2 or 3:
                    return new FourierBasis(d, ParseInt(parts[1], spec!), parts.Length == 3 ? ParseDouble(parts[2], spec!) : 2 * Math.PI);
                case "rbf" when parts.Length == 2:
                {
                    int m = ParseInt(parts[1], spec!);
                    var (lower, upper) = range();
                    return new RadialBasis(m, lower, upper);
                }
            }
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"basis '{spec}': {e.Message}", e);
        }
        throw new InvalidInputException($"Unknown basis '{spec}'; use {Help}.");
    }

    /// <summary>Lower and upper corners of points x[i * d + j], accumulated over calls (start from +inf / -inf).</summary>
    public static void Extend(ReadOnlySpan<double> x, int d, double[] lower, double[] upper)
    {
        for (int i = 0; i < x.Length; i++)
        {
            int j = i % d;
            if (x[i] < lower[j]) lower[j] = x[i];
            if (x[i] > upper[j]) upper[j] = x[i];
        }
    }

    private static (double[] Lower, double[] Upper) Range(ReadOnlySpan<double> x, int d)
    {
        var lower = new double[d];
        var upper = new double[d];
        Array.Fill(lower, double.PositiveInfinity);
        Array.Fill(upper, double.NegativeInfinity);
        Extend(x, d, lower, upper);
        return (lower, upper);
    }

    private static int ParseInt(string text, string spec) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new InvalidInputException($"basis '{spec}': '{text}' is not an integer; use {Help}.");

    private static double ParseDouble(string text, string spec) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v : throw new InvalidInputException($"basis '{spec}': '{text}' is not a number; use {Help}.");
}
