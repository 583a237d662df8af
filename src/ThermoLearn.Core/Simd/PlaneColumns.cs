using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.Simd;

/// <summary>
/// Interleaved points of the plane, (x_0, y_0, x_1, y_1, ...), split into an x column and a y column by vector shuffles:
/// four points per vector where AVX-512 runs, two otherwise. Each value is copied (or differenced) exactly as one by one,
/// so the columns have the same bits as a scalar loop. The callers finish the last points with their scalar loop.
/// </summary>
internal static class PlaneColumns
{
    /// <summary>x[i] = points[2 i], y[i] = points[2 i + 1] for i below the returned count (at most <paramref name="count"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Split(ref double points, int count, ref double x, ref double y) => Split<No>(ref points, 0, count, ref x, ref y);

    /// <summary>
    /// Increments over <paramref name="lag"/> points: x[i] = points[2 (i + lag)] - points[2 i], likewise y, for i below the
    /// returned count (at most <paramref name="count"/>; points up to count + lag - 1 are read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int SplitIncrements(ref double points, int lag, int count, ref double x, ref double y) =>
        Split<Yes>(ref points, lag, count, ref x, ref y);

    /// <summary>TDifferenced: increments over the lag rather than the points themselves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Split<TDifferenced>(ref double points, int lag, int count, ref double x, ref double y) where TDifferenced : struct, IJitFlag
    {
        int done = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // (x_0, y_0, ..., x_3, y_3) to (x_0, ..., x_3, y_0, ..., y_3): the halves belong to the two columns
            var order4 = Vector512.Create(0L, 2, 4, 6, 1, 3, 5, 7);
            for (; done <= count - 4; done += 4)
            {
                var v = Vector512.LoadUnsafe(ref points, (nuint)((done + lag) * 2));
                if (TDifferenced.Value) v -= Vector512.LoadUnsafe(ref points, (nuint)(done * 2));
                v = Vector512.Shuffle(v, order4);
                v.GetLower().StoreUnsafe(ref x, (nuint)done);
                v.GetUpper().StoreUnsafe(ref y, (nuint)done);
            }
        }
        // (x_0, y_0, x_1, y_1) to (x_0, x_1, y_0, y_1)
        var order = Vector256.Create(0L, 2, 1, 3);
        for (; done <= count - 2; done += 2)
        {
            var v = Vector256.LoadUnsafe(ref points, (nuint)((done + lag) * 2));
            if (TDifferenced.Value) v -= Vector256.LoadUnsafe(ref points, (nuint)(done * 2));
            v = Vector256.Shuffle(v, order);
            v.GetLower().StoreUnsafe(ref x, (nuint)done);
            v.GetUpper().StoreUnsafe(ref y, (nuint)done);
        }
        return done;
    }
}
