namespace ThermoLearn.Neural.Training;

/// <summary>A held-out mean with its standard error and the number of transitions and units behind it.</summary>
public readonly record struct HeldOutMean(double Mean, double StandardError, long Transitions, int Units);

/// <summary>
/// Means of per-transition values with standard errors from independent units (trajectories, or
/// segments of long ones). For units u with sums S_u over n_u transitions and N = sum n_u, the mean is
/// m = sum S_u / N and its variance the ratio-estimator form U/(U-1) sum_u (S_u - m n_u)^2 / N^2, which
/// accounts for correlations within a unit.
/// </summary>
internal static class HeldOutStatistics
{
    public static HeldOutMean Mean(HeldOutValues values, Func<double, bool>? timeFilter = null)
    {
        int unitCount = values.Units.Length;
        var sums = new double[unitCount];
        var counts = new long[unitCount];
        for (long i = 0; i < values.Contribution.LongLength; i++)
        {
            if (timeFilter is not null && !timeFilter(values.Time[i])) continue;
            sums[values.Unit[i]] += values.Contribution[i];
            counts[values.Unit[i]]++;
        }
        double total = 0;
        long n = 0;
        int used = 0;
        for (int u = 0; u < unitCount; u++)
        {
            if (counts[u] == 0) continue;
            total += sums[u];
            n += counts[u];
            used++;
        }
        if (n == 0) return new HeldOutMean(double.NaN, double.NaN, 0, 0);
        double mean = total / n;
        double squares = 0;
        for (int u = 0; u < unitCount; u++)
        {
            if (counts[u] == 0) continue;
            double r = sums[u] - mean * counts[u];
            squares += r * r;
        }
        double stderr = used > 1 ? Math.Sqrt(used / (used - 1.0) * squares) / n : double.NaN;
        return new HeldOutMean(mean, stderr, n, used);
    }
}
