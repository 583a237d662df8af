namespace ThermoLearn.Inference;

/// <summary>
/// How an estimate was made: enough to reproduce it.
/// </summary>
/// <param name="Dt">Frame spacing of the data.</param>
/// <param name="Lag">Frames per transition (the coarse-sampling correction combines lags 1 and 2).</param>
/// <param name="Errors">How the standard error was obtained, e.g. "jackknife over 50 time blocks".</param>
/// <param name="Diffusion">The diffusion matrix used (row-major d x d), or empty when none is needed.</param>
/// <param name="DiffusionSource">"given", "second cumulant, drift-corrected" or "second cumulant less the measurement noise of successive increments, drift-corrected".</param>
/// <param name="TimeDegree">Degree of the Legendre time basis (0: stationary fields).</param>
public sealed record EstimateSettings(double Dt, int Lag, string Errors, IReadOnlyList<double> Diffusion, string DiffusionSource, int TimeDegree = 0);

/// <summary>
/// An entropy-production rate (k_B = 1, per unit time of the data) with its standard error and a value
/// with the leading finite-data bias removed.
/// </summary>
/// <param name="Rate">The estimate sigma_hat.</param>
/// <param name="StandardError">One standard error of <paramref name="Rate"/> (calibrated: batch resampling, see <see cref="ErrorOptions"/>).</param>
/// <param name="Debiased">Rate minus its finite-data bias (current, TUR, windows: the jackknife or bootstrap estimate over batches; jump counts: the closed form); equals Rate when the method has no such bias.</param>
/// <param name="Method">"current", "current+richardson", "tur", "jump", "underdamped", ...</param>
/// <param name="Basis">Basis specification, e.g. "poly:2"; "" for basis-free methods.</param>
/// <param name="Frames">Frames used (trajectories x frames).</param>
/// <param name="Transitions">Transitions used.</param>
/// <param name="ObservedTime">Total observed time tau_total.</param>
/// <param name="Settings">How the estimate was made.</param>
public sealed record EntropyProductionEstimate(double Rate, double StandardError, double Debiased, string Method, string Basis,
    long Frames, long Transitions, double ObservedTime, EstimateSettings Settings)
{
    /// <summary>What <see cref="Rate"/> estimates; an exact value is comparable only when it is of the same quantity.</summary>
    public EstimatedQuantity? Quantity { get; init; }
}

/// <summary>
/// The quantity an estimate targets. Data sampled every dt carry two different EP rates: the continuous-time rate sigma of
/// the process, and the EP per unit time of the chain sampled every dt, KL(forward pair law || reversed pair law) / dt, which
/// is smaller (data processing) and tends to sigma as dt -> 0. Bounds and per-step values are further quantities.
/// </summary>
/// <param name="Id">Machine name (JSON "quantity").</param>
/// <param name="Description">For people.</param>
public sealed record EstimatedQuantity(string Id, string Description)
{
    /// <summary>sigma of the continuous-time process (per unit time), possibly with a stated dt bias.</summary>
    public static EstimatedQuantity ContinuousRate { get; } = new("continuous_ep_rate", "continuous-time EP rate (per unit time)");

    /// <summary>KL rate of the chain sampled every dt: sum p_i P_ij ln(P_ij / P_ji) / dt.</summary>
    public static EstimatedQuantity SampledChainRate { get; } = new("sampled_chain_ep_rate", "EP per unit time of the chain sampled every dt (KL rate of frame pairs / dt)");

    /// <summary>A lower bound on sigma (TUR, or a variational value at a suboptimal field).</summary>
    public static EstimatedQuantity ContinuousLowerBound { get; } = new("continuous_ep_rate_lower_bound", "lower bound on the continuous-time EP rate");

    /// <summary>A variational lower bound on the sampled chain's KL rate (NEEP on frame pairs).</summary>
    public static EstimatedQuantity SampledChainLowerBound { get; } = new("sampled_chain_ep_rate_lower_bound", "lower bound on the EP per unit time of the chain sampled every dt");
}

/// <summary>The rate in one time window [Start, End) of non-stationary data.</summary>
public sealed record WindowedRate(double Start, double End, double Rate, double StandardError, double Debiased)
{
    public double Centre => 0.5 * (Start + End);
}

/// <summary>sigma(t) of non-stationary data on time windows, plus the rate over the whole record.</summary>
public sealed record EntropyProductionTimeSeries(IReadOnlyList<WindowedRate> Windows, EntropyProductionEstimate Overall, string Fit);

/// <summary>The thermodynamic force d = D^-1 v learned from the current loss, and the EP rate it gives.</summary>
public sealed record ThermodynamicForceEstimate(EntropyProductionEstimate EntropyProduction, LinearVectorField Force);

/// <summary>A diffusion matrix (row-major d x d) with the standard error of each entry.</summary>
public sealed record DiffusionEstimate(IReadOnlyList<double> Matrix, IReadOnlyList<double> StandardErrors, string Method, int Dimension);

/// <summary>
/// The covariance Sigma (row-major d x d) of white measurement noise on the positions, y_f = x_f + eta_f with Cov(eta) = Sigma,
/// from successive increments: Sigma = -&lt;dy_f dy_{f+1}^T&gt; + its drift term (docs/inference.md, "Measurement noise"), with the
/// standard error of each entry.
/// </summary>
public sealed record MeasurementNoiseEstimate(IReadOnlyList<double> Covariance, IReadOnlyList<double> StandardErrors, int Dimension)
{
    /// <summary>
    /// The largest factor by which removing the noise's share multiplied an observed moment and its standard error: for a Fourier
    /// basis exp(q^T Sigma q / 2) at the Gram's highest wavevector (2K harmonics); 1 where the correction only subtracts (polynomial
    /// and affine corrections). Above <see cref="AmplificationWarning"/> the fields are much noisier than the data's size suggests.
    /// </summary>
    public double Amplification { get; init; } = 1;

    /// <summary>The amplification above which the noise's removal is flagged (3: nine times the data for the same precision).</summary>
    public static double AmplificationWarning => GaussianDeconvolution.AmplificationWarning;
}

/// <summary>
/// Drift (mu F), diffusion, score (grad ln p) and mean local velocity v = mu F - D s inferred from one data set.
/// With a coarse-sampling correction (<see cref="Correction"/>, <see cref="DynamicsEstimator"/>) the drift, score and v are the
/// continuous-time fields with the O(dt) term removed, D has its O(dt^2) term removed as well (its drift correction removes the O(dt)
/// one at each lag), and <see cref="Uncorrected"/> holds the lag-dt fields and the lag-1 D.
/// </summary>
public sealed record DynamicsEstimate(LinearVectorField Drift, DiffusionEstimate Diffusion, LinearVectorField Score,
    LinearVectorField MeanLocalVelocity, long Frames, long Transitions, EstimateSettings Settings)
{
    /// <summary>The coarse-sampling correction of the drift, score and v (<see cref="CoarseSamplingCorrection.None"/>: the lag-dt fields).</summary>
    public CoarseSamplingCorrection Correction { get; init; } = CoarseSamplingCorrection.None;

    /// <summary>With a correction: the lag-dt drift (E[x(t + dt) | x(t)] - x(t))/dt, score and v, and the lag-1 (drift-corrected) D; else null.</summary>
    public DynamicsFields? Uncorrected { get; init; }

    /// <summary>With a correction: how far it moved the drift, in the metric of the noise; else null.</summary>
    public CorrectionSize? DriftCorrection { get; init; }

    /// <summary>The measurement noise removed from the moments (noise-robust inference), or null.</summary>
    public MeasurementNoiseEstimate? MeasurementNoise { get; init; }
}

/// <summary>Drift, score, mean local velocity and diffusion of one lag (the uncorrected ones of a corrected <see cref="DynamicsEstimate"/>).</summary>
public sealed record DynamicsFields(LinearVectorField Drift, LinearVectorField Score, LinearVectorField MeanLocalVelocity, DiffusionEstimate Diffusion);

/// <summary>
/// The size of a coarse-sampling correction of a field F: <paramref name="Value"/> = ||F_corrected|| with its standard error and
/// <paramref name="Change"/> = ||F_corrected - F_lag1||, in the metric of the noise ||F||^2 = &lt;F^T D^-1 F&gt; over the data (the Ito
/// loss's metric: unchanged by a linear change of coordinates or of basis).
/// </summary>
public sealed record CorrectionSize(double Value, double StandardError, double Change)
{
    /// <summary>Change / Value: the correction as a fraction of the corrected field.</summary>
    public double Fraction => Change / Value;

    /// <summary>The fraction when the correction is too large to be trusted (<see cref="CoarseSamplingCorrection.UntrustedFraction(double, double, double)"/>); else null.</summary>
    public double? UntrustedFraction => CoarseSamplingCorrection.UntrustedFraction(Value, Change, StandardError);
}
