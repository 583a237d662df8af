namespace ThermoLearn.Simulation.Schemes;

/// <summary>The integrators by name (the values of --scheme); docs/guides/choosing-a-scheme.md says which when.</summary>
public static class SchemeCatalog
{
    /// <summary>Schemes for overdamped models.</summary>
    public static IReadOnlyList<IOverdampedScheme> Overdamped { get; } = [EulerMaruyama.Instance, StochasticHeun.Instance];

    /// <summary>Every scheme name: the overdamped ones, "exact" for linear models and "baoab" for underdamped models.</summary>
    public static IReadOnlyList<string> Names => Overdamped.Select(s => s.Name).Append(ExactLinear.Instance.Name).Append(Baoab.Instance.Name).ToArray();

    /// <summary>The overdamped scheme called <paramref name="name"/>.</summary>
    /// <exception cref="InvalidInputException">Unknown name, or a scheme that does not apply to overdamped models.</exception>
    public static IOverdampedScheme FindOverdamped(string name)
    {
        foreach (var s in Overdamped)
            if (s.Name == name) return s;
        throw new InvalidInputException($"scheme '{name}' does not apply to overdamped models; use one of {string.Join(", ", Overdamped.Select(s => s.Name))}.");
    }
}
