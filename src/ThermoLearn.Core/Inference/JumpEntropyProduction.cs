using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>
/// Entropy production of a Markov chain on discrete states from empirical transition counts n_ij:
/// sigma = (1/dt) sum_{i != j} (n_ij / N) ln(n_ij / n_ji) per unit time (per step when dt = 1), the plug-in
/// estimate of sum_ij p_i P_ij ln(P_ij / P_ji) for stationary data (physics spec section 3). The data are one
/// coordinate holding integer state labels. Standard error by batch resampling; the debiased value removes
/// the leading plug-in bias sum_{i&lt;j} (2 + n_ij/n_ji + n_ji/n_ij) / (2 N), which holds for independent transitions.
/// </summary>
public static class JumpEntropyProduction
{
    public const int MaxStates = 1000;

    public static EntropyProductionEstimate Estimate(TrajectoryEnsemble data, ErrorOptions? errors = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        errors ??= ErrorOptions.Default;
        errors.Validate();
        if (data.Dimension != 1)
            throw new InvalidInputException($"Jump-process data must have one coordinate holding the state label (got dimension {data.Dimension}).");
        data.EnsureFinite("trajectory data");
        var states = new SortedSet<double>();
        for (long i = 0; i < data.Data.LongLength; i++)
        {
            double v = data.Data[i];
            if (v != Math.Round(v))
                throw new InvalidInputException($"Jump-process data must hold integer state labels; value {v} at index {i} is not an integer (use --method current for continuous data).");
            if (states.Add(v) && states.Count > MaxStates)
                throw new InvalidInputException($"Jump-process data have more than {MaxStates} distinct states; use --method current for continuous data.");
        }
        var index = new Dictionary<double, int>();
        foreach (double s in states) index[s] = index.Count;
        int S = states.Count;
        var layout = BatchLayout.Create(data, errors.Batches);
        var cells = new double[layout.Count * S * S];
        Parallel.For(0, layout.Count, b =>
        {
            var batch = layout.Batches[b];
            for (int r = batch.TrajectoryFrom; r < batch.TrajectoryTo; r++)
                for (int f = batch.FrameFrom; f < batch.FrameTo && f + 1 < data.Frames; f++)
                {
                    int i = index[data.Frame(r, f)[0]], j = index[data.Frame(r, f + 1)[0]];
                    cells[(long)b * S * S + i * S + j] += 1;
                }
        });
        var labels = states.ToArray();

        double[] Counts(ReadOnlySpan<double> weights)
        {
            var c = new double[S * S];
            for (int b = 0; b < layout.Count; b++)
            {
                double w = weights.IsEmpty ? 1 : weights[b];
                if (w == 0) continue;
                for (int k = 0; k < S * S; k++) c[k] += w * cells[(long)b * S * S + k];
            }
            return c;
        }

        double Rate(double[] c, bool strict, out double bias)
        {
            double total = c.Sum(), sum = 0;
            bias = 0;
            for (int i = 0; i < S; i++)
                for (int j = i + 1; j < S; j++)
                {
                    double nij = c[i * S + j], nji = c[j * S + i];
                    if (nij == 0 && nji == 0) continue;
                    if (nij == 0 || nji == 0)
                    {
                        if (strict)
                            throw new InvalidInputException($"Transitions {labels[i]} -> {labels[j]} were seen {nij} times and {labels[j]} -> {labels[i]} {nji} times: "
                                + "a transition seen in one direction only makes the EP from counts infinite. Use longer data or lump these states.");
                        continue; // a resample that lost a rare reverse transition: the pair contributes as in the full data would not be defined
                    }
                    sum += (nij - nji) * Math.Log(nij / nji);
                    bias += 2 + nij / nji + nji / nij;
                }
            bias /= 2 * total * data.Dt;
            return sum / total / data.Dt;
        }

        var counts = Counts(default);
        double rate = Rate(counts, true, out double bias);
        var se = Resampling.StandardErrors(layout.Count, errors, w => [Rate(Counts(w), false, out _)]);
        double n = counts.Sum();
        return new EntropyProductionEstimate(rate, se[0], rate - bias, "jump", "", (long)data.Trajectories * data.Frames, (long)n, n * data.Dt,
            new EstimateSettings(data.Dt, 1, errors.Describe(layout.Count, layout.Unit), [], "not used"));
    }
}
