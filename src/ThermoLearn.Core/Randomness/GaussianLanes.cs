using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.Randomness;

/// <summary>
/// Four independent standard-normal streams, one per <see cref="Vector256{T}"/> lane: lane j runs the
/// xoshiro256** stream of <see cref="RandomStream.For(ulong, ulong, ulong)"/>(seed, first + j, purpose),
/// so the numbers of a trajectory depend only on (seed, trajectory index, purpose), never on which lanes,
/// threads or shards the neighbours went to. Uniforms take the top 52 bits as a mantissa in [1, 2)
/// (the exponent trick); normals come from Box-Muller with vectorised log and sin/cos written here with
/// +, -, *, / only (no FMA, no library calls), so the numbers are the same on every IEEE-754 machine. Two per
/// lane per pair of uniforms: the cosine branch now and the sine branch on the next call.
/// <see cref="GaussianLanes8"/> is the same generator eight lanes wide: every lane runs the same operations
/// in the same order, so lane j of either gives the same numbers for the same trajectory.
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

    /// <summary>Two standard normals per lane (Box-Muller): r cos(theta) and r sin(theta), r = sqrt(-2 ln u1), theta = 2 pi u2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NextPair(out Vector256<double> first, out Vector256<double> second)
    {
        var u1 = Vector256.Create(2.0) - NextOneToTwo();                 // (0, 1]: safe for the log
        var quarterTurns = (NextOneToTwo() - Vector256<double>.One) * Vector256.Create(4.0);   // 4 u2 in [0, 4), exact
        var r = Vector256.Sqrt(Vector256.Create(-2.0) * LogUnit(u1));
        SinCosQuarterTurns(quarterTurns, out var sin, out var cos);
        first = r * cos;
        second = r * sin;
    }

    /// <summary>
    /// ln u for u in (0, 1] with only +, -, *, / and bit operations (so the result is the same on every IEEE-754
    /// machine): u = 2^e m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| &lt;= 0.1716,
    /// 2 atanh(s) = 2s + s R(s^2) with the degree-7 minimax R of <see cref="NormalPolynomials"/>. Accurate to a few ulp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<double> LogUnit(Vector256<double> u)
    {
        var bits = u.AsUInt64();
        var exponentField = bits >>> 52;
        // Exponent field as a double via the 2^52 trick (AVX2 has no int64 -> double conversion).
        var e = (exponentField | Vector256.Create(0x4330000000000000UL)).AsDouble() - Vector256.Create(4503599627370496.0 + 1023.0);
        var m = ((bits & Vector256.Create(0x000FFFFFFFFFFFFFUL)) | Vector256.Create(0x3FF0000000000000UL)).AsDouble();  // [1, 2)
        var large = Vector256.GreaterThan(m, Vector256.Create(1.4142135623730951));
        m = Vector256.ConditionalSelect(large, m * Vector256.Create(0.5), m);
        e += large & Vector256<double>.One;
        var s = (m - Vector256<double>.One) / (m + Vector256<double>.One);
        var z = s * s;
        var p = Vector256.Create(NormalPolynomials.Lg7);
        p = p * z + Vector256.Create(NormalPolynomials.Lg6);
        p = p * z + Vector256.Create(NormalPolynomials.Lg5);
        p = p * z + Vector256.Create(NormalPolynomials.Lg4);
        p = p * z + Vector256.Create(NormalPolynomials.Lg3);
        p = p * z + Vector256.Create(NormalPolynomials.Lg2);
        p = p * z + Vector256.Create(NormalPolynomials.Lg1);
        var logM = (s + s) + s * (z * p);
        return e * Vector256.Create(NormalPolynomials.Ln2) + logM;
    }

    /// <summary>
    /// sin and cos of (pi/2) y for y in [0, 4]: y = n + f with n = round(y) and |f| &lt;= 1/2, so the reduced angle
    /// a = (pi/2) f lies in [-pi/4, pi/4], where the minimax polynomials of <see cref="NormalPolynomials"/> (degree 13
    /// for sin, 12 for cos) are exact to double precision; the quadrant n swaps and negates them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SinCosQuarterTurns(Vector256<double> y, out Vector256<double> sin, out Vector256<double> cos)
    {
        var shifted = y + Vector256.Create(NormalPolynomials.RoundingShift);
        var n = shifted.AsUInt64();
        var f = y - (shifted - Vector256.Create(NormalPolynomials.RoundingShift));
        var a = f * Vector256.Create(NormalPolynomials.HalfPi);
        var z = a * a;
        var sp = Vector256.Create(NormalPolynomials.S6);
        sp = sp * z + Vector256.Create(NormalPolynomials.S5);
        sp = sp * z + Vector256.Create(NormalPolynomials.S4);
        sp = sp * z + Vector256.Create(NormalPolynomials.S3);
        sp = sp * z + Vector256.Create(NormalPolynomials.S2);
        sp = sp * z + Vector256.Create(NormalPolynomials.S1);
        var sinA = a + a * z * sp;
        var cp = Vector256.Create(NormalPolynomials.C6);
        cp = cp * z + Vector256.Create(NormalPolynomials.C5);
        cp = cp * z + Vector256.Create(NormalPolynomials.C4);
        cp = cp * z + Vector256.Create(NormalPolynomials.C3);
        cp = cp * z + Vector256.Create(NormalPolynomials.C2);
        cp = cp * z + Vector256.Create(NormalPolynomials.C1);
        var cosA = Vector256<double>.One - (Vector256.Create(0.5) * z - z * z * cp);
        // theta = n pi/2 + a: n = 0: (s, c); 1: (c, -s); 2: (-s, -c); 3: (-c, s).
        var odd = Vector256.Equals(n & Vector256<ulong>.One, Vector256<ulong>.One).AsDouble();
        var sinSign = ((n & Vector256.Create(2UL)) << 62).AsDouble();
        var cosSign = (((n + Vector256<ulong>.One) & Vector256.Create(2UL)) << 62).AsDouble();
        sin = Vector256.ConditionalSelect(odd, cosA, sinA) ^ sinSign;
        cos = Vector256.ConditionalSelect(odd, sinA, cosA) ^ cosSign;
    }
}
