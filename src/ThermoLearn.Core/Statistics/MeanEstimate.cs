namespace ThermoLearn.Statistics;

/// <summary>
/// The project's one value with its error: a mean with its standard error and the number of independent samples behind
/// that error. <see cref="Of(ReadOnlySpan{double})"/> gives the sample mean, mean = (1/n) sum x_i, stderr = s / sqrt(n) with
/// the unbiased sample standard deviation s; estimators with their own error formula (a ratio mean over units of
/// correlated samples, a weighted combination of means) state it and say what <see cref="Count"/> counts. Use it for any
/// Monte Carlo average that is reported (the control gradients and measurements, held-out neural losses, energetics).
/// </summary>
/// <param name="Mean">The estimate (the sample mean for <see cref="Of(ReadOnlySpan{double})"/>).</param>
/// <param name="StandardError">Its standard error (s / sqrt(n) for a sample mean); NaN when fewer than two samples.</param>
/// <param name="Count">Number n of independent samples (trajectories, units) behind the standard error.</param>
public readonly record struct MeanEstimate(double Mean, double StandardError, long Count)
{
    /// <summary>Mean and standard error of <paramref name="values"/> (two-pass, so large means do not cancel the variance).</summary>
    /// <exception cref="InvalidInputException">No values.</exception>
    public static MeanEstimate Of(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) throw new InvalidInputException("A mean needs at least one value (got none).");
        double sum = 0;
        foreach (double v in values) sum += v;
        double mean = sum / values.Length;
        if (values.Length < 2) return new MeanEstimate(mean, double.NaN, values.Length);
        double squares = 0;
        foreach (double v in values)
        {
            double u = v - mean;
            squares += u * u;
        }
        double variance = squares / (values.Length - 1);
        return new MeanEstimate(mean, Math.Sqrt(variance / values.Length), values.Length);
    }

    /// <summary>Mean and standard error of a sequence.</summary>
    public static MeanEstimate Of(IEnumerable<double> values) => Of(values.ToArray());

    /// <summary>Mean and standard error of f(x_i) over <paramref name="values"/>.</summary>
    public static MeanEstimate Of(ReadOnlySpan<double> values, Func<double, double> f)
    {
        var mapped = new double[values.Length];
        for (int i = 0; i < values.Length; i++) mapped[i] = f(values[i]);
        return Of(mapped);
    }

    /// <summary>How many standard errors the mean lies from <paramref name="expected"/>.</summary>
    public double ZScore(double expected) => (Mean - expected) / StandardError;

    public override string ToString() => $"{Mean:G6} +- {StandardError:G2} (n = {Count})";
}
