using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;

namespace ThermoLearn.Models;

/// <summary>
/// A 1-D harmonic trap V = k (x - c(t))^2 / 2 translated at constant speed v = (c1 - c0) / tau from c0 to c1,
/// starting in equilibrium N(c0, T/k). Exact results (relaxation time tau_r = 1 / (mu k)): the density stays
/// Gaussian with variance T/k and a mean lagging the centre by l(t) = v tau_r (1 - exp(-t/tau_r)) while the
/// trap moves (then relaxing as exp(-(t - tau)/tau_r)); sigma(t) = mu k^2 l(t)^2 / T;
/// &lt;W(t)&gt; = (v^2 / mu) (t - tau_r (1 - exp(-t/tau_r))); Delta F = 0, so Jarzynski reads &lt;exp(-W/T)&gt; = 1
/// (Mazonka &amp; Jarzynski, arXiv:cond-mat/9912121; van Zon &amp; Cohen, PRL 91, 110601 (2003)).
/// </summary>
public sealed class HarmonicTrapModel : PotentialModel<HarmonicTrap>, ILinearDynamics
{
    private readonly double _k, _c0, _c1, _tau, _relaxation, _speed;

    public HarmonicTrapModel(double k = 1, double c0 = 0, double c1 = 1, double tau = 1, double mu = 1, double temperature = 1)
        : base("harmonic-trap", new Dictionary<string, string>
            {
                ["k"] = Format(k), ["c0"] = Format(c0), ["c1"] = Format(c1), ["tau"] = Format(tau),
                ["mu"] = Format(mu), ["T"] = Format(temperature),
            },
            new HarmonicTrap(k), new LinearRamp(new[] { RequireFinite("harmonic-trap", "c0", c0) }, new[] { RequireFinite("harmonic-trap", "c1", c1) },
                RequirePositive("harmonic-trap", "tau", tau)), mu, temperature)
    {
        _k = k;
        _c0 = c0;
        _c1 = c1;
        _tau = tau;
        _relaxation = 1 / (mu * k);
        _speed = (c1 - c0) / tau;
    }

    /// <summary>The lag l(t) = c(t) - &lt;x(t)&gt; of the mean behind the centre.</summary>
    public double Lag(double t)
    {
        if (t <= 0) return 0;
        double during = _speed * _relaxation * -double.ExpM1(-Math.Min(t, _tau) / _relaxation);
        return t <= _tau ? during : during * Math.Exp(-(t - _tau) / _relaxation);
    }

    /// <summary>The centre c(t).</summary>
    public double Centre(double t) => _c0 + (_c1 - _c0) * Math.Clamp(t / _tau, 0, 1);

    /// <summary>&lt;x(t)&gt;.</summary>
    public double MeanPosition(double t) => Centre(t) - Lag(t);

    /// <summary>Exact &lt;W(t)&gt; = (v^2/mu) (t - tau_r (1 - exp(-t/tau_r))) for t &lt;= tau, constant after.</summary>
    public double MeanWork(double t)
    {
        double s = Math.Clamp(t, 0, _tau);
        return _speed * _speed / Mobility * (s + _relaxation * double.ExpM1(-s / _relaxation));
    }

    /// <summary>Free-energy difference between the end and start equilibria: 0 for a translation.</summary>
    public double FreeEnergyChange => 0;

    public override double? EntropyProductionRate(double t)
    {
        double lag = Lag(t);
        return Mobility * _k * _k * lag * lag / Temperature;
    }

    /// <summary>int_0^tau sigma dt = mu k^2 v^2 tau_r^2 / T [tau - 2 tau_r (1 - e^{-tau/tau_r}) + tau_r/2 (1 - e^{-2 tau/tau_r})].</summary>
    public override double? TotalEntropyProduction
    {
        get
        {
            double r = _relaxation;
            double integral = _speed * _speed * r * r * (_tau + 2 * r * double.ExpM1(-_tau / r) - 0.5 * r * double.ExpM1(-2 * _tau / r));
            return Mobility * _k * _k * integral / Temperature;
        }
    }

    public bool IsTimeIndependent => false;

    /// <summary>
    /// dx = -a (x - c(s)) ds + sqrt(2 mu T) dW with a = mu k and c piecewise linear: x(t + h) = e^(-a h) x(t) + m + sqrt(Q) z
    /// with m = int_t^(t+h) a e^(-a (t + h - s)) c(s) ds, exact on each linear piece of c
    /// (c_A (1 - e^(-a w)) + v (w - (1 - e^(-a w)) / a) for a piece of width w, start value c_A and slope v, then
    /// carried by e^(-a (t + h - s_B)) to the end), and Q = (T / k) (1 - e^(-2 a h)).
    /// </summary>
    public GaussianTransition Transition(double t, double dt)
    {
        double a = Mobility * _k, end = t + dt;
        double offset = 0;
        // pieces: [t, min(end, tau)] while the trap moves (when t < tau), [max(t, tau), end] after it stops
        if (t < _tau) offset += Piece(a, t, Math.Min(end, _tau), _speed) * Math.Exp(-a * (end - Math.Min(end, _tau)));
        if (end > _tau) offset += Piece(a, Math.Max(t, _tau), end, 0);
        double variance = Temperature / _k * -double.ExpM1(-2 * a * dt);
        return new GaussianTransition([Math.Exp(-a * dt)], [offset], [Math.Sqrt(variance)]);
    }

    /// <summary>int_from^to a e^(-a (to - s)) c(s) ds for c linear with slope <paramref name="slope"/> on the piece.</summary>
    private double Piece(double a, double from, double to, double slope)
    {
        double w = to - from;
        if (!(w > 0)) return 0;
        double decayed = -double.ExpM1(-a * w);
        return Centre(from) * decayed + slope * (w - decayed / a);
    }

    public override void SampleInitial(ref RandomStream random, Span<double> x) =>
        x[0] = _c0 + Math.Sqrt(Temperature / _k) * random.NextGaussian();

    public override bool HasExactDensity => true;

    public override double? LogDensity(ReadOnlySpan<double> x, double t)
    {
        double variance = Temperature / _k;
        double u = x[0] - MeanPosition(t);
        return -0.5 * (u * u / variance + Math.Log(2 * Math.PI * variance));
    }
}
