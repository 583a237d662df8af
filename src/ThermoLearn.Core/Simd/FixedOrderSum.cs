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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// The lower triangle of the Gram matrix of <paramref name="n"/> columns, column a at
    /// <paramref name="columns"/>[a * <paramref name="stride"/> + from .. a * stride + to): into[a * n + c] (c &lt;= a) is
    /// <see cref="Dot"/> of columns a and c over [from, to), bit for bit. Register-blocked: three columns against three at a
    /// time (nine running sums from six loads per four elements), where <see cref="Dot4"/> needs five loads for four sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gram(ReadOnlySpan<double> columns, int stride, int n, int from, int to, Span<double> into)
    {
        if (n < 0 || from < 0 || to < from || (n > 0 && (long)(n - 1) * stride + to > columns.Length) || into.Length < n * n)
            throw new ArgumentException("columns outside the span");
        ref double p = ref MemoryMarshal.GetReference(columns);
        int len = to - from, full = n - n % 3;
        for (int a = 0; a < full; a += 3)
        {
            ref double a0 = ref Unsafe.Add(ref p, a * stride + from);
            ref double a1 = ref Unsafe.Add(ref a0, stride);
            ref double a2 = ref Unsafe.Add(ref a1, stride);
            for (int c = 0; c < a; c += 3)
            {
                ref double c0 = ref Unsafe.Add(ref p, c * stride + from);
                Block(ref a0, ref a1, ref a2, ref c0, ref Unsafe.Add(ref c0, stride), ref Unsafe.Add(ref c0, 2 * stride), len, into, a * n + c, n);
            }
            Triangle(ref a0, ref a1, ref a2, len, into, a * n + a, n);
        }
        for (int a = full; a < n; a++)
            for (int c = 0; c <= a; c++)
                into[a * n + c] = Dot(columns.Slice(a * stride + from, len), columns.Slice(c * stride + from, len));
    }

    /// <summary>
    /// sum_i a_k[i] b_m[i] for three columns a_k and two b_m (length <paramref name="length"/>, each bit for bit <see cref="Dot"/>),
    /// into[k * 2 + m].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Cross3x2(ref double a0, ref double a1, ref double a2, ref double b0, ref double b1, int length, Span<double> into)
    {
        if (into.Length < 6) throw new ArgumentException("six sums");
        Vector256<double> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default;
        int i = 0;
        for (; i <= length - 4; i += 4)
        {
            var v0 = Vector256.LoadUnsafe(ref b0, (nuint)i);
            var v1 = Vector256.LoadUnsafe(ref b1, (nuint)i);
            var x = Vector256.LoadUnsafe(ref a0, (nuint)i);
            s00 += x * v0;
            s01 += x * v1;
            x = Vector256.LoadUnsafe(ref a1, (nuint)i);
            s10 += x * v0;
            s11 += x * v1;
            x = Vector256.LoadUnsafe(ref a2, (nuint)i);
            s20 += x * v0;
            s21 += x * v1;
        }
        double r00 = Lanes(s00), r01 = Lanes(s01), r10 = Lanes(s10), r11 = Lanes(s11), r20 = Lanes(s20), r21 = Lanes(s21);
        for (; i < length; i++)
        {
            double v0 = Unsafe.Add(ref b0, i), v1 = Unsafe.Add(ref b1, i);
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i);
            r00 += x0 * v0;
            r01 += x0 * v1;
            r10 += x1 * v0;
            r11 += x1 * v1;
            r20 += x2 * v0;
            r21 += x2 * v1;
        }
        into[0] = r00;
        into[1] = r01;
        into[2] = r10;
        into[3] = r11;
        into[4] = r20;
        into[5] = r21;
    }

    /// <summary>
    /// The sums of two columns a_0, a_1 and their shifts b_m[i] = a_m[i + <paramref name="shift"/>] over i &lt; <paramref name="length"/>,
    /// each bit for bit <see cref="Dot"/>'s: into = (a_0.a_0, a_1.a_0, a_1.a_1, a_0.b_0, a_0.b_1, a_1.b_0, a_1.b_1) (the plane's
    /// second moments of increments and of successive increments, from four loads per four elements).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PlaneIncrements(ref double a0, ref double a1, int shift, int length, Span<double> into)
    {
        if (into.Length < 7) throw new ArgumentException("seven sums");
        ref double b0 = ref Unsafe.Add(ref a0, shift), b1 = ref Unsafe.Add(ref a1, shift);
        Vector256<double> s00 = default, s10 = default, s11 = default, t00 = default, t01 = default, t10 = default, t11 = default;
        int i = 0;
        for (; i <= length - 4; i += 4)
        {
            var x0 = Vector256.LoadUnsafe(ref a0, (nuint)i);
            var x1 = Vector256.LoadUnsafe(ref a1, (nuint)i);
            var y0 = Vector256.LoadUnsafe(ref b0, (nuint)i);
            var y1 = Vector256.LoadUnsafe(ref b1, (nuint)i);
            s00 += x0 * x0;
            s10 += x1 * x0;
            s11 += x1 * x1;
            t00 += x0 * y0;
            t01 += x0 * y1;
            t10 += x1 * y0;
            t11 += x1 * y1;
        }
        double r00 = Lanes(s00), r10 = Lanes(s10), r11 = Lanes(s11), q00 = Lanes(t00), q01 = Lanes(t01), q10 = Lanes(t10), q11 = Lanes(t11);
        for (; i < length; i++)
        {
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), y0 = Unsafe.Add(ref b0, i), y1 = Unsafe.Add(ref b1, i);
            r00 += x0 * x0;
            r10 += x1 * x0;
            r11 += x1 * x1;
            q00 += x0 * y0;
            q01 += x0 * y1;
            q10 += x1 * y0;
            q11 += x1 * y1;
        }
        into[0] = r00;
        into[1] = r10;
        into[2] = r11;
        into[3] = q00;
        into[4] = q01;
        into[5] = q10;
        into[6] = q11;
    }

    /// <summary>Rows a0..a2 against columns c0..c2: into[at + k * n + m] = sum a_k c_m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(ref double a0, ref double a1, ref double a2, ref double c0, ref double c1, ref double c2, int length, Span<double> into, int at, int n)
    {
        Vector256<double> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default, s20 = default, s21 = default, s22 = default;
        int i = 0;
        for (; i <= length - 4; i += 4)
        {
            var v0 = Vector256.LoadUnsafe(ref c0, (nuint)i);
            var v1 = Vector256.LoadUnsafe(ref c1, (nuint)i);
            var v2 = Vector256.LoadUnsafe(ref c2, (nuint)i);
            var x = Vector256.LoadUnsafe(ref a0, (nuint)i);
            s00 += x * v0;
            s01 += x * v1;
            s02 += x * v2;
            x = Vector256.LoadUnsafe(ref a1, (nuint)i);
            s10 += x * v0;
            s11 += x * v1;
            s12 += x * v2;
            x = Vector256.LoadUnsafe(ref a2, (nuint)i);
            s20 += x * v0;
            s21 += x * v1;
            s22 += x * v2;
        }
        double r00 = Lanes(s00), r01 = Lanes(s01), r02 = Lanes(s02), r10 = Lanes(s10), r11 = Lanes(s11), r12 = Lanes(s12);
        double r20 = Lanes(s20), r21 = Lanes(s21), r22 = Lanes(s22);
        for (; i < length; i++)
        {
            double v0 = Unsafe.Add(ref c0, i), v1 = Unsafe.Add(ref c1, i), v2 = Unsafe.Add(ref c2, i);
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i);
            r00 += x0 * v0;
            r01 += x0 * v1;
            r02 += x0 * v2;
            r10 += x1 * v0;
            r11 += x1 * v1;
            r12 += x1 * v2;
            r20 += x2 * v0;
            r21 += x2 * v1;
            r22 += x2 * v2;
        }
        into[at] = r00;
        into[at + 1] = r01;
        into[at + 2] = r02;
        into[at + n] = r10;
        into[at + n + 1] = r11;
        into[at + n + 2] = r12;
        into[at + 2 * n] = r20;
        into[at + 2 * n + 1] = r21;
        into[at + 2 * n + 2] = r22;
    }

    /// <summary>The lower triangle of three columns against themselves (products a_k a_m and a_m a_k are the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Triangle(ref double a0, ref double a1, ref double a2, int length, Span<double> into, int at, int n)
    {
        Vector256<double> s00 = default, s10 = default, s11 = default, s20 = default, s21 = default, s22 = default;
        int i = 0;
        for (; i <= length - 4; i += 4)
        {
            var x0 = Vector256.LoadUnsafe(ref a0, (nuint)i);
            var x1 = Vector256.LoadUnsafe(ref a1, (nuint)i);
            var x2 = Vector256.LoadUnsafe(ref a2, (nuint)i);
            s00 += x0 * x0;
            s10 += x1 * x0;
            s11 += x1 * x1;
            s20 += x2 * x0;
            s21 += x2 * x1;
            s22 += x2 * x2;
        }
        double r00 = Lanes(s00), r10 = Lanes(s10), r11 = Lanes(s11), r20 = Lanes(s20), r21 = Lanes(s21), r22 = Lanes(s22);
        for (; i < length; i++)
        {
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i);
            r00 += x0 * x0;
            r10 += x1 * x0;
            r11 += x1 * x1;
            r20 += x2 * x0;
            r21 += x2 * x1;
            r22 += x2 * x2;
        }
        into[at] = r00;
        into[at + n] = r10;
        into[at + n + 1] = r11;
        into[at + 2 * n] = r20;
        into[at + 2 * n + 1] = r21;
        into[at + 2 * n + 2] = r22;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Lanes(Vector256<double> s) => (s.GetElement(0) + s.GetElement(1)) + (s.GetElement(2) + s.GetElement(3));
}
