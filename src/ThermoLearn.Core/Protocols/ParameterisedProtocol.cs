namespace ThermoLearn.Protocols;

/// <summary>
/// One member of a <see cref="ProtocolFamily"/>: lambda(t) = lambda_i for t &lt;= 0, lambda_f for
/// t &gt;= tau and the family's interior in between (so jumps show as the difference between
/// Evaluate(0) and Evaluate(0+)). Also answers d lambda / d theta.
/// </summary>
public sealed class ParameterisedProtocol : IProtocol
{
    private readonly double[] _theta;

    internal ParameterisedProtocol(ProtocolFamily family, double[] theta)
    {
        Family = family;
        _theta = theta;
    }

    public ProtocolFamily Family { get; }
    public ReadOnlySpan<double> Parameters => _theta;
    public int ControlCount => Family.ControlCount;
    public double Duration => Family.Duration;

    public void Evaluate(double t, Span<double> lambda)
    {
        if (t <= 0) Family.Start.CopyTo(lambda);
        else if (t >= Duration) Family.End.CopyTo(lambda);
        else Family.EvaluateInterior(_theta, t, lambda);
    }

    /// <summary>
    /// The protocol as samples (its saved form): both end jumps, and for a piecewise-linear family every knot exactly
    /// ((K - 1) * max(1, 200 / (K - 1)) + 1 interior times, so the straight segments between knots are exact), else 201 times.
    /// </summary>
    public TabulatedProtocol Tabulate() =>
        TabulatedProtocol.Sample(this, Family is PiecewiseLinearFamily k ? (k.Knots - 1) * Math.Max(1, 200 / (k.Knots - 1)) + 1 : 201);

    /// <summary>
    /// d lambda_c(t) / d theta_p, row-major k x P, for 0 &lt; t &lt; tau (zero outside: the endpoints are fixed).
    /// </summary>
    public void ParameterDerivative(double t, Span<double> derivative)
    {
        derivative.Clear();
        if (t <= 0 || t >= Duration) return;
        int m = Family.ParametersPerControl, count = Family.ParameterCount;
        for (int c = 0; c < ControlCount; c++)
            for (int j = 0; j < m; j++) derivative[c * count + c * m + j] = Family.Basis(j, t);
    }
}
