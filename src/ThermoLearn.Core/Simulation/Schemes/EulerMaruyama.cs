using ThermoLearn.Models;

namespace ThermoLearn.Simulation.Schemes;

/// <summary>
/// Euler-Maruyama: x_{n+1} = x_n + a(x_n, t_n) dt + sqrt(2 dt) L z, with L L^T = D and z ~ N(0, I).
/// Weak order 1; strong order 1 for additive noise (1/2 in general). Kloeden &amp; Platen,
/// "Numerical Solution of SDEs" (Springer 1992), section 14.1.
/// </summary>
public sealed class EulerMaruyama : IOverdampedScheme
{
    public static EulerMaruyama Instance { get; } = new();

    public string Name => "euler-maruyama";
    public double WeakOrder => 1;
    public double StrongOrder => 1.0;
    public string Noise => "additive";
    public int NormalsPerStep(int dimension) => dimension;
    public int ScratchLength(int dimension) => dimension;

    public void Step(OverdampedModel model, Span<double> x, double t, double dt, ReadOnlySpan<double> normals, Span<double> scratch)
    {
        var drift = scratch[..x.Length];
        model.Drift(x, t, drift);
        for (int i = 0; i < x.Length; i++) x[i] += drift[i] * dt;
        model.AddNoise(x, normals, Math.Sqrt(2 * dt));
    }
}
