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
    /// <param name="values">Held-out sums over the same units (one set per lag).</param>
    /// <param name="weights">Weight of each set's mean.</param>
    /// <param name="slot">0: all transitions; 1 + w: those of time window w (<see cref="HeldOutSums"/>).</param>
    public static (MeanEstimate Estimate, long Transitions) Combination(IReadOnlyList<HeldOutSums> values, IReadOnlyList<double> weights, int slot = 0)
    {
        int unitCount = values[0].Units;
        var influence = new double[unitCount];
        var present = new bool[unitCount];
        double estimate = 0;
        long transitions = 0;
        for (int l = 0; l < values.Count; l++)
        {
            var sums = values[l].Sums(slot);
            var counts = values[l].Counts(slot);
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

/// <summary>
/// Held-out values of one lag reduced to what the statistics need: per unit the sum and count of its transitions' values, over
/// all transitions (slot 0) and per equal time window w of the record (slot 1 + w, by midpoint time; the last window closed).
/// Memory grows with the units, not the transitions; a unit's values are added in frame order.
/// </summary>
internal sealed class HeldOutSums
{
    private readonly double[] _sums;
    private readonly long[] _counts;
    private readonly double[] _edges;

    /// <param name="units">Units of the ensemble.</param>
    /// <param name="windows">Time windows (0: none).</param>
    /// <param name="startTime">Time of the first frame.</param>
    /// <param name="span">Duration of the record, (frames - 1) dt.</param>
    public HeldOutSums(int units, int windows, double startTime, double span)
    {
        Units = units;
        Windows = windows;
        _sums = new double[(long)units * (windows + 1)];
        _counts = new long[(long)units * (windows + 1)];
        _edges = new double[windows + 1];
        if (windows > 0)
            for (int w = 0; w <= windows; w++) _edges[w] = startTime + span * w / windows;
    }

    public int Units { get; }
    public int Windows { get; }

    /// <summary>Window w: midpoint times in [Start(w), End(w)), the last one closed.</summary>
    public double Start(int w) => _edges[w];
    public double End(int w) => _edges[w + 1];

    public ReadOnlySpan<double> Sums(int slot) => _sums.AsSpan(slot * Units, Units);
    public ReadOnlySpan<long> Counts(int slot) => _counts.AsSpan(slot * Units, Units);

    /// <summary>Adds one value of unit <paramref name="unit"/> at midpoint time <paramref name="time"/>.</summary>
    public void Add(int unit, double time, double value)
    {
        _sums[unit] += value;
        _counts[unit]++;
        for (int w = 0; w < Windows; w++)
        {
            if (!(time >= _edges[w] && (time < _edges[w + 1] || w == Windows - 1))) continue;
            long k = (long)(1 + w) * Units + unit;
            _sums[k] += value;
            _counts[k]++;
            break;
        }
    }
}
