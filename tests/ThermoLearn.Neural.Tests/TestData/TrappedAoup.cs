using ThermoLearn.Neural.ActiveMatter;
using ThermoLearn.Randomness;

namespace ThermoLearn.Neural.Tests.TestData;

/// <summary>
/// Non-interacting AOUP in a harmonic trap, per particle and dimension: x' = v0 g - A x + sqrt(2 eps) xi,
/// g' = -gamma g + sqrt(2 gamma) eta. Linear, so the stationary law of z = (x, g) is Gaussian with the covariance C solving
/// M C + C M^T + 2 D = 0, M = [[-A, v0], [0, -gamma]], D = diag(eps, gamma):
/// C_gg = 1, C_xg = v0 / (A + gamma), C_xx = (eps + v0^2 / (A + gamma)) / A. Snapshots are exact independent draws from it,
/// and the exact score is s = -C^-1 z.
/// Exact entropy production per particle per dimension (v = M z + D C^-1 z, sigma = E[v^T D^-1 v] over the noisy coordinates):
/// sigma = v0^2 gamma / (eps (A + gamma)), its g-part sigma_g = A gamma v0^2 / (eps (A + gamma)^2 + gamma v0^2); at eps = 0,
/// sigma = sigma_g = A (independent of v0 &gt; 0); at v0 = 0, 0.
/// </summary>
internal static class TrappedAoup
{
    public static ScoreData Sample(AoupParameters p, int snapshots, int particles, ulong seed)
    {
        var (cxx, cxg, cgg) = Covariance(p);
        // Cholesky of [[cgg, cxg], [cxg, cxx]]: g = a u, x = b u + c w
        double a = Math.Sqrt(cgg), b = cxg / a, c = Math.Sqrt(Math.Max(0, cxx - b * b));
        var x = new double[snapshots * particles * 2];
        var g = new double[snapshots * particles * 2];
        for (int t = 0; t < snapshots; t++)
        {
            var random = RandomStream.For(seed, (ulong)t);
            for (int k = 0; k < particles * 2; k++)
            {
                double u = random.NextGaussian(), w = random.NextGaussian();
                g[t * particles * 2 + k] = a * u;
                x[t * particles * 2 + k] = b * u + c * w;
            }
        }
        return new ScoreData(snapshots, particles, 0, x, g);
    }

    public static (double Cxx, double Cxg, double Cgg) Covariance(AoupParameters p) =>
        ((p.Epsilon + p.V0 * p.V0 / (p.Trap + p.Gamma)) / p.Trap, p.V0 / (p.Trap + p.Gamma), 1.0);

    /// <summary>Closed forms (sigma, sigma_g) per particle per dimension.</summary>
    public static (double Sigma, double SigmaG) Exact(AoupParameters p)
    {
        double v2 = p.V0 * p.V0, ag = p.Trap + p.Gamma;
        if (p.Epsilon == 0) return v2 == 0 ? (0, 0) : (p.Trap, p.Trap);
        return (v2 * p.Gamma / (p.Epsilon * ag), p.Trap * p.Gamma * v2 / (p.Epsilon * ag * ag + p.Gamma * v2));
    }

    /// <summary>The same from the covariance: E[v^T D^-1 v] with v = (M + D C^-1) z, computed by 2 x 2 algebra.</summary>
    public static (double Sigma, double SigmaG) FromCovariance(AoupParameters p)
    {
        var (cxx, cxg, cgg) = Covariance(p);
        double det = cxx * cgg - cxg * cxg;
        double ixx = cgg / det, ixg = -cxg / det, igg = cxx / det;
        // V = M + D C^-1, rows (x, g)
        double vxx = -p.Trap + p.Epsilon * ixx, vxg = p.V0 + p.Epsilon * ixg;
        double vgx = p.Gamma * ixg, vgg = -p.Gamma + p.Gamma * igg;
        double Quad(double r0, double r1) => r0 * r0 * cxx + 2 * r0 * r1 * cxg + r1 * r1 * cgg;
        double sigmaG = Quad(vgx, vgg) / p.Gamma;
        double sigmaX = p.Epsilon > 0 ? Quad(vxx, vxg) / p.Epsilon : 0;
        return (sigmaX + sigmaG, sigmaG);
    }
}
