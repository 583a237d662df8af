using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;

namespace ThermoLearn.Models;

/// <summary>
/// Non-stationary breathing parabola V = k(t) x^2 / 2 with k ramped linearly from k0 to k1 over [0, tau],
/// starting in equilibrium at k0. The density stays N(0, S(t)) with dS/dt = -2 mu k S + 2 D (D = mu T),
/// S(0) = T / k0, so sigma(t) = (mu k S - D)^2 / (D S) and the per-trajectory Delta s_tot are exact.
/// S is integrated with classical RK4 (2,000 steps per unit of the protocol: error below 1e-12) and the
/// total EP over [0, tau] by Simpson's rule on the same grid.
/// (Li, Horowitz, Gingrich &amp; Fakhri, Nat. Commun. 10, 1666 (2019); Otsubo et al., PRE 101, 062106 (2020).)
/// </summary>
public sealed class BreathingTrapModel : PotentialModel<Parabola>, ILinearDynamics
{
    private const int StepsPerTau = 4000;
    private readonly double _k0, _k1, _tau, _diffusion;

    public BreathingTrapModel(double k0 = 1, double k1 = 4, double tau = 1, double mu = 1, double temperature = 1)
        : base("breathing-trap", new Dictionary<string, string>
            {
                ["k0"] = Format(k0), ["k1"] = Format(k1), ["tau"] = Format(tau), ["mu"] = Format(mu), ["T"] = Format(temperature),
            },
            new Parabola(), new LinearRamp(new[] { RequirePositive("breathing-trap", "k0", k0) }, new[] { RequirePositive("breathing-trap", "k1", k1) },
                RequirePositive("breathing-trap", "tau", tau)), mu, temperature)
    {
        _k0 = k0;
        _k1 = k1;
        _tau = tau;
        _diffusion = mu * temperature;
    }

    /// <summary>k(t).</summary>
    public double Stiffness(double t) => _k0 + (_k1 - _k0) * Math.Clamp(t / _tau, 0, 1);

    private double VarianceRate(double t, double s) => -2 * Mobility * Stiffness(t) * s + 2 * _diffusion;

    private double Integrate(double from, double to, double s)
    {
        if (to <= from) return s;
        return Integrate(from, to, s, Math.Max(16, (int)Math.Ceiling((to - from) / _tau * StepsPerTau)));
    }

    private sealed record Cached(double Time, double Value);
    private Cached? _lastVariance;

    /// <summary>The exact variance S(t) of x(t) (the last value is cached: the simulator asks for the same t repeatedly).</summary>
    public double Variance(double t)
    {
        var cached = Volatile.Read(ref _lastVariance);
        if (cached is not null && cached.Time == t) return cached.Value;
        double value = ComputeVariance(t);
        Volatile.Write(ref _lastVariance, new Cached(t, value));
        return value;
    }

    private double ComputeVariance(double t)
    {
        double s = Temperature / _k0;
        if (t <= 0) return s;
        s = Integrate(0, Math.Min(t, _tau), s);   // the ramp's kink at tau splits the integration
        return t > _tau ? Integrate(_tau, t, s) : s;
    }

    public override double? EntropyProductionRate(double t)
    {
        double s = Variance(t);
        double u = Mobility * Stiffness(t) * s - _diffusion;
        return u * u / (_diffusion * s);
    }

    public override double? TotalEntropyProduction => Quadrature((t, s) =>
    {
        double u = Mobility * Stiffness(t) * s - _diffusion;
        return u * u / (_diffusion * s);
    });

    /// <summary>Exact &lt;W&gt; over [0, tau] = int (dk/dt) S / 2 dt.</summary>
    public double MeanWork => Quadrature((t, s) => (_k1 - _k0) / _tau * s / 2);

    /// <summary>Delta F = (T/2) ln(k1/k0) between the equilibria at k1 and k0.</summary>
    public double FreeEnergyChange => 0.5 * Temperature * Math.Log(_k1 / _k0);

    private double Quadrature(Func<double, double, double> integrand)
    {
        int n = StepsPerTau; // even, for Simpson
        double h = _tau / n;
        double s = Temperature / _k0;
        double sum = integrand(0, s);
        for (int i = 1; i <= n; i++)
        {
            s = Integrate((i - 1) * h, i * h, s, 1);
            sum += integrand(i * h, s) * (i == n ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return sum * h / 3;
    }

    /// <summary>dS/dt = -2 mu k(t) S + 2 D from <paramref name="from"/> to <paramref name="to"/> by classical RK4 in <paramref name="steps"/> equal steps.</summary>
    private double Integrate(double from, double to, double s, int steps)
    {
        double h = (to - from) / steps;
        for (int i = 0; i < steps; i++)
        {
            double t = from + i * h;
            double q1 = VarianceRate(t, s);
            double q2 = VarianceRate(t + h / 2, s + h / 2 * q1);
            double q3 = VarianceRate(t + h / 2, s + h / 2 * q2);
            double q4 = VarianceRate(t + h, s + h * q3);
            s += h / 6 * (q1 + 2 * q2 + 2 * q3 + q4);
        }
        return s;
    }

    public bool IsTimeIndependent => false;

    /// <summary>
    /// dx = -mu k(s) x ds + sqrt(2D) dW: x(t + h) = e^(-mu int_t^(t+h) k) x(t) + sqrt(Q) z, the integral of the piecewise
    /// linear k exact (trapezoid on each side of tau) and Q the variance ODE dQ/ds = -2 mu k(s) Q + 2D from Q(t) = 0,
    /// by RK4 with inner steps of at most 1/(50 mu k_max) (local error (2 mu k h)^5/120, below 1e-9 relative), split at tau where k has its kink.
    /// </summary>
    public GaussianTransition Transition(double t, double dt)
    {
        double end = t + dt;
        double integral = 0, q = 0;
        foreach (var (from, to) in (ReadOnlySpan<(double, double)>)[(t, Math.Min(end, _tau)), (Math.Max(t, _tau), end)])
        {
            if (!(to > from)) continue;
            integral += 0.5 * (Stiffness(from) + Stiffness(to)) * (to - from);
            int inner = Math.Max(4, (int)Math.Ceiling((to - from) * 50 * Mobility * Math.Max(_k0, _k1)));
            q = Integrate(from, to, q, inner);
        }
        return new GaussianTransition([Math.Exp(-Mobility * integral)], [0.0], [Math.Sqrt(q)]);
    }

    public override void SampleInitial(ref RandomStream random, Span<double> x) =>
        x[0] = Math.Sqrt(Temperature / _k0) * random.NextGaussian();

    public override bool HasExactDensity => true;

    public override double? LogDensity(ReadOnlySpan<double> x, double t)
    {
        double s = Variance(t);
        return -0.5 * (x[0] * x[0] / s + Math.Log(2 * Math.PI * s));
    }
}
