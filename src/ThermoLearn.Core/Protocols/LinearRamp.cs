namespace ThermoLearn.Protocols;

/// <summary>
/// lambda(t) = lambda0 + (lambda1 - lambda0) t / tau on [0, tau], lambda0 before and lambda1 after:
/// a constant-speed change of every control (a translated trap, a stiffness ramp).
/// </summary>
public sealed class LinearRamp : IProtocol
{
    private readonly double[] _start, _end;

    public LinearRamp(double[] start, double[] end, double duration)
    {
        if (start.Length != end.Length || start.Length == 0)
            throw new InvalidInputException($"linear ramp: start and end need the same non-zero number of controls (got {start.Length} and {end.Length}).");
        if (!(duration > 0) || !double.IsFinite(duration))
            throw new InvalidInputException($"linear ramp: the duration tau must be positive and finite (got {duration}).");
        _start = (double[])start.Clone();
        _end = (double[])end.Clone();
        Duration = duration;
    }

    public int ControlCount => _start.Length;

    public double Duration { get; }

    public void Evaluate(double t, Span<double> lambda)
    {
        double s = Math.Clamp(t / Duration, 0.0, 1.0);
        for (int i = 0; i < _start.Length; i++) lambda[i] = _start[i] + (_end[i] - _start[i]) * s;
    }
}
