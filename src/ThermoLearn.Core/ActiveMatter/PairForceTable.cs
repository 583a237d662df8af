using System.Runtime.CompilerServices;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The pair force magnitude f(r) of a potential tabulated for the force sweep: r in [0, r_c) cut into
/// <see cref="Intervals"/> equal intervals of width h, each a cubic Hermite interpolant of f and f' at its ends,
/// f(r_k + t h) = c0 + t (c1 + t (c2 + t c3)) with c0 = f_k, c1 = h f'_k, c2 = 3 (f_(k+1) - f_k) - 2 h f'_k - h f'_(k+1),
/// c3 = 2 (f_k - f_(k+1)) + h f'_k + h f'_(k+1) (error h^4 max|f''''| / 384). Every interval is checked when the table
/// is built, at t = 1/4, 1/2 and 3/4 against the potential's own f: where the interpolant misses by more than
/// <see cref="Tolerance"/> + 1e-15 |f| (near a singular core such as WCA's r^-13, where f is large) the interval keeps the
/// exact formula. So the tabulated force agrees with <see cref="IPairPotential.Force"/> to about 2e-14 absolute, while the hot loop
/// replaces a log, an exp (softplus) or a power (WCA) per pair by one table row. The top node takes the left limit
/// f(r_c - 0) (the softplus is truncated at f = 1e-8 there).
/// </summary>
public sealed class PairForceTable
{
    /// <summary>Intervals over [0, r_c).</summary>
    public const int Intervals = 8192;

    /// <summary>Largest accepted absolute interpolation error (plus 1e-15 |f| for rounding where f is large).</summary>
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

    /// <summary>1 / h.</summary>
    internal double InverseStep => _inverseStep;

    /// <summary>Intervals where the interpolant missed the tolerance and the exact formula is used.</summary>
    public int ExactIntervals { get; }

    /// <summary>Builds and checks the table of <paramref name="potential"/>.</summary>
    public static PairForceTable For<TPotential>(TPotential potential) where TPotential : struct, IPairPotential
    {
        double cutoff = potential.Cutoff, h = cutoff / Intervals;
        var f = new double[Intervals + 1];
        var slope = new double[Intervals + 1];
        for (int k = 0; k <= Intervals; k++)
        {
            double r = k == Intervals ? Math.BitDecrement(cutoff) : k * h;
            f[k] = potential.Force(r);
            slope[k] = h * potential.ForceDerivative(r);
        }
        var c = new double[4 * Intervals];
        int exact = 0;
        for (int k = 0; k < Intervals; k++)
        {
            double c0 = f[k], c1 = slope[k];
            double c2 = 3 * (f[k + 1] - f[k]) - 2 * slope[k] - slope[k + 1];
            double c3 = 2 * (f[k] - f[k + 1]) + slope[k] + slope[k + 1];
            bool accurate = double.IsFinite(c0) && double.IsFinite(c1) && double.IsFinite(c2) && double.IsFinite(c3);
            for (int m = 1; m <= 3 && accurate; m++)
            {
                double t = 0.25 * m, expected = potential.Force((k + t) * h);
                double value = c0 + t * (c1 + t * (c2 + t * c3));
                accurate = Math.Abs(value - expected) <= Tolerance + 1e-15 * Math.Abs(expected);
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

    /// <summary>f(r) for 0 &lt;= r &lt; r_c: the table row, or <paramref name="potential"/>'s formula where the table is not accurate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Force<TPotential>(in TPotential potential, double r) where TPotential : struct, IPairPotential
    {
        double x = r * _inverseStep;
        int k = (int)x;
        var c = _coefficients;
        if ((uint)(4 * k + 3) >= (uint)c.Length) return potential.Force(r);
        double c0 = c[4 * k];
        if (double.IsNaN(c0)) return potential.Force(r);
        double t = x - k;
        return c0 + t * (c[4 * k + 1] + t * (c[4 * k + 2] + t * c[4 * k + 3]));
    }
}
