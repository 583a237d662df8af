using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;

namespace ThermoLearn.Models;

/// <summary>
/// Overdamped 2-D particle in the Mexican-hat potential V = a (r^2 - r0^2)^2 (r = |x|), driven around the
/// ring by the rotational force f = omega(r) (-y, x) with a Gaussian swirl profile
/// omega(r) = w exp(-(r - rc)^2 / (2 s^2)); mobility mu, temperature T, D = mu T.
/// <para>
/// f is divergence-free (div f = omega'(r) (-y x + x y) / r = 0) and tangent to the level sets of V
/// (f . grad V = 0), so the Boltzmann law p = exp(-V/T) / Z stays stationary: its current J = mu f p has
/// div J = mu (p div f - f . grad V p / T) = 0. Hence the mean local velocity is v = J / p = mu f, the
/// thermodynamic force is D^-1 v = f / T, and the exact EP rate is
/// sigma = &lt;v^T D^-1 v&gt; = (mu / T) &lt;|f|^2&gt; = (mu / T) int omega(r)^2 r^3 e^{-V/T} dr / int r e^{-V/T} dr,
/// a 1-D radial quadrature (composite Simpson, 40,000 panels on [0, r_max] with V(r_max) = 60 T; relative
/// error below 1e-10). Because omega is a Gaussian bump narrower than the ring, no polynomial field of low
/// degree represents f / T: a degree-4 vector polynomial can only hold omega(r) = c0 + c1 r^2 and, at the
/// defaults, captures 69% of sigma, while a neural field learns it (docs/neural-estimators.md).
/// </para>
/// </summary>
public sealed class MexicanHatSwirlModel : PotentialModel
{
    private const int Panels = 40_000;
    private readonly double _a, _r0, _w, _rc, _s;

    public MexicanHatSwirlModel(double a = 0.25, double r0 = 1.5, double w = 2, double rc = 1.5, double s = 0.2, double mu = 1, double temperature = 1)
        : base("mexican-hat-swirl", new Dictionary<string, string>
            {
                ["a"] = Format(a), ["r0"] = Format(r0), ["w"] = Format(w), ["rc"] = Format(rc), ["s"] = Format(s),
                ["mu"] = Format(mu), ["T"] = Format(temperature),
            },
            new MexicanHat(2), new ConstantProtocol(RequirePositive("mexican-hat-swirl", "a", a), RequireFinite("mexican-hat-swirl", "r0", r0)),
            mu, temperature)
    {
        _a = a;
        _r0 = r0;
        _w = RequireFinite(Name, "w", w);
        _rc = RequireFinite(Name, "rc", rc);
        _s = RequirePositive(Name, "s", s);
        (double z, double moment) = RadialIntegrals();
        _logNormaliser = -Math.Log(2 * Math.PI * z);
        EntropyProductionRateValue = Mobility / Temperature * moment / z;
    }

    private readonly double _logNormaliser;

    /// <summary>The exact stationary EP rate (mu / T) &lt;|f|^2&gt;.</summary>
    public double EntropyProductionRateValue { get; }

    public override double? Duration => null;

    public override double? EntropyProductionRate(double t) => EntropyProductionRateValue;

    /// <summary>The swirl profile omega(r) = w exp(-(r - rc)^2 / (2 s^2)).</summary>
    public double Swirl(double r)
    {
        double u = (r - _rc) / _s;
        return _w * Math.Exp(-0.5 * u * u);
    }

    public override double Energy(ReadOnlySpan<double> x, double t)
    {
        double u = x[0] * x[0] + x[1] * x[1] - _r0 * _r0;
        return _a * u * u;
    }

    public override void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        double g = -4 * _a * (x[0] * x[0] + x[1] * x[1] - _r0 * _r0);
        force[0] = g * x[0];
        force[1] = g * x[1];
    }

    public override bool HasNonConservativeForce => _w != 0;

    public override void AddNonConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        double omega = Swirl(Math.Sqrt(x[0] * x[0] + x[1] * x[1]));
        force[0] -= omega * x[1];
        force[1] += omega * x[0];
    }

    /// <summary>The exact thermodynamic force D^-1 v = f / T at x (what the current loss learns).</summary>
    public void ThermodynamicForce(ReadOnlySpan<double> x, Span<double> result)
    {
        double omega = Swirl(Math.Sqrt(x[0] * x[0] + x[1] * x[1])) / Temperature;
        result[0] = -omega * x[1];
        result[1] = omega * x[0];
    }

    /// <summary>
    /// Z_r = int_0^inf r e^{-V/T} dr and int_0^inf omega^2 r^3 e^{-V/T} dr by composite Simpson on [0, r_max],
    /// where V(r_max) exceeds 60 T (the tail beyond is below e^-60 of the bulk).
    /// </summary>
    private (double Z, double Moment) RadialIntegrals()
    {
        double rMax = Math.Sqrt(_r0 * _r0 + Math.Sqrt(60 * Temperature / _a));
        double h = rMax / Panels;
        double z = 0, m = 0;
        for (int i = 0; i <= Panels; i++)
        {
            double r = i * h;
            double u = r * r - _r0 * _r0;
            double weight = (i == 0 || i == Panels ? 1 : i % 2 == 1 ? 4 : 2) * r * Math.Exp(-_a * u * u / Temperature);
            double omega = Swirl(r);
            z += weight;
            m += weight * omega * omega * r * r;
        }
        return (z * h / 3, m * h / 3);
    }

    /// <summary>
    /// x(0) from the stationary law: u = r^2 is a Gaussian N(r0^2, T / (2a)) restricted to u &gt;= 0 (drawn by
    /// rejection), the angle uniform.
    /// </summary>
    public override void SampleInitial(ref RandomStream random, Span<double> x)
    {
        double sd = Math.Sqrt(Temperature / (2 * _a));
        double u;
        do u = _r0 * _r0 + sd * random.NextGaussian();
        while (u < 0);
        double r = Math.Sqrt(u), angle = 2 * Math.PI * random.NextDouble();
        x[0] = r * Math.Cos(angle);
        x[1] = r * Math.Sin(angle);
    }

    public override bool HasExactDensity => true;

    /// <summary>ln p(x) = -V(x)/T - ln(2 pi Z_r): the Boltzmann law, stationary despite the swirl.</summary>
    public override double? LogDensity(ReadOnlySpan<double> x, double t) => -Energy(x, t) / Temperature + _logNormaliser;
}
