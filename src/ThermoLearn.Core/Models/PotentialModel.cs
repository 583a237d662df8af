using ThermoLearn.Protocols;
using ThermoLearn.Simulation.ForceFields;

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
        Mobility = mobility;
        Temperature = temperature;
    }

    /// <summary>The mobility mu, the same for every coordinate (each of <see cref="OverdampedModel.Mobilities"/>).</summary>
    public double Mobility { get; }

    /// <summary>Bath temperature T.</summary>
    public double Temperature { get; }

    public IPotential Potential => _potential;

    /// <summary>One bath: the temperature T (medium entropy Q / T).</summary>
    public override double? BathTemperature => Temperature;

    /// <summary>Hands the potential, unboxed, to <paramref name="visitor"/> when it runs on lanes; default when it does not.</summary>
    internal virtual TResult? Accept<TResult>(IForceFieldVisitor<TResult> visitor) => default;

    public IProtocol Protocol => _protocol;

    public override double? Duration => _protocol.Duration;

    public override double Energy(ReadOnlySpan<double> x, double t)
    {
        Span<double> lambda = stackalloc double[_protocol.ControlCount];
        _protocol.Evaluate(t, lambda);
        return _potential.Energy(x, lambda);
    }

    /// <summary><see cref="IPotential.ControlWork"/> between lambda(t0) and lambda(t1) (one energy evaluation for a potential
    /// linear in its controls).</summary>
    public override double ControlWork(ReadOnlySpan<double> x, double t0, double t1)
    {
        if (t1 == t0) return 0;
        int k = _protocol.ControlCount;
        Span<double> lambda = stackalloc double[2 * k];
        _protocol.Evaluate(t0, lambda[..k]);
        _protocol.Evaluate(t1, lambda[k..]);
        return _potential.ControlWork(x, lambda[..k], lambda[k..]);
    }

    public override void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        Span<double> lambda = stackalloc double[_protocol.ControlCount];
        _protocol.Evaluate(t, lambda);
        _potential.Force(x, lambda, force);
    }
}

/// <summary>Receives a model's potential as its own struct type, so the engine is compiled for it (no interface call per step).</summary>
internal interface IForceFieldVisitor<TResult>
{
    TResult Visit<TField>(TField field) where TField : struct, ILaneForceField;
}

/// <summary>
/// A <see cref="PotentialModel"/> whose potential is a struct the engine evaluates on SIMD lanes
/// (<see cref="ILaneForceField"/>): the simulator runs it on the lane kernel for any protocol.
/// </summary>
public abstract class PotentialModel<TField> : PotentialModel
    where TField : struct, ILaneForceField
{
    private readonly TField _field;

    protected PotentialModel(string name, IReadOnlyDictionary<string, string> parameters, TField potential, IProtocol protocol,
        double mobility, double temperature)
        : base(name, parameters, potential, protocol, mobility, temperature) => _field = potential;

    internal override TResult? Accept<TResult>(IForceFieldVisitor<TResult> visitor) where TResult : default => visitor.Visit(_field);
}
