using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ThermoLearn.Simd;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The force sweep over half pairs (each pair once, Newton's third law). The slots are cut into strips: an even number
/// of runs of at least two cell slabs along axis 0 (one strip under four slabs), fixed by N and the cell grid alone.
/// Neighbours lie in the same slab or the next one either side, so a pair joins two particles of one strip or of two
/// neighbouring strips. Each strip holds a flat array of (i, j) slot pairs (stored as offsets i d', j d' into the slot
/// arrays of stride d', so a pair's loads need no index arithmetic): its pairs inside the strip (from the row of
/// the earlier slot) and, for an even strip, its pairs with the neighbouring strips (from its own rows), padded to a
/// multiple of eight with the dummy pair (N, N). The sweep runs the even strips, then the odd ones: two even strips
/// touch different slabs of the odd strip between them, so no two strips of one phase write the same particle, and every
/// particle receives its terms in an order fixed by the pair arrays alone. A group of eight pairs evaluates f(r) / r
/// once per pair and adds the term to i and subtracts it from j lane by lane (the scalar path in the same order and
/// with the same per-pair arithmetic; in 2-D the running sum of i stays in a register while its row's pairs follow each
/// other, the same additions), so the bits depend neither on the thread count nor on the instruction set.
/// </summary>
public sealed partial class NeighbourList
{
    private readonly double[] _slotForces;            // force sums by slot (stride _stride, slot N the dummy's); zero between sweeps
    private int[] _pairI = [], _pairJ = [];           // (i, j) slot pairs as offsets i _stride, j _stride (one address step per load, no scaling);
                                                      // strip s from pair _pairStart[s], _pairCount[s] of them (a multiple of 8)
    private int[] _pairStart = [0];
    private int[] _pairCount = [];
    private int[] _stripSlot = [];                    // strip s: slots [_stripSlot[s], _stripSlot[s + 1])

    /// <summary>Tests set this to run the scalar pair path on a machine with AVX-512.</summary>
    internal bool ScalarForces { get; set; }

    /// <summary>Strips and their pair arrays from the rows just filled (each row holds all neighbours of its slot).</summary>
    private void BuildPairs(int maxDegreeOfParallelism)
    {
        int slabs = _cells.Slabs;
        int strips = slabs >= 4 ? slabs / 2 & ~1 : 1;
        if (_pairCount.Length != strips)
        {
            _pairCount = new int[strips];
            _pairStart = new int[strips + 1];
            _stripSlot = new int[strips + 1];
        }
        for (int s = 0; s <= strips; s++) _stripSlot[s] = _cells.SlabStart((int)((long)slabs * s / strips));
        long total = 0;
        for (int s = 0; s < strips; s++)
        {
            _pairStart[s] = (int)total;
            long entries = 0;
            for (int k = _stripSlot[s]; k < _stripSlot[s + 1]; k++) entries += _counts[k];
            total += (entries + 7) / 8 * 8 + 8;   // + 8: room for the vector fill's last store of eight
        }
        if (total + total / 8 + 8 > int.MaxValue) throw new InvalidInputException($"neighbour list: {_n} particles have too many pairs for one array; lower the density or the skin.");
        _pairStart[strips] = (int)total;
        if (_pairI.Length < total + 8)
        {
            _pairI = new int[total + total / 8 + 8];   // + 8: the vector fill stores whole groups of eight
            _pairJ = new int[_pairI.Length];
        }
        if (strips == 1 || Chunks(maxDegreeOfParallelism) == 1)
            for (int s = 0; s < strips; s++) FillPairs(s, strips);
        else Parallel.For(0, strips, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, s => FillPairs(s, strips));
    }

    /// <summary>
    /// Pairs of strip <paramref name="s"/>: from each row of the strip, the entries j in the strip past the row's slot and,
    /// in an even strip, the entries outside it, in row order; eight entries at a time by a compress on AVX-512.
    /// </summary>
    private unsafe void FillPairs(int s, int strips)
    {
        int first = _stripSlot[s], end = _stripSlot[s + 1], capacity = _capacity, n = _n, stride = _stride;
        bool even = (s & 1) == 0;
        int[] counts = _counts;
        int w = _pairStart[s];
        fixed (int* neighbours = _neighbours, pi = _pairI, pj = _pairJ)
        {
            if (Avx512F.VL.IsSupported && !ScalarForces)
            {
                var low = Vector256.Create(first - 1);
                var high = Vector256.Create(end);
                var outside = even ? Vector256<int>.AllBitsSet : Vector256<int>.Zero;
                var lanes = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
                for (int k = first; k < end; k++)
                {
                    int* row = neighbours + (long)k * capacity;
                    int count = counts[k];
                    var self = Vector256.Create(k);
                    var selfOffset = Vector256.Create(k * stride);
                    for (int m = 0; m < count; m += 8)
                    {
                        var j = Avx.LoadVector256(row + m);
                        var inside = Vector256.GreaterThan(j, low) & Vector256.LessThan(j, high);
                        var keep = Vector256.ConditionalSelect(inside, Vector256.GreaterThan(j, self), outside)
                            & Vector256.LessThan(lanes, Vector256.Create(count - m));
                        Avx.Store(pj + w, Avx512F.VL.Compress(Vector256<int>.Zero, keep, j * stride));
                        Avx.Store(pi + w, selfOffset);
                        w += BitOperations.PopCount(keep.ExtractMostSignificantBits());
                    }
                }
            }
            else
                for (int k = first; k < end; k++)
                {
                    int* row = neighbours + (long)k * capacity;
                    int count = counts[k];
                    for (int m = 0; m < count; m++)
                    {
                        int j = row[m];
                        if (j >= first && j < end ? j > k : even)
                        {
                            pi[w] = k * stride;
                            pj[w++] = j * stride;
                        }
                    }
                }
            int pairCount = w - _pairStart[s];
            for (; (pairCount & 7) != 0; pairCount++, w++) pi[w] = pj[w] = n * stride;
            _pairCount[s] = pairCount;
        }
    }

    private void SweepPairs<TPotential>(TPotential potential, PairForceTable table, double[] forces, int maxDegreeOfParallelism)
        where TPotential : struct, IPairPotential
    {
        int strips = _pairCount.Length;
        int chunks = Chunks(maxDegreeOfParallelism);
        if (chunks == 1 || strips == 1)
        {
            for (int s = 0; s < strips; s += 2) SweepStrip(potential, table, s);
            for (int s = 1; s < strips; s += 2) SweepStrip(potential, table, s);
            CopyOut(forces, 0, _n);
        }
        else
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
            Parallel.For(0, (strips + 1) / 2, options, e => SweepStrip(potential, table, 2 * e));
            Parallel.For(0, strips / 2, options, o => SweepStrip(potential, table, 2 * o + 1));
            Parallel.For(0, chunks, options, c => CopyOut(forces, (int)((long)_n * c / chunks), (int)((long)_n * (c + 1) / chunks)));
        }
    }

    /// <summary>forces[index d + a] from the slot sums of slots [first, end), which are zeroed for the next sweep (the dummy's with the last block).</summary>
    private unsafe void CopyOut(double[] forces, int first, int end)
    {
        int d = _d, stride = _stride;
        int[] index = _index;
        double[] sums = _slotForces;
        if (d == 2)
        {
            // a particle's (x, y) as one 16-byte load and store
            fixed (double* f = forces, s = sums)
            fixed (int* slotIndex = index)
                for (int k = first; k < end; k++)
                {
                    Vector128.Load(s + 2 * k).Store(f + 2 * (uint)slotIndex[k]);
                    Vector128<double>.Zero.Store(s + 2 * k);
                }
            if (end == _n) Array.Clear(sums, _n * stride, stride);
            return;
        }
        for (int k = first; k < end; k++)
        {
            int q = index[k] * d, s = k * stride;
            forces[q] = sums[s];
            forces[q + 1] = sums[s + 1];
            if (d == 3) forces[q + 2] = sums[s + 2];
            sums[s] = sums[s + 1] = 0;
            if (d == 3) sums[s + 2] = 0;
        }
        if (end == _n) Array.Clear(sums, _n * stride, stride);
    }

    private void SweepStrip<TPotential>(TPotential potential, PairForceTable table, int s)
        where TPotential : struct, IPairPotential
    {
        bool eight = Avx512F.IsSupported && !ScalarForces;
        if (!eight) SweepStripScalar(potential, table, s);
        else if (_d == 2 && _box > 0) SweepStripAvx512<TPotential, No, Yes>(potential, table, s);
        else if (_d == 2) SweepStripAvx512<TPotential, No, No>(potential, table, s);
        else if (_box > 0) SweepStripAvx512<TPotential, Yes, Yes>(potential, table, s);
        else SweepStripAvx512<TPotential, Yes, No>(potential, table, s);
    }

    /// <summary>
    /// Eight pairs at a time: positions of both ends by plain loads and a transpose, the minimum image as
    /// fma(-L, round(dx / L), dx), r^2 by fused multiply-adds, f(r) / r from the table's cubic
    /// (<see cref="PairForceTable.Horner"/>); a group with a pair in an exact-formula interval takes its terms from the
    /// scalar path. The terms go through a small buffer to the slot sums, lane by lane.
    /// </summary>
    private unsafe void SweepStripAvx512<TPotential, TThreeD, TPeriodic>(TPotential potential, PairForceTable table, int strip)
        where TPotential : struct, IPairPotential
        where TThreeD : struct, IJitFlag
        where TPeriodic : struct, IJitFlag
    {
        bool threeD = TThreeD.Value;
        int count = _pairCount[strip];
        double* terms = stackalloc double[24];
        fixed (double* p = _positions, coefficients = table.Coefficients, sums = _slotForces)
        fixed (int* iStart = _pairI, jStart = _pairJ)
        {
            int* pi = iStart + _pairStart[strip], pj = jStart + _pairStart[strip];
            // 2-D: the sum of slot `held` (the i of the last pair) stays in `sum` while its row's pairs follow each other,
            // so consecutive terms to one slot are not a chain of stores and reloads; it is the same additions in the same
            // order (j is never the held slot: a row's j differ from its i, and a new i is loaded after the earlier
            // lanes' stores), so the same bits
            uint held = (uint)(2 * _n);
            var sum = Sse2.LoadVector128(sums + held);
            // the groups run in a loop with no call in it (a call would spill the loop's vector constants on every
            // pass); it stops at a group with a lane in an exact-formula interval, whose terms it has stored, and that
            // group is finished here
            for (int m = 0; (m = SweepGroups<TThreeD, TPeriodic>(table.InverseStep, p, coefficients, sums, pi, pj, m, count, terms, ref held, ref sum)) < count; m += 8)
            {
                GroupTerms(potential, table, pi + m, pj + m, terms);
                if (!threeD) Sse2.Store(sums + held, sum);
                Scatter(sums, pi + m, pj + m, terms, threeD);
                if (!threeD) sum = Sse2.LoadVector128(sums + held);
            }
            if (!threeD) Sse2.Store(sums + held, sum);
        }
    }

    /// <summary>
    /// Groups from pair <paramref name="m"/> of the strip's arrays until one has a lane in an exact-formula interval
    /// (its terms stored in <paramref name="terms"/>, its slot sums untouched); returns that group's first pair, or
    /// <paramref name="count"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe int SweepGroups<TThreeD, TPeriodic>(double inverseStepValue, double* p, double* coefficients, double* sums, int* pi, int* pj,
        int m, int count, double* terms, ref uint heldSlot, ref Vector128<double> heldSum)
        where TThreeD : struct, IJitFlag
        where TPeriodic : struct, IJitFlag
    {
        bool threeD = TThreeD.Value, periodic = TPeriodic.Value;
        var minusBox = Vector512.Create(-_box);
        var inverseBox = Vector512.Create(_inverseBox);
        var rc2 = Vector512.Create(_cutoff2);
        var safe = Vector512.Create(0.25 * _cutoff2);
        var inverseStep = Vector512.Create(inverseStepValue);
        var intervals = Vector512.Create((double)PairForceTable.Intervals);
        var lastRow = Vector256.Create(PairForceTable.Intervals - 1);
        uint held = heldSlot;
        var sum = heldSum;
        for (pi += m, pj += m; m < count; m += 8, pi += 8, pj += 8)
        {
            Vector512<double> dx, dy, dz;
            if (threeD)
            {
                var ia = Avx.LoadVector256(p + (uint)pi[0]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pi[2]));
                var ib = Avx.LoadVector256(p + (uint)pi[1]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pi[3]));
                var ic = Avx.LoadVector256(p + (uint)pi[4]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pi[6]));
                var ie = Avx.LoadVector256(p + (uint)pi[5]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pi[7]));
                var ja = Avx.LoadVector256(p + (uint)pj[0]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pj[2]));
                var jb = Avx.LoadVector256(p + (uint)pj[1]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pj[3]));
                var jc = Avx.LoadVector256(p + (uint)pj[4]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pj[6]));
                var je = Avx.LoadVector256(p + (uint)pj[5]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + (uint)pj[7]));
                // differences first (lane by lane, the same subtraction as the scalar path), then the transpose
                var da = ia - ja;
                var db = ib - jb;
                var dc = ic - jc;
                var de = ie - je;
                var xz0 = Avx512F.UnpackLow(da, db);
                var y0 = Avx512F.UnpackHigh(da, db);
                var xz1 = Avx512F.UnpackLow(dc, de);
                var y1 = Avx512F.UnpackHigh(dc, de);
                dx = Avx512F.Shuffle4x128(xz0, xz1, 0x88);
                dy = Avx512F.Shuffle4x128(y0, y1, 0x88);
                dz = Avx512F.Shuffle4x128(xz0, xz1, 0xDD);
            }
            else
            {
                var ei = Vector256.Create(Sse2.LoadVector128(p + (uint)pi[0]), Sse2.LoadVector128(p + (uint)pi[2])).ToVector512Unsafe()
                    .WithUpper(Vector256.Create(Sse2.LoadVector128(p + (uint)pi[4]), Sse2.LoadVector128(p + (uint)pi[6])));
                var oi = Vector256.Create(Sse2.LoadVector128(p + (uint)pi[1]), Sse2.LoadVector128(p + (uint)pi[3])).ToVector512Unsafe()
                    .WithUpper(Vector256.Create(Sse2.LoadVector128(p + (uint)pi[5]), Sse2.LoadVector128(p + (uint)pi[7])));
                var ej = Vector256.Create(Sse2.LoadVector128(p + (uint)pj[0]), Sse2.LoadVector128(p + (uint)pj[2])).ToVector512Unsafe()
                    .WithUpper(Vector256.Create(Sse2.LoadVector128(p + (uint)pj[4]), Sse2.LoadVector128(p + (uint)pj[6])));
                var oj = Vector256.Create(Sse2.LoadVector128(p + (uint)pj[1]), Sse2.LoadVector128(p + (uint)pj[3])).ToVector512Unsafe()
                    .WithUpper(Vector256.Create(Sse2.LoadVector128(p + (uint)pj[5]), Sse2.LoadVector128(p + (uint)pj[7])));
                var de = ei - ej;
                var dO = oi - oj;
                dx = Avx512F.UnpackLow(de, dO);
                dy = Avx512F.UnpackHigh(de, dO);
                dz = Vector512<double>.Zero;
            }
            if (periodic)
            {
                dx = Vector512.FusedMultiplyAdd(minusBox, Vector512.Round(dx * inverseBox), dx);
                dy = Vector512.FusedMultiplyAdd(minusBox, Vector512.Round(dy * inverseBox), dy);
                if (threeD) dz = Vector512.FusedMultiplyAdd(minusBox, Vector512.Round(dz * inverseBox), dz);
            }
            var r2 = Vector512.FusedMultiplyAdd(dx, dx, dy * dy);
            if (threeD) r2 = Vector512.FusedMultiplyAdd(dz, dz, r2);
            // the dummy pairs (N, N) have r^2 = 0: kept out by r^2 > 0, as in the scalar path
            var inside = Vector512.LessThan(r2, rc2) & Vector512.GreaterThan(r2, Vector512<double>.Zero);
            var x = Vector512.ConditionalSelect(inside, r2, safe) * inverseStep;
            var rowIndex = Avx512F.ConvertToVector256Int32WithTruncation(x);
            var t = x - Avx512F.ConvertToVector512Double(rowIndex);
            // row offsets 4 k (non-negative: read as uint, so a plain 32-bit load addresses the row)
            var rowOffset = Avx2.ShiftLeftLogical(Avx2.Min(rowIndex, lastRow), 2).AsUInt32();
            var low = rowOffset.GetLower();
            var high = rowOffset.GetUpper();
            var a = Avx.LoadVector256(coefficients + low.GetElement(0)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + low.GetElement(2)));
            var b = Avx.LoadVector256(coefficients + low.GetElement(1)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + low.GetElement(3)));
            var c = Avx.LoadVector256(coefficients + high.GetElement(0)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + high.GetElement(2)));
            var e = Avx.LoadVector256(coefficients + high.GetElement(1)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + high.GetElement(3)));
            var ab0 = Avx512F.UnpackLow(a, b);
            var ab1 = Avx512F.UnpackHigh(a, b);
            var ce0 = Avx512F.UnpackLow(c, e);
            var ce1 = Avx512F.UnpackHigh(c, e);
            var c0 = Avx512F.Shuffle4x128(ab0, ce0, 0x88);
            var c1 = Avx512F.Shuffle4x128(ab1, ce1, 0x88);
            var c2 = Avx512F.Shuffle4x128(ab0, ce0, 0xDD);
            var c3 = Avx512F.Shuffle4x128(ab1, ce1, 0xDD);
            var g = Vector512.FusedMultiplyAdd(t, Vector512.FusedMultiplyAdd(t, Vector512.FusedMultiplyAdd(t, c3, c2), c1), c0);
            var exact = (~Vector512.Equals(c0, c0) | Vector512.GreaterThanOrEqual(x, intervals)) & inside;
            var f = Vector512.ConditionalSelect(inside, g, Vector512<double>.Zero);
            var fx = f * dx;
            var fy = f * dy;
            if (exact != Vector512<double>.Zero || threeD)
            {
                fx.Store(terms);
                fy.Store(terms + 8);
                if (threeD) (f * dz).Store(terms + 16);
                if (exact != Vector512<double>.Zero)
                {
                    heldSlot = held;
                    heldSum = sum;
                    return m;
                }
                Scatter(sums, pi, pj, terms, threeD);
                continue;
            }
            // 2-D: (x, y) of the terms of lanes 0, 2, 4, 6 in the 128-bit lanes of fe, of 1, 3, 5, 7 in fo; each added
            // to its slot sum as one 128-bit pair (the same two additions as the scalar path), lanes in order
            var fe = Avx512F.UnpackLow(fx, fy);
            var fo = Avx512F.UnpackHigh(fx, fy);
            ScatterPair(sums, pi, pj, 0, fe.GetLower().GetLower(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 1, fo.GetLower().GetLower(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 2, fe.GetLower().GetUpper(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 3, fo.GetLower().GetUpper(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 4, fe.GetUpper().GetLower(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 5, fo.GetUpper().GetLower(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 6, fe.GetUpper().GetUpper(), ref held, ref sum);
            ScatterPair(sums, pi, pj, 7, fo.GetUpper().GetUpper(), ref held, ref sum);
        }
        heldSlot = held;
        heldSum = sum;
        return count;
    }

    /// <summary>The terms of one group of eight pairs, lane by lane (the vector paths' arithmetic, the exact formula where the table has none).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void GroupTerms<TPotential>(TPotential potential, PairForceTable table, int* pi, int* pj, double* terms)
        where TPotential : struct, IPairPotential
    {
        bool threeD = _d == 3, periodic = _box > 0;
        double box = _box, inverseBox = _inverseBox, rc2 = _cutoff2;
        double[] p = _positions;
        for (int l = 0; l < 8; l++)
        {
            int a = pi[l], b = pj[l];
            double dx = p[a] - p[b], dy = p[a + 1] - p[b + 1], dz = threeD ? p[a + 2] - p[b + 2] : 0;
            if (periodic)
            {
                dx = Math.FusedMultiplyAdd(-box, Math.Round(dx * inverseBox), dx);
                dy = Math.FusedMultiplyAdd(-box, Math.Round(dy * inverseBox), dy);
                if (threeD) dz = Math.FusedMultiplyAdd(-box, Math.Round(dz * inverseBox), dz);
            }
            double r2 = Math.FusedMultiplyAdd(dx, dx, dy * dy);
            if (threeD) r2 = Math.FusedMultiplyAdd(dz, dz, r2);
            double f = r2 < rc2 && r2 > 0 ? table.ForceOverDistance(potential, r2) : 0;
            terms[l] = f * dx;
            terms[8 + l] = f * dy;
            if (threeD) terms[16 + l] = f * dz;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ScatterPair(double* sums, int* pi, int* pj, int lane, Vector128<double> term, ref uint held, ref Vector128<double> sum)
    {
        uint i = (uint)pi[lane];
        if (i != held)
        {
            Sse2.Store(sums + held, sum);
            held = i;
            sum = Sse2.LoadVector128(sums + i);
        }
        sum += term;
        double* sj = sums + (uint)pj[lane];
        Sse2.Store(sj, Sse2.LoadVector128(sj) - term);
    }

    /// <summary>Adds term l to the sums of slot i_l and subtracts it from slot j_l, l = 0..7 in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Scatter(double* sums, int* pi, int* pj, double* terms, bool threeD)
    {
        for (int l = 0; l < 8; l++)
        {
            double* si = sums + (uint)pi[l], sj = sums + (uint)pj[l];
            double tx = terms[l], ty = terms[8 + l];
            si[0] += tx;
            si[1] += ty;
            sj[0] -= tx;
            sj[1] -= ty;
            if (threeD)
            {
                double tz = terms[16 + l];
                si[2] += tz;
                sj[2] -= tz;
            }
        }
    }

    private unsafe void SweepStripScalar<TPotential>(TPotential potential, PairForceTable table, int strip)
        where TPotential : struct, IPairPotential
    {
        bool threeD = _d == 3;
        int count = _pairCount[strip];
        double* terms = stackalloc double[24];
        fixed (double* sums = _slotForces)
        fixed (int* iStart = _pairI, jStart = _pairJ)
        {
            int* pi = iStart + _pairStart[strip], pj = jStart + _pairStart[strip];
            for (int m = 0; m < count; m += 8, pi += 8, pj += 8)
            {
                GroupTerms(potential, table, pi, pj, terms);
                Scatter(sums, pi, pj, terms, threeD);
            }
        }
    }
}
