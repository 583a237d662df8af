using ThermoLearn.Statistics;

namespace ThermoLearn.ActiveMatter;

/// <summary>An entropy-production estimate of a many-body system, whole system and per particle, with its parts.</summary>
/// <param name="Rate">sigma of the whole system (all N particles), per unit time.</param>
/// <param name="StandardError">Its standard error.</param>
/// <param name="Debiased">Rate minus its finite-data bias (equals Rate when the estimator has none).</param>
/// <param name="RateX">The part from the position noise (x coordinates).</param>
/// <param name="RateG">The part from the active noise (g coordinates).</param>
/// <param name="Method">"identity" or "current".</param>
/// <param name="Snapshots">Snapshots (frames) used.</param>
/// <param name="Particles">N.</param>
/// <param name="Blocks">Contiguous blocks of snapshots the standard error was computed over: the number asked for, or fewer where the
/// record is too short for it (block averaging takes at most one block per snapshot; <see cref="BlockStatistics.Mean"/>).</param>
public sealed record ManyBodyEntropyEstimate(double Rate, double StandardError, double Debiased, double RateX, double RateG,
    string Method, int Snapshots, int Particles, int Blocks)
{
    /// <summary>sigma / N.</summary>
    public double RatePerParticle => Rate / Particles;

    public double StandardErrorPerParticle => StandardError / Particles;
}

/// <summary>
/// The sample identity for AOUP without translational noise (eps = 0): stationarity gives E[v . grad log rho] = 0, and
/// with the x-dynamics deterministic given g, sigma = gamma E|g + s_g|^2 = -E[sum_i div_{x_i} b_{x_i}]
/// = d A N - k E[sum_i div_i F_i], with div_i F_i = sum_j [f'(r_ij) + (d - 1) f(r_ij) / r_ij] (docs/active-matter.md).
/// Needs positions only: an exact reference for the interacting system up to sampling error. The standard error
/// comes from block averaging over snapshots (<see cref="BlockStatistics"/>), which accounts for their correlation.
/// </summary>
public static class IdentityEntropyProduction
{
    public static ManyBodyEntropyEstimate Estimate(ActiveSnapshots snapshots, int blocks = BlockStatistics.DefaultBlocks, int maxDegreeOfParallelism = -1)
    {
        var m = snapshots.Model;
        if (m.Kind != ActiveModelKind.Aoup)
            throw new InvalidInputException($"the identity estimator is for AOUP snapshots ({m.Name} given).");
        if (m.Epsilon != 0)
            throw InvalidInputException.Naming($"the identity sigma = d A N - k E[sum_i div_i F_i] holds for eps = 0 only (these snapshots have eps = {m.Epsilon}); use {InputParameter.Method} current.");
        if (!(m.V0 > 0)) throw new InvalidInputException(WithoutActivity);
        return Estimate(m, PerSnapshot(snapshots, maxDegreeOfParallelism), blocks);
    }

    /// <summary>The identity from its summands <see cref="PerSnapshot"/>, already computed, of snapshots of <paramref name="model"/>.</summary>
    public static ManyBodyEntropyEstimate Estimate(ActiveModel model, double[] series, int blocks = BlockStatistics.DefaultBlocks)
    {
        if (model.Kind == ActiveModelKind.Aoup && model.Epsilon == 0 && !(model.V0 > 0)) throw new InvalidInputException(WithoutActivity);
        if (!Holds(model))
            throw new InvalidInputException($"the identity holds for AOUP with eps = 0 only ({model.Name}, eps = {model.Epsilon} given).");
        var (mean, se, used) = BlockStatistics.Mean(series, blocks);
        return new ManyBodyEntropyEstimate(mean, se, mean, 0, mean, "identity", series.Length, model.Particles, (int)used);
    }

    /// <summary>
    /// Whether the identity holds for <paramref name="model"/>: AOUP without translational noise (eps = 0) with activity (v0 &gt; 0).
    /// At v0 = 0 too the positions carry no noise at all: they relax deterministically (to the trap's centre, or to a local minimum
    /// of the pair energy), the stationary density is not smooth in x, and sigma = 0 (reference 3), while the summand is the
    /// contraction rate d A N - k sum_i div_i F_i &gt; 0 of that relaxation.
    /// </summary>
    public static bool Holds(ActiveModel model) => model.Kind == ActiveModelKind.Aoup && model.Epsilon == 0 && model.V0 > 0;

    private const string WithoutActivity = "the identity sigma = d A N - k E[sum_i div_i F_i] needs v0 > 0: with v0 = 0 and eps = 0 the positions carry no noise "
        + "and relax deterministically (to the trap's centre or a local minimum of the pair energy), so the density is not smooth in x and sigma = 0 "
        + "(reference 3), while the identity's summand is the rate of that contraction, d A N - k sum_i div_i F_i > 0.";

    /// <summary>
    /// The identity on the snapshots from <paramref name="firstFrame"/> to the last, from its summands <see cref="PerSnapshot"/>:
    /// the frames a learned estimate was scored on (all of them for the current estimator, the held-out ones for the score), with
    /// its block standard error.
    /// </summary>
    public static MeanEstimate OnFrames(double[] series, int firstFrame, int blocks = BlockStatistics.DefaultBlocks)
    {
        if (firstFrame < 0 || firstFrame > series.Length - 2)
            throw new InvalidInputException($"the identity on frames {firstFrame}..{series.Length - 1} needs at least 2 of the {series.Length} snapshots.");
        return BlockStatistics.Mean(series.AsSpan(firstFrame), blocks);
    }

    /// <summary>
    /// The identity on frames <paramref name="first"/>..<paramref name="second"/> - 1 against frames <paramref name="second"/> to the
    /// last (<see cref="StationarityCheck"/>), each stretch with its own block error over half the blocks (at least 2), so that for
    /// stretches of about equal length a block is about as long as in the estimate over both; null where a stretch has fewer than
    /// 2 frames (no error to compare with).
    /// </summary>
    public static StationarityCheck? Stationarity(double[] series, int first, int second, int blocks = BlockStatistics.DefaultBlocks)
    {
        if (first < 0 || second < first || second > series.Length)
            throw new ArgumentOutOfRangeException(nameof(second), $"stretches {first}..{second - 1} and {second}..{series.Length - 1} do not split a series of {series.Length} frames.");
        return StationarityCheck.Of(StationarityCheck.Identity, series, first, second, blocks);
    }

    /// <summary>The identity's summand d A N - k sum_i div_i F_i at every snapshot.</summary>
    public static double[] PerSnapshot(ActiveSnapshots snapshots, int maxDegreeOfParallelism = -1)
    {
        var m = snapshots.Model;
        int n = m.Particles, d = m.Dimension;
        var series = new double[snapshots.Frames];
        var pairs = m.Interacting ? PairForces.For(m) : null;
        var x = new double[n * d];
        var divergence = new double[n];
        for (int f = 0; f < snapshots.Frames; f++)
        {
            double value = d * m.A * n;
            if (pairs is not null)
            {
                snapshots.CopyFrame(f, x);
                value -= m.K * pairs.Divergence(x, divergence, maxDegreeOfParallelism);
            }
            series[f] = value;
        }
        return series;
    }
}

/// <summary>
/// Identity 4 on two stretches of one record: frames <paramref name="First"/>..<paramref name="Second"/> - 1 and
/// <paramref name="Second"/>..<paramref name="Last"/> (the two halves of the frames an estimate is compared on, or a score's
/// training frames against its held-out ones). The identity is sigma only in a steady state: in general
/// sigma = identity + dS/dt (docs/active-matter.md), and a record that is still settling (a gas forming pairs, MIPS clusters
/// coarsening) has both a drifting identity and a learned estimate fitted on one state and scored on another. In a steady state
/// the two stretches estimate the same mean, so z = (second - first) / sqrt(se_1^2 + se_2^2) is about N(0, 1) and
/// |z| &gt; <see cref="Threshold"/> has probability 0.27% for a normal z (with 10 blocks a stretch z is nearer Student's t, and with
/// <see cref="ReferenceZ"/>, z against the second stretch's fluctuations beyond <see cref="ReferenceThreshold"/>, up to about 1% more). A larger |z| says that the record drifts, or that it fluctuates over times
/// longer than its blocks (MIPS clusters change over the persistence time 1 / gamma), whose errors then understate the spread.
/// </summary>
/// <param name="First">First frame of the first stretch.</param>
/// <param name="Second">First frame of the second stretch.</param>
/// <param name="Last">Last frame of the second stretch.</param>
/// <param name="FirstStretch">The observable's mean over the first stretch with its block error.</param>
/// <param name="SecondStretch">The same over the second.</param>
/// <param name="Observable">What was compared: <see cref="Identity"/>, or one of <see cref="StationarityObservables"/>.</param>
public sealed record StationarityCheck(int First, int Second, int Last, MeanEstimate FirstStretch, MeanEstimate SecondStretch, string Observable = StationarityCheck.Identity)
{
    /// <summary>The |z| beyond which the two stretches are taken to differ.</summary>
    public const double Threshold = 3;

    /// <summary>The name of identity 4's check.</summary>
    public const string Identity = "identity";

    /// <summary>
    /// <paramref name="series"/> on frames <paramref name="first"/>..<paramref name="second"/> - 1 against frames <paramref name="second"/>
    /// to the last, each stretch with its own block error over half the blocks (at least 2), so that for stretches of about equal
    /// length a block is about as long as in the estimate over both; null where a stretch has fewer than 2 frames.
    /// </summary>
    public static StationarityCheck? Of(string observable, double[] series, int first, int second, int blocks = BlockStatistics.DefaultBlocks)
    {
        if (first < 0 || second < first || second > series.Length)
            throw new ArgumentOutOfRangeException(nameof(second), $"stretches {first}..{second - 1} and {second}..{series.Length - 1} do not split a series of {series.Length} frames.");
        if (second - first < 2 || series.Length - second < 2) return null;
        int half = Math.Max(2, blocks / 2);
        var reference = BlockStatistics.Mean(series.AsSpan(second), half);
        // se of the first stretch's mean if it fluctuated as the second: (n2 / n1) se_2^2 for the same correlation time
        double scaled = reference.StandardError * Math.Sqrt((series.Length - second) / (double)(second - first));
        return new StationarityCheck(first, second, series.Length - 1, BlockStatistics.Mean(series.AsSpan(first, second - first), half), reference, observable)
        {
            ReferenceError = Math.Sqrt(scaled * scaled + reference.StandardError * reference.StandardError),
        };
    }

    /// <summary>
    /// The error of the difference if both stretches fluctuated as the second does: sqrt((n2 / n1 + 1) se_2^2) (a steady state has one
    /// block variance). A transient at the start of the record (no burn-in) makes the first stretch's own block means spread, so its
    /// error grows with the difference and <see cref="Z"/> stays small (a trap relaxing from the initial cube: |x|^2 7.7 +- 6.6 against
    /// 0.96 +- 0.02, z = -1.0); measured against the settled stretch's fluctuations it is about -190. This z leans on one stretch's
    /// error from half the blocks, so its tails are heavy (Student's t with 9 degrees of freedom, and heavier for a skewed observable),
    /// hence its own threshold, <see cref="ReferenceThreshold"/>.
    /// </summary>
    public double ReferenceError { get; init; } = double.NaN;

    /// <summary>Difference / <see cref="ReferenceError"/> (<see cref="Agreement"/>, as <see cref="Z"/>).</summary>
    public double ReferenceZ => double.IsNaN(ReferenceError) ? 0 : Agreement.Of(SecondStretch.Mean, FirstStretch.Mean, ReferenceError).Z;

    /// <summary>Second stretch minus first.</summary>
    public double Difference => SecondStretch.Mean - FirstStretch.Mean;

    /// <summary>sqrt(se_1^2 + se_2^2).</summary>
    public double Error => Math.Sqrt(FirstStretch.StandardError * FirstStretch.StandardError + SecondStretch.StandardError * SecondStretch.StandardError);

    /// <summary>
    /// Difference / Error (<see cref="Agreement"/>); 0 where the stretches agree to rounding (a series without fluctuations, as in a
    /// trap without interactions, whose block errors are a few ulps), +-infinity where the errors are at rounding level and the
    /// difference is not.
    /// </summary>
    public double Z => Agreement.Of(SecondStretch.Mean, FirstStretch.Mean, Error).Z;

    /// <summary>The two stretches' identities are the same number up to rounding.</summary>
    public bool EqualToRounding => Agreement.Of(SecondStretch.Mean, FirstStretch.Mean, Error).EqualToRounding;

    /// <summary>
    /// The |<see cref="ReferenceZ"/>| beyond which the stretches differ. Measured on stationary series of 1,001 frames split in halves of
    /// 10 blocks (numpy, 6,000 records each; docs/active-matter.md): P(|z_ref| &gt; 10) = 0.1% for the square of an Ornstein-Uhlenbeck
    /// process with a correlation time of a quarter block, 0.3% for half a block, 1% for its fourth power; below 0.07% already at 6
    /// for a Gaussian series (an average over many particles).
    /// </summary>
    public const double ReferenceThreshold = 10;

    /// <summary>|z| beyond <see cref="Threshold"/>, or |z against the second stretch's fluctuations| beyond <see cref="ReferenceThreshold"/>.</summary>
    public bool Differs => !(Math.Abs(Z) <= Threshold) || !(Math.Abs(ReferenceZ) <= ReferenceThreshold);

    /// <summary>Difference / first stretch's mean: how large a change, whatever its z (NaN where the first is 0).</summary>
    public double RelativeDifference => FirstStretch.Mean != 0 ? Difference / FirstStretch.Mean : double.NaN;
}

/// <summary>
/// A learned estimate set against the identity on the same frames: the difference estimate - identity with the error
/// sqrt(se_e^2 + se_i^2), and the ratio estimate / identity with the error |ratio| sqrt((se_e / e)^2 + (se_i / i)^2) (first
/// order). The two errors are combined as if independent: where the two move together, as estimates on the same frames tend
/// to, this overstates the error rather than hiding part of it. The ratio is NaN where the identity is not positive (sigma = 0 there, as for
/// free AOUP with eps = 0: compare the difference).
/// </summary>
public sealed record IdentityComparison(double Difference, double DifferenceError, double Ratio, double RatioError)
{
    public static IdentityComparison Of(double estimate, double estimateError, MeanEstimate identity)
    {
        double i = identity.Mean, si = identity.StandardError;
        double difference = estimate - i, differenceError = Math.Sqrt(estimateError * estimateError + si * si);
        if (!(i > 0)) return new IdentityComparison(difference, differenceError, double.NaN, double.NaN);
        double ratio = estimate / i;
        double ratioError = Math.Sqrt(Math.Pow(estimateError / i, 2) + Math.Pow(ratio * si / i, 2));
        return new IdentityComparison(difference, differenceError, ratio, ratioError);
    }
}
