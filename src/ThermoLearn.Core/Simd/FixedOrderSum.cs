using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.Simd;

/// <summary>
/// Dot products summed in one fixed order, whatever the machine: sum_i a_i b_i with element i added into lane i mod 8 of
/// an 8-lane accumulator by a fused multiply-add (a_i b_i + s rounded once), the lanes added as
/// (((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))), then the tail (the last n mod 8 elements) fused in one by one.
/// <see cref="Vector512.FusedMultiplyAdd(Vector512{double}, Vector512{double}, Vector512{double})"/> and <see cref="Math.FusedMultiplyAdd"/> are the exact IEEE-754 fma on every
/// machine (in hardware, or in software where the processor lacks it), and where AVX-512 is not accelerated a 512-bit vector
/// runs as two 256-bit halves doing the same lane operations, so the result has the same bits on every machine and
/// thread count; it differs from the plain left-to-right sum only by rounding. Eight lanes and fused products: on AVX-512
/// one instruction per eight products, against two (multiply, add) per four. <see cref="Dot4"/> gives four such dot
/// products sharing one operand (one load of it for four products), each bit for bit <see cref="Dot"/>'s.
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
        var s = Vector512<double>.Zero;
        int i = 0;
        for (; i <= n - 8; i += 8) s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i), s);
        double sum = Lanes(s);
        for (; i < n; i++) sum = Math.FusedMultiplyAdd(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i), sum);
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
        Vector512<double> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var v = Vector512.LoadUnsafe(ref pa, (nuint)i);
            s0 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref p0, (nuint)i), s0);
            s1 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref p1, (nuint)i), s1);
            s2 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref p2, (nuint)i), s2);
            s3 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref p3, (nuint)i), s3);
        }
        double r0 = Lanes(s0), r1 = Lanes(s1), r2 = Lanes(s2), r3 = Lanes(s3);
        for (; i < n; i++)
        {
            double x = Unsafe.Add(ref pa, i);
            r0 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p0, i), r0);
            r1 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p1, i), r1);
            r2 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p2, i), r2);
            r3 = Math.FusedMultiplyAdd(x, Unsafe.Add(ref p3, i), r3);
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
    /// time (nine running sums from six loads per eight elements), where <see cref="Dot4"/> needs five loads for four sums.
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
        Vector512<double> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default;
        int i = 0;
        for (; i <= length - 8; i += 8)
        {
            var v0 = Vector512.LoadUnsafe(ref b0, (nuint)i);
            var v1 = Vector512.LoadUnsafe(ref b1, (nuint)i);
            var x = Vector512.LoadUnsafe(ref a0, (nuint)i);
            s00 = Vector512.FusedMultiplyAdd(x, v0, s00);
            s01 = Vector512.FusedMultiplyAdd(x, v1, s01);
            x = Vector512.LoadUnsafe(ref a1, (nuint)i);
            s10 = Vector512.FusedMultiplyAdd(x, v0, s10);
            s11 = Vector512.FusedMultiplyAdd(x, v1, s11);
            x = Vector512.LoadUnsafe(ref a2, (nuint)i);
            s20 = Vector512.FusedMultiplyAdd(x, v0, s20);
            s21 = Vector512.FusedMultiplyAdd(x, v1, s21);
        }
        double r00 = Lanes(s00), r01 = Lanes(s01), r10 = Lanes(s10), r11 = Lanes(s11), r20 = Lanes(s20), r21 = Lanes(s21);
        for (; i < length; i++)
        {
            double v0 = Unsafe.Add(ref b0, i), v1 = Unsafe.Add(ref b1, i);
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i);
            r00 = Math.FusedMultiplyAdd(x0, v0, r00);
            r01 = Math.FusedMultiplyAdd(x0, v1, r01);
            r10 = Math.FusedMultiplyAdd(x1, v0, r10);
            r11 = Math.FusedMultiplyAdd(x1, v1, r11);
            r20 = Math.FusedMultiplyAdd(x2, v0, r20);
            r21 = Math.FusedMultiplyAdd(x2, v1, r21);
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
    /// second moments of increments and of successive increments, from four loads per eight elements).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PlaneIncrements(ref double a0, ref double a1, int shift, int length, Span<double> into)
    {
        if (into.Length < 7) throw new ArgumentException("seven sums");
        ref double b0 = ref Unsafe.Add(ref a0, shift), b1 = ref Unsafe.Add(ref a1, shift);
        Vector512<double> s00 = default, s10 = default, s11 = default, t00 = default, t01 = default, t10 = default, t11 = default;
        int i = 0;
        for (; i <= length - 8; i += 8)
        {
            var x0 = Vector512.LoadUnsafe(ref a0, (nuint)i);
            var x1 = Vector512.LoadUnsafe(ref a1, (nuint)i);
            var y0 = Vector512.LoadUnsafe(ref b0, (nuint)i);
            var y1 = Vector512.LoadUnsafe(ref b1, (nuint)i);
            s00 = Vector512.FusedMultiplyAdd(x0, x0, s00);
            s10 = Vector512.FusedMultiplyAdd(x1, x0, s10);
            s11 = Vector512.FusedMultiplyAdd(x1, x1, s11);
            t00 = Vector512.FusedMultiplyAdd(x0, y0, t00);
            t01 = Vector512.FusedMultiplyAdd(x0, y1, t01);
            t10 = Vector512.FusedMultiplyAdd(x1, y0, t10);
            t11 = Vector512.FusedMultiplyAdd(x1, y1, t11);
        }
        double r00 = Lanes(s00), r10 = Lanes(s10), r11 = Lanes(s11), q00 = Lanes(t00), q01 = Lanes(t01), q10 = Lanes(t10), q11 = Lanes(t11);
        for (; i < length; i++)
        {
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), y0 = Unsafe.Add(ref b0, i), y1 = Unsafe.Add(ref b1, i);
            r00 = Math.FusedMultiplyAdd(x0, x0, r00);
            r10 = Math.FusedMultiplyAdd(x1, x0, r10);
            r11 = Math.FusedMultiplyAdd(x1, x1, r11);
            q00 = Math.FusedMultiplyAdd(x0, y0, q00);
            q01 = Math.FusedMultiplyAdd(x0, y1, q01);
            q10 = Math.FusedMultiplyAdd(x1, y0, q10);
            q11 = Math.FusedMultiplyAdd(x1, y1, q11);
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
        Vector512<double> s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default, s20 = default, s21 = default, s22 = default;
        int i = 0;
        for (; i <= length - 8; i += 8)
        {
            var v0 = Vector512.LoadUnsafe(ref c0, (nuint)i);
            var v1 = Vector512.LoadUnsafe(ref c1, (nuint)i);
            var v2 = Vector512.LoadUnsafe(ref c2, (nuint)i);
            var x = Vector512.LoadUnsafe(ref a0, (nuint)i);
            s00 = Vector512.FusedMultiplyAdd(x, v0, s00);
            s01 = Vector512.FusedMultiplyAdd(x, v1, s01);
            s02 = Vector512.FusedMultiplyAdd(x, v2, s02);
            x = Vector512.LoadUnsafe(ref a1, (nuint)i);
            s10 = Vector512.FusedMultiplyAdd(x, v0, s10);
            s11 = Vector512.FusedMultiplyAdd(x, v1, s11);
            s12 = Vector512.FusedMultiplyAdd(x, v2, s12);
            x = Vector512.LoadUnsafe(ref a2, (nuint)i);
            s20 = Vector512.FusedMultiplyAdd(x, v0, s20);
            s21 = Vector512.FusedMultiplyAdd(x, v1, s21);
            s22 = Vector512.FusedMultiplyAdd(x, v2, s22);
        }
        double r00 = Lanes(s00), r01 = Lanes(s01), r02 = Lanes(s02), r10 = Lanes(s10), r11 = Lanes(s11), r12 = Lanes(s12);
        double r20 = Lanes(s20), r21 = Lanes(s21), r22 = Lanes(s22);
        for (; i < length; i++)
        {
            double v0 = Unsafe.Add(ref c0, i), v1 = Unsafe.Add(ref c1, i), v2 = Unsafe.Add(ref c2, i);
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i);
            r00 = Math.FusedMultiplyAdd(x0, v0, r00);
            r01 = Math.FusedMultiplyAdd(x0, v1, r01);
            r02 = Math.FusedMultiplyAdd(x0, v2, r02);
            r10 = Math.FusedMultiplyAdd(x1, v0, r10);
            r11 = Math.FusedMultiplyAdd(x1, v1, r11);
            r12 = Math.FusedMultiplyAdd(x1, v2, r12);
            r20 = Math.FusedMultiplyAdd(x2, v0, r20);
            r21 = Math.FusedMultiplyAdd(x2, v1, r21);
            r22 = Math.FusedMultiplyAdd(x2, v2, r22);
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
        Vector512<double> s00 = default, s10 = default, s11 = default, s20 = default, s21 = default, s22 = default;
        int i = 0;
        for (; i <= length - 8; i += 8)
        {
            var x0 = Vector512.LoadUnsafe(ref a0, (nuint)i);
            var x1 = Vector512.LoadUnsafe(ref a1, (nuint)i);
            var x2 = Vector512.LoadUnsafe(ref a2, (nuint)i);
            s00 = Vector512.FusedMultiplyAdd(x0, x0, s00);
            s10 = Vector512.FusedMultiplyAdd(x1, x0, s10);
            s11 = Vector512.FusedMultiplyAdd(x1, x1, s11);
            s20 = Vector512.FusedMultiplyAdd(x2, x0, s20);
            s21 = Vector512.FusedMultiplyAdd(x2, x1, s21);
            s22 = Vector512.FusedMultiplyAdd(x2, x2, s22);
        }
        double r00 = Lanes(s00), r10 = Lanes(s10), r11 = Lanes(s11), r20 = Lanes(s20), r21 = Lanes(s21), r22 = Lanes(s22);
        for (; i < length; i++)
        {
            double x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i);
            r00 = Math.FusedMultiplyAdd(x0, x0, r00);
            r10 = Math.FusedMultiplyAdd(x1, x0, r10);
            r11 = Math.FusedMultiplyAdd(x1, x1, r11);
            r20 = Math.FusedMultiplyAdd(x2, x0, r20);
            r21 = Math.FusedMultiplyAdd(x2, x1, r21);
            r22 = Math.FusedMultiplyAdd(x2, x2, r22);
        }
        into[at] = r00;
        into[at + n] = r10;
        into[at + n + 1] = r11;
        into[at + 2 * n] = r20;
        into[at + 2 * n + 1] = r21;
        into[at + 2 * n + 2] = r22;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Lanes(Vector512<double> s) =>
        ((s.GetElement(0) + s.GetElement(1)) + (s.GetElement(2) + s.GetElement(3))) + ((s.GetElement(4) + s.GetElement(5)) + (s.GetElement(6) + s.GetElement(7)));
}
