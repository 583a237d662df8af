using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;

namespace ThermoLearn.Inference;

/// <summary>The estimate of <see cref="CurrentEstimateRequest.Estimate"/>.</summary>
/// <param name="Estimate">The overall rate (corrected when a correction was asked for).</param>
/// <param name="Uncorrected">With a coarse-sampling correction on stationary data: the lag-1 rate without it; else null.</param>
/// <param name="TimeSeries">sigma(t) with windows or a time basis; else null.</param>
/// <param name="Force">The learned thermodynamic force of stationary data (current method); else null.</param>
public sealed record CurrentEstimateResult(EntropyProductionEstimate Estimate, EntropyProductionEstimate? Uncorrected = null,
    EntropyProductionTimeSeries? TimeSeries = null, LinearVectorField? Force = null)
{
    /// <summary>
    /// The current method with a noise-robust diffusion (<see cref="DiffusionSpec.EstimatedNoiseRobust"/>): the measurement noise
    /// removed from the lag-1 moments of all the data, with the factor its removal multiplied the highest modes by
    /// (<see cref="MeasurementNoiseEstimate.Amplification"/>, as infer reports it); the noise-robust TUR bound: the noise removed
    /// from the currents' variance (amplification 1); else null.
    /// </summary>
    public MeasurementNoiseEstimate? MeasurementNoise { get; init; }
}

/// <summary>
/// A linear current-based estimate (<c>current</c>, with or without the coarse-sampling correction, stationary or sigma(t)
/// on windows, or the <c>tur</c> bound) as a function of its sufficient statistics, so that it can be mapped over chunks
/// or files and reduced: <see cref="StatisticsOptions"/> lists the statistics to accumulate (one set per lag),
/// <see cref="Estimate"/> computes the estimate from them. The in-memory estimators
/// (<see cref="EntropyProductionEstimator"/>) are the same functions of the same statistics, so the streamed,
/// reduced and in-memory estimates agree bit for bit when their statistics do.
/// </summary>
/// <param name="Method">"current" or "tur".</param>
/// <param name="Diffusion">The diffusion matrix (given or estimated; not used by tur).</param>
/// <param name="Windows">Time windows (1: stationary).</param>
/// <param name="TimeDegree">Legendre degree of the time basis.</param>
/// <param name="Joint">One joint (x, t) fit instead of per-window fits.</param>
/// <param name="CorrectionOrder">Coarse-sampling correction: 0 none, 1 Richardson over lags 1, 2, 2 over lags 1, 2, 3.</param>
/// <param name="Errors">Batches and resampling of the standard errors.</param>
/// <param name="NoiseRobust">tur: remove the share of white measurement noise on the positions from the currents' variance
/// (<see cref="EntropyProductionEstimator.Tur(CurrentStatistics, ErrorOptions, bool)"/>); the current method's noise robustness is its diffusion
/// (<see cref="DiffusionSpec.EstimatedNoiseRobust"/>).</param>
public sealed record CurrentEstimateRequest(string Method, DiffusionSpec Diffusion, int Windows, int TimeDegree, bool Joint, int CorrectionOrder, ErrorOptions Errors,
    bool NoiseRobust = false)
{
    /// <summary>The methods this request computes.</summary>
    public static IReadOnlyList<string> Methods { get; } = ["current", "tur"];

    /// <summary>True for sigma(t) (windows, a time basis or a joint fit).</summary>
    public bool Windowed => Windows > 1 || TimeDegree > 0 || Joint;

    /// <summary>The statistics to accumulate, one set per lag (all over the same batches).</summary>
    public IReadOnlyList<CurrentStatisticsOptions> StatisticsOptions()
    {
        if (!Methods.Contains(Method)) throw new InvalidInputException($"method '{Method}' has no mergeable statistics; use {string.Join(" or ", Methods)}.");
        if (NoiseRobust && Method != "tur")
            throw new InvalidInputException($"the noise-robust variant of method '{Method}' is its diffusion (auto-robust); the measurement noise is removed from the currents' variance for tur only.");
        if (Method == "tur") return [new CurrentStatisticsOptions(CurrentCovariance: true)];
        return Enumerable.Range(1, CoarseSamplingCorrection.FromOrder(CorrectionOrder).Lags)
            .Select(lag => Windowed ? new CurrentStatisticsOptions(Lag: lag, Windows: Windows, TimeDegree: TimeDegree, TimeLocalToWindow: !Joint) : new CurrentStatisticsOptions(Lag: lag))
            .ToArray();
    }

    /// <summary>The estimate from statistics accumulated with <see cref="StatisticsOptions"/> (in that order).</summary>
    public CurrentEstimateResult Estimate(IReadOnlyList<CurrentStatistics> stats)
    {
        var expected = StatisticsOptions();
        if (stats.Count != expected.Count || stats.Zip(expected).Any(p => p.First.Options != p.Second))
            throw new InvalidInputException($"the statistics were accumulated for other settings ({Describe(stats.Select(s => s.Options))}) than this estimate needs ({Describe(expected)}).");
        if (Method == "tur")
            return new CurrentEstimateResult(EntropyProductionEstimator.Tur(stats[0], Errors, NoiseRobust))
            {
                MeasurementNoise = NoiseRobust ? EntropyProductionEstimator.TurRemovedNoise(stats[0], Errors) : null,
            };
        var noise = Diffusion.NoiseRobust ? EntropyProductionEstimator.RemovedNoise(stats[0], Diffusion, Errors) : null;
        if (Windowed)
        {
            var series = EntropyProductionEstimator.Windows(stats, Diffusion, Joint, Errors, CorrectionOrder);
            return new CurrentEstimateResult(series.Overall, null, series) { MeasurementNoise = noise };
        }
        var force = EntropyProductionEstimator.Current(stats[0], Diffusion, Errors);
        if (CorrectionOrder == 0) return new CurrentEstimateResult(force.EntropyProduction, null, null, force.Force) { MeasurementNoise = noise };
        var corrected = EntropyProductionEstimator.CoarseSamplingCorrected(stats, Diffusion, Errors, CorrectionOrder);
        return new CurrentEstimateResult(corrected, force.EntropyProduction, null, force.Force) { MeasurementNoise = noise };
    }

    /// <summary>
    /// Streams a file through the statistics in chunks of at most about <paramref name="chunkValues"/> values (two chunks
    /// are held: one accumulated while the next is read), on up to <paramref name="maxDegreeOfParallelism"/> threads (-1: all
    /// cores; the same bits for any count). <paramref name="runLayout"/>: batches of the whole run for a shard
    /// (see <see cref="CurrentStatistics.Accumulate(TrajectoryReader, IBasis, IReadOnlyList{CurrentStatisticsOptions}, ErrorOptions, long, bool, int)"/>).
    /// </summary>
    public IReadOnlyList<CurrentStatistics> Accumulate(TrajectoryReader reader, IBasis basis, long chunkValues, bool runLayout = false,
        int maxDegreeOfParallelism = -1)
    {
        if (CorrectionOrder > 0 && !Windowed && Method == "current") CoarseSamplingCorrection.FromOrder(CorrectionOrder).CheckFrames(reader.Header.Frames);
        return CurrentStatistics.Accumulate(reader, basis, StatisticsOptions(), Errors, chunkValues, runLayout, maxDegreeOfParallelism);
    }

    private static string Describe(IEnumerable<CurrentStatisticsOptions> options) =>
        string.Join("; ", options.Select(o => $"lag {o.Lag}, {o.Windows} window(s), time degree {o.TimeDegree}{(o.TimeLocalToWindow ? "" : " joint")}{(o.CurrentCovariance ? ", current covariance" : "")}"));
}
