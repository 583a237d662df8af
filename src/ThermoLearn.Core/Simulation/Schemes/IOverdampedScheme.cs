using ThermoLearn.Models;

namespace ThermoLearn.Simulation.Schemes;

/// <summary>
/// One step of an integrator for overdamped models dx = a(x,t) dt + sqrt(2D) dW with additive noise.
/// The caller supplies the standard normals, so a scheme is a pure function of (x, t, dt, normals):
/// the same noise gives the same path whatever thread or shard runs it, and tests can probe the step.
/// </summary>
public interface IOverdampedScheme : IScheme
{

    /// <summary>Standard normals consumed per step for a model of dimension d.</summary>
    int NormalsPerStep(int dimension);

    /// <summary>Scratch doubles needed per trajectory.</summary>
    int ScratchLength(int dimension);

    /// <summary>Advances x from t to t + dt using <paramref name="normals"/> (length <see cref="NormalsPerStep"/>).</summary>
    void Step(OverdampedModel model, Span<double> x, double t, double dt, ReadOnlySpan<double> normals, Span<double> scratch);
}
