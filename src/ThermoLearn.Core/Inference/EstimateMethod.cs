namespace ThermoLearn.Inference;

/// <summary>What an entropy-production method reads beyond the data and the error settings.</summary>
[Flags]
public enum EstimateInputs
{
    /// <summary>Nothing else.</summary>
    None = 0,

    /// <summary>A linear basis (<see cref="Bases.BasisSpec"/>).</summary>
    Basis = 1,

    /// <summary>The diffusion matrix (<see cref="DiffusionSpec"/>).</summary>
    Diffusion = 2,

    /// <summary>The coarse-sampling correction (<see cref="CoarseSamplingCorrection"/>).</summary>
    Correction = 4,

    /// <summary>The linear time basis: its Legendre degree and the joint (x, t) fit.</summary>
    TimeBasis = 8,

    /// <summary>White measurement noise on the positions, removed from the moments (tur: from the currents' variance).</summary>
    NoiseRobust = 16,
}

/// <summary>
/// An entropy-production method of trajectory data, by name: what it reads (<see cref="Reads"/>), whether it gives sigma(t)
/// on time windows. Every method reads a file in chunks (memory bounded by the chunk size rather than by the file); of
/// these, <see cref="CurrentEstimateRequest.Methods"/> run on mergeable statistics that parts can be reduced from. The library's methods are <see cref="EstimateMethods"/>; the neural ones
/// are declared beside their estimator.
/// </summary>
/// <param name="Name">The method's name (current, tur, jump, underdamped, ...).</param>
/// <param name="Description">One line: what it estimates and how.</param>
/// <param name="Reads">The inputs it reads; others given to it are an error rather than silently ignored.</param>
/// <param name="SupportsWindows">Whether it estimates sigma(t) on time windows.</param>
public sealed record EstimateMethod(string Name, string Description, EstimateInputs Reads, bool SupportsWindows);

/// <summary>
/// The library's entropy-production methods and the defaults of an estimate, in one place: <see cref="Current"/> (the
/// linear-basis current loss, <see cref="EntropyProductionEstimator.Current(Trajectories.TrajectoryEnsemble, Bases.IBasis, DiffusionSpec, ErrorOptions?)"/>),
/// <see cref="Tur"/>, <see cref="Jump"/> and <see cref="Underdamped"/>, with the default basis, correction and time degrees.
/// </summary>
public static class EstimateMethods
{
    /// <summary>Linear-basis current loss: theta = G^-1 J, sigma = J^T G^-1 J (with windows: sigma(t)).</summary>
    public static EstimateMethod Current { get; } = new("current", "linear-basis current loss: theta = G^-1 J, sigma = J^T G^-1 J (with windows: sigma(t))",
        EstimateInputs.Basis | EstimateInputs.Diffusion | EstimateInputs.Correction | EstimateInputs.TimeBasis, SupportsWindows: true);

    /// <summary>Short-time TUR lower bound with the optimal current in the basis.</summary>
    public static EstimateMethod Tur { get; } = new("tur", "short-time TUR lower bound with the optimal current in the basis",
        EstimateInputs.Basis | EstimateInputs.NoiseRobust, SupportsWindows: false);

    /// <summary>Discrete states: the continuous-time EP of the maximum-likelihood generator, with the sampled chain's EP beside it.</summary>
    public static EstimateMethod Jump { get; } = new("jump", "discrete states (integer labels): continuous-time EP of the maximum-likelihood generator of the counts, with the sampled "
        + "chain's EP per unit time and its Richardson extrapolation beside it", EstimateInputs.None, SupportsWindows: false);

    /// <summary>Underdamped dynamics from positions only (velocities and accelerations from differences).</summary>
    public static EstimateMethod Underdamped { get; } = new("underdamped", "underdamped dynamics from positions only (velocities and accelerations from differences)",
        EstimateInputs.Basis, SupportsWindows: false);

    /// <summary>The library's methods, <see cref="Current"/> first.</summary>
    public static IReadOnlyList<EstimateMethod> All { get; } = [Current, Tur, Jump, Underdamped];

    /// <summary>The default method.</summary>
    public static EstimateMethod Default => Current;

    /// <summary>The default basis specification (<see cref="Bases.BasisSpec"/>): polynomials of degree 2.</summary>
    public const string DefaultBasis = "poly:2";

    /// <summary>The default diffusion specification: estimated from the second cumulant of the increments.</summary>
    public const string DefaultDiffusion = "auto";

    /// <summary>The default correction: Richardson over lags 1 and 2.</summary>
    public static CoarseSamplingCorrection DefaultCorrection => CoarseSamplingCorrection.Richardson;

    /// <summary>
    /// The default Legendre degree in time of the fields of an estimate: 4 for a joint (x, t) fit, 1 with time windows
    /// (a field linear in t within each window), 0 (stationary) otherwise.
    /// </summary>
    public static int TimeDegree(int windows, bool joint) => joint ? 4 : windows > 1 ? 1 : 0;

    /// <summary>
    /// The default Legendre degree in time of the per-trajectory entropy (<see cref="TrajectoryEntropy"/>), which fits one
    /// field over the whole record: 4 on non-stationary data (windows or a joint fit), 0 otherwise.
    /// </summary>
    public static int PerTrajectoryTimeDegree(int windows, bool joint) => windows > 1 || joint ? 4 : 0;
}
