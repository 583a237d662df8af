namespace ThermoLearn.Protocols;

/// <summary>lambda(t) = lambda0 for all t: a time-independent model expressed as a protocol (Duration 0).</summary>
public sealed class ConstantProtocol : IProtocol
{
    private readonly double[] _value;

    public ConstantProtocol(params double[] value)
    {
        if (value.Length == 0) throw new InvalidInputException("constant protocol: needs at least one control value.");
        _value = (double[])value.Clone();
    }

    public int ControlCount => _value.Length;

    public double Duration => 0;

    public void Evaluate(double t, Span<double> lambda) => _value.CopyTo(lambda);
}
