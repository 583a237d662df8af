using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ThermoLearn.Simd;

/// <summary>
/// A SIMD width, so vector code is written once for four and eight lanes. <typeparamref name="TDouble"/> and
/// <typeparamref name="TBits"/> are the double and 64-bit-integer vectors of the width (<see cref="Vector256{T}"/> or
/// <see cref="Vector512{T}"/>), and the members are the width's own intrinsics under one name: lane-wise arithmetic,
/// bit operations, broadcast, load, reinterpret, sqrt, compare and select (the vectors' operators are not reachable
/// through a public generic-math interface, so generic code calls these by name). The implementations, <see cref="Lanes256"/> and <see cref="Lanes512"/>, are empty structs that
/// forward to the width's own intrinsics, so the JIT compiles each generic user once per width with every call inlined
/// (the runtime's interface over both widths, ISimdVector, is not public). Every lane performs the same IEEE-754
/// operations at either width, so lane j gives the same bits whichever width computed it.
/// </summary>
internal interface ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    /// <summary>Lanes per vector (4 or 8).</summary>
    static abstract int Count { get; }

    /// <summary>a + b per lane.</summary>
    static abstract TDouble Add(TDouble a, TDouble b);

    /// <summary>a - b per lane.</summary>
    static abstract TDouble Subtract(TDouble a, TDouble b);

    /// <summary>a * b per lane (rounded, never fused with an add).</summary>
    static abstract TDouble Multiply(TDouble a, TDouble b);

    /// <summary>a / b per lane.</summary>
    static abstract TDouble Divide(TDouble a, TDouble b);

    /// <summary>Bitwise a AND b of the doubles' bits.</summary>
    static abstract TDouble And(TDouble a, TDouble b);

    /// <summary>Bitwise a XOR b of the doubles' bits.</summary>
    static abstract TDouble Xor(TDouble a, TDouble b);

    /// <summary>a + b per lane, modulo 2^64.</summary>
    static abstract TBits AddBits(TBits a, TBits b);

    /// <summary>Bitwise a AND b.</summary>
    static abstract TBits AndBits(TBits a, TBits b);

    /// <summary>Bitwise a OR b.</summary>
    static abstract TBits OrBits(TBits a, TBits b);

    /// <summary>Bitwise a XOR b.</summary>
    static abstract TBits XorBits(TBits a, TBits b);

    /// <summary>x &lt;&lt; count per lane.</summary>
    static abstract TBits ShiftLeft(TBits x, int count);

    /// <summary>x &gt;&gt;&gt; count per lane (zeros shifted in).</summary>
    static abstract TBits ShiftRightLogical(TBits x, int count);

    /// <summary>x rotated left by count (0 &lt; count &lt; 64) per lane: (x &lt;&lt; count) | (x &gt;&gt;&gt; (64 - count)).</summary>
    static abstract TBits RotateLeft(TBits x, [ConstantExpected] byte count);

    /// <summary><paramref name="value"/> in every lane.</summary>
    static abstract TDouble Create(double value);

    /// <summary><paramref name="value"/> in every lane.</summary>
    static abstract TBits Create(ulong value);

    /// <summary>The first <see cref="Count"/> values, lane j from values[j].</summary>
    static abstract TDouble Create(ReadOnlySpan<double> values);

    /// <summary>The first <see cref="Count"/> values, lane j from values[j].</summary>
    static abstract TBits Create(ReadOnlySpan<ulong> values);

    /// <summary>The same 64 bits per lane read as doubles.</summary>
    static abstract TDouble AsDouble(TBits bits);

    /// <summary>The same 64 bits per lane read as unsigned integers.</summary>
    static abstract TBits AsBits(TDouble x);

    /// <summary>Correctly rounded square root per lane.</summary>
    static abstract TDouble Sqrt(TDouble x);

    /// <summary>All ones where a &gt; b, zero elsewhere.</summary>
    static abstract TDouble GreaterThan(TDouble a, TDouble b);

    /// <summary>All ones where a == b, zero elsewhere.</summary>
    static abstract TBits Equal(TBits a, TBits b);

    /// <summary>Bitwise select: the bits of <paramref name="whereSet"/> where <paramref name="mask"/> is set, of <paramref name="whereClear"/> elsewhere.</summary>
    static abstract TDouble ConditionalSelect(TDouble mask, TDouble whereSet, TDouble whereClear);

    /// <summary>Lane <paramref name="index"/>.</summary>
    static abstract double GetElement(TDouble x, int index);

    /// <summary>Bit j = the sign bit of lane j (all <see cref="Count"/> bits set when every lane of a compare mask is set).</summary>
    static abstract uint SignBits(TDouble x);

    /// <summary>Stores the lanes into the first <see cref="Count"/> elements of <paramref name="destination"/>.</summary>
    static abstract void CopyTo(TDouble x, Span<double> destination);

    /// <summary>Stores the lanes into the first <see cref="Count"/> elements of <paramref name="destination"/>.</summary>
    static abstract void CopyTo(TBits x, Span<ulong> destination);
}

/// <summary>Four lanes (<see cref="Vector256{T}"/>, AVX2).</summary>
internal readonly struct Lanes256 : ILanes<Vector256<double>, Vector256<ulong>>
{
    public static int Count => Vector256<double>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Subtract(Vector256<double> a, Vector256<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Multiply(Vector256<double> a, Vector256<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Divide(Vector256<double> a, Vector256<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> And(Vector256<double> a, Vector256<double> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Xor(Vector256<double> a, Vector256<double> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> AddBits(Vector256<ulong> a, Vector256<ulong> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> AndBits(Vector256<ulong> a, Vector256<ulong> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> OrBits(Vector256<ulong> a, Vector256<ulong> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> XorBits(Vector256<ulong> a, Vector256<ulong> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> ShiftLeft(Vector256<ulong> x, int count) => x << count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> ShiftRightLogical(Vector256<ulong> x, int count) => x >>> count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> RotateLeft(Vector256<ulong> x, [ConstantExpected] byte count) => (x << count) | (x >>> (64 - count));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Create(double value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Create(ulong value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Create(ReadOnlySpan<double> values) => Vector256.Create(values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Create(ReadOnlySpan<ulong> values) => Vector256.Create(values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AsDouble(Vector256<ulong> bits) => bits.AsDouble();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> AsBits(Vector256<double> x) => x.AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Sqrt(Vector256<double> x) => Vector256.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> GreaterThan(Vector256<double> a, Vector256<double> b) => Vector256.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<ulong> Equal(Vector256<ulong> a, Vector256<ulong> b) => Vector256.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ConditionalSelect(Vector256<double> mask, Vector256<double> whereSet, Vector256<double> whereClear) =>
        Vector256.ConditionalSelect(mask, whereSet, whereClear);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double GetElement(Vector256<double> x, int index) => x.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint SignBits(Vector256<double> x) => (uint)x.ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(Vector256<double> x, Span<double> destination) => x.CopyTo(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(Vector256<ulong> x, Span<ulong> destination) => x.CopyTo(destination);
}

/// <summary>Eight lanes (<see cref="Vector512{T}"/>, AVX-512).</summary>
internal readonly struct Lanes512 : ILanes<Vector512<double>, Vector512<ulong>>
{
    public static int Count => Vector512<double>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Subtract(Vector512<double> a, Vector512<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Multiply(Vector512<double> a, Vector512<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Divide(Vector512<double> a, Vector512<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> And(Vector512<double> a, Vector512<double> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Xor(Vector512<double> a, Vector512<double> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> AddBits(Vector512<ulong> a, Vector512<ulong> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> AndBits(Vector512<ulong> a, Vector512<ulong> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> OrBits(Vector512<ulong> a, Vector512<ulong> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> XorBits(Vector512<ulong> a, Vector512<ulong> b) => a ^ b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> ShiftLeft(Vector512<ulong> x, int count) => x << count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> ShiftRightLogical(Vector512<ulong> x, int count) => x >>> count;

    /// <summary>One vprolq (AVX-512F) instead of two shifts and an or: the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> RotateLeft(Vector512<ulong> x, [ConstantExpected] byte count) =>
        Avx512F.IsSupported ? Avx512F.RotateLeft(x, count) : (x << count) | (x >>> (64 - count));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Create(double value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Create(ulong value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Create(ReadOnlySpan<double> values) => Vector512.Create(values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Create(ReadOnlySpan<ulong> values) => Vector512.Create(values);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AsDouble(Vector512<ulong> bits) => bits.AsDouble();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> AsBits(Vector512<double> x) => x.AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Sqrt(Vector512<double> x) => Vector512.Sqrt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> GreaterThan(Vector512<double> a, Vector512<double> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<ulong> Equal(Vector512<ulong> a, Vector512<ulong> b) => Vector512.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ConditionalSelect(Vector512<double> mask, Vector512<double> whereSet, Vector512<double> whereClear) =>
        Vector512.ConditionalSelect(mask, whereSet, whereClear);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double GetElement(Vector512<double> x, int index) => x.GetElement(index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint SignBits(Vector512<double> x) => (uint)x.ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(Vector512<double> x, Span<double> destination) => x.CopyTo(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyTo(Vector512<ulong> x, Span<ulong> destination) => x.CopyTo(destination);
}
