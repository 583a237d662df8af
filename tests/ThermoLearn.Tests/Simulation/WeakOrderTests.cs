using ThermoLearn.Models;
using ThermoLearn.Simulation.Schemes;
using Xunit;

namespace ThermoLearn.Tests.Simulation;

/// <summary>
/// Weak orders measured without Monte Carlo noise: on a linear SDE a scheme's step is affine in (x, z),
/// x' = M x + N z, so probing the scheme's own Step with unit vectors gives M and N exactly, and the mean and
/// covariance after n steps follow exactly (m -> M m, S -> M S M^T + N N^T). The weak error of
/// E|x_T|^2 against the closed form is then fitted on a log-log scale over dt = 0.2 .. 0.025.
/// </summary>
public class WeakOrderTests
{
    // Driven 2-D trap, A = mu (k I - eps J), D = mu T I: e^{-A t} is a damped rotation and C = (T/k) I, so
    // E|x_t|^2 = e^{-2 mu k t} |x_0|^2 + 2 (T/k) (1 - e^{-2 mu k t}).
    private static double Exact(double k, double mu, double temperature, double t, double x0Squared) =>
        Math.Exp(-2 * mu * k * t) * x0Squared + 2 * temperature / k * -double.ExpM1(-2 * mu * k * t);

    private static double WeakError(IOverdampedScheme scheme, double dt)
    {
        const double k = 1.5, eps = 0.8, mu = 1, temperature = 0.5, horizon = 1.0;
        var model = LinearModel.DrivenTrap2D(k, eps, mu, temperature);
        var scratch = new double[scheme.ScratchLength(2)];
        var m = new double[2, 2];
        var n = new double[2, 2];
        for (int c = 0; c < 2; c++)
        {
            var x = new double[2]; x[c] = 1;
            scheme.Step(model, x, 0, dt, new double[2], scratch);
            m[0, c] = x[0]; m[1, c] = x[1];
            var y = new double[2];
            var z = new double[2]; z[c] = 1;
            scheme.Step(model, y, 0, dt, z, scratch);
            n[0, c] = y[0]; n[1, c] = y[1];
        }
        double[] mean = [1.0, -0.5];
        var cov = new double[2, 2];
        int steps = (int)Math.Round(horizon / dt);
        for (int s = 0; s < steps; s++)
        {
            mean = [m[0, 0] * mean[0] + m[0, 1] * mean[1], m[1, 0] * mean[0] + m[1, 1] * mean[1]];
            var next = new double[2, 2];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                {
                    double v = 0;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++) v += m[i, a] * cov[a, b] * m[j, b];
                    for (int a = 0; a < 2; a++) v += n[i, a] * n[j, a];
                    next[i, j] = v;
                }
            cov = next;
        }
        double simulated = mean[0] * mean[0] + mean[1] * mean[1] + cov[0, 0] + cov[1, 1];
        return Math.Abs(simulated - Exact(k, mu, temperature, horizon, 1.25));
    }

    private static double Slope(IOverdampedScheme scheme)
    {
        double[] dts = [0.2, 0.1, 0.05, 0.025];
        var xs = dts.Select(dt => Math.Log(dt)).ToArray();
        var ys = dts.Select(dt => Math.Log(WeakError(scheme, dt))).ToArray();
        double mx = xs.Average(), my = ys.Average();
        return xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / xs.Sum(x => (x - mx) * (x - mx));
    }

    [Fact]
    public void EulerMaruyamaHasWeakOrderOne()
    {
        double slope = Slope(EulerMaruyama.Instance);
        Assert.InRange(slope, 0.8, 1.2);
        Assert.Equal(1, EulerMaruyama.Instance.WeakOrder);
    }

    [Fact]
    public void StochasticHeunHasWeakOrderTwo()
    {
        double slope = Slope(StochasticHeun.Instance);
        Assert.InRange(slope, 1.8, 2.2);
        Assert.Equal(2, StochasticHeun.Instance.WeakOrder);
    }

    /// <summary>
    /// BAOAB on the underdamped harmonic oscillator (k = 1.5, gamma = 0.7, m = 1.2, T = 0.5; x(0) = 1, v(0) = 0): the step
    /// is affine in (x, v, z), probed as above, and E x_T^2 at T = 1 is compared with the exact mean e^(A T) (1, 0) and
    /// covariance Sigma_inf - e^(A T) Sigma_inf e^(A^T T), Sigma_inf = diag(T/k, T/m). Declared weak order 2; the fitted
    /// log-log slope over dt = 0.2 .. 0.025 must be within 0.2 of it (deterministic: no sampling).
    /// </summary>
    [Fact]
    public void BaoabHasWeakOrderTwo()
    {
        const double k = 1.5, gamma = 0.7, mass = 1.2, temperature = 0.5, horizon = 1.0;
        var model = new UnderdampedDrivenTrap(k, 0, gamma, mass, temperature);
        var flat = ThermoLearn.Statistics.MatrixExponential.Exp([0, horizon, -k / mass * horizon, -gamma / mass * horizon], 2);
        var e = new double[,] { { flat[0], flat[1] }, { flat[2], flat[3] } };
        double[] sInf = [temperature / k, temperature / mass];
        double exactMean = e[0, 0];
        double exactVariance = sInf[0] - (e[0, 0] * e[0, 0] * sInf[0] + e[0, 1] * e[0, 1] * sInf[1]);
        double exact = exactMean * exactMean + exactVariance;
        double Error(double dt)
        {
            // probe the 1-D motion of coordinate 0 (the 2-D trap at eps = 0 is two independent oscillators)
            var m = new double[2, 2];
            var n = new double[2];
            var force = new double[2];
            for (int c = 0; c < 2; c++)
            {
                double[] x = [c == 0 ? 1 : 0, 0], v = [c == 1 ? 1 : 0, 0];
                Baoab.Instance.Step(model, x, v, 0, dt, [0, 0], force);
                m[0, c] = x[0]; m[1, c] = v[0];
            }
            double[] x0 = [0, 0], v0 = [0, 0];
            Baoab.Instance.Step(model, x0, v0, 0, dt, [1, 0], force);
            n[0] = x0[0]; n[1] = v0[0];
            double[] mean = [1, 0];
            double sxx = 0, sxv = 0, svv = 0;
            for (int s = 0; s < (int)Math.Round(horizon / dt); s++)
            {
                mean = [m[0, 0] * mean[0] + m[0, 1] * mean[1], m[1, 0] * mean[0] + m[1, 1] * mean[1]];
                double nxx = m[0, 0] * m[0, 0] * sxx + 2 * m[0, 0] * m[0, 1] * sxv + m[0, 1] * m[0, 1] * svv + n[0] * n[0];
                double nxv = m[0, 0] * m[1, 0] * sxx + (m[0, 0] * m[1, 1] + m[0, 1] * m[1, 0]) * sxv + m[0, 1] * m[1, 1] * svv + n[0] * n[1];
                double nvv = m[1, 0] * m[1, 0] * sxx + 2 * m[1, 0] * m[1, 1] * sxv + m[1, 1] * m[1, 1] * svv + n[1] * n[1];
                (sxx, sxv, svv) = (nxx, nxv, nvv);
            }
            return Math.Abs(mean[0] * mean[0] + sxx - exact);
        }
        double[] dts = [0.2, 0.1, 0.05, 0.025];
        var xs = dts.Select(dt => Math.Log(dt)).ToArray();
        var ys = dts.Select(dt => Math.Log(Error(dt))).ToArray();
        double mx = xs.Average(), my = ys.Average();
        double slope = xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / xs.Sum(x => (x - mx) * (x - mx));
        Assert.InRange(slope, Baoab.Instance.WeakOrder - 0.2, Baoab.Instance.WeakOrder + 0.2);
    }
}
