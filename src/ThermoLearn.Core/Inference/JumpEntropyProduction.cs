using ThermoLearn.Inference.Jumps;
using ThermoLearn.IO;
using ThermoLearn.Statistics;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>
/// What jump data sampled on a grid give: the continuous-time EP rate of the generator fitted by maximum likelihood
/// (<see cref="Continuous"/>; null with <see cref="Note"/> saying why when no generator fits), the EP per unit time of the
/// sampled chain (<see cref="SampledChain"/>), and the Richardson extrapolation of the sampled chain's rate over lags 1-3
/// to dt -> 0 (<see cref="Richardson"/>, a model-free cross-check of <see cref="Continuous"/>).
/// </summary>
/// <param name="Continuous">sigma = sum_{i&lt;j} (pi_i q_ij - pi_j q_ji) ln(pi_i q_ij / (pi_j q_ji)) of the fitted generator.</param>
/// <param name="SampledChain">sum_ij p_i P_ij ln(P_ij / P_ji) / dt from counts at lag 1 (null when a transition was seen one way only).</param>
/// <param name="Richardson">3 s(dt) - 3 s(2 dt) + s(3 dt) of the sampled-chain rates s at lags 1-3 (null when a lag has one-way counts).</param>
/// <param name="Labels">State labels, in the order of the generator's rows.</param>
/// <param name="Generator">The fitted generator Q (rows sum to 0), or null when no generator fits.</param>
/// <param name="Deviance">2 sum n_ij ln(P_hat_ij / P_ij(Q_hat)): how far the counts are from the nearest embeddable chain.</param>
/// <param name="Note">Why there is no continuous-time value, or why a cross-check is missing; null when all are there.</param>
public sealed record JumpEntropyProductionResult(EntropyProductionEstimate? Continuous, EntropyProductionEstimate? SampledChain,
    EntropyProductionEstimate? Richardson, IReadOnlyList<double> Labels, double[,]? Generator, double? Deviance, string? Note)
{
    /// <summary>The continuous-time value when a generator fits, else the sampled chain's.</summary>
    public EntropyProductionEstimate Best => Continuous ?? SampledChain!;
}

/// <summary>
/// Entropy production of jump data: one coordinate holding integer state labels, frames every dt, stationary.
/// <list type="bullet">
/// <item>Sampled chain (<see cref="Estimate"/>): plug-in sigma_dt = (1/dt) sum_{i != j} (n_ij / N) ln(n_ij / n_ji) of the counts
/// n_ij at lag 1, the EP per unit time of the chain P = exp(Q dt) (docs/inference.md, "Jump data sampled on a grid"); its debiased value removes the
/// leading plug-in bias sum_{i&lt;j} (2 + n_ij/n_ji + n_ji/n_ij) / (2 N dt), which holds for independent transitions.
/// Smaller than the process's sigma by O(dt): a jump and its return within one frame are invisible.</item>
/// <item>Continuous time (<see cref="Analyse(TrajectoryEnsemble, ErrorOptions?)"/>): the generator Q by maximum likelihood of the counts under P = exp(Q dt)
/// (<see cref="GeneratorFit"/>), then Schnakenberg's sigma of Q with its own stationary law. Pairs seen in both directions at
/// lag dt carry rates; pairs seen one way only are attributed to paths through other states. No generator fits when the
/// support is not irreducible (a state never left or never entered), when the fit runs to a boundary (a rate to 0 with its
/// reverse positive: a one-way transition, infinite EP; rates to infinity: the frames are not resolved), or when the
/// counts are far from every exp(Q dt) (deviance beyond the chi-square quantile 1 - 1e-6; e.g. a discrete-time chain with
/// no self-transitions): the result then says so and its best value is the sampled chain's.</item>
/// </list>
/// Standard errors for all three by the same jackknife or bootstrap over batches (whole trajectories when there are at least
/// as many as batches); the generator is refitted per replicate from the full-data fit.
/// </summary>
public static class JumpEntropyProduction
{
    public const int MaxStates = 1000;

    /// <summary>Largest number of states for the generator fit (its cost grows as n^6 per iteration).</summary>
    public const int MaxGeneratorStates = 20;

    /// <summary>
    /// Most distinct values of an all-integer sample that are taken for state labels (<see cref="LooksLikeStateLabels"/>). Jump
    /// models have a handful of states (the generator fit takes at most <see cref="MaxGeneratorStates"/>); continuous
    /// coordinates stored as integers (pixel positions) span hundreds of values over any useful sample, and with 50 or fewer
    /// levels a diffusion estimator would see mostly zero increments anyway.
    /// </summary>
    public const int StateLabelLimit = 50;

    /// <summary>
    /// Whether data look like discrete states: every value of the file's first chunk of at most <paramref name="sampleValues"/>
    /// values (a bounded sample, read from <paramref name="reader"/>, which should be fresh) is an integer and there are 2 to
    /// <see cref="StateLabelLimit"/> distinct values. Returns the distinct values and how many values were looked at, or null.
    /// </summary>
    public static (double[] Labels, long Values)? LooksLikeStateLabels(TrajectoryReader reader, long sampleValues)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var labels = new HashSet<double>();
        foreach (var chunk in reader.Chunks(Math.Max(1, sampleValues), 0))
        {
            var values = chunk.Data.Data;
            foreach (double v in values)
                if (v != Math.Round(v) || (labels.Add(v) && labels.Count > StateLabelLimit)) return null;
            return labels.Count >= 2 ? ([.. labels.Order()], values.LongLength) : null;
        }
        return null;
    }

    /// <summary>The sampled chain's EP per unit time at lag 1 (throws when a transition was seen in one direction only).</summary>
    public static EntropyProductionEstimate Estimate(TrajectoryEnsemble data, ErrorOptions? errors = null)
    {
        errors ??= ErrorOptions.Default;
        errors.Validate();
        var counts = TransitionCounts.Count(data, errors, 1);
        return SampledChainRate(counts, errors, 1, strict: true)!;
    }

    /// <summary>Continuous-time EP from the fitted generator, the sampled chain's value and the Richardson cross-check.</summary>
    public static JumpEntropyProductionResult Analyse(TrajectoryEnsemble data, ErrorOptions? errors = null)
    {
        errors ??= ErrorOptions.Default;
        errors.Validate();
        return Analyse(TransitionCounts.Count(data, errors, MaxLagFor(data.Frames)), errors);
    }

    /// <summary>
    /// <see cref="Analyse(TrajectoryEnsemble, ErrorOptions?)"/> of a file read in chunks of at most about <paramref name="chunkValues"/>
    /// values, in memory bounded by the chunk size and the counts: the counts are whole numbers, so the result is bit for bit
    /// the in-memory one.
    /// </summary>
    public static JumpEntropyProductionResult Analyse(TrajectoryReader reader, ErrorOptions errors, long chunkValues)
    {
        ArgumentNullException.ThrowIfNull(reader);
        errors.Validate();
        return Analyse(TransitionCounts.Count(reader, errors, MaxLagFor(reader.Header.Frames), chunkValues), errors);
    }

    /// <summary>Lags 1-3 for the Richardson cross-check when there are at least 4 frames, else lag 1.</summary>
    private static int MaxLagFor(int frames) => frames > 3 ? 3 : 1;

    private static JumpEntropyProductionResult Analyse(TransitionCounts counts, ErrorOptions errors)
    {
        var notes = new List<string>();
        EntropyProductionEstimate? sampled = null;
        try { sampled = SampledChainRate(counts, errors, 1, strict: true); }
        catch (InvalidInputException e) { notes.Add("sampled chain: " + e.Message); }
        var richardson = counts.MaxLag == 3 ? Richardson(counts, errors, notes) : null;
        if (counts.MaxLag < 3) notes.Add("Richardson over lags 1-3 needs at least 4 frames per trajectory.");
        var (continuous, generator, deviance) = ContinuousRate(counts, errors, notes);
        if (continuous is null && sampled is null)
            throw new InvalidInputException("No entropy production can be estimated from these jump data: " + string.Join(" ", notes));
        return new JumpEntropyProductionResult(continuous, sampled, richardson, counts.Labels, generator, deviance, notes.Count > 0 ? string.Join(" ", notes) : null);
    }

    private static EstimateSettings Settings(TransitionCounts counts, ErrorOptions errors, int lag) =>
        new(counts.Dt, lag, errors.Describe(counts.Layout.Count, counts.Layout.Unit), [], "not used");

    /// <summary>Plug-in sampled-chain rate at one lag (per unit time of the data, i.e. divided by lag x dt).</summary>
    private static EntropyProductionEstimate? SampledChainRate(TransitionCounts counts, ErrorOptions errors, int lag, bool strict)
    {
        var labels = counts.Labels;
        int S = counts.States;
        double dt = counts.Dt * lag;

        double Rate(double[] c, bool full, out double bias)
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
                        if (full)
                            throw new InvalidInputException($"Transitions {labels[i]} -> {labels[j]} were seen {nij} times and {labels[j]} -> {labels[i]} {nji} times"
                                + (lag > 1 ? $" at lag {lag}" : "") + ": a transition seen in one direction only makes the EP from counts infinite. Use longer data or lump these states.");
                        continue; // a resample that lost a rare reverse transition: the pair is left out of that replicate
                    }
                    sum += (nij - nji) * Math.Log(nij / nji);
                    bias += 2 + nij / nji + nji / nij;
                }
            bias /= 2 * total * dt;
            return sum / total / dt;
        }

        var all = counts.Sum(lag, default);
        double rate;
        double bias;
        try { rate = Rate(all, true, out bias); }
        catch (InvalidInputException) when (!strict) { return null; }
        var se = Resampling.StandardErrors(counts.Layout.Count, errors, w => [Rate(counts.Sum(lag, w), false, out _)]);
        double n = all.Sum();
        return new EntropyProductionEstimate(rate, se[0], rate - bias, lag == 1 ? "jump-sampled-chain" : $"jump-sampled-chain-lag{lag}", "",
            counts.Frames, (long)n, n * counts.Dt, Settings(counts, errors, lag))
        { Quantity = EstimatedQuantity.SampledChainRate };
    }

    /// <summary>3 s(dt) - 3 s(2 dt) + s(3 dt): cancels the O(dt) and O(dt^2) terms of the sampled chain's rate s(dt).</summary>
    private static EntropyProductionEstimate? Richardson(TransitionCounts counts, ErrorOptions errors, List<string> notes)
    {
        for (int lag = 1; lag <= 3; lag++)
            if (SampledChainRate(counts, errors, lag, strict: false) is null)
            {
                notes.Add($"Richardson cross-check: a transition is seen one way only at lag {lag}.");
                return null;
            }
        int S = counts.States;
        var correction = CoarseSamplingCorrection.Richardson2;
        double Combined(double[]? w) => correction.Combine(lag =>
        {
            var c = counts.Sum(lag, w);
            double total = c.Sum(), sum = 0;
            for (int i = 0; i < S; i++)
                for (int j = i + 1; j < S; j++)
                {
                    double nij = c[i * S + j], nji = c[j * S + i];
                    if (nij > 0 && nji > 0) sum += (nij - nji) * Math.Log(nij / nji);
                }
            return sum / total / (lag * counts.Dt);
        });
        double rate = Combined(null);
        var (se, bias) = Resampling.Errors(counts.Layout.Count, errors, w => [Combined(w)], [rate]);
        double n = counts.Sum(1, default).Sum();
        return new EntropyProductionEstimate(rate, se[0], rate - bias[0], correction.Label("jump-sampled-chain"), "",
            counts.Frames, (long)n, n * counts.Dt, Settings(counts, errors, 3))
        { Quantity = EstimatedQuantity.ContinuousRate };
    }

    private static (EntropyProductionEstimate? Estimate, double[,]? Generator, double? Deviance) ContinuousRate(
        TransitionCounts counts, ErrorOptions errors, List<string> notes)
    {
        int S = counts.States;
        double dt = counts.Dt;
        var labels = counts.Labels;
        if (S > MaxGeneratorStates)
        {
            notes.Add($"No generator fit for {S} states (at most {MaxGeneratorStates}); the value is the sampled chain's.");
            return (null, null, null);
        }
        var all = counts.Sum(1, default);
        var support = GeneratorFit.Support(all, S);
        if (Unreachable(support, S) is { } unreachable)
        {
            notes.Add($"No generator fits: {unreachable}; a continuous-time EP needs an irreducible process. The value is the sampled chain's.");
            return (null, null, null);
        }
        var theta = GeneratorFit.Seed(all, S, dt, support);
        var fit = GeneratorFit.Maximise(all, S, dt, support, theta);
        (support, theta, fit) = Prune(all, S, dt, support, theta, fit, everyPair: false);
        var (atZero, atZeroTheta, atZeroFit) = (support, theta, fit);
        (support, theta, fit) = Prune(all, S, dt, support, theta, fit, everyPair: true);
        int free = 0;
        for (int i = 0; i < S; i++)
        {
            int seen = 0;
            for (int j = 0; j < S; j++) if (all[i * S + j] > 0) seen++;
            free += Math.Max(0, seen - 1);
        }
        (double Deviance, int Df, double Critical) Test(double[] rates, int pairs)
        {
            int degrees = Math.Max(1, free - pairs);
            return (Deviance(all, rates, S, dt), degrees, MathNet.Numerics.Distributions.ChiSquared.InvCDF(degrees, 1 - 1e-6));
        }
        var (deviance, df, critical) = Test(fit.Rates, support.Length);
        // a weak real edge that the trials dropped (dense processes at small data: likelihood ratios 12-27 in the validation matrix) can
        // leave a generator that no longer fits the counts; then the fit before the trials stands, if it fits
        if (deviance > critical && support.Length < atZero.Length && Boundary(atZeroFit.Rates, S, dt, labels) is null
            && Test(atZeroFit.Rates, atZero.Length) is var before && before.Deviance <= before.Critical)
            (support, theta, fit, deviance, df, critical) = (atZero, atZeroTheta, atZeroFit, before.Deviance, before.Df, before.Critical);
        if (Boundary(fit.Rates, S, dt, labels) is { } boundary)
        {
            notes.Add($"No generator fits these counts at dt = {dt:G4}: {boundary}. The value is the sampled chain's.");
            return (null, null, deviance);
        }
        if (deviance > critical)
        {
            var oneWay = new List<string>();
            for (int i = 0; i < S; i++)
                for (int j = 0; j < S; j++)
                    if (i != j && all[i * S + j] > 0 && all[j * S + i] == 0) oneWay.Add($"{labels[i]} -> {labels[j]} ({all[i * S + j]} times)");
            notes.Add(oneWay.Count > 0
                ? $"No generator fits: transitions seen in one direction only ({string.Join(", ", oneWay.Take(5))}, never back) are too frequent to be "
                    + $"paths through other states within dt = {dt:G4} (deviance {deviance:G4} beyond {critical:G4}, chi-square, {df} degrees of freedom, p = 1e-6); "
                    + "a direct jump whose reverse was never seen makes the continuous-time EP unbounded by these data: longer data, or lump these states. "
                    + "The value is the sampled chain's."
                : $"The counts are not those of a continuous-time jump process sampled every {dt:G4} (not embeddable): the best generator leaves "
                    + $"a deviance of {deviance:G4}, beyond {critical:G4} (chi-square, {df} degrees of freedom, p = 1e-6); e.g. a discrete-time chain "
                    + "without self-transitions. The value is the sampled chain's.");
            return (null, null, deviance);
        }
        var pi = GeneratorFit.Stationary(fit.Rates, S);
        if (pi is null)
        {
            notes.Add("The fitted generator has no unique positive stationary law; the value is the sampled chain's.");
            return (null, null, deviance);
        }
        double rate = GeneratorFit.EntropyProduction(fit.Rates, pi, S);
        var start = (double[])theta.Clone();
        var pruned = support;
        double Refit(double[] w)
        {
            // the same rule as the full data's fit: a pair whose rate runs to zero in the replicate is dropped when the likelihood
            // allows (else its reverse alone, over ln of a rate at the clamp, puts an EP of order 25 x its flux into the replicate)
            var c = counts.Sum(1, w);
            var t = (double[])start.Clone();
            var q = Prune(c, S, dt, pruned, t, GeneratorFit.Maximise(c, S, dt, pruned, t), everyPair: false).Fit.Rates;
            var p = GeneratorFit.Stationary(q, S);
            return p is null ? double.NaN : GeneratorFit.EntropyProduction(q, p, S);
        }
        var (se, bias) = Resampling.Errors(counts.Layout.Count, errors, w => [Refit(w)], [rate]);
        var generator = new double[S, S];
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) generator[i, j] = fit.Rates[i * S + j];
        double n = all.Sum();
        var estimate = new EntropyProductionEstimate(rate, se[0], rate - bias[0], "jump-generator-mle", "",
            counts.Frames, (long)n, n * dt, Settings(counts, errors, 1))
        { Quantity = EstimatedQuantity.ContinuousRate };
        if (!fit.Converged) notes.Add($"The generator fit stopped after {fit.Iterations} iterations without meeting its tolerance.");
        return (estimate, generator, deviance);
    }

    /// <summary>Significance of the likelihood-ratio test that keeps a pair of rates in the generator (p = 1e-6: a direct jump must be beyond doubt).</summary>
    private const double PruneSignificance = 1e-6;

    /// <summary>
    /// Pairs seen both ways at lag dt may have no direct jump (both rates zero): on a sparse graph, such as a ring with
    /// nearest-neighbour jumps, paths of two or more jumps within dt fill them in both directions, and the fit keeps small rates
    /// for them (or sends one towards zero, slowly: the log-rate's gradient vanishes with the rate, while noise keeps its reverse
    /// positive). Such spurious rates add little to the EP of the full data but much to its spread over jackknife replicates, where
    /// a small rate runs to zero or back (5-state ring, dt = 0.1, 60 seeds: stderr up to 0.23 for a spread of 0.025 over the seeds, the
    /// jackknife's bias estimate up to 0.66; docs/inference.md). Both rates zero is a generator too, so a pair is dropped when the likelihood ratio of the
    /// fit with it against the fit without it stays below the chi-square quantile at <see cref="PruneSignificance"/>, with one degree
    /// of freedom per rate of the pair not already at zero. Candidates, in turn: a pair with a rate at zero, then (<paramref name="everyPair"/>)
    /// the pair whose smaller rate is the smallest of the support, until the first one the likelihood keeps (the larger rates are
    /// then taken as needed too); a pair needed to connect the states is kept. Jackknife replicates run the same rule with
    /// <paramref name="everyPair"/> false (pairs at zero only) on the full data's pruned support, so that they do not re-decide the
    /// pairs the full data kept. The caller undoes the trials of every pair when the generator they leave fails the deviance test
    /// that the one before them passes (a weak real edge dropped).
    /// </summary>
    private static ((int I, int J)[] Support, double[] Theta, GeneratorFit.Result Fit) Prune(double[] counts, int S, double dt, (int I, int J)[] support,
        double[] theta, GeneratorFit.Result fit, bool everyPair)
    {
        var kept = new HashSet<(int, int)>();
        while (true)
        {
            (int I, int J)? candidate = OneWayPair(fit.Rates, S, dt);
            if (candidate is { } oneWay && kept.Contains(Key(oneWay))) candidate = null;
            if (candidate is null && everyPair)
            {
                var open = support.Where(p => p.I < p.J && !kept.Contains(Key(p))).ToArray();
                if (open.Length > 0) candidate = SmallestPair(fit.Rates, S, open);
            }
            if (candidate is not { } pair) break;
            var keep = Enumerable.Range(0, support.Length).Where(k => support[k] != pair && support[k] != (pair.J, pair.I)).ToArray();
            var reduced = keep.Select(k => support[k]).ToArray();
            if (Unreachable(reduced, S) is not null)
            {
                kept.Add(Key(pair));   // needed to connect the states
                continue;
            }
            int free = (fit.Rates[pair.I * S + pair.J] * dt >= GeneratorFit.ZeroRateTimesDt ? 1 : 0) + (fit.Rates[pair.J * S + pair.I] * dt >= GeneratorFit.ZeroRateTimesDt ? 1 : 0);
            // from the fit's own rates less the pair's (not from the matrix logarithm): near the fit, so that an unconverged pair of
            // fits (rates creeping to zero converge slowly in log-rates) still compares like with like
            var reducedTheta = keep.Select(k => theta[k]).ToArray();
            var reducedFit = GeneratorFit.Maximise(counts, S, dt, reduced, reducedTheta);
            double critical = MathNet.Numerics.Distributions.ChiSquared.InvCDF(Math.Max(1, free), 1 - PruneSignificance);
            // the data need this pair (and, the candidates going from the smallest rate up, the larger ones as well)
            if (2 * (fit.LogLikelihood - reducedFit.LogLikelihood) > critical) break;
            (support, theta, fit) = (reduced, reducedTheta, reducedFit);
        }
        return (support, theta, fit);

        static (int, int) Key((int I, int J) p) => p.I < p.J ? (p.I, p.J) : (p.J, p.I);
    }

    /// <summary>A state that the support graph cannot leave or reach from state 0, described; null when irreducible.</summary>
    private static string? Unreachable((int I, int J)[] support, int n)
    {
        var outgoing = new bool[n];
        foreach (var (i, _) in support) outgoing[i] = true;
        for (int i = 0; i < n; i++)
            if (!outgoing[i]) return $"state index {i} is never left to a state it is also entered from";
        var seen = new bool[n];
        var stack = new Stack<int>();
        stack.Push(0);
        seen[0] = true;
        while (stack.Count > 0)
        {
            int i = stack.Pop();
            foreach (var (a, b) in support)
                if (a == i && !seen[b]) { seen[b] = true; stack.Push(b); }
        }
        for (int i = 0; i < n; i++)
            if (!seen[i]) return $"states split into groups with no transitions seen both ways between them (state index {i} is not reached from state index 0)";
        return null;
    }

    /// <summary>The first pair (i, j) whose fitted rate ran to zero while its reverse stayed positive; null when none.</summary>
    private static (int I, int J)? OneWayPair(double[] q, int n, double dt)
    {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && q[i * n + j] > 0 && q[i * n + j] * dt < GeneratorFit.ZeroRateTimesDt && q[j * n + i] * dt >= GeneratorFit.ZeroRateTimesDt)
                    return (i, j);
        return null;
    }

    /// <summary>The pair of the support whose smaller rate is the smallest of all pairs.</summary>
    private static (int I, int J) SmallestPair(double[] q, int n, (int I, int J)[] support) =>
        support.MinBy(p => Math.Min(q[p.I * n + p.J], q[p.J * n + p.I]));

    private static string? Boundary(double[] q, int n, double dt, double[] labels)
    {
        for (int i = 0; i < n; i++)
        {
            if (-q[i * n + i] * dt > GeneratorFit.InfiniteRateTimesDt)
                return $"the likelihood grows without bound as the exit rate of state {labels[i]} goes to infinity (exit rate x dt > {GeneratorFit.InfiniteRateTimesDt}): "
                    + "the chain forgets its state within one frame (the counts are not embeddable at this frame spacing)";
        }
        if (OneWayPair(q, n, dt) is (int a, int b))
            return $"the best fit sends the rate {labels[a]} -> {labels[b]} to zero while {labels[b]} -> {labels[a]} stays at {q[b * n + a]:G4}: "
                + "a one-way transition, whose EP is infinite";
        return null;
    }

    private static double Deviance(double[] counts, double[] q, int n, double dt)
    {
        var a = (double[])q.Clone();
        for (int k = 0; k < a.Length; k++) a[k] *= dt;
        var p = MatrixExponential.Exp(a, n);
        double g = 0;
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++) row += counts[i * n + j];
            for (int j = 0; j < n; j++)
            {
                double c = counts[i * n + j];
                if (c > 0) g += 2 * c * Math.Log(c / row / Math.Max(p[i * n + j], 1e-300));
            }
        }
        return Math.Max(0, g);
    }
}
