using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Tests;

/// <summary>
/// Tolerances of statistical checks, derived instead of picked. A check |estimate - exact| &lt; z SE + bias fails by chance
/// with probability P(|Z| &gt; z) for a calibrated standard error SE and a deterministic bias below the stated bound; a test
/// that makes m such checks gets z from the family-wise rate alpha by Bonferroni (alpha / m each), so the whole test fails
/// by chance with probability at most alpha. Seeds are fixed, so each test is deterministic: the rate is what a fresh seed
/// would risk. (Linked into both test projects.)
/// </summary>
internal static class StatisticalTolerance
{
    /// <summary>The two-sided z with P(|Z| &gt; z) = <paramref name="familyRate"/> / <paramref name="checks"/>.</summary>
    public static double Z(double familyRate, int checks = 1) => Normal.InvCDF(0, 1, 1 - familyRate / (2.0 * checks));

    /// <summary>
    /// A bound on the weak (bias) error of the stochastic Heun scheme, and of BAOAB, on linear dynamics with largest relaxation
    /// rate (or frequency) <paramref name="rate"/> at step <paramref name="dt"/>, relative to <paramref name="scale"/> (the size
    /// of the quantity): (rate dt)^2 |scale|. Both are weak order 2. For Heun on dx = -a x dt + sqrt(2D) dW the one-step mean
    /// map 1 - a dt + (a dt)^2 / 2 matches e^(-a dt) to (a dt)^3 / 6, so a transient over time t is off by (a t)(a dt)^2 / 6
    /// relative (below (a dt)^2 for a t &lt;= 6), and the stationary variance is D / a (1 - (a dt)^2 / 4 + ...), off by (a dt)^2 / 4.
    /// </summary>
    public static double SecondOrderBias(double rate, double dt, double scale) => Math.Pow(rate * dt, 2) * Math.Abs(scale);

    /// <summary>The largest |eigenvalue| of a drift matrix A (dx = -A x dt + ...): the fastest rate the scheme must resolve.</summary>
    public static double LargestRate(double[,] a) => Matrix<double>.Build.DenseOfArray(a).Evd().EigenValues.Max(z => z.Magnitude);
}
