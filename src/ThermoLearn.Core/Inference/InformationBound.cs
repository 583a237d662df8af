using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Models;
using ThermoLearn.Statistics;

namespace ThermoLearn.Inference;

/// <summary>
/// How small an honest error bar on an EP rate can be. For stationary data of a linear model dx = -A x dt + sqrt(2D) dW
/// observed for a time tau (D known, A free: the family a linear-basis force or current estimator fits), the Fisher
/// information of the path (Girsanov) for A is I = (tau/2) D^-1 (x) C, so by the Cramer-Rao inequality every unbiased
/// estimator of sigma(A) = tr[(A - D C^-1)^T D^-1 (A - D C^-1) C] (C from A C + C A^T = 2D) has
/// Var &gt;= g^T I^-1 g = (2/tau) tr(g^T D g C^-1), g = d sigma / d A. Continuous observation is the most informative
/// limit (frames at spacing dt carry less); the initial point's information is O(1/tau) relative and left out.
/// When sigma is quadratic in one drive amplitude eps (sigma ~ eps^2) the bound is close to sqrt(8 sigma / tau).
/// </summary>
public static class InformationBound
{
    /// <summary>The Cramer-Rao lower bound on the standard error of sigma from observed time <paramref name="observedTime"/>.</summary>
    public static double EntropyProductionStandardError(LinearModel model, double observedTime)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(observedTime > 0) || !double.IsFinite(observedTime))
            throw new InvalidInputException($"The observed time must be positive and finite (got {observedTime}).");
        var a = Matrix<double>.Build.DenseOfArray(model.A);
        var d = Matrix<double>.Build.DenseOfArray(model.Diffusion);
        var c = Matrix<double>.Build.DenseOfArray(model.StationaryCovariance);
        int n = a.RowCount;
        // central differences of sigma(A) (C follows A through the Lyapunov equation); sigma is smooth in A
        var g = Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double h = 1e-6 * Math.Max(1, Math.Abs(a[i, j]));
                var up = a.Clone();
                up[i, j] += h;
                var down = a.Clone();
                down[i, j] -= h;
                g[i, j] = (Sigma(up, d) - Sigma(down, d)) / (2 * h);
            }
        double variance = 2 / observedTime * (g.Transpose() * d * g * c.Inverse()).Trace();
        return Math.Sqrt(variance);
    }

    private static double Sigma(Matrix<double> a, Matrix<double> d)
    {
        var c = Matrix<double>.Build.DenseOfArray(DenseMatrix.SolveLyapunov(a.ToArray(), (2 * d).ToArray()));
        var w = a - d * c.Inverse();
        return (w.Transpose() * d.Inverse() * w * c).Trace();
    }
}
