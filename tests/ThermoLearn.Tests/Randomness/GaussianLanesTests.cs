using System.Runtime.Intrinsics;
using ThermoLearn.Randomness;
using ThermoLearn.Statistics;
using Xunit;
using Gaussian4 = ThermoLearn.Randomness.GaussianLanes<ThermoLearn.Simd.Lanes256, System.Runtime.Intrinsics.Vector256<double>, System.Runtime.Intrinsics.Vector256<ulong>>;
using Gaussian8 = ThermoLearn.Randomness.GaussianLanes<ThermoLearn.Simd.Lanes512, System.Runtime.Intrinsics.Vector512<double>, System.Runtime.Intrinsics.Vector512<ulong>>;

namespace ThermoLearn.Tests.Randomness;

public class GaussianLanesTests
{
    [Fact]
    public void LogAndSinCosMatchTheLibraryToAFewUlp()
    {
        var random = RandomStream.For(5, 0);
        double worstLog = 0, worstTrig = 0;
        for (int i = 0; i < 20000; i++)
        {
            // u over (0, 1] including tiny values and exact powers of two.
            double u = i < 60 ? Math.Pow(2, -i) : random.NextDoubleNonZero() * Math.Pow(2, -(i % 53));
            var log = Gaussian4.LogUnit(Vector256.Create(u)).GetElement(0);
            worstLog = Math.Max(worstLog, Math.Abs(log - Math.Log(u)) / Math.Max(1e-300, Math.Abs(Math.Log(u)) + 1e-16));
            double y = 4 * random.NextDouble();
            Gaussian4.SinCosQuarterTurns(Vector256.Create(y), out var sin, out var cos);
            var (s, c) = Math.SinCos(y * Math.PI / 2);
            worstTrig = Math.Max(worstTrig, Math.Max(Math.Abs(sin.GetElement(0) - s), Math.Abs(cos.GetElement(0) - c)));
        }
        Assert.True(worstLog < 1e-15, $"log relative error {worstLog}");
        Assert.True(worstTrig < 1e-15, $"sin/cos absolute error {worstTrig}");
        Assert.Equal(0.0, Gaussian4.LogUnit(Vector256.Create(1.0)).GetElement(0));
    }

    /// <summary>
    /// 4 x 250,000 normals: mean 0, variance 1, fourth moment 3 and P(|z| &gt; 3) = 0.0026998 within 4 standard errors
    /// each (false-failure rate ~ 2.5e-4 in all), and the four lanes are the four trajectories' own streams.
    /// </summary>
    [Fact]
    public void LanesAreStandardNormalAndIndependentOfTheirNeighbours()
    {
        var lanes = Gaussian4.For(42, 8, 2);
        const int n = 250_000;
        var values = new double[4 * n];
        for (int i = 0; i < n; i++)
        {
            var z = lanes.Next();
            for (int j = 0; j < 4; j++) values[4 * i + j] = z.GetElement(j);
        }
        var mean = MeanEstimate.Of(values);
        var second = MeanEstimate.Of(values, z => z * z);
        var fourth = MeanEstimate.Of(values, z => z * z * z * z);
        var tail = MeanEstimate.Of(values, z => Math.Abs(z) > 3 ? 1.0 : 0.0);
        Assert.True(Math.Abs(mean.ZScore(0)) < 4, mean.ToString());
        Assert.True(Math.Abs(second.ZScore(1)) < 4, second.ToString());
        Assert.True(Math.Abs(fourth.ZScore(3)) < 4, fourth.ToString());
        Assert.True(Math.Abs(tail.ZScore(0.0026998)) < 4, tail.ToString());

        // Lane 1 of the group starting at 8 is the same stream as lane 0 of a group starting at 9.
        var a = Gaussian4.For(42, 8, 2);
        var b = Gaussian4.For(42, 9, 2);
        for (int i = 0; i < 100; i++) Assert.Equal(a.Next().GetElement(1), b.Next().GetElement(0));
    }

    /// <summary>
    /// The eight-lane generator is the four-lane one, wider: lane j of Gaussian8.For(seed, first) equals lane
    /// j mod 4 of Gaussian4.For(seed, first + 4 (j / 4)) bit for bit, through 10,000 pairs; and its log and
    /// sin/cos equal the four-lane functions on the same inputs (random u over all binades, y in [0, 4]).
    /// </summary>
    [Fact]
    public void EightLanesGiveTheFourLaneNumbersBitForBit()
    {
        var wide = Gaussian8.For(7, 40, 2);
        var low = Gaussian4.For(7, 40, 2);
        var high = Gaussian4.For(7, 44, 2);
        for (int i = 0; i < 10_000; i++)
        {
            wide.NextPair(out var w1, out var w2);
            low.NextPair(out var l1, out var l2);
            high.NextPair(out var h1, out var h2);
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(l1.GetElement(j)), BitConverter.DoubleToInt64Bits(w1.GetElement(j)));
                Assert.Equal(BitConverter.DoubleToInt64Bits(l2.GetElement(j)), BitConverter.DoubleToInt64Bits(w2.GetElement(j)));
                Assert.Equal(BitConverter.DoubleToInt64Bits(h1.GetElement(j)), BitConverter.DoubleToInt64Bits(w1.GetElement(4 + j)));
                Assert.Equal(BitConverter.DoubleToInt64Bits(h2.GetElement(j)), BitConverter.DoubleToInt64Bits(w2.GetElement(4 + j)));
            }
        }
        var random = RandomStream.For(9, 0);
        Span<double> u = stackalloc double[8], y = stackalloc double[8];
        for (int i = 0; i < 5_000; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                u[j] = random.NextDoubleNonZero() * Math.Pow(2, -((8 * i + j) % 60));
                y[j] = 4 * random.NextDouble();
            }
            var log = Gaussian8.LogUnit(Vector512.Create<double>(u));
            Gaussian8.SinCosQuarterTurns(Vector512.Create<double>(y), out var sin, out var cos);
            for (int half = 0; half < 2; half++)
            {
                var log4 = Gaussian4.LogUnit(Vector256.Create<double>(u.Slice(4 * half, 4)));
                Gaussian4.SinCosQuarterTurns(Vector256.Create<double>(y.Slice(4 * half, 4)), out var sin4, out var cos4);
                for (int j = 0; j < 4; j++)
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(log4.GetElement(j)), BitConverter.DoubleToInt64Bits(log.GetElement(4 * half + j)));
                    Assert.Equal(BitConverter.DoubleToInt64Bits(sin4.GetElement(j)), BitConverter.DoubleToInt64Bits(sin.GetElement(4 * half + j)));
                    Assert.Equal(BitConverter.DoubleToInt64Bits(cos4.GetElement(j)), BitConverter.DoubleToInt64Bits(cos.GetElement(4 * half + j)));
                }
            }
        }
    }
}
