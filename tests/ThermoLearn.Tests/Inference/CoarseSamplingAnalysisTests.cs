using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Models;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// Large-data limits of the current estimator on a linear model sampled at spacing dt (no statistical
/// noise): J(dt) = (C Phi^T - Phi C) / (2 dt), Phi = exp(-A dt), sigma(dt) = tr(J^T C^-1 J D^-1).
/// </summary>
public class CoarseSamplingAnalysisTests(ITestOutputHelper output)
{
    internal static double Limit(LinearModel model, double dt)
    {
        var a = InferenceData.M(model.A);
        var d = InferenceData.M(model.Diffusion);
        var c = InferenceData.M(model.StationaryCovariance);
        var phi = Expm(-a * dt);
        var j = (c * phi.Transpose() - phi * c) / (2 * dt);
        return (j.Transpose() * c.Inverse() * j * d.Inverse()).Trace();
    }

    /// <summary>
    /// Large-data limit of the short-time TUR bound with the poly:1 basis (1, x_1..x_d) on a linear model sampled at spacing
    /// dt: 2 m^T S^-1 m / dt, m and S the mean and covariance of the per-transition currents j = vec(b((x + x') / 2) dx^T),
    /// as the estimator forms them. z = (x, x') is Gaussian (stationary C, cross covariance C Phi^T), every component of j is
    /// (alpha + beta . z)(gamma . z), so m = beta^T Sigma gamma and, by Isserlis' theorem, S_pq = alpha_p alpha_q gamma_p^T
    /// Sigma gamma_q + (beta_p Sigma beta_q)(gamma_p Sigma gamma_q) + (beta_p Sigma gamma_q)(gamma_p Sigma beta_q).
    /// <paramref name="noiseVariance"/> s^2: the positions observed with independent Gaussian noise of variance s^2 per coordinate
    /// and frame, which adds s^2 I to the covariance of x and of x' (not to their cross covariance).
    /// </summary>
    internal static double TurLimit(LinearModel model, double dt, double noiseVariance = 0)
    {
        var a = InferenceData.M(model.A);
        var c = InferenceData.M(model.StationaryCovariance);
        int d = a.RowCount, n = d + 1, m = n * d;
        var phi = Expm(-a * dt);
        var sigma = Matrix<double>.Build.Dense(2 * d, 2 * d);
        var observed = c + noiseVariance * Matrix<double>.Build.DenseIdentity(d);
        sigma.SetSubMatrix(0, 0, observed);
        sigma.SetSubMatrix(d, d, observed);
        sigma.SetSubMatrix(0, d, c * phi.Transpose());
        sigma.SetSubMatrix(d, 0, phi * c);
        var alpha = new double[m];
        var beta = new Vector<double>[m];
        var gamma = new Vector<double>[m];
        for (int f = 0; f < n; f++)
            for (int mu = 0; mu < d; mu++)
            {
                int p = f * d + mu;
                alpha[p] = f == 0 ? 1 : 0;
                beta[p] = Vector<double>.Build.Dense(2 * d);
                if (f > 0) beta[p][f - 1] = beta[p][d + f - 1] = 0.5;   // the basis function at the midpoint
                gamma[p] = Vector<double>.Build.Dense(2 * d);
                gamma[p][mu] = -1;                                      // dx_mu = x'_mu - x_mu
                gamma[p][d + mu] = 1;
            }
        double Q(Vector<double> u, Vector<double> v) => u * (sigma * v);
        var mean = Vector<double>.Build.Dense(m, p => Q(beta[p], gamma[p]));
        var cov = Matrix<double>.Build.Dense(m, m, (p, q) => alpha[p] * alpha[q] * Q(gamma[p], gamma[q])
            + Q(beta[p], beta[q]) * Q(gamma[p], gamma[q]) + Q(beta[p], gamma[q]) * Q(gamma[p], beta[q]));
        return 2 * (mean * cov.Solve(mean)) / dt;
    }

    /// <summary>exp(m) by scaling and squaring of a Taylor series (small matrices; analysis only).</summary>
    internal static Matrix<double> Expm(Matrix<double> m)
    {
        int squarings = Math.Max(0, (int)Math.Ceiling(Math.Log2(Math.Max(1e-300, m.InfinityNorm()))) + 4);
        var s = m / Math.Pow(2, squarings);
        var result = Matrix<double>.Build.DenseIdentity(m.RowCount);
        var term = Matrix<double>.Build.DenseIdentity(m.RowCount);
        for (int k = 1; k < 24; k++) { term = term * s / k; result += term; }
        for (int i = 0; i < squarings; i++) result *= result;
        return result;
    }

    [Fact]
    public void RichardsonCancelsTheLeadingTermOnBeadSpring()
    {
        var model = InferenceData.BeadSpring(2);
        double exact = model.EntropyProductionRateValue;
        double previousPlain = 0, previousCorrected = 0;
        foreach (double dt in new[] { 0.01, 0.1, 0.3 })
        {
            double plain = Limit(model, dt), corrected = 2 * plain - Limit(model, 2 * dt);
            double second = 3 * plain - 3 * Limit(model, 2 * dt) + Limit(model, 3 * dt);
            output.WriteLine($"dt k/gamma = {dt}: plain {plain:F6} (bias {(plain - exact) / exact:P3}), Richardson {corrected:F6} (bias {(corrected - exact) / exact:P3}), order 2 {second:F6} (bias {(second - exact) / exact:P3})");
            Assert.True(Math.Abs(corrected - exact) < Math.Abs(plain - exact));
            if (dt == 0.01)
            {
                previousPlain = plain - exact;
                previousCorrected = corrected - exact;
            }
            else if (dt == 0.1)
            {
                // plain bias is O(dt) (ratio ~10 for dt x10), corrected O(dt^2) (ratio ~100)
                Assert.InRange((plain - exact) / previousPlain, 7, 13);
                Assert.InRange((corrected - exact) / previousCorrected, 60, 140);
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void RichardsonBiasAtTheIssuesTimeSteps(int beads)
    {
        var model = InferenceData.BeadSpring(beads);
        double exact = model.EntropyProductionRateValue;
        foreach (double dt in new[] { 0.01, 0.001 })
        {
            double plain = Limit(model, dt), corrected = 2 * plain - Limit(model, 2 * dt);
            output.WriteLine($"n = {beads}, dt = {dt}: plain limit {plain:F6} ({(plain - exact) / exact:P3}), Richardson {corrected:F6} ({(corrected - exact) / exact:P3})");
            Assert.InRange(Math.Abs(corrected - exact) / exact, 0, 0.002);
            Assert.True(Math.Abs(plain - exact) / exact > 0.003);
        }
    }
}
