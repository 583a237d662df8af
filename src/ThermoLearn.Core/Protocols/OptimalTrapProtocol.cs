namespace ThermoLearn.Protocols;

/// <summary>
/// The protocol of least mean work for dragging a harmonic trap V = k (x - lambda)^2 / 2 from lambda_i to lambda_f
/// in time tau, overdamped with friction gamma, starting in equilibrium (Schmiedl &amp; Seifert, PRL 98, 108301, 2007,
/// doi:10.1103/PhysRevLett.98.108301): lambda*(t) = lambda_i + (lambda_f - lambda_i) (1 + k t / gamma) / (k tau / gamma + 2)
/// for 0 &lt; t &lt; tau, lambda_i at t &lt;= 0 and lambda_f at t &gt;= tau, so it jumps at both ends. Its mean work is
/// <see cref="Control.HarmonicTranslation.OptimalWork"/>.
/// </summary>
public sealed class OptimalTrapProtocol : IProtocol
{
    private readonly double _stiffness, _friction, _start, _end;

    public OptimalTrapProtocol(double stiffness, double friction, double start, double end, double duration)
    {
        if (!(stiffness > 0) || !double.IsFinite(stiffness))
            throw new InvalidInputException($"optimal trap protocol: the stiffness k must be positive and finite (got {stiffness}).");
        if (!(friction > 0) || !double.IsFinite(friction))
            throw new InvalidInputException($"optimal trap protocol: the friction gamma must be positive and finite (got {friction}).");
        if (!double.IsFinite(start) || !double.IsFinite(end))
            throw new InvalidInputException($"optimal trap protocol: the trap positions must be finite (got lambda_i = {start}, lambda_f = {end}).");
        if (!(duration > 0) || !double.IsFinite(duration))
            throw new InvalidInputException($"optimal trap protocol: the duration tau must be positive and finite (got {duration}).");
        _stiffness = stiffness;
        _friction = friction;
        _start = start;
        _end = end;
        Duration = duration;
    }

    public int ControlCount => 1;

    public double Duration { get; }

    public void Evaluate(double t, Span<double> lambda) =>
        lambda[0] = t <= 0 ? _start : t >= Duration ? _end : Interior(t);

    /// <summary>The interior formula lambda*(t) at any t (at 0 and tau: the limits from inside, after and before the jumps).</summary>
    public double Interior(double t) =>
        _start + (_end - _start) * (1 + _stiffness * t / _friction) / (_stiffness * Duration / _friction + 2);
}
