using ThermoLearn.Randomness;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Neural.Tests.TestData;

/// <summary>
/// Test fixture: overdamped Langevin data dx = mu F(x, t) dt + sqrt(2 D) dW (scalar D = mu T) by
/// Euler-Maruyama with <c>substeps</c> inner steps per saved frame, one <see cref="RandomStream"/> per
/// trajectory. Small and self-contained so the neural tests do not depend on the simulator's options.
/// </summary>
internal static class OverdampedData
{
    public delegate void Force(ReadOnlySpan<double> x, double t, Span<double> force);

    public delegate void Initial(int trajectory, Span<double> x, ref RandomStream random);

    public static TrajectoryEnsemble Simulate(int trajectories, int frames, double dt, int dimension, double mu, double temperature,
        Force force, Initial initial, ulong seed, int substeps = 10)
    {
        var data = new double[(long)trajectories * frames * dimension];
        double h = dt / substeps, noise = Math.Sqrt(2 * mu * temperature * h);
        Parallel.For(0, trajectories, r =>
        {
            var random = RandomStream.For(seed, (ulong)r);
            Span<double> x = stackalloc double[dimension];
            Span<double> f = stackalloc double[dimension];
            var init = RandomStream.For(seed, (ulong)r, purpose: 1);
            initial(r, x, ref init);
            long offset = (long)r * frames * dimension;
            double t = 0;
            for (int frame = 0; frame < frames; frame++)
            {
                x.CopyTo(data.AsSpan((int)(offset + (long)frame * dimension), dimension));
                for (int s = 0; s < substeps; s++)
                {
                    force(x, t, f);
                    for (int j = 0; j < dimension; j++) x[j] += mu * f[j] * h + noise * random.NextGaussian();
                    t += h;
                }
            }
        });
        return new TrajectoryEnsemble(trajectories, frames, dimension, dt, data);
    }

    /// <summary>Driven 2-D trap F = -k x + eps J x (J: rotation by 90 degrees); sigma = 2 mu eps^2 / k (spec section 3).</summary>
    public static TrajectoryEnsemble DrivenTrap(int trajectories, int frames, double dt, ulong seed,
        double k = 1, double eps = 0.3, double mu = 1, double temperature = 0.5)
    {
        double sd = Math.Sqrt(temperature / k); // stationary covariance (T/k) I: start stationary
        return Simulate(trajectories, frames, dt, 2, mu, temperature,
            (x, _, f) => { f[0] = -k * x[0] - eps * x[1]; f[1] = -k * x[1] + eps * x[0]; },
            (int _, Span<double> x, ref RandomStream random) => { x[0] = sd * random.NextGaussian(); x[1] = sd * random.NextGaussian(); },
            seed);
    }
}
