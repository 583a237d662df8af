using ThermoLearn.Models;

namespace ThermoLearn.Simulation.Schemes;

/// <summary>
/// BAOAB splitting for underdamped Langevin dynamics (Leimkuhler &amp; Matthews, Appl. Math. Res. Express
/// 2013, 34; doi:10.1093/amrx/abs010): half kick B, half drift A, exact Ornstein-Uhlenbeck O
/// v -> c v + sqrt((1 - c^2) T / m) z with c = exp(-gamma dt / m), half drift, half kick.
/// Configurational averages are accurate to O(dt^2) (weak order 2). The kinetic energy the O step removes is
/// the heat given to the bath (Sivak, Chodera &amp; Crooks, PRX 3, 011007 (2013)).
/// </summary>
public sealed class Baoab : IScheme
{
    public static Baoab Instance { get; } = new();

    public string Name => "baoab";
    public double WeakOrder => 2;

    /// <summary>Strong order 1 for additive noise (a symmetric splitting of exact flows; not measured here).</summary>
    public double StrongOrder => 1;
    public string Noise => "additive";

    /// <summary>Standard normals per step: one per velocity component.</summary>
    public int NormalsPerStep(int dimension) => dimension;

    /// <summary>Advances (x, v) from t to t + dt; returns the heat released to the bath in the O step.</summary>
    public double Step(UnderdampedModel model, Span<double> x, Span<double> v, double t, double dt, ReadOnlySpan<double> normals, Span<double> force)
    {
        int d = x.Length;
        double m = model.Mass;
        double c = Math.Exp(-model.Friction * dt / m);
        double kick = Math.Sqrt(-double.ExpM1(-2 * model.Friction * dt / m) * model.Temperature / m);
        model.Force(x, t, force);
        for (int i = 0; i < d; i++) v[i] += 0.5 * dt * force[i] / m;
        for (int i = 0; i < d; i++) x[i] += 0.5 * dt * v[i];
        double heat = 0;
        for (int i = 0; i < d; i++)
        {
            double before = v[i];
            v[i] = c * before + kick * normals[i];
            heat += 0.5 * m * (before * before - v[i] * v[i]);
        }
        for (int i = 0; i < d; i++) x[i] += 0.5 * dt * v[i];
        model.Force(x, t + dt, force);
        for (int i = 0; i < d; i++) v[i] += 0.5 * dt * force[i] / m;
        return heat;
    }
}
