using System.Runtime.CompilerServices;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The pair force over the distance, g = f(r) / r, of a potential tabulated against u = r^2 for the force sweep (which
/// has r^2 and needs f(r) x_ij / r: no square root and no division per pair): u in [0, r_c^2) cut into
/// <see cref="Intervals"/> equal intervals of width h, each a cubic Hermite interpolant of g and dg/du at its ends,
/// g(u_k + t h) = c0 + t (c1 + t (c2 + t c3)) with c0 = g_k, c1 = h g'_k, c2 = 3 (g_(k+1) - g_k) - 2 h g'_k - h g'_(k+1),
/// c3 = 2 (g_k - g_(k+1)) + h g'_k + h g'_(k+1), where dg/du = (r f'(r) - f(r)) / (2 r^3). Every interval is checked when
/// the table is built, at t = 1/4, 1/2 and 3/4 against the potential's own f: where the force the interpolant gives,
/// r g, misses f by more than <see cref="Tolerance"/> + 1e-15 |f| (near r = 0, where g = f / r diverges, and near a
/// singular core such as WCA's r^-13) the interval keeps the exact formula f(sqrt u) / sqrt u. So the tabulated force
/// agrees with <see cref="IPairPotential.Force"/> to about 2e-14 absolute, while the hot loop replaces a square root, a
/// division and a log, an exp (softplus) or a power (WCA) per pair by one table row. The top node takes the left limit
/// f(r_c - 0) (the softplus is truncated at f = 1e-8 there).
/// </summary>
public sealed class PairForceTable
{
    /// <summary>Intervals over [0, r_c^2).</summary>
    public const int Intervals = 16384;

    /// <summary>Largest accepted absolute error of the force r g (plus 1e-15 |f| for rounding where f is large).</summary>
    public const double Tolerance = 2e-14;

    private readonly double[] _coefficients;   // 4 per interval; c0 = NaN marks an interval evaluated exactly
    private readonly double _inverseStep;

    private PairForceTable(double[] coefficients, double inverseStep, int exactIntervals)
    {
        _coefficients = coefficients;
        _inverseStep = inverseStep;
        ExactIntervals = exactIntervals;
    }

    /// <summary>Rows c0..c3 of the intervals (c0 = NaN: use the exact formula), for the vectorised force sweep.</summary>
    internal double[] Coefficients => _coefficients;

    /// <summary>1 / h (h: the interval width in r^2).</summary>
    internal double InverseStep => _inverseStep;

    /// <summary>Intervals where the interpolant missed the tolerance and the exact formula is used.</summary>
    public int ExactIntervals { get; }

    /// <summary>Builds and checks the table of <paramref name="potential"/>.</summary>
    public static PairForceTable For<TPotential>(TPotential potential) where TPotential : struct, IPairPotential
    {
        double cutoff = potential.Cutoff, h = cutoff * cutoff / Intervals;
        var g = new double[Intervals + 1];
        var slope = new double[Intervals + 1];
        for (int k = 0; k <= Intervals; k++)
        {
            double r = k == Intervals ? Math.BitDecrement(cutoff) : Math.Sqrt(k * h);
            double f = potential.Force(r);
            g[k] = f / r;
            slope[k] = h * (r * potential.ForceDerivative(r) - f) / (2 * r * r * r);
        }
        var c = new double[4 * Intervals];
        int exact = 0;
        for (int k = 0; k < Intervals; k++)
        {
            double c0 = g[k], c1 = slope[k];
            double c2 = 3 * (g[k + 1] - g[k]) - 2 * slope[k] - slope[k + 1];
            double c3 = 2 * (g[k] - g[k + 1]) + slope[k] + slope[k + 1];
            bool accurate = double.IsFinite(c0) && double.IsFinite(c1) && double.IsFinite(c2) && double.IsFinite(c3);
            for (int m = 1; m <= 3 && accurate; m++)
            {
                double t = 0.25 * m, r = Math.Sqrt((k + t) * h), expected = potential.Force(r);
                double value = Horner(t, c0, c1, c2, c3);
                accurate = Math.Abs(r * value - expected) <= Tolerance + 1e-15 * Math.Abs(expected);
            }
            if (!accurate)
            {
                c0 = double.NaN;
                exact++;
            }
            c[4 * k] = c0;
            c[4 * k + 1] = c1;
            c[4 * k + 2] = c2;
            c[4 * k + 3] = c3;
        }
        return new PairForceTable(c, 1 / h, exact);
    }

    /// <summary>
    /// g = f(r) / r for 0 &lt; r^2 = <paramref name="r2"/> &lt; r_c^2: the table row, or <paramref name="potential"/>'s formula
    /// f(sqrt(r2)) / sqrt(r2) where the table is not accurate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double ForceOverDistance<TPotential>(in TPotential potential, double r2) where TPotential : struct, IPairPotential
    {
        double x = r2 * _inverseStep;
        int k = (int)x;
        var c = _coefficients;
        if ((uint)(4 * k + 3) >= (uint)c.Length) return Exact(potential, r2);
        double c0 = c[4 * k];
        if (double.IsNaN(c0)) return Exact(potential, r2);
        return Horner(x - k, c0, c[4 * k + 1], c[4 * k + 2], c[4 * k + 3]);
    }

    /// <summary>c0 + t (c1 + t (c2 + t c3)) by fused multiply-adds (one rounding each), as the vectorised sweeps evaluate it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Horner(double t, double c0, double c1, double c2, double c3) =>
        Math.FusedMultiplyAdd(t, Math.FusedMultiplyAdd(t, Math.FusedMultiplyAdd(t, c3, c2), c1), c0);

    /// <summary>f(sqrt(r2)) / sqrt(r2) from the potential's formula (the vectorised sweep's exact lanes compute the same).</summary>
    internal static double Exact<TPotential>(in TPotential potential, double r2) where TPotential : struct, IPairPotential
    {
        double r = Math.Sqrt(r2);
        return potential.Force(r) / r;
    }
}
