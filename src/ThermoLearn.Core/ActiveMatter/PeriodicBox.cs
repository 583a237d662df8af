using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The periodic box of side L: positions wrapped into [0, L) and separations to their minimum image, one definition
/// for the integrator, the cell list and the estimators.
/// </summary>
internal static class PeriodicBox
{
    /// <summary>
    /// x - L floor(x / L), in [0, L). Inside [0, L) floor(x / L) is exactly 0 (x / L &lt;= 1 - 2^-53 there), so that is
    /// x + 0 (which turns -0 into +0 as the subtraction does), with no division: positions from a simulation in the box
    /// are nearly all inside.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Wrap(double x, double box) => x >= 0 && x < box ? x + 0.0 : x - box * Math.Floor(x / box);

    /// <summary><see cref="Wrap(double, double)"/> for four values: the division runs only for a group with a value outside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Wrap(Vector256<double> x, Vector256<double> box)
    {
        var inside = Vector256.GreaterThanOrEqual(x, Vector256<double>.Zero) & Vector256.LessThan(x, box);
        return inside == Vector256<double>.AllBitsSet ? x + Vector256<double>.Zero : x - box * Vector256.Floor(x / box);
    }

    /// <summary>The same per lane, eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Wrap(Vector512<double> x, Vector512<double> box)
    {
        var inside = Vector512.GreaterThanOrEqual(x, Vector512<double>.Zero) & Vector512.LessThan(x, box);
        return inside == Vector512<double>.AllBitsSet ? x + Vector512<double>.Zero : x - box * Vector512.Floor(x / box);
    }

    /// <summary>delta - L round(delta / L): the separation to the nearest periodic image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double MinimumImage(double delta, double box) => delta - box * Math.Round(delta / box);
}
