using ThermoLearn.Protocols;

namespace ThermoLearn.Control;

/// <summary>
/// Exact results for dragging a harmonic trap V = k (x - lambda)^2 / 2 from lambda_i to lambda_f in time tau,
/// overdamped with friction gamma, starting in equilibrium (the mean work does not depend on T).
/// Optimum (Schmiedl &amp; Seifert, PRL 98, 108301, 2007, doi:10.1103/PhysRevLett.98.108301):
/// lambda*(t) = lambda_f (1 + k t / gamma) / (k tau / gamma + 2) inside (0, tau) (<see cref="OptimalTrapProtocol"/>),
/// W* = gamma lambda_f^2 / (tau + 2 gamma / k).
/// </summary>
public static class HarmonicTranslation
{
    /// <summary>W* = gamma Delta^2 / (tau + 2 gamma / k), Delta = lambda_f - lambda_i.</summary>
    public static double OptimalWork(double k, double gamma, double distance, double tau) => gamma * distance * distance / (tau + 2 * gamma / k);

    /// <summary>W_lin = gamma Delta^2 / tau [1 - (gamma / (k tau)) (1 - exp(-k tau / gamma))] for the straight ramp.</summary>
    public static double LinearRampWork(double k, double gamma, double distance, double tau)
    {
        double r = k * tau / gamma;
        return gamma * distance * distance / tau * (1 - (1 - Math.Exp(-r)) / r);
    }

    /// <summary>
    /// Exact &lt;W&gt; of a piecewise-linear protocol with values <paramref name="knotValues"/> at K equally spaced
    /// knots of [0, tau] (the first and last being the values just after the start jump and just before the end jump).
    /// The mean m obeys dm/dt = (k/gamma)(lambda - m), so on a segment with slope s the lag e = lambda - m is
    /// e(t) = s/r + (e_0 - s/r) exp(-r t), r = k/gamma, and the segment's work k s int e dt is closed form; a jump
    /// from a to b at mean m costs k (b - a)(a + b - 2 m) / 2.
    /// </summary>
    public static double MeanWork(ReadOnlySpan<double> knotValues, double lambdaStart, double lambdaEnd, double k, double gamma, double tau)
    {
        int knots = knotValues.Length;
        if (knots < 2) throw new InvalidInputException($"harmonic translation: needs at least 2 knots (got {knots}).");
        double r = k / gamma, length = tau / (knots - 1);
        double m = lambdaStart;
        double work = Jump(lambdaStart, knotValues[0], m, k);
        for (int j = 0; j + 1 < knots; j++)
        {
            double s = (knotValues[j + 1] - knotValues[j]) / length;
            double e0 = knotValues[j] - m, decay = Math.Exp(-r * length);
            work += k * s * (s * length / r + (e0 - s / r) * (1 - decay) / r);
            double e1 = s / r + (e0 - s / r) * decay;
            m = knotValues[j + 1] - e1;
        }
        return work + Jump(knotValues[^1], lambdaEnd, m, k);
    }

    /// <summary>
    /// Exact &lt;W&gt; of the discretised chain the kernel simulates (Euler-Maruyama with lambda held at Lambda_n
    /// during step n): m_(n+1) = m_n + (k h / gamma)(Lambda_n - m_n) and W = sum_n jump(Lambda_(n-1) -> Lambda_n at m_n).
    /// It is the time-step-free reference for testing the estimators.
    /// </summary>
    internal static double MeanWork(DiscreteProtocol protocol, double k, double gamma)
    {
        double m = protocol.Start[0], previous = protocol.Start[0], a = k * protocol.Dt / gamma, work = 0;
        for (int n = 0; n < protocol.Steps; n++)
        {
            double lambda = protocol.Lambda[n];
            work += Jump(previous, lambda, m, k);
            m += a * (lambda - m);
            previous = lambda;
        }
        return work + Jump(previous, protocol.End[0], m, k);
    }

    private static double Jump(double from, double to, double mean, double k) => k * (to - from) * (from + to - 2 * mean) / 2;
}
