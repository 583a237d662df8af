namespace ThermoLearn.Control;

/// <summary>
/// Least-squares fit of W(tau) = W_inf + B / tau to optimised mean works at several durations (linear in 1/tau):
/// the slow-driving form of the least work, whose excess over W_inf falls as 1/tau (Schmiedl &amp; Seifert, PRL 98, 108301,
/// 2007: W*(tau) = gamma Delta^2 / (tau + 2 gamma / k) -> gamma Delta^2 / tau; Sivak &amp; Crooks, PRL 108, 190602, 2012).
/// </summary>
/// <param name="WInf">W_inf, the work of an infinitely slow protocol (the intercept in 1/tau).</param>
/// <param name="B">B, the coefficient of 1/tau (the slope).</param>
public readonly record struct InverseTauFit(double WInf, double B)
{
    /// <summary>The fit through (1 / tau_i, W_i); NaN for both when fewer than two durations are given.</summary>
    public static InverseTauFit Of(IReadOnlyList<double> durations, IReadOnlyList<double> works)
    {
        if (durations.Count != works.Count)
            throw new InvalidInputException($"W(tau) fit: {durations.Count} durations but {works.Count} works.");
        foreach (double tau in durations)
            if (!(tau > 0) || !double.IsFinite(tau)) throw new InvalidInputException($"W(tau) fit: durations must be positive and finite (got {tau}).");
        if (durations.Count < 2) return new InverseTauFit(double.NaN, double.NaN);
        var (intercept, slope) = MathNet.Numerics.Fit.Line(durations.Select(tau => 1 / tau).ToArray(), works.ToArray());
        return new InverseTauFit(intercept, slope);
    }
}
