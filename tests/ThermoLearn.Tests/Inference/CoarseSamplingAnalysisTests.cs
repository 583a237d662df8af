using MathNet.Numerics.LinearAlgebra;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// Large-data limits of the current estimator on a linear model sampled at spacing dt (no statistical
/// noise): J(dt) = (C Phi^T - Phi C) / (2 dt), Phi = exp(-A dt), sigma(dt) = tr(J^T C^-1 J D^-1).
/// </summary>
public class CoarseSamplingAnalysisTests(ITestOutputHelper output)
{
    internal static double Limit(Matrix<double> a, Matrix<double> d, double dt)
    {
        var c = ExactLinearGenerator.Stationary(a, d);
        var phi = ExactLinearGenerator.Expm(-a * dt);
        var j = (c * phi.Transpose() - phi * c) / (2 * dt);
        return (j.Transpose() * c.Inverse() * j * d.Inverse()).Trace();
    }

    [Fact]
    public void RichardsonCancelsTheLeadingTermOnBeadSpring()
    {
        var (a, d) = ExactLinearGenerator.BeadSpring(2);
        double exact = ExactLinearGenerator.EntropyProduction(a, d);
        double previousPlain = 0, previousCorrected = 0;
        foreach (double dt in new[] { 0.01, 0.1, 0.3 })
        {
            double plain = Limit(a, d, dt), corrected = 2 * plain - Limit(a, d, 2 * dt);
            double second = 3 * plain - 3 * Limit(a, d, 2 * dt) + Limit(a, d, 3 * dt);
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
}
