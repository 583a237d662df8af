using ThermoLearn.Statistics;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Means of per-transition values with standard errors from independent units (trajectories, or
/// segments of long ones). For units u with sums S_u over n_u transitions and N = sum n_u, the mean is
/// m = sum S_u / N and its variance the ratio-estimator form U/(U-1) sum_u (S_u - m n_u)^2 / N^2, which
/// accounts for correlations within a unit. A combination sum_l w_l m_l of means over the same units (e.g.
/// the Richardson combination 2 m_1 - m_2 of lags 1 and 2) uses the summed influences
/// r_u = sum_l w_l (S_{l,u} - m_l n_{l,u}) / N_l in the same formula. The result is a <see cref="MeanEstimate"/> whose
/// count is the number U of units behind the standard error, with the number of transitions N of the first set beside it.
/// </summary>
internal static class HeldOutStatistics
{
    /// <param name="values">Held-out values over the same units (one set per lag).</param>
    /// <param name="weights">Weight of each set's mean.</param>
    /// <param name="timeFilter">Keeps transitions whose midpoint time passes (null: all).</param>
    public static (MeanEstimate Estimate, long Transitions) Combination(IReadOnlyList<HeldOutValues> values, IReadOnlyList<double> weights,
        Func<double, bool>? timeFilter = null)
    {
        int unitCount = values[0].Units.Length;
        var influence = new double[unitCount];
        var present = new bool[unitCount];
        double estimate = 0;
        long transitions = 0;
        for (int l = 0; l < values.Count; l++)
        {
            var v = values[l];
            var sums = new double[unitCount];
            var counts = new long[unitCount];
            for (long i = 0; i < v.Contribution.LongLength; i++)
            {
                if (timeFilter is not null && !timeFilter(v.Time[i])) continue;
                sums[v.Unit[i]] += v.Contribution[i];
                counts[v.Unit[i]]++;
            }
            double total = 0;
            long n = 0;
            for (int u = 0; u < unitCount; u++)
            {
                total += sums[u];
                n += counts[u];
            }
            if (n == 0) return (new MeanEstimate(double.NaN, double.NaN, 0), 0);
            double mean = total / n;
            estimate += weights[l] * mean;
            if (l == 0) transitions = n;
            for (int u = 0; u < unitCount; u++)
            {
                if (counts[u] == 0) continue;
                present[u] = true;
                influence[u] += weights[l] * (sums[u] - mean * counts[u]) / n;
            }
        }
        int used = 0;
        double squares = 0;
        for (int u = 0; u < unitCount; u++)
        {
            if (!present[u]) continue;
            used++;
            squares += influence[u] * influence[u];
        }
        double stderr = used > 1 ? Math.Sqrt(used / (used - 1.0) * squares) : double.NaN;
        return (new MeanEstimate(estimate, stderr, used), transitions);
    }
}
