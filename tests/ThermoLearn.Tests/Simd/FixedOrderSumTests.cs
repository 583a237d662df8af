using ThermoLearn.Simd;
using Xunit;

namespace ThermoLearn.Tests.Simd;

/// <summary>
/// The register-blocked sums are <see cref="FixedOrderSum.Dot"/> bit for bit (the statistics' summation order is defined by
/// Dot): every Gram entry and every 3 x 2 cross product, for lengths with and without a tail (n mod 8) and column counts
/// with and without a remainder (n mod 3).
/// </summary>
public class FixedOrderSumTests
{
    private static double[] Values(int count, int seed)
    {
        var random = new Random(seed);
        // magnitudes over many orders, so that any change of the summation order changes the rounding
        return Enumerable.Range(0, count).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7))).ToArray();
    }

    private static void Same(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"{what}: {expected:R} by Dot, {actual:R} blocked");

    /// <summary>
    /// Dot is its documented order, written out one element at a time: element i fused into lane i mod 8, the lanes added
    /// pairwise, the tail fused in one by one; so it has these bits on every machine (with AVX-512 or as 256-bit halves).
    /// </summary>
    [Theory]
    [InlineData(256)]
    [InlineData(255)]
    [InlineData(13)]
    [InlineData(7)]
    [InlineData(0)]
    public void DotIsTheDocumentedOrder(int n)
    {
        var a = Values(n, 11 + n);
        var b = Values(n, 12 + n);
        var lanes = new double[8];
        int body = n - n % 8;
        for (int i = 0; i < body; i++) lanes[i % 8] = Math.FusedMultiplyAdd(a[i], b[i], lanes[i % 8]);
        double sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for (int i = body; i < n; i++) sum = Math.FusedMultiplyAdd(a[i], b[i], sum);
        Same(sum, FixedOrderSum.Dot(a, b), $"n = {n}");
    }

    [Theory]
    [InlineData(6, 256, 0, 256)]
    [InlineData(6, 258, 2, 255)]
    [InlineData(7, 37, 1, 36)]
    [InlineData(10, 9, 0, 9)]
    [InlineData(2, 5, 1, 4)]
    [InlineData(3, 1, 0, 1)]
    public void GramEntriesAreDotProducts(int n, int stride, int from, int to)
    {
        var columns = Values(n * stride, n * 1000 + stride);
        var gram = new double[n * n];
        FixedOrderSum.Gram(columns, stride, n, from, to, gram);
        for (int a = 0; a < n; a++)
            for (int c = 0; c <= a; c++)
                Same(FixedOrderSum.Dot(columns.AsSpan(a * stride + from, to - from), columns.AsSpan(c * stride + from, to - from)), gram[a * n + c], $"G[{a},{c}]");
    }

    [Theory]
    [InlineData(256)]
    [InlineData(255)]
    [InlineData(3)]
    public void CrossProductsAreDotProducts(int length)
    {
        var v = Values(5 * length, length);
        var into = new double[6];
        FixedOrderSum.Cross3x2(ref v[0], ref v[length], ref v[2 * length], ref v[3 * length], ref v[4 * length], length, into);
        for (int k = 0; k < 3; k++)
            for (int m = 0; m < 2; m++)
                Same(FixedOrderSum.Dot(v.AsSpan(k * length, length), v.AsSpan((3 + m) * length, length)), into[k * 2 + m], $"[{k},{m}]");
    }

    [Theory]
    [InlineData(256, 1)]
    [InlineData(255, 2)]
    [InlineData(2, 1)]
    public void PlaneIncrementsAreDotProducts(int length, int shift)
    {
        int stride = length + shift;
        var v = Values(2 * stride, length + 7 * shift);
        var into = new double[7];
        FixedOrderSum.PlaneIncrements(ref v[0], ref v[stride], shift, length, into);
        ReadOnlySpan<double> A(int m) => v.AsSpan(m * stride, length);
        ReadOnlySpan<double> B(int m) => v.AsSpan(m * stride + shift, length);
        Same(FixedOrderSum.Dot(A(0), A(0)), into[0], "a0.a0");
        Same(FixedOrderSum.Dot(A(1), A(0)), into[1], "a1.a0");
        Same(FixedOrderSum.Dot(A(1), A(1)), into[2], "a1.a1");
        for (int m = 0; m < 2; m++)
            for (int q = 0; q < 2; q++) Same(FixedOrderSum.Dot(A(m), B(q)), into[3 + m * 2 + q], $"a{m}.b{q}");
    }
}
