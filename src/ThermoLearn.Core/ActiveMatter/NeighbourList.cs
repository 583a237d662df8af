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
public sealed partial class NeighbourList
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
        _positions = new double[_stride * (particles + 1)];   // slot N: the padding pairs' (N, N), at the origin
        _slotForces = new double[_stride * (particles + 1)];
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
    /// per pair (its exact-formula intervals from <paramref name="potential"/>). Each pair is evaluated once, from the flat
    /// half-pair arrays of the strips (even strips, then odd ones; see the class's other part), its term added to one end
    /// and subtracted from the other lane by lane in the pairs' order, eight pairs at a time on AVX-512 and one at a time
    /// otherwise. Every path takes the minimum image as fma(-L, round(dx / L), dx), r^2 as fma(dx, dx, dy^2) (then
    /// fma(dz, dz, .) in 3-D) and the table's cubic by fused multiply-adds (<see cref="PairForceTable.Horner"/>), so the
    /// bits depend neither on the thread count nor on the instruction set.
    /// </summary>
    public void Forces<TPotential>(TPotential potential, PairForceTable table, double[] forces, int maxDegreeOfParallelism = -1)
        where TPotential : struct, IPairPotential
    {
        if (!_built) throw new InvalidOperationException("the neighbour list has no positions yet: call Update first.");
        if (forces.Length != _n * _d) throw new ArgumentException($"forces hold {forces.Length} values; expected N d = {_n * _d}.", nameof(forces));
        SweepPairs(potential, table, forces, maxDegreeOfParallelism);
        PhaseEnded?.Invoke(StepPhase.Sweep);
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
        if (d == 2 && Avx512F.IsSupported && end - first >= 8)
        {
            largest = RefreshEight(positions, first, end - (end - first) % 8);
            first = end - (end - first) % 8;
        }
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

    /// <summary>
    /// <see cref="Refresh"/> in 2-D for slots [<paramref name="first"/>, <paramref name="end"/>), a multiple of eight: each
    /// particle's (x, y) copied as one 16-byte load and store, the displacements eight at a time with the scalar loop's
    /// operations (so the same largest value: a maximum does not depend on the order it is taken in).
    /// </summary>
    private unsafe double RefreshEight(ReadOnlySpan<double> positions, int first, int end)
    {
        var boxV = Vector512.Create(_box);
        var inverseBox = Vector512.Create(_inverseBox);
        bool periodic = _box > 0;
        var evens = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);
        var odds = Vector512.Create(1L, 3, 5, 7, 9, 11, 13, 15);
        var largest = Vector512<double>.Zero;
        fixed (double* x = positions, slots = _positions, refX = _refX, refY = _refY)
        fixed (int* index = _index)
            for (int k = first; k < end; k += 8)
            {
                int* q = index + k;
                var low = Vector256.Create(Sse2.LoadVector128(x + 2 * (uint)q[0]), Sse2.LoadVector128(x + 2 * (uint)q[1])).ToVector512Unsafe()
                    .WithUpper(Vector256.Create(Sse2.LoadVector128(x + 2 * (uint)q[2]), Sse2.LoadVector128(x + 2 * (uint)q[3])));
                var high = Vector256.Create(Sse2.LoadVector128(x + 2 * (uint)q[4]), Sse2.LoadVector128(x + 2 * (uint)q[5])).ToVector512Unsafe()
                    .WithUpper(Vector256.Create(Sse2.LoadVector128(x + 2 * (uint)q[6]), Sse2.LoadVector128(x + 2 * (uint)q[7])));
                low.Store(slots + 2 * k);
                high.Store(slots + 2 * k + 8);
                var dx = Avx512F.PermuteVar8x64x2(low, evens, high) - Vector512.Load(refX + k);
                var dy = Avx512F.PermuteVar8x64x2(low, odds, high) - Vector512.Load(refY + k);
                if (periodic)
                {
                    dx -= boxV * Vector512.Round(dx * inverseBox);
                    dy -= boxV * Vector512.Round(dy * inverseBox);
                }
                var r2 = dx * dx + dy * dy + Vector512<double>.Zero;
                largest = Vector512.Max(largest, Vector512.ConditionalSelect(Vector512.Equals(r2, r2), r2, Vector512.Create(double.PositiveInfinity)));
            }
        double result = 0;
        for (int l = 0; l < 8; l++) result = Math.Max(result, largest[l]);
        return result;
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
        BuildPairs(maxDegreeOfParallelism);
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
