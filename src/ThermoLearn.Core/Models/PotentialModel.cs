using ThermoLearn.Protocols;

namespace ThermoLearn.Models;

/// <summary>
/// Overdamped motion in a potential V(x; lambda(t)) driven by a protocol, one bath:
/// dx = mu F dt + sqrt(2 mu T) dW with F = -grad V. The work is W = int dt (dlambda/dt) . dV/dlambda.
/// </summary>
public abstract class PotentialModel : OverdampedModel
{
    private readonly IPotential _potential;
    private readonly IProtocol _protocol;

    protected PotentialModel(string name, IReadOnlyDictionary<string, string> parameters, IPotential potential, IProtocol protocol,
        double mobility, double temperature)
        : base(name, parameters, Enumerable.Repeat(RequirePositive(name, "mu", mobility), potential.Dimension).ToArray(),
               Statistics.DenseMatrix.Diagonal(Enumerable.Repeat(mobility * RequirePositive(name, "T", temperature), potential.Dimension).ToArray()))
    {
        if (protocol.ControlCount != potential.ControlCount)
            throw new InvalidInputException($"{name}: the protocol has {protocol.ControlCount} controls but the potential needs {potential.ControlCount}.");
        _potential = potential;
        _protocol = protocol;
        MobilityValue = mobility;
        Temperature = temperature;
    }

    /// <summary>The scalar mobility mu.</summary>
    public double MobilityValue { get; }

    /// <summary>Bath temperature T.</summary>
    public double Temperature { get; }

    public IPotential Potential => _potential;

    public IProtocol Protocol => _protocol;

    public override double? Duration => _protocol.Duration;

    public override double Energy(ReadOnlySpan<double> x, double t)
    {
        Span<double> lambda = stackalloc double[_protocol.ControlCount];
        _protocol.Evaluate(t, lambda);
        return _potential.Energy(x, lambda);
    }

    public override void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        Span<double> lambda = stackalloc double[_protocol.ControlCount];
        _protocol.Evaluate(t, lambda);
        _potential.Force(x, lambda, force);
    }
}
