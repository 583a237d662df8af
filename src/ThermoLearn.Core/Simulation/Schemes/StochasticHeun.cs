using ThermoLearn.Models;

namespace ThermoLearn.Simulation.Schemes;

/// <summary>
/// Stochastic Heun for additive noise (the explicit weak order-2 scheme of Kloeden &amp; Platen, eq. 15.1.4,
/// with constant diffusion): with the noise increment n = sqrt(2 dt) L z,
/// y = x + a(x, t) dt + n;  x_{n+1} = x + (a(x, t) + a(y, t + dt)) dt / 2 + n.
/// Weak order 2 (additive noise only), strong order 1; two drift evaluations per step.
/// </summary>
public sealed class StochasticHeun : IOverdampedScheme
{
    public static StochasticHeun Instance { get; } = new();

    public string Name => "heun";
    public double WeakOrder => 2;
    public double StrongOrder => 1.0;
    public string Noise => "additive";
    public int NormalsPerStep(int dimension) => dimension;
    public int ScratchLength(int dimension) => 4 * dimension;

    public void Step(OverdampedModel model, Span<double> x, double t, double dt, ReadOnlySpan<double> normals, Span<double> scratch)
    {
        int d = x.Length;
        var a0 = scratch[..d];
        var noise = scratch.Slice(d, d);
        var y = scratch.Slice(2 * d, d);
        var a1 = scratch.Slice(3 * d, d);
        noise.Clear();
        model.AddNoise(noise, normals, Math.Sqrt(2 * dt));
        model.Drift(x, t, a0);
        for (int i = 0; i < d; i++) y[i] = x[i] + a0[i] * dt + noise[i];
        model.Drift(y, t + dt, a1);
        for (int i = 0; i < d; i++) x[i] += 0.5 * (a0[i] + a1[i]) * dt + noise[i];
    }
}
