namespace ThermoLearn.Statistics;

/// <summary>
/// A value set against a reference in units of a standard error: z = (value - reference) / error, except where the numbers
/// are the same up to rounding. A value that is the reference computed another way (identity 4 of AOUP in a trap without
/// interactions is d A N at every snapshot, so its block error is a few ulps) gave z as a ratio of two rounding errors:
/// -1.1e-13 / 6.5e-15 printed as "-17.44 stderr", and 0 / 0 as "NaN stderr". Here two numbers within
/// <see cref="RoundingTolerance"/> of the larger magnitude (or both 0) are equal to rounding, with z = 0; an error within that
/// tolerance is no error (the series has no fluctuations), so a difference beyond rounding then has z = +-infinity.
/// No statistical error in this project comes near 1e-10 of its value (that would take some 1e20 samples).
/// </summary>
/// <param name="Difference">value - reference.</param>
/// <param name="Z">Difference / error; 0 where <paramref name="EqualToRounding"/>; +-infinity where the error is at rounding level and the difference is not; NaN for a NaN input.</param>
/// <param name="EqualToRounding">|value - reference| &lt;= <see cref="RoundingTolerance"/> max(|value|, |reference|).</param>
public readonly record struct Agreement(double Difference, double Z, bool EqualToRounding)
{
    /// <summary>Relative size of a difference (or an error) that is rounding, not sampling.</summary>
    public const double RoundingTolerance = 1e-10;

    public static Agreement Of(double value, double reference, double error)
    {
        double difference = value - reference;
        double rounding = RoundingTolerance * Math.Max(Math.Abs(value), Math.Abs(reference));
        if (Math.Abs(difference) <= rounding) return new Agreement(difference, 0, true);
        double z = error > rounding ? difference / error
            : double.IsNaN(difference) || double.IsNaN(error) ? double.NaN : Math.CopySign(double.PositiveInfinity, difference);
        return new Agreement(difference, z, false);
    }

    /// <summary>For text: "equal to rounding", "z = 1.23", or, where the error is at rounding level, that there is no spread to measure the difference in.</summary>
    public string Verdict => EqualToRounding ? "equal to rounding"
        : double.IsInfinity(Z) ? "a difference beyond rounding with no spread to measure it in (z infinite)"
        : $"z = {Z:F2}";
}
