using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ThermoLearn.Simd;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Verlet neighbour lists with a skin: for every particle, the particles within r_c + skin when the list was built
/// (from a <see cref="CellList"/> of cutoff r_c + skin), kept until some particle has moved by more than skin / 2 since
/// (minimum image in a periodic box). Until then every pair closer than r_c is on the list (each end moved less than
/// skin / 2), so a sweep over the lists finds exactly the pairs a fresh cell list finds, with fewer candidates
/// (about (r_c + skin)^2 / (9 r_c^2) of a 2-D cell sweep's) and no sorting per call. A particle's neighbours are summed in
/// list order (the cell sweep's order at the last build), and the rebuild decision is the largest displacement over all
/// particles, so the results do not depend on the thread count. Particles are kept in cell order (slots) so that
/// neighbours lie close in memory; each list is a fixed-stride row of neighbour slots. Buffers are allocated at a build
/// that needs more room than before, never per call otherwise.
/// </summary>
public sealed class NeighbourList
{
    private readonly CellList _cells;
    private readonly int _n, _d;
    private readonly double _cutoff2, _box, _inverseBox, _halfSkin2;
    private readonly double[] _refX, _refY, _refZ;    // positions by slot at the last build
    private readonly double[] _positions;             // positions by slot at the last Update, slot k at [k * _stride, k * _stride + d)
    private readonly int _stride;                     // 2 in 2-D, 4 in 3-D (x, y, z and a zero): one 16- or 32-byte load per neighbour
    private readonly int[] _index;                    // original index of slot k (copied at a build)
    private readonly int[] _counts;
    private int[] _neighbours = [];                   // slots of the neighbours of slot k: [k * _capacity, k * _capacity + _counts[k])
    private int _capacity;
    private bool _built;
    private readonly double[] _chunkMax;
    private readonly int[] _chunkLargest = new int[8 * Environment.ProcessorCount];

    /// <param name="particles">N.</param>
    /// <param name="dimension">d = 2 or 3.</param>
    /// <param name="cutoff">Interaction range r_c.</param>
    /// <param name="box">Side L of the periodic box, or null for open space (L &gt;= 2 r_c).</param>
    /// <param name="skin">Extra list range; reduced to L / 2 - r_c where the box is smaller than 2 (r_c + skin).</param>
    public NeighbourList(int particles, int dimension, double cutoff, double? box, double skin)
    {
        if (!(skin >= 0) || !double.IsFinite(skin)) throw new InvalidInputException($"neighbour list: the skin must be a non-negative number (got {skin}).");
        CellList.Validate(particles, dimension, cutoff, box);
        if (box is { } l) skin = Math.Min(skin, 0.5 * l - cutoff);
        Skin = skin;
        Cutoff = cutoff;
        _n = particles;
        _d = dimension;
        _cutoff2 = cutoff * cutoff;
        _box = box ?? 0;
        _inverseBox = _box > 0 ? 1 / _box : 0;
        _halfSkin2 = 0.25 * skin * skin;
        _cells = new CellList(particles, dimension, cutoff + skin, box);
        _refX = new double[particles];
        _refY = new double[particles];
        _refZ = new double[dimension == 3 ? particles : 0];
        _stride = dimension == 3 ? 4 : 2;
        _positions = new double[_stride * particles];
        _index = new int[particles];
        _counts = new int[particles];
        _chunkMax = new double[Chunks(-1)];
    }

    public double Cutoff { get; }

    /// <summary>The skin in use (after the box limit).</summary>
    public double Skin { get; }

    /// <summary>Lists built so far.</summary>
    public long Builds { get; private set; }

    /// <summary>Diagnostics (bench pair --phases): called as each phase of <see cref="Update"/> and <see cref="Forces"/> ends.</summary>
    internal Action<StepPhase>? PhaseEnded { get; set; }

    /// <summary>Number of fixed particle blocks the loops run in parallel (a function of N and the cores, never of the result).</summary>
    private int Chunks(int maxDegreeOfParallelism) =>
        maxDegreeOfParallelism == 1 || _n < 2048 ? 1 : Math.Min(_n / 512, 8 * Environment.ProcessorCount);

    /// <summary>
    /// Takes the positions x[i d + a] of this call and rebuilds the lists when a particle has moved by more than skin / 2
    /// since the last build (or any coordinate is not finite: the rebuild then names it). Returns whether it rebuilt.
    /// </summary>
    public bool Update(double[] positions, int maxDegreeOfParallelism = -1)
    {
        if (positions.Length != _n * _d) throw new ArgumentException($"positions hold {positions.Length} values; expected N d = {_n * _d}.", nameof(positions));
        if (_built)
        {
            bool within = LargestDisplacement2(positions, maxDegreeOfParallelism) <= _halfSkin2;
            PhaseEnded?.Invoke(StepPhase.Refresh);
            if (within) return false;
        }
        Build(positions, maxDegreeOfParallelism);
        return true;
    }

    /// <summary>
    /// forces[i d + a] = sum_j f(r_ij) (x_i - x_j)_a / r_ij over the neighbours closer than r_c at the positions of the
    /// last <see cref="Update"/>, f(r) / r from <paramref name="table"/> looked up by r^2, so no square root and no division
    /// per pair (its exact-formula intervals from <paramref name="potential"/>). A particle's list is taken eight entries at
    /// a time on AVX-512, four on AVX2, the neighbours' positions by plain loads from the interleaved slot array (on this
    /// machine gathers made the sweep about 30% slower): entry m adds to partial sum m mod 4, and the partial sums are
    /// added as (s0 + s1) + (s2 + s3), the same order in every path, so the bits depend neither on threads nor on the
    /// instruction set. Every path takes the minimum image as fma(-L, round(dx / L), dx), r^2 as fma(dx, dx, dy^2) (then
    /// fma(dz, dz, .) in 3-D) and the table's cubic by fused multiply-adds (<see cref="PairForceTable.Horner"/>), so the
    /// scalar path rounds where the vector paths do.
    /// </summary>
    public void Forces<TPotential>(TPotential potential, PairForceTable table, double[] forces, int maxDegreeOfParallelism = -1)
        where TPotential : struct, IPairPotential
    {
        if (!_built) throw new InvalidOperationException("the neighbour list has no positions yet: call Update first.");
        if (forces.Length != _n * _d) throw new ArgumentException($"forces hold {forces.Length} values; expected N d = {_n * _d}.", nameof(forces));
        int chunks = Chunks(maxDegreeOfParallelism);
        if (chunks == 1) ForceSlots(potential, table, forces, 0, _n);
        else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            c => ForceSlots(potential, table, forces, (int)((long)_n * c / chunks), (int)((long)_n * (c + 1) / chunks)));
        PhaseEnded?.Invoke(StepPhase.Sweep);
    }

    /// <summary>Tests set this to run the scalar path of <see cref="Forces"/> on a machine with AVX2.</summary>
    internal bool ScalarForces { get; set; }

    private void ForceSlots<TPotential>(TPotential potential, PairForceTable table, double[] forces, int first, int end)
        where TPotential : struct, IPairPotential
    {
        bool eight = Avx512F.IsSupported && !FourLaneForces;
        if (ScalarForces || !Avx2.IsSupported) ForceSlotsScalar(potential, table, forces, first, end);
        else if (eight && _d == 2 && _box > 0) ForceSlotsAvx512<TPotential, No, Yes>(potential, table, forces, first, end);
        else if (eight && _d == 2) ForceSlotsAvx512<TPotential, No, No>(potential, table, forces, first, end);
        else if (eight && _box > 0) ForceSlotsAvx512<TPotential, Yes, Yes>(potential, table, forces, first, end);
        else if (eight) ForceSlotsAvx512<TPotential, Yes, No>(potential, table, forces, first, end);
        else if (_d == 2 && _box > 0) ForceSlotsAvx2<TPotential, No, Yes>(potential, table, forces, first, end);
        else if (_d == 2) ForceSlotsAvx2<TPotential, No, No>(potential, table, forces, first, end);
        else if (_box > 0) ForceSlotsAvx2<TPotential, Yes, Yes>(potential, table, forces, first, end);
        else ForceSlotsAvx2<TPotential, Yes, No>(potential, table, forces, first, end);
    }

    /// <summary>Tests set this to run the four-lane (AVX2) path of <see cref="Forces"/> on a machine with AVX-512.</summary>
    internal bool FourLaneForces { get; set; }

    /// <summary>
    /// <see cref="ForceSlotsAvx2{TPotential, TThreeD, TPeriodic}"/> on eight lanes (AVX-512): the pair terms of entries
    /// m..m+7 at once, added to the four partial sums as entries m..m+3 and then m+4..m+7, so the sums are the four-lane
    /// path's to the bit (past the count the lanes add zeros, which leave a partial sum unchanged).
    /// </summary>
    private unsafe void ForceSlotsAvx512<TPotential, TThreeD, TPeriodic>(TPotential potential, PairForceTable table, double[] forces, int first, int end)
        where TPotential : struct, IPairPotential
        where TThreeD : struct, IJitFlag
        where TPeriodic : struct, IJitFlag
    {
        int d = _d, capacity = _capacity, stride = _stride;
        bool threeD = TThreeD.Value, periodic = TPeriodic.Value;
        int[] index = _index, counts = _counts;
        var minusBox = Vector512.Create(-_box);
        var inverseBox = Vector512.Create(_inverseBox);
        var rc2 = Vector512.Create(_cutoff2);
        var safe = Vector512.Create(0.25 * _cutoff2);
        var inverseStep = Vector512.Create(table.InverseStep);
        var intervals = Vector512.Create((double)PairForceTable.Intervals);
        var lanes = Vector512.Create(0.0, 1, 2, 3, 4, 5, 6, 7);
        var lastRow = Vector256.Create(PairForceTable.Intervals - 1);
        fixed (double* p = _positions, coefficients = table.Coefficients)
        fixed (int* neighbours = _neighbours)
        {
            for (int k = first; k < end; k++)
            {
                var xi = Vector512.Create(p[k * stride]);
                var yi = Vector512.Create(p[k * stride + 1]);
                var zi = threeD ? Vector512.Create(p[k * stride + 2]) : Vector512<double>.Zero;
                Vector256<double> sumX = Vector256<double>.Zero, sumY = sumX, sumZ = sumX;
                var exactLanes = Vector512<double>.Zero;
                int* row = neighbours + (long)k * capacity;
                int count = counts[k];
                for (int m = 0; m < count; m += 8)
                {
                    Vector512<double> dx, dy, dz;
                    if (threeD)
                    {
                        // entries 0, 2 | 1, 3 | 4, 6 | 5, 7 side by side, interleaved and regrouped by 128-bit lanes
                        var pa = Avx.LoadVector256(p + 4 * row[m]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + 4 * row[m + 2]));
                        var pb = Avx.LoadVector256(p + 4 * row[m + 1]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + 4 * row[m + 3]));
                        var pc = Avx.LoadVector256(p + 4 * row[m + 4]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + 4 * row[m + 6]));
                        var pe = Avx.LoadVector256(p + 4 * row[m + 5]).ToVector512Unsafe().WithUpper(Avx.LoadVector256(p + 4 * row[m + 7]));
                        var xz0 = Avx512F.UnpackLow(pa, pb);
                        var y0 = Avx512F.UnpackHigh(pa, pb);
                        var xz1 = Avx512F.UnpackLow(pc, pe);
                        var y1 = Avx512F.UnpackHigh(pc, pe);
                        dx = xi - Avx512F.Shuffle4x128(xz0, xz1, 0x88);
                        dy = yi - Avx512F.Shuffle4x128(y0, y1, 0x88);
                        dz = zi - Avx512F.Shuffle4x128(xz0, xz1, 0xDD);
                    }
                    else
                    {
                        // (x, y) of entries 0, 2, 4, 6 and of 1, 3, 5, 7 in the 128-bit lanes of two vectors
                        var even = Vector256.Create(Sse2.LoadVector128(p + 2 * row[m]), Sse2.LoadVector128(p + 2 * row[m + 2])).ToVector512Unsafe()
                            .WithUpper(Vector256.Create(Sse2.LoadVector128(p + 2 * row[m + 4]), Sse2.LoadVector128(p + 2 * row[m + 6])));
                        var odd = Vector256.Create(Sse2.LoadVector128(p + 2 * row[m + 1]), Sse2.LoadVector128(p + 2 * row[m + 3])).ToVector512Unsafe()
                            .WithUpper(Vector256.Create(Sse2.LoadVector128(p + 2 * row[m + 5]), Sse2.LoadVector128(p + 2 * row[m + 7])));
                        dx = xi - Avx512F.UnpackLow(even, odd);
                        dy = yi - Avx512F.UnpackHigh(even, odd);
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
                    var inside = Vector512.LessThan(r2, rc2) & Vector512.LessThan(lanes, Vector512.Create((double)(count - m)));
                    var x = Vector512.ConditionalSelect(inside, r2, safe) * inverseStep;
                    var rowIndex = Avx512F.ConvertToVector256Int32WithTruncation(x);
                    var t = x - Avx512F.ConvertToVector512Double(rowIndex);
                    rowIndex = Avx2.Min(rowIndex, lastRow);
                    var low = rowIndex.GetLower();
                    var high = rowIndex.GetUpper();
                    var a = Avx.LoadVector256(coefficients + 4 * low.GetElement(0)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + 4 * low.GetElement(2)));
                    var b = Avx.LoadVector256(coefficients + 4 * low.GetElement(1)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + 4 * low.GetElement(3)));
                    var c = Avx.LoadVector256(coefficients + 4 * high.GetElement(0)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + 4 * high.GetElement(2)));
                    var e = Avx.LoadVector256(coefficients + 4 * high.GetElement(1)).ToVector512Unsafe().WithUpper(Avx.LoadVector256(coefficients + 4 * high.GetElement(3)));
                    var ab0 = Avx512F.UnpackLow(a, b);
                    var ab1 = Avx512F.UnpackHigh(a, b);
                    var ce0 = Avx512F.UnpackLow(c, e);
                    var ce1 = Avx512F.UnpackHigh(c, e);
                    var c0 = Avx512F.Shuffle4x128(ab0, ce0, 0x88);
                    var c1 = Avx512F.Shuffle4x128(ab1, ce1, 0x88);
                    var c2 = Avx512F.Shuffle4x128(ab0, ce0, 0xDD);
                    var c3 = Avx512F.Shuffle4x128(ab1, ce1, 0xDD);
                    var g = Vector512.FusedMultiplyAdd(t, Vector512.FusedMultiplyAdd(t, Vector512.FusedMultiplyAdd(t, c3, c2), c1), c0);
                    exactLanes |= (~Vector512.Equals(c0, c0) | Vector512.GreaterThanOrEqual(x, intervals)) & inside;
                    var s = Vector512.ConditionalSelect(inside, g, Vector512<double>.Zero);
                    var fx = s * dx;
                    var fy = s * dy;
                    sumX = sumX + fx.GetLower() + fx.GetUpper();
                    sumY = sumY + fy.GetLower() + fy.GetUpper();
                    if (threeD)
                    {
                        var fz = s * dz;
                        sumZ = sumZ + fz.GetLower() + fz.GetUpper();
                    }
                }
                if (exactLanes != Vector512<double>.Zero)
                {
                    ForceSlotsScalar(potential, table, forces, k, k + 1);
                    continue;
                }
                int q = index[k] * d;
                forces[q] = sumX.GetElement(0) + sumX.GetElement(1) + (sumX.GetElement(2) + sumX.GetElement(3));
                forces[q + 1] = sumY.GetElement(0) + sumY.GetElement(1) + (sumY.GetElement(2) + sumY.GetElement(3));
                if (threeD) forces[q + 2] = sumZ.GetElement(0) + sumZ.GetElement(1) + (sumZ.GetElement(2) + sumZ.GetElement(3));
            }
        }
    }

    private unsafe void ForceSlotsAvx2<TPotential, TThreeD, TPeriodic>(TPotential potential, PairForceTable table, double[] forces, int first, int end)
        where TPotential : struct, IPairPotential
        where TThreeD : struct, IJitFlag
        where TPeriodic : struct, IJitFlag
    {
        int d = _d, capacity = _capacity;
        bool threeD = TThreeD.Value, periodic = TPeriodic.Value;
        int[] index = _index, counts = _counts;
        var minusBox = Vector256.Create(-_box);
        var inverseBox = Vector256.Create(_inverseBox);
        var rc2 = Vector256.Create(_cutoff2);
        var safe = Vector256.Create(0.25 * _cutoff2);     // r^2 put in the lanes that add nothing, so they stay finite
        var inverseStep = Vector256.Create(table.InverseStep);
        var intervals = Vector256.Create((double)PairForceTable.Intervals);
        var lanes = Vector256.Create(0.0, 1, 2, 3);
        var lastRow = Vector128.Create(PairForceTable.Intervals - 1);
        int stride = _stride;
        fixed (double* p = _positions, coefficients = table.Coefficients)
        fixed (int* neighbours = _neighbours)
        {
            for (int k = first; k < end; k++)
            {
                var xi = Vector256.Create(p[k * stride]);
                var yi = Vector256.Create(p[k * stride + 1]);
                var zi = threeD ? Vector256.Create(p[k * stride + 2]) : Vector256<double>.Zero;
                Vector256<double> sumX = Vector256<double>.Zero, sumY = sumX, sumZ = sumX, exactLanes = sumX;
                int* row = neighbours + (long)k * capacity;
                int count = counts[k];
                for (int m = 0; m < count; m += 4)
                {
                    // the four neighbours' positions by plain loads and a transpose (cheaper than gathers here)
                    Vector256<double> dx, dy, dz;
                    if (threeD)
                    {
                        var pa = Avx.LoadVector256(p + 4 * row[m]);
                        var pb = Avx.LoadVector256(p + 4 * row[m + 1]);
                        var pc = Avx.LoadVector256(p + 4 * row[m + 2]);
                        var pe = Avx.LoadVector256(p + 4 * row[m + 3]);
                        var xz0 = Avx.UnpackLow(pa, pb);     // xa xb za zb
                        var y0 = Avx.UnpackHigh(pa, pb);     // ya yb 0 0
                        var xz1 = Avx.UnpackLow(pc, pe);
                        var y1 = Avx.UnpackHigh(pc, pe);
                        dx = xi - Avx.Permute2x128(xz0, xz1, 0x20);
                        dy = yi - Avx.Permute2x128(y0, y1, 0x20);
                        dz = zi - Avx.Permute2x128(xz0, xz1, 0x31);
                    }
                    else
                    {
                        var ac = Vector256.Create(Sse2.LoadVector128(p + 2 * row[m]), Sse2.LoadVector128(p + 2 * row[m + 2]));      // xa ya xc yc
                        var bd = Vector256.Create(Sse2.LoadVector128(p + 2 * row[m + 1]), Sse2.LoadVector128(p + 2 * row[m + 3]));  // xb yb xd yd
                        dx = xi - Avx.UnpackLow(ac, bd);
                        dy = yi - Avx.UnpackHigh(ac, bd);
                        dz = Vector256<double>.Zero;
                    }
                    if (periodic)
                    {
                        dx = Vector256.FusedMultiplyAdd(minusBox, Vector256.Round(dx * inverseBox), dx);
                        dy = Vector256.FusedMultiplyAdd(minusBox, Vector256.Round(dy * inverseBox), dy);
                        if (threeD) dz = Vector256.FusedMultiplyAdd(minusBox, Vector256.Round(dz * inverseBox), dz);
                    }
                    var r2 = Vector256.FusedMultiplyAdd(dx, dx, dy * dy);
                    if (threeD) r2 = Vector256.FusedMultiplyAdd(dz, dz, r2);
                    var inside = Vector256.LessThan(r2, rc2) & Vector256.LessThan(lanes, Vector256.Create((double)(count - m)));
                    var u = Vector256.ConditionalSelect(inside, r2, safe);
                    // table row k = (int) (r^2 / h), t = r^2 / h - k; its four coefficients are one row of four doubles
                    var x = u * inverseStep;
                    var rowIndex = Avx.ConvertToVector128Int32WithTruncation(x);
                    var t = x - Avx.ConvertToVector256Double(rowIndex);
                    rowIndex = Sse41.Min(rowIndex, lastRow);
                    var a = Avx.LoadVector256(coefficients + 4 * rowIndex.GetElement(0));
                    var b = Avx.LoadVector256(coefficients + 4 * rowIndex.GetElement(1));
                    var c = Avx.LoadVector256(coefficients + 4 * rowIndex.GetElement(2));
                    var e = Avx.LoadVector256(coefficients + 4 * rowIndex.GetElement(3));
                    var ab0 = Avx.UnpackLow(a, b);     // a0 b0 a2 b2
                    var ab1 = Avx.UnpackHigh(a, b);    // a1 b1 a3 b3
                    var ce0 = Avx.UnpackLow(c, e);
                    var ce1 = Avx.UnpackHigh(c, e);
                    var c0 = Avx.Permute2x128(ab0, ce0, 0x20);
                    var c1 = Avx.Permute2x128(ab1, ce1, 0x20);
                    var c2 = Avx.Permute2x128(ab0, ce0, 0x31);
                    var c3 = Avx.Permute2x128(ab1, ce1, 0x31);
                    var g = Vector256.FusedMultiplyAdd(t, Vector256.FusedMultiplyAdd(t, Vector256.FusedMultiplyAdd(t, c3, c2), c1), c0);
                    exactLanes |= (~Vector256.Equals(c0, c0) | Vector256.GreaterThanOrEqual(x, intervals)) & inside;
                    var s = Vector256.ConditionalSelect(inside, g, Vector256<double>.Zero);
                    sumX += s * dx;
                    sumY += s * dy;
                    if (threeD) sumZ += s * dz;
                }
                if (exactLanes != Vector256<double>.Zero)
                {
                    // a pair in an interval the table does not cover (rare: near r = 0 or a singular core): the scalar
                    // path does the same arithmetic with the potential's formula there (no call inside the vector loop,
                    // which would make the JIT spill the vector registers on every group)
                    ForceSlotsScalar(potential, table, forces, k, k + 1);
                    continue;
                }
                int q = index[k] * d;
                forces[q] = sumX.GetElement(0) + sumX.GetElement(1) + (sumX.GetElement(2) + sumX.GetElement(3));
                forces[q + 1] = sumY.GetElement(0) + sumY.GetElement(1) + (sumY.GetElement(2) + sumY.GetElement(3));
                if (threeD) forces[q + 2] = sumZ.GetElement(0) + sumZ.GetElement(1) + (sumZ.GetElement(2) + sumZ.GetElement(3));
            }
        }
    }

    /// <summary>The same arithmetic as <see cref="ForceSlotsAvx2{TPotential, TThreeD, TPeriodic}"/>, lane by lane.</summary>
    private void ForceSlotsScalar<TPotential>(TPotential potential, PairForceTable table, double[] forces, int first, int end)
        where TPotential : struct, IPairPotential
    {
        int d = _d, capacity = _capacity;
        bool threeD = d == 3, periodic = _box > 0;
        double box = _box, inverseBox = _inverseBox, rc2 = _cutoff2;
        double[] p = _positions;
        int stride = _stride;
        int[] index = _index, counts = _counts, neighbours = _neighbours;
        Span<double> sumX = stackalloc double[4], sumY = stackalloc double[4], sumZ = stackalloc double[4];
        for (int k = first; k < end; k++)
        {
            sumX.Clear();
            sumY.Clear();
            sumZ.Clear();
            int row = k * capacity, count = counts[k];
            for (int m = 0; m < count; m += 4)
                for (int l = 0; l < 4; l++)
                {
                    int sj = neighbours[row + m + l];
                    int a = k * stride, b = sj * stride;
                    double dx = p[a] - p[b], dy = p[a + 1] - p[b + 1], dz = threeD ? p[a + 2] - p[b + 2] : 0;
                    if (periodic)
                    {
                        dx = Math.FusedMultiplyAdd(-box, Math.Round(dx * inverseBox), dx);
                        dy = Math.FusedMultiplyAdd(-box, Math.Round(dy * inverseBox), dy);
                        if (threeD) dz = Math.FusedMultiplyAdd(-box, Math.Round(dz * inverseBox), dz);
                    }
                    double r2 = Math.FusedMultiplyAdd(dx, dx, dy * dy);
                    if (threeD) r2 = Math.FusedMultiplyAdd(dz, dz, r2);
                    double s = 0;
                    if (r2 < rc2 && m + l < count) s = table.ForceOverDistance(potential, r2);
                    sumX[l] += s * dx;
                    sumY[l] += s * dy;
                    if (threeD) sumZ[l] += s * dz;
                }
            int q = index[k] * d;
            forces[q] = sumX[0] + sumX[1] + (sumX[2] + sumX[3]);
            forces[q + 1] = sumY[0] + sumY[1] + (sumY[2] + sumY[3]);
            if (threeD) forces[q + 2] = sumZ[0] + sumZ[1] + (sumZ[2] + sumZ[3]);
        }
    }

    /// <summary>Copies this call's positions into slot order and returns the largest squared displacement since the last build (NaN-safe: a non-finite coordinate gives +infinity).</summary>
    private double LargestDisplacement2(double[] positions, int maxDegreeOfParallelism)
    {
        int chunks = Chunks(maxDegreeOfParallelism);
        if (chunks == 1) return Refresh(positions, 0, _n);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            c => _chunkMax[c] = Refresh(positions, (int)((long)_n * c / chunks), (int)((long)_n * (c + 1) / chunks)));
        double largest = 0;
        for (int c = 0; c < chunks; c++) largest = Math.Max(largest, _chunkMax[c]);
        return largest;
    }

    private double Refresh(ReadOnlySpan<double> positions, int first, int end)
    {
        int d = _d, stride = _stride;
        double box = _box, inverseBox = _inverseBox, largest = 0;
        bool threeD = d == 3, periodic = box > 0;
        int[] index = _index;
        for (int k = first; k < end; k++)
        {
            int q = index[k] * d;
            double px = positions[q], py = positions[q + 1], pz = threeD ? positions[q + 2] : 0;
            double dx = px - _refX[k], dy = py - _refY[k], dz = threeD ? pz - _refZ[k] : 0;
            if (periodic)
            {
                CellList.WrapSeparation(ref dx, ref dy, ref dz, box, inverseBox, threeD);
            }
            double r2 = dx * dx + dy * dy + dz * dz;
            largest = r2 <= largest ? largest : double.IsNaN(r2) ? double.PositiveInfinity : r2;
            int s = k * stride;
            _positions[s] = px;
            _positions[s + 1] = py;
            if (threeD) _positions[s + 2] = pz;
        }
        return largest;
    }

    private void Build(double[] positions, int maxDegreeOfParallelism)
    {
        _cells.BuildInParallel(positions, maxDegreeOfParallelism);
        int chunks = Chunks(maxDegreeOfParallelism);
        if (chunks == 1) CopyToSlots(positions, 0, _n);
        else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            c => CopyToSlots(positions, (int)((long)_n * c / chunks), (int)((long)_n * (c + 1) / chunks)));
        PhaseEnded?.Invoke(StepPhase.CellBuild);
        if (_capacity == 0) Resize(16);
        while (true)
        {
            int largest = 0;
            if (_cells.CanFillRows && !KernelFill) largest = FillRows(maxDegreeOfParallelism);
            else
            {
                _cells.SweepBySlot(new FillKernel(_neighbours, _counts, _capacity), maxDegreeOfParallelism);
                foreach (int c in _counts) largest = Math.Max(largest, c);
            }
            if (largest <= _capacity) break;
            Resize((largest + largest / 4 + 7) / 8 * 8);
        }
        _built = true;
        Builds++;
        PhaseEnded?.Invoke(StepPhase.ListFill);
    }

    /// <summary>Slots [<paramref name="first"/>, <paramref name="end"/>) of a build: the cell list's order and the positions, as this call's and as the reference.</summary>
    private void CopyToSlots(double[] positions, int first, int end)
    {
        int[] sorted = _cells.SortedIndex;
        for (int k = first; k < end; k++)
        {
            int q = (_index[k] = sorted[k]) * _d;
            int s = k * _stride;
            _positions[s] = _refX[k] = positions[q];
            _positions[s + 1] = _refY[k] = positions[q + 1];
            if (_d == 3) _positions[s + 2] = _refZ[k] = positions[q + 2];
        }
    }

    /// <summary>Tests set this to fill the rows through the kernel sweep on a machine where <see cref="CellList.FillRows"/> runs.</summary>
    internal bool KernelFill { get; set; }

    /// <summary>The rows straight from the cell list (<see cref="CellList.FillRows"/>), in parallel over fixed blocks of cells; returns the largest count.</summary>
    private int FillRows(int maxDegreeOfParallelism)
    {
        int cells = _cells.Cells;
        int chunks = maxDegreeOfParallelism == 1 || _n < 2048 ? 1 : Math.Min(cells, 8 * Environment.ProcessorCount);
        if (chunks == 1) return _cells.FillRows(_neighbours, _capacity, _counts, 0, cells);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            c => _chunkLargest[c] = _cells.FillRows(_neighbours, _capacity, _counts, (int)((long)cells * c / chunks), (int)((long)cells * (c + 1) / chunks)));
        int largest = 0;
        for (int c = 0; c < chunks; c++) largest = Math.Max(largest, _chunkLargest[c]);
        return largest;
    }

    /// <summary>Rows of <paramref name="capacity"/> entries (a multiple of 8: the eight-lane force sweep reads whole groups of eight).</summary>
    private void Resize(int capacity)
    {
        _capacity = capacity;
        _neighbours = new int[(long)_n * capacity > int.MaxValue
            ? throw new InvalidInputException($"neighbour list: {_n} particles with up to {capacity} neighbours each exceed one array; lower the density or the skin.")
            : _n * capacity];
    }

    /// <summary>Writes the neighbour slots of slot i into its row (counting past the capacity so the caller can grow it).</summary>
    private struct FillKernel(int[] neighbours, int[] counts, int capacity) : INeighbourKernel
    {
        private int _row, _m;

        public void Begin(int i)
        {
            _row = i * capacity;
            _m = 0;
        }

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            if (_m < capacity) neighbours[_row + _m] = j;
            _m++;
        }

        public void End(int i) => counts[i] = _m;
    }
}

/// <summary>The phases of one pair-interacting step, for the bench's per-phase timer (<c>bench pair --phases</c>).</summary>
internal enum StepPhase
{
    /// <summary>The neighbour list's pass over all positions: copy into slot order and largest displacement.</summary>
    Refresh,

    /// <summary>A rebuild's cell sort and slot copy.</summary>
    CellBuild,

    /// <summary>A rebuild's neighbour rows from the cell list.</summary>
    ListFill,

    /// <summary>The force sweep over the lists.</summary>
    Sweep,

    /// <summary>The integrator: noise and the position and active-state update.</summary>
    Update,
}
