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
