using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Simulation;

/// <summary>
/// Numerical blow-up of explicit schemes: a stability limit estimated from the model before a run, and a scan of a
/// run's states that refuses non-finite or runaway values. Kept apart from the kernels so that it holds for every
/// scheme and kernel.
/// <para>Stability: Euler-Maruyama and Heun applied to the linearised drift x' = J x are stable only while
/// |1 + dt lambda| &lt; 1 (Heun: |1 + z + z^2/2| &lt; 1) for every eigenvalue lambda of J; for real negative lambda both need
/// dt &lt; 2 / |lambda|. BAOAB's Verlet part needs dt &lt; 2 / omega with omega^2 the largest eigenvalue of the force
/// Jacobian over the mass. The largest |lambda| (the largest curvature of the potential times the mobility, or the
/// rotation rate of a non-conservative force) is estimated by power iteration on finite-difference Jacobians at
/// initial states drawn from the model, at t = 0 and at the run's midpoint; it is a local estimate, so a run can still
/// blow up elsewhere, which the scan then reports.</para>
/// <para>Runaway: a value that is not finite, or whose magnitude exceeds <see cref="RunawayFactor"/> times
/// max(1, largest |coordinate| of the initial states).</para>
/// </summary>
public static class SimulationHealth
{
    /// <summary>Growth over the initial scale taken as a runaway state.</summary>
    public const double RunawayFactor = 1e8;

    private const ulong ProbePurpose = 0x57AB1E;

    /// <summary>A scheme's stability limit for a model: dt must stay below <see cref="MaxDt"/>.</summary>
    /// <param name="Rate">Largest |eigenvalue| of the drift Jacobian (overdamped), or the largest angular frequency omega (underdamped).</param>
    /// <param name="MaxDt">The limit 2 / Rate.</param>
    /// <param name="Description">The limit in words, e.g. "dt &lt; 2 / 4 = 0.5 (euler-maruyama; largest drift curvature 4)".</param>
    public sealed record StabilityLimit(double Rate, double MaxDt, string Description);

    /// <summary>The stability limit of <paramref name="scheme"/> for <paramref name="model"/>, or null for exact samplers and models without an explicit drift.</summary>
    public static StabilityLimit? Limit(StochasticModel model, string scheme, double tEnd = 0)
    {
        if (scheme == "exact") return null;
        switch (model)
        {
            case OverdampedModel m:
            {
                int d = m.Dimension;
                double rate = LargestRate(d, (x, t, f) => m.Drift(x, t, f), (ref RandomStream r, Span<double> x) => m.SampleInitial(ref r, x), tEnd);
                if (!(rate > 0) || !double.IsFinite(rate)) return null;
                return new StabilityLimit(rate, 2 / rate, $"dt < 2 / {rate:G3} = {2 / rate:G3} ({scheme}; {rate:G3} is the largest |eigenvalue| of the drift Jacobian, mobility x curvature)");
            }
            case UnderdampedModel m:
            {
                int d = m.Dimension;
                double rate = LargestRate(d, (x, t, f) => m.Force(x, t, f), (ref RandomStream r, Span<double> x) =>
                {
                    Span<double> v = stackalloc double[x.Length];
                    m.SampleInitial(ref r, x, v);
                }, tEnd);
                double omega = Math.Sqrt(rate / m.Mass);
                if (!(omega > 0) || !double.IsFinite(omega)) return null;
                return new StabilityLimit(omega, 2 / omega, $"dt < 2 / omega = {2 / omega:G3} ({scheme}; omega = sqrt(curvature / mass) = {omega:G3})");
            }
            default:
                return null;
        }
    }

    private delegate void Field(ReadOnlySpan<double> x, double t, Span<double> f);

    private delegate void Sampler(ref RandomStream random, Span<double> x);

    /// <summary>Largest |eigenvalue| of the Jacobian of <paramref name="field"/> over a few initial states and two times.</summary>
    private static double LargestRate(int d, Field field, Sampler sample, double tEnd)
    {
        if (d > 512) return double.NaN; // d^2 force evaluations per probe: leave very large systems to the scan
        double best = 0;
        var x = new double[d];
        var jacobian = new double[d * d];
        var plus = new double[d];
        var minus = new double[d];
        var probe = new double[d];
        for (int s = 0; s < 4; s++)
        {
            var random = RandomStream.For(0, (ulong)s, ProbePurpose);
            sample(ref random, x);
            foreach (double t in new[] { 0, tEnd / 2 })
            {
                for (int j = 0; j < d; j++)
                {
                    double h = 1e-5 * Math.Max(1, Math.Abs(x[j]));
                    x.CopyTo(probe, 0);
                    probe[j] = x[j] + h;
                    field(probe, t, plus);
                    probe[j] = x[j] - h;
                    field(probe, t, minus);
                    for (int i = 0; i < d; i++) jacobian[i * d + j] = (plus[i] - minus[i]) / (2 * h);
                }
                best = Math.Max(best, SpectralRadius(jacobian, d));
            }
        }
        return best;
    }

    /// <summary>rho(J) from power iteration: the geometric mean of the growth ||J^k v|| over the last steps (complex pairs rotate, their modulus does not).</summary>
    private static double SpectralRadius(double[] j, int d)
    {
        var v = new double[d];
        var w = new double[d];
        for (int i = 0; i < d; i++) v[i] = 1 + 0.37 * i % 1.0;
        Normalise(v);
        double logSum = 0;
        int counted = 0;
        for (int k = 0; k < 80; k++)
        {
            for (int r = 0; r < d; r++)
            {
                double s = 0;
                for (int c = 0; c < d; c++) s += j[r * d + c] * v[c];
                w[r] = s;
            }
            double norm = Math.Sqrt(w.Sum(a => a * a));
            if (!(norm > 0) || !double.IsFinite(norm)) return k == 0 ? 0 : Math.Exp(logSum / Math.Max(1, counted));
            if (k >= 40) { logSum += Math.Log(norm); counted++; }
            for (int i = 0; i < d; i++) v[i] = w[i] / norm;
        }
        return Math.Exp(logSum / counted);
    }

    private static void Normalise(double[] v)
    {
        double n = Math.Sqrt(v.Sum(a => a * a));
        for (int i = 0; i < v.Length; i++) v[i] /= n;
    }

    /// <summary>
    /// Throws when a simulated ensemble holds a non-finite or runaway value: the message names the first frame (and the
    /// step it was saved at) where one appears, the lowest trajectory index there, the value, and the stability limit.
    /// </summary>
    /// <exception cref="InvalidInputException">The run blew up.</exception>
    public static void Check(SimulationResult result)
    {
        var e = result.Trajectories;
        var o = result.Options;
        int saveEvery = o.SaveEvery;
        double dt = o.Dt;
        long first = result.FirstTrajectory;
        string scheme = result.Scheme;
        int d = e.Dimension, frames = e.Frames;
        var data = e.Data;
        double scale = 1;
        for (int t = 0; t < e.Trajectories; t++)
            foreach (double v in e.Frame(t, 0))
                if (double.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
        double bound = RunawayFactor * scale;
        for (int f = 0; f < frames; f++)
            for (int t = 0; t < e.Trajectories; t++)
            {
                long offset = ((long)t * frames + f) * d;
                for (int k = 0; k < d; k++)
                {
                    double v = data[offset + k];
                    if (double.IsFinite(v) && Math.Abs(v) <= bound) continue;
                    long step = (long)f * saveEvery;
                    var limit = Limit(result.Model, scheme, o.Steps * dt);
                    string what = double.IsFinite(v) ? $"ran away to {v:G3} (more than {RunawayFactor:G1} x the initial scale {scale:G3})" : $"became {v}";
                    string advice = limit is null
                        ? "use a smaller --dt."
                        : limit.MaxDt < dt
                            ? $"dt = {dt:G3} is past the scheme's stability limit {limit.Description}; use a smaller --dt."
                            : $"the stability limit estimated at the initial states is {limit.Description}, but the run left that region; use a smaller --dt.";
                    throw new InvalidInputException($"the simulation blew up ({scheme}): trajectory {first + t}, coordinate {k} {what} by step {step} "
                        + $"(t = {step * dt:G6}, saved frame {f}); nothing was written. {advice}");
                }
            }
    }
}
