namespace ThermoLearn.Processes;

/// <summary>
/// Information measures of a stationary process (bits unless stated): block entropies
/// <c>H(L) = -sum_{|w|=L} P(w) log2 P(w)</c>, myopic entropies <c>h(L) = H(L) - H(L-1)</c>, entropy rate
/// <c>h_mu = lim h(L)</c>, excess entropy <c>E = sum_{L&gt;=1} (h(L) - h_mu)</c> and statistical complexity C_mu.
/// </summary>
/// <remarks>
/// <para>h(L) is computed exactly as <c>sum_eta P(eta at depth L-1) H[P(.|eta)]</c> over the mixed states at depth
/// L-1 (equal beliefs merged, which leaves h(L) unchanged); H(L) = sum of h(1..L).</para>
/// <para>When the mixed-state presentation is finite (<see cref="MixedStatePresentation.IsFinite"/>) h_mu and C_mu
/// come from its recurrent causal states and E is summed until the mass outside them is below 1e-16, so all are
/// exact to rounding (<see cref="IsExact"/>). Otherwise (e.g. Mess3: infinitely many mixed states) h(L) is exact only up
/// to <see cref="MaxLength"/> (the length asked for, or more while h(L) still changes and the levels are cheap); h_mu and E are extrapolated assuming a geometric approach
/// <c>h(L) - h_mu ~ C r^L</c> fitted to the last three h(L), and C_mu is null.</para>
/// <para>James, Ellison &amp; Crutchfield, "Anatomy of a bit", Chaos 21, 037109 (2011); Crutchfield &amp; Feldman,
/// "Regularities unseen, randomness observed", Chaos 13, 25 (2003).</para>
/// </remarks>
public sealed record InformationMeasures
{
    /// <summary>Process name.</summary>
    public required string Process { get; init; }

    /// <summary>Longest block length with exact h(L).</summary>
    public required int MaxLength { get; init; }

    /// <summary>H(L) in bits for L = 0..MaxLength (H(0) = 0).</summary>
    public required IReadOnlyList<double> BlockEntropies { get; init; }

    /// <summary>h(L) in bits for L = 1..MaxLength, at index L - 1.</summary>
    public required IReadOnlyList<double> MyopicEntropies { get; init; }

    /// <summary>Entropy rate h_mu in bits per token.</summary>
    public required double EntropyRate { get; init; }

    /// <summary>Excess entropy E in bits.</summary>
    public required double ExcessEntropy { get; init; }

    /// <summary>
    /// Estimated error of h_mu when not exact: the size of the extrapolated tail (0 when exact).
    /// </summary>
    public required double ExtrapolationError { get; init; }

    /// <summary>
    /// Estimated error of E when not exact: MaxLength times <see cref="ExtrapolationError"/> (E sums MaxLength differences from
    /// h_mu) plus the size of E's own extrapolated tail (0 when exact).
    /// </summary>
    public required double ExcessEntropyError { get; init; }

    /// <summary>Statistical complexity C_mu in bits; null when the presentation is not finite (not unifilar with finitely many states).</summary>
    public required double? StatisticalComplexity { get; init; }

    /// <summary>True when h_mu, E and C_mu come from a finite presentation (exact to rounding).</summary>
    public required bool IsExact { get; init; }

    /// <summary>h(L) in bits (1 &lt;= L &lt;= MaxLength).</summary>
    public double Myopic(int length)
    {
        if (length < 1 || length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"h(L) is known for L = 1..{MaxLength}.");
        return MyopicEntropies[length - 1];
    }

    /// <summary>
    /// Cross-entropy floor of a next-token model with context <paramref name="nCtx"/> and no BOS token, in nats:
    /// the mean of h(L) over L = 2..n_ctx+1, times ln 2.
    /// </summary>
    public double CrossEntropyFloorNats(int nCtx)
    {
        if (nCtx < 1 || nCtx + 1 > MaxLength)
            throw new InvalidInputException($"cross-entropy floor: context length {nCtx} needs h(L) up to L = {nCtx + 1}, but only L <= {MaxLength} was computed.");
        double sum = 0;
        for (int l = 2; l <= nCtx + 1; l++) sum += MyopicEntropies[l - 1];
        return sum / nCtx * Math.Log(2);
    }

    /// <summary>
    /// Computes the measures with h(L) exact for L = 1..<paramref name="maxLength"/> at least (more when the
    /// presentation is finite, until convergence).
    /// </summary>
    /// <param name="process">The process.</param>
    /// <param name="maxLength">Block length up to which h(L) is computed; for infinite presentations the work
    /// grows like the number of distinct beliefs at that depth (3^L for Mess3).</param>
    /// <param name="tolerance">Grid spacing identifying equal beliefs (see <see cref="MixedStatePresentation"/>).</param>
    /// <param name="maxLevelStates">Stop deepening an infinite presentation before a level could exceed this many beliefs
    /// (then <see cref="MaxLength"/> is below <paramref name="maxLength"/>).</param>
    public static InformationMeasures Compute(HiddenMarkovProcess process, int maxLength = 12, double tolerance = 1e-9, int maxLevelStates = 600_000)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (maxLength < 1) throw new InvalidInputException($"information measures: the block length must be >= 1 (got {maxLength}).");
        if (process.IndependentFactors.Count > 1)
            return Sum(process, process.IndependentFactors.Select(f => Compute(f, maxLength, tolerance, maxLevelStates)).ToArray());
        var msp = MixedStatePresentation.Build(process, 0, tolerance);
        return msp.IsFinite && msp.EntropyRate is { } hmu
            ? FromFinite(process, msp, hmu, maxLength)
            : FromLevels(process, maxLength, tolerance, maxLevelStates);
    }

    private static InformationMeasures FromFinite(HiddenMarkovProcess process, MixedStatePresentation msp, double hmu, int maxLength)
    {
        const int MaxLevels = 100_000;
                var h = new List<double>();
        var mass = new Dictionary<int, double> { [0] = 1.0 };
        double excess = 0;
        for (int l = 1; l <= MaxLevels; l++)
        {
            double hl = 0, transient = 0;
            var next = new Dictionary<int, double>();
            foreach (var (s, m) in mass)
            {
                var law = msp.NextTokenLaw(s);
                hl += m * Entropy.Bits(law);
                if (!msp.IsRecurrent(s)) transient += m;
                for (int x = 0; x < law.Length; x++)
                {
                    int c = msp.Successor(s, x);
                    if (c < 0) continue;
                    next[c] = next.GetValueOrDefault(c) + m * law[x];
                }
            }
            h.Add(hl);
            excess += hl - hmu;
            mass = next;
            if (l >= maxLength && transient < 1e-16) break;
        }
        return Assemble(process, h, hmu, excess, 0, msp.StatisticalComplexity, exact: true);
    }

    /// <summary>Changes of h(L) in bits at or below this are rounding of the level sums, not convergence still under way.</summary>
    private const double RoundingLevel = 1e-12;

    /// <summary>Past the requested length, deepen at most to this length.</summary>
    private const int MaxExtendedLength = 2000;

    /// <summary>Past the requested length, deepen while the beliefs handled in all levels stay within this many times the level budget.</summary>
    private const int ExtendedWorkLevels = 20;

    /// <summary>
    /// h(L) level by level over the beliefs at depth L - 1 (equal ones merged on the tolerance grid), to
    /// <paramref name="maxLength"/> at least, and further while h(L) still changes by more than rounding and the levels stay
    /// cheap: small levels (a noisy process whose beliefs collapse onto few points) cost little, and a slow approach of h(L)
    /// to h_mu stopped at the requested length put E far off (RRXOR(0.3, 0.8): 2.043 at L = 12, 2.198 at L = 120).
    /// </summary>
    private static InformationMeasures FromLevels(HiddenMarkovProcess process, int maxLength, double tolerance, int maxLevelStates)
    {
        int sN = process.States, v = process.Tokens;
        var beliefs = new List<double[]> { process.RootBelief() };
        var masses = new List<double> { 1.0 };
        var h = new List<double>();
        var law = new double[v];
        long work = 0;
        for (int l = 1; ; l++)
        {
            double hl = 0;
            for (int k = 0; k < beliefs.Count; k++)
            {
                process.NextTokenLaw(beliefs[k], law);
                hl += masses[k] * Entropy.Bits(law);
            }
            h.Add(hl);
            work += beliefs.Count;
            bool deeper = l < maxLength
                || (l < MaxExtendedLength && work + (long)beliefs.Count * v <= (long)ExtendedWorkLevels * maxLevelStates
                    && h.Count >= 2 && Math.Abs(h[^2] - hl) > RoundingLevel);
            if (!deeper || (long)beliefs.Count * v > maxLevelStates) break;   // the next level would be too large: stop at h(l)
            var index = new Dictionary<BeliefKey, int>();
            var nextBeliefs = new List<double[]>();
            var nextMasses = new List<double>();
            for (int k = 0; k < beliefs.Count; k++)
            {
                process.NextTokenLaw(beliefs[k], law);
                for (int x = 0; x < v; x++)
                {
                    if (!(law[x] > HiddenMarkovProcess.ZeroProbability)) continue;
                    var child = new double[sN];
                    process.Update(beliefs[k], x, child);
                    var key = new BeliefKey(child, tolerance);
                    double m = masses[k] * law[x];
                    if (index.TryGetValue(key, out int id)) nextMasses[id] += m;
                    else
                    {
                        index.Add(key, nextBeliefs.Count);
                        nextBeliefs.Add(child);
                        nextMasses.Add(m);
                    }
                }
            }
            beliefs = nextBeliefs;
            masses = nextMasses;
        }

        // Geometric extrapolation of h(L) -> h_mu from the last three values.
        int n = h.Count;
        double hmu = h[n - 1], tail = 0, error = double.NaN;
        if (n >= 3)
        {
            double d1 = h[n - 2] - h[n - 1], d2 = h[n - 3] - h[n - 2];
            if (d1 == 0) { tail = 0; error = 0; }
            // Converged to the rounding of the sums over up to 600,000 beliefs (~1e-14): the ratio of two noise values is
            // no decay rate, and without this the error was NaN ("+- NaN") for Mess3(0.3, 0.2) and Mess3(0.25, 0.6).
            else if (Math.Abs(d1) <= RoundingLevel && Math.Abs(d2) <= RoundingLevel) { tail = 0; error = Math.Max(Math.Abs(d1), Math.Abs(d2)); }
            else if (d2 != 0 && d1 / d2 > 0 && d1 / d2 < 1)
            {
                double r = d1 / d2;
                tail = d1 * r / (1 - r);
                error = Math.Abs(tail);
            }
        }
        hmu -= tail;
        double excess = 0, excessTail = 0;
        foreach (double hl in h) excess += hl - hmu;
        // Tail of E beyond the last length: sum_{k > n} C r^k = (h(n) - h_mu) r / (1 - r).
        if (n >= 3 && tail != 0)
        {
            double r = (h[n - 2] - h[n - 1]) / (h[n - 3] - h[n - 2]);
            excessTail = tail * r / (1 - r);
            excess += excessTail;
        }
        // E sums n differences from h_mu, so an error e of h_mu moves it by n e; its own tail is extrapolated as well
        double excessError = n * error + Math.Abs(excessTail);
        return Assemble(process, h, hmu, excess, error, null, exact: false, excessError);
    }

    /// <summary>Independent factors: every measure is additive (the joint word law is the product of the factors').</summary>
    private static InformationMeasures Sum(HiddenMarkovProcess process, InformationMeasures[] parts)
    {
        int length = parts.Min(p => p.MaxLength);
        var h = new List<double>();
        for (int l = 1; l <= length; l++) h.Add(parts.Sum(p => p.Myopic(l)));
        double? cmu = parts.All(p => p.StatisticalComplexity is not null) ? parts.Sum(p => p.StatisticalComplexity!.Value) : null;
        double error = parts.All(p => p.ExtrapolationError == 0) ? 0 : parts.Sum(p => double.IsNaN(p.ExtrapolationError) ? double.NaN : p.ExtrapolationError);
        double excessError = parts.Sum(p => p.ExcessEntropyError);
        return Assemble(process, h, parts.Sum(p => p.EntropyRate), parts.Sum(p => p.ExcessEntropy), error, cmu, parts.All(p => p.IsExact), excessError);
    }

    private static InformationMeasures Assemble(HiddenMarkovProcess process, List<double> h, double hmu, double excess, double error,
        double? cmu, bool exact, double? excessError = null)
    {
        var block = new double[h.Count + 1];
        for (int l = 1; l <= h.Count; l++) block[l] = block[l - 1] + h[l - 1];
        return new InformationMeasures
        {
            Process = process.Name,
            MaxLength = h.Count,
            BlockEntropies = block,
            MyopicEntropies = h.ToArray(),
            EntropyRate = hmu,
            ExcessEntropy = excess,
            ExtrapolationError = error,
            ExcessEntropyError = excessError ?? error,
            StatisticalComplexity = cmu,
            IsExact = exact,
        };
    }
}

/// <summary>Shannon entropy of a probability vector.</summary>
internal static class Entropy
{
    public static double Bits(ReadOnlySpan<double> p)
    {
        double h = 0;
        foreach (double q in p) if (q > 0) h -= q * Math.Log2(q);
        return h;
    }
}
