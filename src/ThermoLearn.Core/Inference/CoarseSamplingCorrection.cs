namespace ThermoLearn.Inference;

/// <summary>
/// The coarse-sampling correction of an estimator whose value at frame spacing dt converges as
/// sigma(dt) = sigma + c_1 dt + c_2 dt^2 + ...: Richardson extrapolation sum_l w_l sigma(l dt) over lags l = 1..Order+1
/// of the same data, with weights that cancel the first <see cref="Order"/> powers of dt:
/// order 1 (lags 1, 2): 2 sigma(dt) - sigma(2 dt); order 2 (lags 1-3): 3 sigma(dt) - 3 sigma(2 dt) + sigma(3 dt)
/// (docs/inference.md). The set is closed: <see cref="None"/>, <see cref="Richardson"/>, <see cref="Richardson2"/>.
/// Both the linear (<see cref="EntropyProductionEstimator"/>) and the neural current estimators use it.
/// </summary>
public sealed class CoarseSamplingCorrection
{
    private readonly double[] _weights;

    private CoarseSamplingCorrection(int order, string name, double[] weights)
    {
        Order = order;
        Name = name;
        _weights = weights;
    }

    /// <summary>No correction: the lag-1 estimate.</summary>
    public static CoarseSamplingCorrection None { get; } = new(0, "none", [1]);

    /// <summary>Lags 1 and 2: 2 sigma(dt) - sigma(2 dt) cancels the O(dt) term.</summary>
    public static CoarseSamplingCorrection Richardson { get; } = new(1, "richardson", [2, -1]);

    /// <summary>Lags 1-3: 3 sigma(dt) - 3 sigma(2 dt) + sigma(3 dt) cancels the O(dt) and O(dt^2) terms.</summary>
    public static CoarseSamplingCorrection Richardson2 { get; } = new(2, "richardson2", [3, -3, 1]);

    /// <summary>Every correction, by order.</summary>
    public static IReadOnlyList<CoarseSamplingCorrection> All { get; } = [None, Richardson, Richardson2];

    /// <summary>Powers of dt cancelled (0, 1 or 2).</summary>
    public int Order { get; }

    /// <summary>Machine name: "none", "richardson" or "richardson2".</summary>
    public string Name { get; }

    /// <summary>Weight w_l of the estimate at lag l = index + 1.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <summary>Lags combined: 1..Order+1.</summary>
    public int Lags => Order + 1;

    /// <summary>Frames a trajectory needs for the largest lag to hold one transition and the smallest two.</summary>
    public int MinimumFrames => Order + 2;

    /// <summary>The method name of a corrected estimate: <paramref name="method"/> itself, or e.g. "current+richardson".</summary>
    public string Label(string method) => Order == 0 ? method : $"{method}+{Name}";

    /// <summary>The correction of order 0, 1 or 2.</summary>
    public static CoarseSamplingCorrection FromOrder(int order) =>
        order is >= 0 and <= 2 ? All[order]
            : throw new InvalidInputException($"The coarse-sampling correction order must be 0 (none), 1 (lags 1, 2) or 2 (lags 1, 2, 3); got {order}.");

    /// <summary>The correction named <paramref name="name"/> (<see cref="Name"/>), or null when there is none of that name.</summary>
    public static CoarseSamplingCorrection? TryParse(string name) => All.FirstOrDefault(c => c.Name == name);

    /// <summary>Throws when trajectories of <paramref name="frames"/> frames are too short for this correction.</summary>
    public void CheckFrames(int frames)
    {
        if (frames < MinimumFrames)
            throw new InvalidInputException($"The order-{Order} coarse-sampling correction needs at least {MinimumFrames} frames per trajectory (got {frames}).");
    }

    /// <summary>sum_l w_l value(l) over the lags l = 1..Order+1.</summary>
    public double Combine(Func<int, double> valueAtLag)
    {
        double sum = 0;
        for (int l = 0; l < _weights.Length; l++) sum += _weights[l] * valueAtLag(l + 1);
        return sum;
    }

    /// <summary>
    /// The largest correction, as a fraction of the corrected value, whose remainder is small. The correction cancels the O(dt) term
    /// and leaves O(dt^2): when the first-order term is a fraction f of the value the remainder grows as f^2 and faster.
    /// Measured (docs/inference.md): a correction of 4% left -0.16% (bead-spring n=2, dt k/gamma = 0.01), one of 24% left -11%
    /// (dt k/gamma = 0.1), 23% left -11% (driven trap, rate x dt = 0.2), 40% left -48% (dt k/gamma = 0.3). Above 20% the remainder is
    /// about 10% or more, several standard errors at ordinary data sizes.
    /// </summary>
    public const double TrustedFraction = 0.2;

    /// <summary>
    /// (corrected - lag-1) / corrected when the correction is too large to be trusted: its size above <see cref="TrustedFraction"/>
    /// of the corrected value and above 2 standard errors of it (so that the noise of a rate near zero does not pass for one);
    /// else null. The values themselves are not changed.
    /// </summary>
    public static double? UntrustedFraction(EntropyProductionEstimate corrected, EntropyProductionEstimate lagOne)
    {
        ArgumentNullException.ThrowIfNull(corrected);
        ArgumentNullException.ThrowIfNull(lagOne);
        return UntrustedFraction(corrected.Rate, corrected.Rate - lagOne.Rate, corrected.StandardError);
    }

    /// <summary>
    /// The same rule for any corrected quantity: <paramref name="correction"/> / <paramref name="corrected"/> when its size is above
    /// <see cref="TrustedFraction"/> and the correction above 2 standard errors of the corrected value; else null. (The drift of
    /// <see cref="DynamicsEstimator"/>: its size and that of its correction in the metric of the noise, <see cref="CorrectionSize"/>.)
    /// </summary>
    public static double? UntrustedFraction(double corrected, double correction, double correctedStandardError)
    {
        double fraction = correction / corrected;
        return Math.Abs(fraction) > TrustedFraction && Math.Abs(correction) > 2 * correctedStandardError ? fraction : null;
    }

    public override string ToString() => Name;
}
