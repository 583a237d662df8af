using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ThermoLearn.Randomness;

/// <summary>
/// <see cref="GaussianLanes"/> eight lanes wide (<see cref="Vector512{T}"/>, for AVX-512 machines): lane j runs the
/// xoshiro256** stream of <see cref="RandomStream.For(ulong, ulong, ulong)"/>(seed, first + j, purpose) and every
/// lane performs the same operations in the same order as the four-lane generator, with the same constants
/// (<see cref="NormalPolynomials"/>), so lane j here and lane j - 4k of a four-lane group give bit-identical normals
/// for the same trajectory. The code is the four-lane code with the vector width changed (the runtime exposes no
/// public interface over both widths); tests compare the two bit for bit.
/// </summary>
public struct GaussianLanes8
{
    private Vector512<ulong> _s0, _s1, _s2, _s3;
    private Vector512<double> _spare;
    private bool _hasSpare;

    /// <summary>Streams for trajectories first .. first + 7 of <paramref name="seed"/>.</summary>
    public static GaussianLanes8 For(ulong seed, long first, ulong purpose)
    {
        Span<ulong> s0 = stackalloc ulong[8], s1 = stackalloc ulong[8], s2 = stackalloc ulong[8], s3 = stackalloc ulong[8];
        for (int j = 0; j < 8; j++)
        {
            var st = RandomStream.For(seed, (ulong)(first + j), purpose).State;
            s0[j] = st.S0; s1[j] = st.S1; s2[j] = st.S2; s3[j] = st.S3;
        }
        return new GaussianLanes8
        {
            _s0 = Vector512.Create<ulong>(s0), _s1 = Vector512.Create<ulong>(s1),
            _s2 = Vector512.Create<ulong>(s2), _s3 = Vector512.Create<ulong>(s3),
        };
    }

    /// <summary>Next 64 random bits per lane (xoshiro256**; the multiplications by 5 and 9 are shifts and adds, as in the four-lane generator).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<ulong> NextBits()
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
    private Vector512<double> NextOneToTwo() =>
        ((NextBits() >>> 12) | Vector512.Create(0x3FF0000000000000UL)).AsDouble();

    /// <summary>One standard normal per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<double> Next()
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
    public void NextPair(out Vector512<double> first, out Vector512<double> second)
    {
        var u1 = Vector512.Create(2.0) - NextOneToTwo();                 // (0, 1]: safe for the log
        var quarterTurns = (NextOneToTwo() - Vector512<double>.One) * Vector512.Create(4.0);   // 4 u2 in [0, 4), exact
        var r = Vector512.Sqrt(Vector512.Create(-2.0) * LogUnit(u1));
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
    internal static Vector512<double> LogUnit(Vector512<double> u)
    {
        var bits = u.AsUInt64();
        var exponentField = bits >>> 52;
        // Exponent field as a double via the 2^52 trick (as in the four-lane generator, so the rounding is the same).
        var e = (exponentField | Vector512.Create(0x4330000000000000UL)).AsDouble() - Vector512.Create(4503599627370496.0 + 1023.0);
        var m = ((bits & Vector512.Create(0x000FFFFFFFFFFFFFUL)) | Vector512.Create(0x3FF0000000000000UL)).AsDouble();  // [1, 2)
        var large = Vector512.GreaterThan(m, Vector512.Create(1.4142135623730951));
        m = Vector512.ConditionalSelect(large, m * Vector512.Create(0.5), m);
        e += large & Vector512<double>.One;
        var s = (m - Vector512<double>.One) / (m + Vector512<double>.One);
        var z = s * s;
        var p = Vector512.Create(NormalPolynomials.Lg7);
        p = p * z + Vector512.Create(NormalPolynomials.Lg6);
        p = p * z + Vector512.Create(NormalPolynomials.Lg5);
        p = p * z + Vector512.Create(NormalPolynomials.Lg4);
        p = p * z + Vector512.Create(NormalPolynomials.Lg3);
        p = p * z + Vector512.Create(NormalPolynomials.Lg2);
        p = p * z + Vector512.Create(NormalPolynomials.Lg1);
        var logM = (s + s) + s * (z * p);
        return e * Vector512.Create(NormalPolynomials.Ln2) + logM;
    }

    /// <summary>
    /// sin and cos of (pi/2) y for y in [0, 4]: y = n + f with n = round(y) and |f| &lt;= 1/2, so the reduced angle
    /// a = (pi/2) f lies in [-pi/4, pi/4], where the minimax polynomials of <see cref="NormalPolynomials"/> (degree 13
    /// for sin, 12 for cos) are exact to double precision; the quadrant n swaps and negates them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SinCosQuarterTurns(Vector512<double> y, out Vector512<double> sin, out Vector512<double> cos)
    {
        var shifted = y + Vector512.Create(NormalPolynomials.RoundingShift);
        var n = shifted.AsUInt64();
        var f = y - (shifted - Vector512.Create(NormalPolynomials.RoundingShift));
        var a = f * Vector512.Create(NormalPolynomials.HalfPi);
        var z = a * a;
        var sp = Vector512.Create(NormalPolynomials.S6);
        sp = sp * z + Vector512.Create(NormalPolynomials.S5);
        sp = sp * z + Vector512.Create(NormalPolynomials.S4);
        sp = sp * z + Vector512.Create(NormalPolynomials.S3);
        sp = sp * z + Vector512.Create(NormalPolynomials.S2);
        sp = sp * z + Vector512.Create(NormalPolynomials.S1);
        var sinA = a + a * z * sp;
        var cp = Vector512.Create(NormalPolynomials.C6);
        cp = cp * z + Vector512.Create(NormalPolynomials.C5);
        cp = cp * z + Vector512.Create(NormalPolynomials.C4);
        cp = cp * z + Vector512.Create(NormalPolynomials.C3);
        cp = cp * z + Vector512.Create(NormalPolynomials.C2);
        cp = cp * z + Vector512.Create(NormalPolynomials.C1);
        var cosA = Vector512<double>.One - (Vector512.Create(0.5) * z - z * z * cp);
        // theta = n pi/2 + a: n = 0: (s, c); 1: (c, -s); 2: (-s, -c); 3: (-c, s).
        var odd = Vector512.Equals(n & Vector512<ulong>.One, Vector512<ulong>.One).AsDouble();
        var sinSign = ((n & Vector512.Create(2UL)) << 62).AsDouble();
        var cosSign = (((n + Vector512<ulong>.One) & Vector512.Create(2UL)) << 62).AsDouble();
        sin = Vector512.ConditionalSelect(odd, cosA, sinA) ^ sinSign;
        cos = Vector512.ConditionalSelect(odd, sinA, cosA) ^ cosSign;
    }
}
