using System.Numerics;
using System.Runtime.CompilerServices;

namespace ThermoLearn.Randomness;

/// <summary>
/// A reproducible random stream keyed by (seed, stream index): xoshiro256** whose state is derived
/// from the key with SplitMix64. Stream i of seed s is the same sequence whichever thread, process
/// or shard draws it, which is what makes ensembles bit-identical for any thread count or split.
/// </summary>
/// <remarks>Blackman &amp; Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47 (2021).</remarks>
public struct RandomStream
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareGaussian;
    private bool _hasSpare;

    /// <summary>The stream for trajectory (or any other unit of work) <paramref name="index"/> of <paramref name="seed"/>.</summary>
    public static RandomStream For(ulong seed, ulong index)
    {
        ulong key = SplitMix64(seed ^ 0x6A09E667F3BCC909UL) ^ SplitMix64(unchecked(index * 0x9E3779B97F4A7C15UL + 0x5851F42D4C957F2DUL));
        var stream = new RandomStream();
        ulong z = key;
        stream._s0 = SplitMix64Next(ref z);
        stream._s1 = SplitMix64Next(ref z);
        stream._s2 = SplitMix64Next(ref z);
        stream._s3 = SplitMix64Next(ref z);
        return stream;
    }

    /// <summary>A sub-stream of stream <paramref name="index"/>: e.g. (seed, trajectory, purpose) for initial conditions vs noise.</summary>
    public static RandomStream For(ulong seed, ulong index, ulong purpose) => For(SplitMix64(unchecked(seed + 0xD1B54A32D192ED03UL * (purpose + 1))), index);

    /// <summary>The four xoshiro256** state words (vectorised kernels run one stream per SIMD lane from them).</summary>
    internal readonly (ulong S0, ulong S1, ulong S2, ulong S3) State => (_s0, _s1, _s2, _s3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in (0, 1]: safe as the argument of a logarithm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDoubleNonZero() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));

    /// <summary>Standard normal variate (Box-Muller; the second value of each pair is kept for the next call).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareGaussian;
        }
        double r = Math.Sqrt(-2.0 * Math.Log(NextDoubleNonZero()));
        (double sin, double cos) = Math.SinCos(2.0 * Math.PI * NextDouble());
        _spareGaussian = r * sin;
        _hasSpare = true;
        return r * cos;
    }

    /// <summary>Fills <paramref name="destination"/> with independent standard normal variates.</summary>
    public void FillGaussian(Span<double> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = NextGaussian();
    }

    /// <summary>SplitMix64 finaliser: a bijective 64-bit mixer (Steele, Lea &amp; Flood 2014).</summary>
    public static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong SplitMix64Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return SplitMix64(state);
    }
}
