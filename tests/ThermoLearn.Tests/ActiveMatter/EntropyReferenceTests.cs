using ThermoLearn.ActiveMatter;
using ThermoLearn.Models;
using Xunit;

namespace ThermoLearn.Tests.ActiveMatter;

public class EntropyReferenceTests
{
    /// <summary>
    /// Reference 1 against the general linear-SDE result: one particle, one axis, z = (x, g) with dz = -B z dt + sqrt(2 D) dW,
    /// B = [[A, -v0], [0, gamma]], D = diag(eps, gamma). LinearModel's exact rate tr(B^T D^-1 B C) - tr(C^-1 D) must equal
    /// v0^2 gamma / (eps (A + gamma)); the g-part E[v_g^2] / gamma with v = (D C^-1 - B) z and C from the Lyapunov equation
    /// must equal A gamma v0^2 / (eps (A + gamma)^2 + gamma v0^2).
    /// </summary>
    [Theory]
    [InlineData(1.0, 1.0, 1.0, 1.0)]
    [InlineData(0.7, 0.3, 0.05, 2.0)]
    [InlineData(0.025, 1e-2, 1e-3, 0.1)]
    public void TrappedAoupAgreesWithTheLinearSde(double v0, double gamma, double eps, double a)
    {
        var drift = new double[,] { { a, -v0 }, { 0, gamma } };
        var diffusion = new double[,] { { eps, 0 }, { 0, gamma } };
        double linear = new LinearModel(drift, diffusion).EntropyProductionRate(0)!.Value;
        var (total, x, g) = ActiveEntropyReferences.TrappedFreeAoup(v0, gamma, eps, a);
        Assert.Equal(linear, total, 1e-10 * total);
        // Stationary covariance: B C + C B^T = 2 D, solved for (Cxx, Cxg, Cgg).
        double cgg = 1;                                   // gamma Cgg = gamma
        double cxg = v0 * cgg / (a + gamma);              // (A + gamma) Cxg - v0 Cgg = 0
        double cxx = (eps + v0 * cxg) / a;                // A Cxx - v0 Cxg = eps
        double det = cxx * cgg - cxg * cxg;
        double[,] inverse = { { cgg / det, -cxg / det }, { -cxg / det, cxx / det } };
        // Row g of (D C^-1 - B): v_g = (gamma Cinv_gx) x + (gamma Cinv_gg - gamma) g.
        double ux = gamma * inverse[1, 0], ug = gamma * inverse[1, 1] - gamma;
        double vg2 = ux * ux * cxx + 2 * ux * ug * cxg + ug * ug * cgg;
        Assert.Equal(vg2 / gamma, g, 1e-10 * g);
        Assert.Equal(total - g, x, 1e-12 * total);
    }

    [Fact]
    public void LimitsAndTheTorusAgree()
    {
        // eps = 0: sigma = A, all in g; the g-part is continuous as eps -> 0 (the x part diverges and is excluded).
        Assert.Equal((2.0, 0.0, 2.0), ActiveEntropyReferences.TrappedFreeAoup(1, 1, 0, 2));
        Assert.Equal(2.0, ActiveEntropyReferences.TrappedFreeAoup(1, 1, 1e-9, 2).G, 1e-6);
        // A -> 0 recovers the torus per dimension: v0^2 / eps, and sigma_g -> 0.
        var nearlyFree = ActiveEntropyReferences.TrappedFreeAoup(0.8, 1.5, 0.4, 1e-9);
        Assert.Equal(ActiveEntropyReferences.FreeAoupOnTorus(0.8, 0.4, 1).Total, nearlyFree.Total, 1e-6);
        Assert.True(nearlyFree.G < 1e-8);
        Assert.Equal((0.0, 0.0, 0.0), ActiveEntropyReferences.FreeAoupOnTorus(1, 0, 2));
        var torus = ActiveEntropyReferences.FreeAoupOnTorus(0.8, 0.4, 3);
        Assert.Equal(3 * 0.64 / 0.4, torus.Total, 12);
        Assert.Equal(torus.Total, torus.X);
        Assert.Equal(0, torus.G);
    }

    [Fact]
    public void IdentityIsExactForTheTrapAndSumsPairDivergences()
    {
        // k = 0, eps = 0 in a trap: every snapshot gives d A N exactly.
        var trap = new ActiveModel { Particles = 50, PackingFraction = 0.3, V0 = 1, Gamma = 1, A = 0.7, K = 0 };
        var s = ActiveSimulator.Run(trap, new ActiveRunOptions { Dt = 0.01, Frames = 10, Seed = 1 });
        var e = IdentityEntropyProduction.Estimate(s, blocks: 5);
        Assert.Equal(2 * 0.7 * 50, e.Rate, 12);
        Assert.Equal(0, e.StandardError, 12);

        // Two softplus particles at distance r (in a box big enough): sum_i div_i F_i = 2 [f'(r) + f(r) / r] in 2-D.
        var pair = new ActiveModel { Particles = 2, PackingFraction = 0.01, V0 = 1, Gamma = 1, K = 1.5 };
        double l = pair.Box!.Value, r = 2.3;
        var data = new double[] { 1, 1, 0, 0, 1 + r, 1, 0, 0 };
        var one = new ActiveSnapshots(pair, 1, 0.1, data);
        var p = new SoftplusRepulsion(1, 7.5);
        Assert.True(l > 2 * p.Cutoff);
        double expected = -1.5 * 2 * (p.ForceDerivative(r) + p.Force(r) / r);
        Assert.Equal(expected, IdentityEntropyProduction.PerSnapshot(one)[0], 12);
    }

    [Fact]
    public void IdentityNeedsEpsZero()
    {
        var model = new ActiveModel { Particles = 50, PackingFraction = 0.3, Epsilon = 0.1, A = 1, K = 0 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.01, Frames = 4, Seed = 1 });
        Assert.Contains("eps = 0 only", Assert.Throws<InvalidInputException>(() => IdentityEntropyProduction.Estimate(s)).Message);
    }
}

public class IdentityOnALinearChainTests
{
    /// <summary>
    /// Reference 4 checked without simulation on a system where everything is Gaussian: two AOUP particles in 1-D, eps = 0,
    /// in a trap A and coupled by a spring kappa (b_{x_1} = v0 g_1 - A x_1 - kappa (x_1 - x_2)). For z = (x1, x2, g1, g2),
    /// dz = -B z dt + sqrt(2 D) dW with D = diag(0, 0, gamma, gamma); the stationary covariance C solves B C + C B^T = 2 D,
    /// s = -C^-1 z and v = (D C^-1 - B) z, so sigma = gamma^-1 E|v_g|^2 = tr(R C R^T) / gamma with R the g rows of
    /// D C^-1 - B. The identity says sigma = -E[div_x b_x] = -tr(dB_x/dx) = 2 (A + kappa).
    /// </summary>
    [Theory]
    [InlineData(1.0, 0.5, 1.0, 0.3)]
    [InlineData(0.4, 2.0, 0.1, 1.5)]
    public void IdentityEqualsTheGaussianRate(double v0, double gamma, double a, double kappa)
    {
        double[,] b =
        {
            { a + kappa, -kappa, -v0, 0 },
            { -kappa, a + kappa, 0, -v0 },
            { 0, 0, gamma, 0 },
            { 0, 0, 0, gamma },
        };
        double[] diffusion = [0, 0, gamma, gamma];
        var c = Lyapunov(b, diffusion);
        var inverse = Invert(c);
        double sigma = 0;
        for (int row = 2; row < 4; row++)
        {
            var r = new double[4];
            // v = (D C^-1 - B) z with dz = -B z dt: the drift is -B z, so v = -B z - D s = -B z + D C^-1 z.
            for (int q = 0; q < 4; q++) r[q] = diffusion[row] * inverse[row, q] - b[row, q];
            double quadratic = 0;
            for (int p = 0; p < 4; p++) for (int q = 0; q < 4; q++) quadratic += r[p] * c[p, q] * r[q];
            sigma += quadratic / gamma;
        }
        Assert.Equal(2 * (a + kappa), sigma, 1e-9 * sigma);
    }

    /// <summary>Solves B C + C B^T = 2 diag(D) for symmetric C (Kronecker form, Gaussian elimination with pivoting).</summary>
    private static double[,] Lyapunov(double[,] b, double[] diffusion)
    {
        int n = b.GetLength(0), m = n * n;
        var a = new double[m, m + 1];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                int row = i * n + j;
                for (int k = 0; k < n; k++)
                {
                    a[row, k * n + j] += b[i, k];
                    a[row, i * n + k] += b[j, k];
                }
                a[row, m] = i == j ? 2 * diffusion[i] : 0;
            }
        var x = SolveAugmented(a, m);
        var c = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) c[i, j] = x[i * n + j];
        return c;
    }

    private static double[,] Invert(double[,] c)
    {
        int n = c.GetLength(0);
        var inverse = new double[n, n];
        for (int col = 0; col < n; col++)
        {
            var a = new double[n, n + 1];
            for (int i = 0; i < n; i++) { for (int j = 0; j < n; j++) a[i, j] = c[i, j]; a[i, n] = i == col ? 1 : 0; }
            var x = SolveAugmented(a, n);
            for (int i = 0; i < n; i++) inverse[i, col] = x[i];
        }
        return inverse;
    }

    private static double[] SolveAugmented(double[,] a, int n)
    {
        for (int p = 0; p < n; p++)
        {
            int pivot = p;
            for (int r = p + 1; r < n; r++) if (Math.Abs(a[r, p]) > Math.Abs(a[pivot, p])) pivot = r;
            for (int q = 0; q <= n; q++) (a[p, q], a[pivot, q]) = (a[pivot, q], a[p, q]);
            for (int r = 0; r < n; r++)
            {
                if (r == p) continue;
                double factor = a[r, p] / a[p, p];
                for (int q = p; q <= n; q++) a[r, q] -= factor * a[p, q];
            }
        }
        var x = new double[n];
        for (int p = 0; p < n; p++) x[p] = a[p, n] / a[p, p];
        return x;
    }
}
