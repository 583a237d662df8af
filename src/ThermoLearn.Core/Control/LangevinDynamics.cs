namespace ThermoLearn.Control;

/// <summary>
/// The dynamics a control task runs under (docs/control.md, "Conventions and derivations", Dynamics; k_B = 1):
/// overdamped <c>dx = mu F dt + sqrt(2 D) dW</c> with mu = 1/gamma, D = mu T, when <see cref="Mass"/> is null;
/// underdamped <c>dx = v dt, m dv = (F - gamma v) dt + sqrt(2 gamma T) dW</c> otherwise.
/// </summary>
public sealed record LangevinDynamics
{
    public LangevinDynamics(double friction, double temperature, double? mass = null)
    {
        if (!(friction > 0) || !double.IsFinite(friction))
            throw new InvalidInputException($"dynamics: the friction gamma must be positive and finite (got {friction}).");
        if (!(temperature > 0) || !double.IsFinite(temperature))
            throw new InvalidInputException($"dynamics: the temperature T must be positive and finite (got {temperature}).");
        if (mass is { } m && (!(m > 0) || !double.IsFinite(m)))
            throw new InvalidInputException($"dynamics: the mass m must be positive and finite (got {m}).");
        Friction = friction;
        Temperature = temperature;
        Mass = mass;
    }

    /// <summary>gamma.</summary>
    public double Friction { get; }

    /// <summary>T (energy units).</summary>
    public double Temperature { get; }

    /// <summary>m, or null for overdamped dynamics.</summary>
    public double? Mass { get; }

    public bool IsUnderdamped => Mass is not null;

    /// <summary>mu = 1/gamma.</summary>
    public double Mobility => 1 / Friction;
}
