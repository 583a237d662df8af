namespace ThermoLearn.Simulation.Schemes;

/// <summary>
/// A scheme as a value (the problem / scheme / options split of StochasticDiffEq.jl): its --scheme name, the orders it
/// declares and the noise it is built for. Tests measure the declared weak orders (WeakOrderTests).
/// </summary>
public interface IScheme
{
    /// <summary>Name used by --scheme.</summary>
    string Name { get; }

    /// <summary>Weak order p: |E f(x_T) - E f(X_T)| = O(dt^p) for smooth f; infinity for a scheme exact in law.</summary>
    double WeakOrder { get; }

    /// <summary>Strong (pathwise) order for the declared noise; infinity for a scheme exact in law.</summary>
    double StrongOrder { get; }

    /// <summary>The noise the orders hold for: "additive" (constant diffusion matrix).</summary>
    string Noise { get; }
}
