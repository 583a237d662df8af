using System.Runtime.CompilerServices;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// A short-range, central, repulsive pair interaction U(r) with force magnitude f(r) = -U'(r) (positive: repulsive),
/// so the force on particle i from j is f(r_ij) r_hat_ij with r_ij = x_i - x_j. Zero beyond <see cref="Cutoff"/>.
/// Implementations are small structs so the neighbour loops that take them are monomorphic and allocation-free.
/// </summary>
public interface IPairPotential
{
    /// <summary>Interaction range r_c: U = f = 0 for r &gt;= r_c.</summary>
    double Cutoff { get; }

    /// <summary>Pair energy U(r), shifted so that U(r_c) = 0.</summary>
    double Energy(double r);

    /// <summary>Force magnitude f(r) = -dU/dr (zero at and beyond the cutoff).</summary>
    double Force(double r);

    /// <summary>df/dr, for divergences: div_{x_i} [f(r) r_hat] = f'(r) + (d - 1) f(r) / r in d dimensions.</summary>
    double ForceDerivative(double r);

    /// <summary>f''(r) and f'''(r), for the time derivatives of the pair force along a motion (the particle basis's slaving features).</summary>
    (double Second, double Third) ForceHigherDerivatives(double r);

    /// <summary>A short text such as "softplus(r0=1, beta=7.5)" for provenance and messages.</summary>
    string Describe();
}

/// <summary>
/// The smoothed repulsion of Boffi &amp; Vanden-Eijnden (PNAS 2024, arXiv:2309.12991):
/// f(r) = softplus_beta(2 r0 - r), softplus_beta(u) = ln(1 + e^(beta u)) / beta, i.e. soft discs of radius r0 that
/// push hard when they overlap (r &lt; 2 r0) and decay as e^(beta (2 r0 - r)) / beta beyond contact.
/// Truncated at r_c where f(r_c) = 1e-8 exactly: r_c = 2 r0 - ln(e^(1e-8 beta) - 1) / beta
/// (r0 = 1, beta = 7.5: r_c = 4.1875). The energy is U(r) = Phi(r) - Phi(r_c) with
/// Phi(r) = -Li2(-e^(beta (2 r0 - r))) / beta^2 (Li2 the dilogarithm), so -U' = f exactly for r &lt; r_c.
/// The force is discontinuous by 1e-8 at r_c, below every statistical error we resolve.
/// </summary>
public readonly struct SoftplusRepulsion : IPairPotential
{
    /// <summary>The value of f at which the force is truncated.</summary>
    public const double TruncationForce = 1e-8;

    public SoftplusRepulsion(double r0, double beta)
    {
        if (!(r0 > 0) || !double.IsFinite(r0)) throw new InvalidInputException($"softplus repulsion: r0 must be a positive number (got {r0}).");
        if (!(beta > 0) || !double.IsFinite(beta)) throw new InvalidInputException($"softplus repulsion: beta must be a positive number (got {beta}).");
        R0 = r0;
        Beta = beta;
        // e^(1e-8 beta) - 1 = 1e-8 beta (1 + 5e-9 beta + ...): the first two terms are exact to double precision.
        double u = TruncationForce * beta;
        Cutoff = 2 * r0 - Math.Log(u * (1 + u / 2)) / beta;
        _phiCut = Phi(Cutoff);
    }

    private readonly double _phiCut;

    /// <summary>Particle radius r0 (contact at r = 2 r0).</summary>
    public double R0 { get; }

    /// <summary>Sharpness beta of the softplus.</summary>
    public double Beta { get; }

    public double Cutoff { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Force(double r)
    {
        if (r >= Cutoff) return 0;
        double u = Beta * (2 * R0 - r);
        // ln(1 + e^u) = max(u, 0) + ln(1 + e^-|u|): no overflow for large u.
        return (Math.Max(u, 0) + Math.Log(1 + Math.Exp(-Math.Abs(u)))) / Beta;
    }

    /// <summary>f'(r) = -sigmoid(beta (2 r0 - r)).</summary>
    public double ForceDerivative(double r) => r >= Cutoff ? 0 : -1 / (1 + Math.Exp(-Beta * (2 * R0 - r)));

    /// <summary>With s = sigmoid(beta (2 r0 - r)): f'' = beta s (1 - s), f''' = -beta^2 s (1 - s) (1 - 2 s).</summary>
    public (double Second, double Third) ForceHigherDerivatives(double r)
    {
        if (r >= Cutoff) return (0, 0);
        double s = 1 / (1 + Math.Exp(-Beta * (2 * R0 - r))), bell = s * (1 - s);
        return (Beta * bell, -Beta * Beta * bell * (1 - 2 * s));
    }

    public double Energy(double r) => r >= Cutoff ? 0 : Phi(r) - _phiCut;

    /// <summary>Phi(r) = integral_r^infinity softplus_beta(2 r0 - s) ds = -Li2(-e^u) / beta^2, u = beta (2 r0 - r).</summary>
    private double Phi(double r) => -Dilogarithm.OfMinusExp(Beta * (2 * R0 - r)) / (Beta * Beta);

    public string Describe() => FormattableString.Invariant($"softplus(r0={R0:G17}, beta={Beta:G17})");
}

/// <summary>
/// Harmonic soft repulsion U(r) = (stiffness / 2) (sigma - r)^2 for r &lt; sigma (discs of diameter sigma), zero beyond;
/// f(r) = stiffness (sigma - r). Cutoff sigma (exact, no truncation).
/// </summary>
public readonly struct HarmonicRepulsion : IPairPotential
{
    public HarmonicRepulsion(double sigma, double stiffness)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new InvalidInputException($"harmonic repulsion: sigma must be a positive number (got {sigma}).");
        if (!(stiffness > 0) || !double.IsFinite(stiffness)) throw new InvalidInputException($"harmonic repulsion: stiffness must be a positive number (got {stiffness}).");
        Sigma = sigma;
        Stiffness = stiffness;
    }

    /// <summary>Contact distance (particle diameter).</summary>
    public double Sigma { get; }

    public double Stiffness { get; }

    public double Cutoff => Sigma;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Force(double r) => r >= Sigma ? 0 : Stiffness * (Sigma - r);

    public double ForceDerivative(double r) => r >= Sigma ? 0 : -Stiffness;

    /// <summary>f is linear inside the contact: f'' = f''' = 0.</summary>
    public (double Second, double Third) ForceHigherDerivatives(double r) => (0, 0);

    public double Energy(double r) => r >= Sigma ? 0 : 0.5 * Stiffness * (Sigma - r) * (Sigma - r);

    public string Describe() => FormattableString.Invariant($"harmonic(sigma={Sigma:G17}, stiffness={Stiffness:G17})");
}

/// <summary>
/// Weeks-Chandler-Andersen repulsion: the Lennard-Jones potential 4 epsilon [(sigma/r)^12 - (sigma/r)^6] cut at its
/// minimum r_c = 2^(1/6) sigma and shifted up by epsilon, so U and f vanish continuously at r_c.
/// f(r) = (24 epsilon / r) [2 (sigma/r)^12 - (sigma/r)^6].
/// </summary>
public readonly struct WcaRepulsion : IPairPotential
{
    public WcaRepulsion(double sigma, double epsilon)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new InvalidInputException($"WCA repulsion: sigma must be a positive number (got {sigma}).");
        if (!(epsilon > 0) || !double.IsFinite(epsilon)) throw new InvalidInputException($"WCA repulsion: epsilon must be a positive number (got {epsilon}).");
        Sigma = sigma;
        Epsilon = epsilon;
        Cutoff = Math.Pow(2, 1.0 / 6) * sigma;
    }

    public double Sigma { get; }

    public double Epsilon { get; }

    public double Cutoff { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Force(double r)
    {
        if (r >= Cutoff) return 0;
        double s2 = Sigma * Sigma / (r * r), s6 = s2 * s2 * s2;
        return 24 * Epsilon / r * (2 * s6 * s6 - s6);
    }

    /// <summary>f'(r) = (24 epsilon / r^2) [7 (sigma/r)^6 - 26 (sigma/r)^12].</summary>
    public double ForceDerivative(double r)
    {
        if (r >= Cutoff) return 0;
        double s2 = Sigma * Sigma / (r * r), s6 = s2 * s2 * s2;
        return 24 * Epsilon / (r * r) * (7 * s6 - 26 * s6 * s6);
    }

    /// <summary>f'' = (24 epsilon / r^3) [364 (sigma/r)^12 - 56 (sigma/r)^6], f''' = (24 epsilon / r^4) [504 (sigma/r)^6 - 5460 (sigma/r)^12].</summary>
    public (double Second, double Third) ForceHigherDerivatives(double r)
    {
        if (r >= Cutoff) return (0, 0);
        double s2 = Sigma * Sigma / (r * r), s6 = s2 * s2 * s2, scale = 24 * Epsilon / (r * r * r);
        return (scale * (364 * s6 * s6 - 56 * s6), scale / r * (504 * s6 - 5460 * s6 * s6));
    }

    public double Energy(double r)
    {
        if (r >= Cutoff) return 0;
        double s2 = Sigma * Sigma / (r * r), s6 = s2 * s2 * s2;
        return 4 * Epsilon * (s6 * s6 - s6) + Epsilon;
    }

    public string Describe() => FormattableString.Invariant($"wca(sigma={Sigma:G17}, epsilon={Epsilon:G17})");
}

/// <summary>The dilogarithm Li2 where the softplus energy needs it.</summary>
internal static class Dilogarithm
{
    /// <summary>
    /// Li2(-e^u) for any real u. For u &gt; 0 the inversion Li2(-x) = -pi^2/6 - ln(x)^2 / 2 - Li2(-1/x) maps to
    /// Li2(-z) with z = e^-|u| in (0, 1]; then Li2(-z) = Li2(z^2)/2 - Li2(z) and <see cref="OfUnitInterval"/>.
    /// </summary>
    public static double OfMinusExp(double u)
    {
        double z = Math.Exp(-Math.Abs(u));
        double li = 0.5 * OfUnitInterval(z * z) - OfUnitInterval(z);
        return u <= 0 ? li : -Math.PI * Math.PI / 6 - 0.5 * u * u - li;
    }

    /// <summary>Li2(z) for z in [0, 1]: the power series for z &lt;= 1/2, else Euler's reflection
    /// Li2(z) = pi^2/6 - ln(z) ln(1 - z) - Li2(1 - z).</summary>
    public static double OfUnitInterval(double z)
    {
        if (z <= 0.5) return Series(z);
        double w = 1 - z;
        return Math.PI * Math.PI / 6 - (w > 0 ? Math.Log(z) * Math.Log(w) : 0) - Series(w);
    }

    /// <summary>sum_k z^k / k^2, z in [0, 1/2]: 60 terms leave less than 2^-60 relative.</summary>
    private static double Series(double z)
    {
        double sum = 0, power = z;
        for (int k = 1; k <= 60 && power > 0; k++)
        {
            sum += power / ((double)k * k);
            power *= z;
        }
        return sum;
    }
}
