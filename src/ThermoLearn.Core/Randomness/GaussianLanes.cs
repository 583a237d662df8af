using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Simd;

namespace ThermoLearn.Randomness;

/// <summary>
/// Independent standard-normal streams, one per SIMD lane, written once for any width (<see cref="ILanes{TDouble, TBits}"/>:
/// four lanes with <see cref="Lanes256"/>, eight with <see cref="Lanes512"/>). Lane j runs the xoshiro256** stream of
/// <see cref="RandomStream.For(ulong, ulong, ulong)"/>(seed, first + j, purpose), so the numbers of a trajectory depend
/// only on (seed, trajectory index, purpose), never on which lanes, threads or shards the neighbours went to, nor on the
/// width. Uniforms take the top 52 bits as a mantissa in [1, 2) (the exponent trick); normals come from Box-Muller with
/// vectorised log and sin/cos written here with +, -, *, / only (no FMA, no library calls), so the numbers are the same
/// on every IEEE-754 machine. Two per lane per pair of uniforms: the cosine branch now and the sine branch on the next call.
/// Start one with <see cref="For"/>; the width is the type argument (the engine picks it once per run).
/// </summary>
internal struct GaussianLanes<TLanes, TDouble, TBits>
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    private TBits _s0, _s1, _s2, _s3;
    private TDouble _spare;
    private bool _hasSpare;

    /// <summary>Streams for trajectories first .. first + Count - 1 of <paramref name="seed"/>.</summary>
    public static GaussianLanes<TLanes, TDouble, TBits> For(ulong seed, long first, ulong purpose)
    {
        int count = TLanes.Count;
        Span<ulong> s0 = stackalloc ulong[count], s1 = stackalloc ulong[count], s2 = stackalloc ulong[count], s3 = stackalloc ulong[count];
        for (int j = 0; j < count; j++)
        {
            var st = RandomStream.For(seed, (ulong)(first + j), purpose).State;
            s0[j] = st.S0; s1[j] = st.S1; s2[j] = st.S2; s3[j] = st.S3;
        }
        return new GaussianLanes<TLanes, TDouble, TBits>
        {
            _s0 = TLanes.Create(s0), _s1 = TLanes.Create(s1),
            _s2 = TLanes.Create(s2), _s3 = TLanes.Create(s3),
        };
    }

    /// <summary>
    /// Lanes resuming the streams whose xoshiro256** states are held in arrays, one stream per element (state words
    /// s0[k] .. s3[k] for k = first .. first + Count - 1; see <see cref="RandomStream.State"/>); <see cref="Store"/>
    /// writes them back. Any spare normal is dropped, so a caller that stores after whole pairs loses nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static GaussianLanes<TLanes, TDouble, TBits> Load(ulong[] s0, ulong[] s1, ulong[] s2, ulong[] s3, int first)
    {
        int count = TLanes.Count;
        return new GaussianLanes<TLanes, TDouble, TBits>
        {
            _s0 = TLanes.Create(s0.AsSpan(first, count)), _s1 = TLanes.Create(s1.AsSpan(first, count)),
            _s2 = TLanes.Create(s2.AsSpan(first, count)), _s3 = TLanes.Create(s3.AsSpan(first, count)),
        };
    }

    /// <summary>Writes the lanes' stream states back to the arrays <see cref="Load"/> read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ulong[] s0, ulong[] s1, ulong[] s2, ulong[] s3, int first)
    {
        int count = TLanes.Count;
        TLanes.CopyTo(_s0, s0.AsSpan(first, count));
        TLanes.CopyTo(_s1, s1.AsSpan(first, count));
        TLanes.CopyTo(_s2, s2.AsSpan(first, count));
        TLanes.CopyTo(_s3, s3.AsSpan(first, count));
    }

    /// <summary>
    /// Next 64 random bits per lane, xoshiro256**: result = rotl(5 s1, 7) * 9, then the state update
    /// s2 ^= s0, s3 ^= s1, s1 ^= s2, s0 ^= s3, s2 ^= s1 &lt;&lt; 17, s3 = rotl(s3, 45). The multiplications by 5 and 9
    /// are shifts and adds, which AVX2 has.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TBits NextBits() => Xoshiro(ref _s0, ref _s1, ref _s2, ref _s3);

    /// <summary>One xoshiro256** step on a state held in locals (so a pair of draws keeps it in registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TBits Xoshiro(ref TBits s0, ref TBits s1, ref TBits s2, ref TBits s3)
    {
        var v1 = s1;
        var times5 = TLanes.AddBits(TLanes.ShiftLeft(v1, 2), v1);
        var rotated = TLanes.RotateLeft(times5, 7);
        var result = TLanes.AddBits(TLanes.ShiftLeft(rotated, 3), rotated);
        var t = TLanes.ShiftLeft(v1, 17);
        s2 = TLanes.XorBits(s2, s0);
        s3 = TLanes.XorBits(s3, v1);
        s1 = TLanes.XorBits(v1, s2);
        s0 = TLanes.XorBits(s0, s3);
        s2 = TLanes.XorBits(s2, t);
        s3 = TLanes.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [1, 2) per lane from the top 52 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TDouble OneToTwo(TBits bits) =>
        TLanes.AsDouble(TLanes.OrBits(TLanes.ShiftRightLogical(bits, 12), TLanes.Create(0x3FF0000000000000UL)));

    /// <summary>One standard normal per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TDouble Next()
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

    /// <summary>
    /// The next <paramref name="perLane"/> normals of every lane, laid out lane by lane (lane j's k-th at j * perLane + k),
    /// for loops that step the group's trajectories one at a time: the same draws as <paramref name="perLane"/> calls of
    /// <see cref="Next"/>.
    /// </summary>
    public void NextByLane(Span<double> normals, int perLane)
    {
        for (int k = 0; k < perLane; k++)
        {
            var z = Next();
            for (int j = 0; j < TLanes.Count; j++) normals[j * perLane + k] = TLanes.GetElement(z, j);
        }
    }

    /// <summary>Two standard normals per lane (Box-Muller): r cos(theta) and r sin(theta), r = sqrt(-2 ln u1), theta = 2 pi u2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NextPair(out TDouble first, out TDouble second)
    {
        TBits s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        var bits1 = Xoshiro(ref s0, ref s1, ref s2, ref s3);
        var bits2 = Xoshiro(ref s0, ref s1, ref s2, ref s3);
        _s0 = s0; _s1 = s1; _s2 = s2; _s3 = s3;
        var u1 = TLanes.Subtract(TLanes.Create(2.0), OneToTwo(bits1));                                            // (0, 1]: safe for the log
        var quarterTurns = TLanes.Multiply(TLanes.Subtract(OneToTwo(bits2), TLanes.Create(1.0)), TLanes.Create(4.0));   // 4 u2 in [0, 4), exact
        var r = TLanes.Sqrt(TLanes.Multiply(TLanes.Create(-2.0), LogUnit(u1)));
        SinCosQuarterTurns(quarterTurns, out var sin, out var cos);
        first = TLanes.Multiply(r, cos);
        second = TLanes.Multiply(r, sin);
    }

    /// <summary>
    /// ln u for u in (0, 1] with only +, -, *, / and bit operations (so the result is the same on every IEEE-754
    /// machine): u = 2^e m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| &lt;= 0.1716,
    /// 2 atanh(s) = 2s + s R(s^2) with the degree-7 minimax R of <see cref="NormalPolynomials"/>. Accurate to a few ulp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TDouble LogUnit(TDouble u)
    {
        var one = TLanes.Create(1.0);
        var bits = TLanes.AsBits(u);
        var exponentField = TLanes.ShiftRightLogical(bits, 52);
        // Exponent field as a double via the 2^52 trick (AVX2 has no int64 -> double conversion).
        var e = TLanes.Subtract(TLanes.AsDouble(TLanes.OrBits(exponentField, TLanes.Create(0x4330000000000000UL))), TLanes.Create(4503599627370496.0 + 1023.0));
        var m = TLanes.AsDouble(TLanes.OrBits(TLanes.AndBits(bits, TLanes.Create(0x000FFFFFFFFFFFFFUL)), TLanes.Create(0x3FF0000000000000UL)));  // [1, 2)
        var large = TLanes.GreaterThan(m, TLanes.Create(1.4142135623730951));
        m = TLanes.ConditionalSelect(large, TLanes.Multiply(m, TLanes.Create(0.5)), m);
        e = TLanes.Add(e, TLanes.And(large, one));
        var s = TLanes.Divide(TLanes.Subtract(m, one), TLanes.Add(m, one));
        var z = TLanes.Multiply(s, s);
        var p = TLanes.Create(NormalPolynomials.Lg7);   // R(z) / z by Horner: p = p z + Lg_k
        p = TimesPlus(p, z, NormalPolynomials.Lg6);
        p = TimesPlus(p, z, NormalPolynomials.Lg5);
        p = TimesPlus(p, z, NormalPolynomials.Lg4);
        p = TimesPlus(p, z, NormalPolynomials.Lg3);
        p = TimesPlus(p, z, NormalPolynomials.Lg2);
        p = TimesPlus(p, z, NormalPolynomials.Lg1);
        var logM = TLanes.Add(TLanes.Add(s, s), TLanes.Multiply(s, TLanes.Multiply(z, p)));   // 2s + s (z p)
        return TLanes.Add(TLanes.Multiply(e, TLanes.Create(NormalPolynomials.Ln2)), logM);    // e ln 2 + ln m
    }

    /// <summary>
    /// sin and cos of (pi/2) y for y in [0, 4]: y = n + f with n = round(y) and |f| &lt;= 1/2, so the reduced angle
    /// a = (pi/2) f lies in [-pi/4, pi/4], where the minimax polynomials of <see cref="NormalPolynomials"/> (degree 13
    /// for sin, 12 for cos) are exact to double precision; the quadrant n swaps and negates them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SinCosQuarterTurns(TDouble y, out TDouble sin, out TDouble cos)
    {
        var shifted = TLanes.Add(y, TLanes.Create(NormalPolynomials.RoundingShift));
        var n = TLanes.AsBits(shifted);
        var f = TLanes.Subtract(y, TLanes.Subtract(shifted, TLanes.Create(NormalPolynomials.RoundingShift)));
        var a = TLanes.Multiply(f, TLanes.Create(NormalPolynomials.HalfPi));
        var z = TLanes.Multiply(a, a);
        var sp = TLanes.Create(NormalPolynomials.S6);
        sp = TimesPlus(sp, z, NormalPolynomials.S5);
        sp = TimesPlus(sp, z, NormalPolynomials.S4);
        sp = TimesPlus(sp, z, NormalPolynomials.S3);
        sp = TimesPlus(sp, z, NormalPolynomials.S2);
        sp = TimesPlus(sp, z, NormalPolynomials.S1);
        var sinA = TLanes.Add(a, TLanes.Multiply(TLanes.Multiply(a, z), sp));   // a + (a z) sp
        var cp = TLanes.Create(NormalPolynomials.C6);
        cp = TimesPlus(cp, z, NormalPolynomials.C5);
        cp = TimesPlus(cp, z, NormalPolynomials.C4);
        cp = TimesPlus(cp, z, NormalPolynomials.C3);
        cp = TimesPlus(cp, z, NormalPolynomials.C2);
        cp = TimesPlus(cp, z, NormalPolynomials.C1);
        // 1 - (z/2 - (z z) cp)
        var cosA = TLanes.Subtract(TLanes.Create(1.0),
            TLanes.Subtract(TLanes.Multiply(TLanes.Create(0.5), z), TLanes.Multiply(TLanes.Multiply(z, z), cp)));
        // theta = n pi/2 + a: n = 0: (s, c); 1: (c, -s); 2: (-s, -c); 3: (-c, s).
        var oneBit = TLanes.Create(1UL);
        var twoBit = TLanes.Create(2UL);
        var odd = TLanes.AsDouble(TLanes.Equal(TLanes.AndBits(n, oneBit), oneBit));
        var sinSign = TLanes.AsDouble(TLanes.ShiftLeft(TLanes.AndBits(n, twoBit), 62));
        var cosSign = TLanes.AsDouble(TLanes.ShiftLeft(TLanes.AndBits(TLanes.AddBits(n, oneBit), twoBit), 62));
        sin = TLanes.Xor(TLanes.ConditionalSelect(odd, cosA, sinA), sinSign);
        cos = TLanes.Xor(TLanes.ConditionalSelect(odd, sinA, cosA), cosSign);
    }

    /// <summary>One Horner step, p z + c, rounded after the product and after the sum (no fused multiply-add).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TDouble TimesPlus(TDouble p, TDouble z, double c) => TLanes.Add(TLanes.Multiply(p, z), TLanes.Create(c));
}
