using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.Simd;

/// <summary>
/// Dot products summed in one fixed order, whatever the machine: sum_i a_i b_i with element i added into lane i mod 4 of
/// a 4-lane accumulator (products rounded, never fused with the add), the lanes added as ((l0 + l1) + (l2 + l3)), then
/// the tail (the last n mod 4 elements) added one by one. Every lane performs the same IEEE-754 operations with or
/// without AVX, so the result has the same bits on every machine and thread count; it differs from the plain
/// left-to-right sum only by rounding. <see cref="Dot4"/> gives four such dot products sharing one operand (one load of
/// it for four products), each bit for bit <see cref="Dot"/>'s.
/// </summary>
internal static class FixedOrderSum
{
    /// <summary>sum_i a_i b_i (a and b must have equal lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length;
        if (b.Length != n) throw new ArgumentException("spans of different lengths");
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pb = ref MemoryMarshal.GetReference(b);
        var s = Vector256<double>.Zero;
        int i = 0;
        for (; i <= n - 4; i += 4) s += Vector256.LoadUnsafe(ref pa, (nuint)i) * Vector256.LoadUnsafe(ref pb, (nuint)i);
        double sum = Lanes(s);
        for (; i < n; i++) sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>The four dot products of <paramref name="a"/> with b0..b3 (all of a's length) into <paramref name="into"/>[0..3].</summary>
    public static void Dot4(ReadOnlySpan<double> a, ReadOnlySpan<double> b0, ReadOnlySpan<double> b1, ReadOnlySpan<double> b2, ReadOnlySpan<double> b3,
        Span<double> into)
    {
        int n = a.Length;
        if (b0.Length != n || b1.Length != n || b2.Length != n || b3.Length != n || into.Length < 4) throw new ArgumentException("spans of different lengths");
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double p0 = ref MemoryMarshal.GetReference(b0);
        ref double p1 = ref MemoryMarshal.GetReference(b1);
        ref double p2 = ref MemoryMarshal.GetReference(b2);
        ref double p3 = ref MemoryMarshal.GetReference(b3);
        Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 4; i += 4)
        {
            var v = Vector256.LoadUnsafe(ref pa, (nuint)i);
            s0 += v * Vector256.LoadUnsafe(ref p0, (nuint)i);
            s1 += v * Vector256.LoadUnsafe(ref p1, (nuint)i);
            s2 += v * Vector256.LoadUnsafe(ref p2, (nuint)i);
            s3 += v * Vector256.LoadUnsafe(ref p3, (nuint)i);
        }
        double r0 = Lanes(s0), r1 = Lanes(s1), r2 = Lanes(s2), r3 = Lanes(s3);
        for (; i < n; i++)
        {
            double x = Unsafe.Add(ref pa, i);
            r0 += x * Unsafe.Add(ref p0, i);
            r1 += x * Unsafe.Add(ref p1, i);
            r2 += x * Unsafe.Add(ref p2, i);
            r3 += x * Unsafe.Add(ref p3, i);
        }
        into[0] = r0;
        into[1] = r1;
        into[2] = r2;
        into[3] = r3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Lanes(Vector256<double> s) => (s.GetElement(0) + s.GetElement(1)) + (s.GetElement(2) + s.GetElement(3));
}
