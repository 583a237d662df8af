using ThermoLearn.Randomness;

namespace ThermoLearn.Models;

/// <summary>
/// An underdamped Langevin model: dx = v dt, m dv = (F(x,t) - gamma v) dt + sqrt(2 gamma T) dW with
/// F = -grad V(x; lambda(t)) + f_nc. A simulated frame stores (x_1..x_d, v_1..v_d), so
/// <see cref="StateDimension"/> = 2d. Energetics: E = V + m v^2 / 2; heat to the bath is the kinetic
/// energy removed by friction and noise; work W = int dt dV/dt|_x + int f_nc o dx.
/// </summary>
public abstract class UnderdampedModel : StochasticModel
{
    protected UnderdampedModel(string name, IReadOnlyDictionary<string, string> parameters, int dimension,
        double mass, double friction, double temperature)
        : base(name, parameters)
    {
        Dimension = dimension;
        Mass = RequirePositive(name, "m", mass);
        Friction = RequirePositive(name, "gamma", friction);
        Temperature = RequirePositive(name, "T", temperature);
    }

    /// <summary>Dimension d of the position.</summary>
    public int Dimension { get; }

    public override int StateDimension => 2 * Dimension;

    public double Mass { get; }

    /// <summary>Friction coefficient gamma.</summary>
    public double Friction { get; }

    public double Temperature { get; }

    /// <summary>V(x; lambda(t)).</summary>
    public abstract double Energy(ReadOnlySpan<double> x, double t);

    /// <summary>Writes -grad_x V.</summary>
    public abstract void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force);

    /// <summary>Adds f_nc(x, t).</summary>
    public virtual void AddNonConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force) { }

    /// <summary>Writes F = -grad V + f_nc.</summary>
    public void Force(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        ConservativeForce(x, t, force);
        AddNonConservativeForce(x, t, force);
    }

    /// <summary>Draws (x(0), v(0)).</summary>
    public abstract void SampleInitial(ref RandomStream random, Span<double> x, Span<double> v);
}
