using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.Randomness;

/// <summary>
/// Four independent standard-normal streams, one per <see cref="Vector256{T}"/> lane: lane j runs the
/// xoshiro256** stream of <see cref="RandomStream.For(ulong, ulong, ulong)"/>(seed, first + j, purpose),
/// so the numbers of a trajectory depend only on (seed, trajectory index, purpose), never on which lanes,
/// threads or shards the neighbours went to. Uniforms take the top 52 bits as a mantissa in [1, 2)
/// (the exponent trick); normals come from Box-Muller with vectorised log and sin/cos, two per lane per
/// pair of uniforms: the cosine branch now and the sine branch on the next call.
/// </summary>
public struct GaussianLanes
{
    private Vector256<ulong> _s0, _s1, _s2, _s3;
    private Vector256<double> _spare;
    private bool _hasSpare;

    /// <summary>Streams for trajectories first .. first + 3 of <paramref name="seed"/>.</summary>
    public static GaussianLanes For(ulong seed, long first, ulong purpose)
    {
        Span<ulong> s0 = stackalloc ulong[4], s1 = stackalloc ulong[4], s2 = stackalloc ulong[4], s3 = stackalloc ulong[4];
        for (int j = 0; j < 4; j++)
        {
            var st = RandomStream.For(seed, (ulong)(first + j), purpose).State;
            s0[j] = st.S0; s1[j] = st.S1; s2[j] = st.S2; s3[j] = st.S3;
        }
        return new GaussianLanes
        {
            _s0 = Vector256.Create<ulong>(s0), _s1 = Vector256.Create<ulong>(s1),
            _s2 = Vector256.Create<ulong>(s2), _s3 = Vector256.Create<ulong>(s3),
        };
    }

    /// <summary>Next 64 random bits per lane (xoshiro256**; the multiplications by 5 and 9 are shifts and adds, which AVX2 has).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<ulong> NextBits()
    {
        var s1 = _s1;
        var times5 = (s1 << 2) + s1;
        var rotated = (times5 << 7) | (times5 >>> 57);
        var result = (rotated << 3) + rotated;
        var t = s1 << 17;
        _s2 ^= _s0;
        _s3 ^= s1;
        _s1 = s1 ^ _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = (_s3 << 45) | (_s3 >>> 19);
        return result;
    }

    /// <summary>Uniform in [1, 2) per lane from the top 52 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<double> NextOneToTwo() =>
        ((NextBits() >>> 12) | Vector256.Create(0x3FF0000000000000UL)).AsDouble();

    /// <summary>One standard normal per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<double> Next()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        NextPair(out var first, out _spare);
        _hasSpare = true;
        return first;
    }

    /// <summary>Two standard normals per lane (Box-Muller): r cos(theta) and r sin(theta).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NextPair(out Vector256<double> first, out Vector256<double> second)
    {
        var u1 = Vector256.Create(2.0) - NextOneToTwo();                 // (0, 1]: safe for the log
        var u2 = NextOneToTwo() - Vector256<double>.One;                 // [0, 1)
        var r = Vector256.Sqrt(Vector256.Create(-2.0) * Vector256.Log(u1));
        var (sin, cos) = Vector256.SinCos(Vector256.Create(2 * Math.PI) * u2);
        first = r * cos;
        second = r * sin;
    }
}
