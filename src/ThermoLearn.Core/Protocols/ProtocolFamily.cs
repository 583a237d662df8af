using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Protocols;

/// <summary>
/// A linear family of protocols on [0, tau] with fixed endpoints and free end jumps:
/// lambda(0) = lambda_i, lambda(tau) = lambda_f and, for 0 &lt; t &lt; tau,
/// lambda_c(t) = lambda_i,c + (lambda_f,c - lambda_i,c) t / tau + sum_j theta_(c,j) phi_j(t).
/// theta = 0 is the straight line; basis functions that do not vanish at t -> 0+ or t -> tau-
/// carry the end jumps (optimal protocols jump at both ends: Schmiedl &amp; Seifert, PRL 98, 108301, 2007).
/// Parameters are ordered control-major: index p = c * <see cref="ParametersPerControl"/> + j, so
/// d lambda_c / d theta_p = phi_j(t) if p belongs to control c, else 0.
/// </summary>
public abstract class ProtocolFamily
{
    private readonly double[] _start;
    private readonly double[] _end;

    protected ProtocolFamily(double duration, IReadOnlyList<double> start, IReadOnlyList<double> end, int parametersPerControl)
    {
        if (!(duration > 0) || !double.IsFinite(duration))
            throw new InvalidInputException($"protocol: the duration tau must be a positive finite number (got {duration}).");
        if (start.Count == 0 || start.Count != end.Count)
            throw new InvalidInputException($"protocol: start and end need the same number (>= 1) of controls (got {start.Count} and {end.Count}).");
        if (start.Concat(end).Any(v => !double.IsFinite(v)))
            throw new InvalidInputException("protocol: the endpoint controls must be finite numbers.");
        Duration = duration;
        _start = start.ToArray();
        _end = end.ToArray();
        ParametersPerControl = parametersPerControl;
    }

    /// <summary>Short name used in protocol files: "piecewise-linear" or "sine".</summary>
    public abstract string Kind { get; }

    public double Duration { get; }
    public int ControlCount => _start.Length;
    public int ParametersPerControl { get; }
    public int ParameterCount => ControlCount * ParametersPerControl;
    public ReadOnlySpan<double> Start => _start;
    public ReadOnlySpan<double> End => _end;

    /// <summary>The control that parameter <paramref name="p"/> moves.</summary>
    public int ControlOf(int p) => p / ParametersPerControl;

    /// <summary>phi_j(t) for 0 &lt;= t &lt;= tau, the values at 0 and tau being the limits from inside.</summary>
    public abstract double Basis(int j, double t);

    /// <summary>lambda(t) of the interior (the limit from inside at t = 0 and t = tau).</summary>
    public void EvaluateInterior(ReadOnlySpan<double> theta, double t, Span<double> lambda)
    {
        CheckLength(theta);
        double s = Math.Clamp(t / Duration, 0, 1);
        for (int c = 0; c < ControlCount; c++)
        {
            double value = _start[c] + (_end[c] - _start[c]) * s;
            for (int j = 0; j < ParametersPerControl; j++) value += theta[c * ParametersPerControl + j] * Basis(j, t);
            lambda[c] = value;
        }
    }

    /// <summary>The protocol with parameters <paramref name="theta"/> (copied).</summary>
    public ParameterisedProtocol WithParameters(ReadOnlySpan<double> theta)
    {
        CheckLength(theta);
        return new ParameterisedProtocol(this, theta.ToArray());
    }

    /// <summary>
    /// Least-squares parameters whose interior best matches <paramref name="target"/>(t, control) on a
    /// fine grid of (0, tau): used to start an optimisation from a physicist's guess.
    /// </summary>
    public double[] Fit(Func<double, int, double> target, int gridPoints = 401)
    {
        int m = ParametersPerControl;
        var design = Matrix<double>.Build.Dense(gridPoints, m);
        var times = new double[gridPoints];
        for (int g = 0; g < gridPoints; g++)
        {
            times[g] = Duration * g / (gridPoints - 1);
            for (int j = 0; j < m; j++) design[g, j] = Basis(j, times[g]);
        }
        var theta = new double[ParameterCount];
        for (int c = 0; c < ControlCount; c++)
        {
            var rhs = Vector<double>.Build.Dense(gridPoints,
                g => target(times[g], c) - (_start[c] + (_end[c] - _start[c]) * times[g] / Duration));
            var solution = design.QR().Solve(rhs);
            for (int j = 0; j < m; j++) theta[c * m + j] = solution[j];
        }
        return theta;
    }

    private void CheckLength(ReadOnlySpan<double> theta)
    {
        if (theta.Length != ParameterCount)
            throw new InvalidInputException($"protocol ({Kind}): expected {ParameterCount} parameters ({ControlCount} controls x {ParametersPerControl}), got {theta.Length}.");
    }
}

/// <summary>
/// Piecewise-linear interior through <c>K</c> equally spaced knots t_j = j tau / (K - 1): phi_j are hat
/// functions, so theta_(c,j) is the offset of lambda_c(t_j) from the straight line, and the first and
/// last knots are the values just after the start jump and just before the end jump.
/// </summary>
public sealed class PiecewiseLinearFamily : ProtocolFamily
{
    public PiecewiseLinearFamily(double duration, IReadOnlyList<double> start, IReadOnlyList<double> end, int knots)
        : base(duration, start, end, knots)
    {
        if (knots < 2) throw new InvalidInputException($"piecewise-linear protocol: needs at least 2 knots (got {knots}).");
    }

    public override string Kind => "piecewise-linear";
    public int Knots => ParametersPerControl;

    /// <summary>Time of knot <paramref name="j"/>.</summary>
    public double KnotTime(int j) => Duration * j / (Knots - 1);

    public override double Basis(int j, double t)
    {
        double u = Math.Clamp(t / Duration, 0, 1) * (Knots - 1) - j;
        return Math.Max(0, 1 - Math.Abs(u));
    }
}

/// <summary>
/// Smooth interior: phi_0 = 1 - t/tau and phi_1 = t/tau carry the start and end jumps, and
/// phi_(n+1) = sin(n pi t / tau), n = 1..modes, shape the interior without moving the jumps.
/// </summary>
public sealed class SineSeriesFamily : ProtocolFamily
{
    public SineSeriesFamily(double duration, IReadOnlyList<double> start, IReadOnlyList<double> end, int modes)
        : base(duration, start, end, modes + 2)
    {
        if (modes < 0) throw new InvalidInputException($"sine-series protocol: the number of modes must be >= 0 (got {modes}).");
    }

    public override string Kind => "sine";
    public int Modes => ParametersPerControl - 2;

    public override double Basis(int j, double t)
    {
        double s = Math.Clamp(t / Duration, 0, 1);
        return j switch
        {
            0 => 1 - s,
            1 => s,
            _ => Math.Sin((j - 1) * Math.PI * s),
        };
    }
}
