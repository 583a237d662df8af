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
public sealed record ManyBodyEntropyEstimate(double Rate, double StandardError, double Debiased, double RateX, double RateG,
    string Method, int Snapshots, int Particles)
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
        var series = PerSnapshot(snapshots, maxDegreeOfParallelism);
        var (mean, se, _) = BlockStatistics.Mean(series, blocks);
        return new ManyBodyEntropyEstimate(mean, se, mean, 0, mean, "identity", snapshots.Frames, m.Particles);
    }

    /// <summary>Whether the identity holds for <paramref name="model"/>: AOUP without translational noise (eps = 0).</summary>
    public static bool Holds(ActiveModel model) => model.Kind == ActiveModelKind.Aoup && model.Epsilon == 0;

    /// <summary>
    /// The identity on the snapshots from <paramref name="firstFrame"/> to the last: the frames a learned estimate was scored on
    /// (all of them for the current estimator, the held-out ones for the score), with its block standard error.
    /// </summary>
    public static MeanEstimate OnFrames(ActiveSnapshots snapshots, int firstFrame, int blocks = BlockStatistics.DefaultBlocks, int maxDegreeOfParallelism = -1)
    {
        if (!Holds(snapshots.Model))
            throw new InvalidInputException($"the identity holds for AOUP with eps = 0 only ({snapshots.Model.Name}, eps = {snapshots.Model.Epsilon} given).");
        if (firstFrame < 0 || firstFrame > snapshots.Frames - 2)
            throw new InvalidInputException($"the identity on frames {firstFrame}..{snapshots.Frames - 1} needs at least 2 of the {snapshots.Frames} snapshots.");
        return BlockStatistics.Mean(PerSnapshot(snapshots, maxDegreeOfParallelism).AsSpan(firstFrame), blocks);
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
