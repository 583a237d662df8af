using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// What a neighbour loop does for one particle: <see cref="Begin"/>, then <see cref="Add"/> once for every other
/// particle j within the cutoff (in a fixed order), then <see cref="End"/>. (dx, dy, dz) = x_i - x_j under the
/// minimum image convention (dz = 0 in 2-D) and r2 = |x_i - x_j|^2 &lt; r_c^2. Each parallel worker gets its own copy
/// of the kernel, so per-particle sums live in fields and <see cref="End"/> stores them at index i.
/// </summary>
public interface INeighbourKernel
{
    void Begin(int i);

    void Add(int i, int j, double r2, double dx, double dy, double dz);

    void End(int i);
}

/// <summary>
/// Cell lists for N particles in 2-D or 3-D, in a periodic square/cubic box of side L (minimum image) or in open
/// space (cells over the particles' bounding box). Cells have side &gt;= r_c, so the neighbours of a particle lie in
/// its own and the 3^d adjacent cells: building and one sweep cost O(N). A sweep visits, for every particle i, each
/// neighbour j in the same order (cells in a fixed stencil order, particles by index within a cell) and writes only
/// particle i's results, so it runs in parallel over cells and gives the same bits for any thread count. Every pair is
/// visited from both ends (no Newton's-third-law half shell): twice the pair work, but no write races and no
/// order that depends on threads. Particles are stored sorted by cell (structure of arrays, wrapped into the box), and
/// a cell's neighbours are runs of consecutive cells, each with its periodic image shift precomputed, so the candidate
/// loop is a contiguous scan with no rounding; candidates within the cutoff are collected without branches before the
/// kernel sees them. Buffers are allocated once (the hit list is rented); <see cref="Build"/> and sweeps do not allocate.
/// </summary>
public sealed class CellList
{
    private readonly int _n, _d;
    private readonly double _cutoff, _cutoff2;
    private readonly double _box;                  // side L of the periodic box; 0 for open space
    private int[] _dims = new int[3];              // cells per axis
    private double[] _origin = new double[3];      // open space: lower corner of the grid
    private double[] _cellSide = new double[3];
    private int _cells;
    private int[] _cellStart = [];                 // particles of cell c: sorted slots [_cellStart[c], _cellStart[c + 1])
    private int[] _neighbours = [];                // distinct neighbour cells of c (itself included), fixed order
    private int[] _neighbourStart = [];
    private double[] _imageShift = [];             // per neighbour entry and axis: the periodic image x_j + shift next to cell c
    private int[] _rangeFirst = [], _rangeEnd = [], _rangeStart = [];   // neighbour cells of c as runs of consecutive cells with one shift
    private double[] _rangeShift = [];
    private int _largestRange;                     // most particles in one run of cells (after Build)
    private bool _shiftedImages;                   // images from the stencil (periodic with >= 3 cells per axis, or open space)
    private readonly int[] _cellOf;                // cell of each particle (by original index)
    private readonly int[] _sortedIndex;           // original index of sorted slot k
    private readonly double[] _sortedX, _sortedY, _sortedZ;   // positions by sorted slot (wrapped into [0, L) in a periodic box), padded by RowPadding
    private int[] _counts = [];

    /// <param name="particles">N.</param>
    /// <param name="dimension">d = 2 or 3.</param>
    /// <param name="cutoff">Interaction range r_c.</param>
    /// <param name="box">Side L of the periodic box, or null for open space. Needs L &gt;= 2 r_c (minimum image).</param>
    public CellList(int particles, int dimension, double cutoff, double? box)
    {
        Validate(particles, dimension, cutoff, box);
        _n = particles;
        _d = dimension;
        _cutoff = cutoff;
        _cutoff2 = cutoff * cutoff;
        _box = box ?? 0;
        _cellOf = new int[particles];
        _sortedIndex = new int[particles];
        _sortedX = new double[particles + RowPadding];
        _sortedY = new double[particles + RowPadding];
        _sortedZ = new double[dimension == 3 ? particles + RowPadding : 0];
        if (_box > 0)
        {
            var dims = new int[dimension];
            Array.Fill(dims, (int)Math.Floor(_box / cutoff));
            SetGrid(dims, new double[dimension], new double[dimension]);
        }
    }

    /// <summary>Throws <see cref="InvalidInputException"/> unless N, d, r_c and the box make a cell list (L &gt;= 2 r_c for the minimum image).</summary>
    internal static void Validate(int particles, int dimension, double cutoff, double? box)
    {
        if (particles < 1) throw new InvalidInputException($"cell list: the number of particles must be positive (got {particles}).");
        if (dimension is not (2 or 3)) throw new InvalidInputException($"cell list: dimension must be 2 or 3 (got {dimension}).");
        if (!(cutoff > 0) || !double.IsFinite(cutoff)) throw new InvalidInputException($"cell list: the cutoff must be a positive number (got {cutoff}).");
        if (box is { } l && !(l >= 2 * cutoff && double.IsFinite(l)))
            throw new InvalidInputException(FormattableString.Invariant(
                $"the periodic box (side L = {l:G6}) is smaller than twice the interaction cutoff (2 r_c = {2 * cutoff:G6}); the minimum image convention needs L >= 2 r_c: use more particles or a lower packing fraction."));
    }

    public int Particles => _n;

    public int Dimension => _d;

    public double Cutoff => _cutoff;

    /// <summary>Side L of the periodic box, or null in open space.</summary>
    public double? Box => _box > 0 ? _box : null;

    /// <summary>Number of cells in the current grid.</summary>
    public int Cells => _cells;

    /// <summary>Original index of each sorted slot (particles sorted by cell, by index within a cell) after <see cref="Build"/>.</summary>
    internal int[] SortedIndex => _sortedIndex;

    /// <summary>Slabs of cells along axis 0 (the slowest axis of the cell index): neighbour cells lie in the same slab or the next one either side (across the boundary in a periodic box).</summary>
    internal int Slabs => _dims[0];

    /// <summary>First sorted slot of slab <paramref name="slab"/> (0 .. <see cref="Slabs"/>; the last gives N), after a build.</summary>
    internal int SlabStart(int slab) => _cellStart[_cells / _dims[0] * slab];

    /// <summary>
    /// Sorts the particles into cells. <paramref name="positions"/> holds x[i * d + a]; in a periodic box any real
    /// coordinate is accepted (it is wrapped into [0, L) for the cell index). NaN or infinite coordinates are bad input.
    /// </summary>
    public void Build(ReadOnlySpan<double> positions)
    {
        if (positions.Length != _n * _d) throw new ArgumentException($"positions hold {positions.Length} values; expected N d = {_n * _d}.", nameof(positions));
        if (_box == 0) SetOpenGrid(positions);
        Array.Clear(_counts);
        int bad = CountCells(positions, 0, _n, _counts);
        if (bad >= 0) throw NonFinite(positions, bad);
        _cellStart[0] = 0;
        for (int c = 0; c < _cells; c++) _cellStart[c + 1] = _cellStart[c] + _counts[c];
        SetLargestRange();
        // Stable counting sort: within a cell, particles keep increasing index order.
        for (int c = 0; c < _cells; c++) _counts[c] = _cellStart[c];
        Scatter(positions, 0, _n, _counts);
    }

    /// <summary>
    /// <see cref="Build(ReadOnlySpan{double})"/> in a periodic box with the particles cut into one block per worker: each
    /// block counts its particles per cell, block b's particles of cell c then start after those of the blocks before it,
    /// and each block scatters its own particles. The result is the serial stable counting sort's (particles by cell, by
    /// index within a cell) whatever the number of blocks. Open space and small N take the serial path.
    /// </summary>
    internal void BuildInParallel(double[] positions, int maxDegreeOfParallelism)
    {
        int blocks = Math.Min(Environment.ProcessorCount, maxDegreeOfParallelism < 1 ? int.MaxValue : maxDegreeOfParallelism);
        if (blocks < 2 || _box == 0 || _n < 8192)
        {
            Build(positions);
            return;
        }
        if (positions.Length != _n * _d) throw new ArgumentException($"positions hold {positions.Length} values; expected N d = {_n * _d}.", nameof(positions));
        if (_blockCounts.Length != blocks || _blockCounts[0].Length != _cells)
        {
            _blockCounts = new int[blocks][];
            for (int b = 0; b < blocks; b++) _blockCounts[b] = new int[_cells];
            _blockBad = new int[blocks];
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, blocks, options, b =>
        {
            Array.Clear(_blockCounts[b]);
            _blockBad[b] = CountCells(positions, (int)((long)_n * b / blocks), (int)((long)_n * (b + 1) / blocks), _blockCounts[b]);
        });
        foreach (int bad in _blockBad)
            if (bad >= 0) throw NonFinite(positions, bad);
        int start = 0;
        for (int c = 0; c < _cells; c++)
        {
            _cellStart[c] = start;
            for (int b = 0; b < blocks; b++)
            {
                int count = _blockCounts[b][c];
                _blockCounts[b][c] = start;
                start += count;
            }
        }
        _cellStart[_cells] = start;
        SetLargestRange();
        Parallel.For(0, blocks, options, b => Scatter(positions, (int)((long)_n * b / blocks), (int)((long)_n * (b + 1) / blocks), _blockCounts[b]));
    }

    private int[][] _blockCounts = [[]];
    private int[] _blockBad = [];

    /// <summary>Cell of each particle in [<paramref name="first"/>, <paramref name="end"/>) into _cellOf, counted in <paramref name="counts"/>; returns the first particle with a non-finite coordinate (its cell is not counted), or -1.</summary>
    private int CountCells(ReadOnlySpan<double> positions, int first, int end, int[] counts)
    {
        int[] dims = _dims;
        for (int i = first; i < end; i++)
        {
            int cell = 0;
            for (int a = 0; a < _d; a++)
            {
                double x = positions[i * _d + a];
                if (!double.IsFinite(x)) return i;
                int c;
                if (_box > 0) c = (int)(Wrap(x) / _box * dims[a]);
                else c = (int)((x - _origin[a]) / _cellSide[a]);
                c = Math.Clamp(c, 0, dims[a] - 1);
                cell = cell * dims[a] + c;
            }
            _cellOf[i] = cell;
            counts[cell]++;
        }
        return -1;
    }

    /// <summary>Particles [<paramref name="first"/>, <paramref name="end"/>) into their slots, <paramref name="next"/>[c] the next free slot of cell c.</summary>
    private void Scatter(ReadOnlySpan<double> positions, int first, int end, int[] next)
    {
        for (int i = first; i < end; i++)
        {
            int slot = next[_cellOf[i]]++;
            _sortedIndex[slot] = i;
            _sortedX[slot] = Wrap(positions[i * _d]);
            _sortedY[slot] = Wrap(positions[i * _d + 1]);
            if (_d == 3) _sortedZ[slot] = Wrap(positions[i * _d + 2]);
        }
    }

    private void SetLargestRange()
    {
        int largest = 0;
        for (int q = 0; q < _rangeFirst.Length; q++) largest = Math.Max(largest, _cellStart[_rangeEnd[q]] - _cellStart[_rangeFirst[q]]);
        _largestRange = largest;
    }

    private InvalidInputException NonFinite(ReadOnlySpan<double> positions, int i)
    {
        int a = 0;
        while (a < _d - 1 && double.IsFinite(positions[i * _d + a])) a++;
        return new InvalidInputException($"particle {i} has a non-finite coordinate {a} ({positions[i * _d + a]}); the simulation diverged or the input is corrupt (try a smaller dt).");
    }

    /// <summary>x wrapped into [0, L) in a periodic box (<see cref="PeriodicBox.Wrap(double, double)"/>; unchanged in open space).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double Wrap(double x) => _box > 0 ? PeriodicBox.Wrap(x, _box) : x;

    /// <summary>
    /// Runs <paramref name="kernel"/> over every particle and its neighbours within the cutoff (after <see cref="Build"/>).
    /// <paramref name="maxDegreeOfParallelism"/>: -1 all cores, 1 serial; the results do not depend on it.
    /// </summary>
    public void Sweep<TKernel>(TKernel kernel, int maxDegreeOfParallelism = -1) where TKernel : struct, INeighbourKernel
        => SweepNamed(kernel, _sortedIndex, maxDegreeOfParallelism);

    /// <summary>
    /// <see cref="Sweep"/> with particles named by their sorted slot (i and j of the kernel are slots, see
    /// <see cref="SortedIndex"/>), for callers that keep their own data in cell order.
    /// </summary>
    internal void SweepBySlot<TKernel>(TKernel kernel, int maxDegreeOfParallelism = -1) where TKernel : struct, INeighbourKernel
    {
        if (_slots.Length != _n) _slots = Enumerable.Range(0, _n).ToArray();
        SweepNamed(kernel, _slots, maxDegreeOfParallelism);
    }

    private int[] _slots = [];

    /// <summary>The sweep, reporting slot k to the kernel as <paramref name="names"/>[k].</summary>
    private void SweepNamed<TKernel>(TKernel kernel, int[] names, int maxDegreeOfParallelism) where TKernel : struct, INeighbourKernel
    {
        int chunks = Math.Min(_cells, Math.Max(1, 8 * Environment.ProcessorCount));
        if (maxDegreeOfParallelism == 1 || _n < 2048) chunks = 1;
        if (chunks == 1)
        {
            SweepCells(kernel, names, 0, _cells);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            chunk => SweepCells(kernel, names, (int)((long)_cells * chunk / chunks), (int)((long)_cells * (chunk + 1) / chunks)));
    }

    private void SweepCells<TKernel>(TKernel kernel, int[] index, int firstCell, int endCell) where TKernel : struct, INeighbourKernel
    {
        if (!_shiftedImages)
        {
            SweepCellsRoundingImages(kernel, index, firstCell, endCell);
            return;
        }
        // The neighbour cells of c come as runs of consecutive cells (along the last axis, contiguous in the sorted order)
        // that share one periodic image shift (zero inside the box and in open space): x_i - (x_j + shift) is then the
        // minimum-image separation with no rounding per candidate. The candidates of a run within the cutoff are first
        // collected without branches, then handed to the kernel in slot order (the same fixed order for any thread count).
        double[] sx = _sortedX, sy = _sortedY, sz = _sortedZ, shift = _rangeShift;
        int[] start = _cellStart, first = _rangeFirst, rangeEnd = _rangeEnd, rStart = _rangeStart;
        double rc2 = _cutoff2;
        bool threeD = _d == 3;
        int[] hits = ArrayPool<int>.Shared.Rent(_largestRange + 4);   // + 4: the vector scan stores four slots at a time
        try
        {
            for (int c = firstCell; c < endCell; c++)
            {
                for (int si = start[c]; si < start[c + 1]; si++)
                {
                    int i = index[si];
                    double xi = sx[si], yi = sy[si], zi = threeD ? sz[si] : 0;
                    kernel.Begin(i);
                    for (int q = rStart[c]; q < rStart[c + 1]; q++)
                    {
                        double ox = xi - shift[3 * q], oy = yi - shift[3 * q + 1], oz = zi - shift[3 * q + 2];
                        int from = start[first[q]], end = start[rangeEnd[q]], m = 0;
                        if (threeD)
                            for (int sj = from; sj < end; sj++)
                            {
                                double dx = ox - sx[sj], dy = oy - sy[sj], dz = oz - sz[sj];
                                hits[m] = sj;
                                m += (dx * dx + dy * dy + dz * dz < rc2) & (sj != si) ? 1 : 0;
                            }
                        else
                        {
                            int sj = from;
                            if (Avx2.IsSupported) m = CollectAvx2(sx, sy, from, end, si, ox, oy, rc2, hits, ref sj);
                            for (; sj < end; sj++)
                            {
                                double dx = ox - sx[sj], dy = oy - sy[sj];
                                hits[m] = sj;
                                m += (dx * dx + dy * dy < rc2) & (sj != si) ? 1 : 0;
                            }
                        }
                        for (int h = 0; h < m; h++)
                        {
                            int sj = hits[h];
                            double dx = ox - sx[sj], dy = oy - sy[sj], dz = threeD ? oz - sz[sj] : 0;
                            kernel.Add(i, index[sj], dx * dx + dy * dy + dz * dz, dx, dy, dz);
                        }
                    }
                    kernel.End(i);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(hits);
        }
    }

    /// <summary>Slots past N in the sorted position arrays, so an eight-lane load at any slot stays inside them.</summary>
    private const int RowPadding = 8;

    /// <summary>Whether <see cref="FillRows"/> can run here (AVX-512, and images from the stencil).</summary>
    internal bool CanFillRows => Avx512F.IsSupported && _shiftedImages;

    /// <summary>
    /// Writes, for every sorted slot k of cells [<paramref name="firstCell"/>, <paramref name="endCell"/>), the slots
    /// within the cutoff (itself excluded) into row k of <paramref name="rows"/> (<paramref name="capacity"/> entries per
    /// row) in the order a sweep visits them, and their number into <paramref name="counts"/>[k] (counted on past the
    /// capacity, so the caller can grow the rows and fill again). Eight candidates at a time (AVX-512): the hits of a group
    /// are compressed into the row in slot order, so the rows are the ones the kernel sweep would give. Returns the
    /// largest count. Needs <see cref="CanFillRows"/>.
    /// </summary>
    internal unsafe int FillRows(int[] rows, int capacity, int[] counts, int firstCell, int endCell)
    {
        int[] start = _cellStart, first = _rangeFirst, rangeEnd = _rangeEnd, rStart = _rangeStart;
        double[] shift = _rangeShift;
        bool threeD = _d == 3;
        var rc2 = Vector512.Create(_cutoff2);
        var lanes = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);
        int largest = 0;
        fixed (double* sx = _sortedX, sy = _sortedY, sz = _sortedZ)
        fixed (int* table = rows)
        {
            for (int c = firstCell; c < endCell; c++)
            {
                for (int si = start[c]; si < start[c + 1]; si++)
                {
                    int* row = table + (long)si * capacity;
                    int m = 0;
                    var self = Vector512.Create((long)si);
                    for (int q = rStart[c]; q < rStart[c + 1]; q++)
                    {
                        var ox = Vector512.Create(sx[si] - shift[3 * q]);
                        var oy = Vector512.Create(sy[si] - shift[3 * q + 1]);
                        var oz = Vector512.Create(threeD ? sz[si] - shift[3 * q + 2] : 0);
                        int end = start[rangeEnd[q]];
                        for (int sj = start[first[q]]; sj < end; sj += 8)
                        {
                            var dx = ox - Vector512.Load(sx + sj);
                            var dy = oy - Vector512.Load(sy + sj);
                            var r2 = dx * dx + dy * dy;
                            if (threeD)
                            {
                                var dz = oz - Vector512.Load(sz + sj);
                                r2 += dz * dz;
                            }
                            var slots = lanes + Vector512.Create((long)sj);
                            var hit = Vector512.LessThan(r2, rc2).AsInt64() & Vector512.LessThan(slots, Vector512.Create((long)end))
                                & ~Vector512.Equals(slots, self);
                            // compress in a register and store all eight (the tail is zeros, past the row's count):
                            // the memory form of vpcompressd is microcoded and slow on some cores (Zen 4)
                            var packed = Avx512F.VL.Compress(Vector256<int>.Zero, Avx512F.ConvertToVector256Int32(hit), Avx512F.ConvertToVector256Int32(slots));
                            int hits = BitOperations.PopCount(hit.ExtractMostSignificantBits());
                            if (m + 8 <= capacity) packed.Store(row + m);
                            else
                                for (int h = 0; h < hits && m + h < capacity; h++) row[m + h] = packed.GetElement(h);
                            m += hits;
                        }
                    }
                    counts[si] = m;
                    largest = Math.Max(largest, m);
                }
            }
        }
        return largest;
    }

    /// <summary>
    /// The 2-D candidate scan four slots at a time: r^2 by the scalar loop's arithmetic, the slots within the cutoff (other
    /// than <paramref name="self"/>) left-packed into <paramref name="hits"/> in slot order. Returns the hit count and
    /// leaves <paramref name="next"/> at the first slot not scanned (the scalar loop finishes the run).
    /// </summary>
    private static unsafe int CollectAvx2(double[] sx, double[] sy, int from, int end, int self, double ox, double oy, double rc2, int[] hits, ref int next)
    {
        int m = 0, sj = from;
        var vx = Vector256.Create(ox);
        var vy = Vector256.Create(oy);
        var cut = Vector256.Create(rc2);
        fixed (double* px = sx, py = sy)
        fixed (int* pack = LeftPack, h = hits)
        {
            for (; sj + 4 <= end; sj += 4)
            {
                var dx = vx - Avx.LoadVector256(px + sj);
                var dy = vy - Avx.LoadVector256(py + sj);
                uint bits = Vector256.LessThan(dx * dx + dy * dy, cut).ExtractMostSignificantBits();
                uint offset = (uint)(self - sj);
                if (offset < 4) bits &= ~(1u << (int)offset);
                (Vector128.Create(sj) + Sse2.LoadVector128(pack + 4 * bits)).Store(h + m);
                m += BitOperations.PopCount(bits);
            }
        }
        next = sj;
        return m;
    }

    /// <summary>For each 4-bit mask, the positions of its set bits in increasing order (then zeros).</summary>
    private static readonly int[] LeftPack = BuildLeftPack();

    private static int[] BuildLeftPack()
    {
        var table = new int[64];
        for (int bits = 0; bits < 16; bits++)
        {
            int m = 0;
            for (int l = 0; l < 4; l++)
                if ((bits >> l & 1) != 0) table[4 * bits + m++] = l;
        }
        return table;
    }

    /// <summary>The sweep for periodic boxes with fewer than three cells along an axis (a cell is then its own neighbour across the boundary): minimum image by rounding per candidate.</summary>
    private void SweepCellsRoundingImages<TKernel>(TKernel kernel, int[] index, int firstCell, int endCell) where TKernel : struct, INeighbourKernel
    {
        double[] sx = _sortedX, sy = _sortedY, sz = _sortedZ;
        int[] start = _cellStart, neighbours = _neighbours, nStart = _neighbourStart;
        double box = _box, inverseBox = box > 0 ? 1 / box : 0, rc2 = _cutoff2;
        bool threeD = _d == 3;
        for (int c = firstCell; c < endCell; c++)
        {
            for (int si = start[c]; si < start[c + 1]; si++)
            {
                int i = index[si];
                double xi = sx[si], yi = sy[si], zi = threeD ? sz[si] : 0;
                kernel.Begin(i);
                for (int q = nStart[c]; q < nStart[c + 1]; q++)
                {
                    int nc = neighbours[q];
                    for (int sj = start[nc]; sj < start[nc + 1]; sj++)
                    {
                        if (sj == si) continue;
                        double dx = xi - sx[sj], dy = yi - sy[sj], dz = threeD ? zi - sz[sj] : 0;
                        WrapSeparation(ref dx, ref dy, ref dz, box, inverseBox, threeD);
                        double r2 = dx * dx + dy * dy + dz * dz;
                        if (r2 < rc2) kernel.Add(i, index[sj], r2, dx, dy, dz);
                    }
                }
                kernel.End(i);
            }
        }
    }

    /// <summary>
    /// Minimum image of a separation (dx, dy, dz) in a periodic box of side <paramref name="box"/>: each component minus
    /// box round(component / box), with 1 / box passed in (dz untouched in 2-D). The one copy every sweep uses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WrapSeparation(ref double dx, ref double dy, ref double dz, double box, double inverseBox, bool threeD)
    {
        dx -= box * Math.Round(dx * inverseBox);
        dy -= box * Math.Round(dy * inverseBox);
        if (threeD) dz -= box * Math.Round(dz * inverseBox);
    }

    /// <summary>Minimum-image separation x_i - x_j along one axis (open space: the plain difference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double MinimumImage(double delta) => _box > 0 ? PeriodicBox.MinimumImage(delta, _box) : delta;

    private void SetOpenGrid(ReadOnlySpan<double> positions)
    {
        var lo = new double[_d];
        var hi = new double[_d];
        Array.Fill(lo, double.PositiveInfinity);
        Array.Fill(hi, double.NegativeInfinity);
        for (int i = 0; i < _n; i++)
            for (int a = 0; a < _d; a++)
            {
                double x = positions[i * _d + a];
                if (!double.IsFinite(x)) throw new InvalidInputException($"particle {i} has a non-finite coordinate {a} ({x}); the simulation diverged or the input is corrupt (try a smaller dt).");
                lo[a] = Math.Min(lo[a], x);
                hi[a] = Math.Max(hi[a], x);
            }
        // Cells of side >= r_c; at most about 2 N + 27 cells, so a stray particle cannot blow up the grid.
        double side = _cutoff;
        while (true)
        {
            double total = 1;
            for (int a = 0; a < _d; a++) total *= Math.Floor((hi[a] - lo[a]) / side) + 1;
            if (total <= 2.0 * _n + 27) break;
            side *= 1.25;
        }
        var dims = new int[_d];
        var sides = new double[_d];
        for (int a = 0; a < _d; a++)
        {
            dims[a] = (int)Math.Floor((hi[a] - lo[a]) / side) + 1;
            sides[a] = side;
        }
        bool same = _cells > 0;
        for (int a = 0; a < _d && same; a++) same = dims[a] == _dims[a];
        if (same)
        {
            Array.Copy(lo, _origin, _d);
            Array.Copy(sides, _cellSide, _d);
            return;
        }
        SetGrid(dims, lo, sides);
    }

    /// <summary>Merges each cell's neighbour entries into runs of consecutive cell indices with equal image shifts.</summary>
    private void BuildRanges()
    {
        var first = new List<int>(_neighbours.Length);
        var end = new List<int>(_neighbours.Length);
        var shifts = new List<double>(_imageShift.Length);
        _rangeStart = new int[_cells + 1];
        for (int c = 0; c < _cells; c++)
        {
            _rangeStart[c] = first.Count;
            for (int q = _neighbourStart[c]; q < _neighbourStart[c + 1]; q++)
            {
                int r = first.Count - 1;
                bool extends = r >= _rangeStart[c] && end[r] == _neighbours[q]
                    && shifts[3 * r] == _imageShift[3 * q] && shifts[3 * r + 1] == _imageShift[3 * q + 1] && shifts[3 * r + 2] == _imageShift[3 * q + 2];
                if (extends)
                {
                    end[r]++;
                    continue;
                }
                first.Add(_neighbours[q]);
                end.Add(_neighbours[q] + 1);
                for (int a = 0; a < 3; a++) shifts.Add(_imageShift[3 * q + a]);
            }
        }
        _rangeStart[_cells] = first.Count;
        _rangeFirst = first.ToArray();
        _rangeEnd = end.ToArray();
        _rangeShift = shifts.ToArray();
    }

    private void SetGrid(int[] dims, double[] origin, double[] sides)
    {
        _dims = dims;
        _origin = origin;
        _cellSide = sides;
        _cells = 1;
        foreach (int m in dims) _cells *= m;
        _cellStart = new int[_cells + 1];
        _counts = new int[_cells];
        int stencil = _d == 2 ? 9 : 27;
        var list = new List<int>(_cells * stencil);
        var shifts = new List<double>(3 * _cells * stencil);
        _shiftedImages = _box == 0 || dims.All(m => m >= 3);
        _neighbourStart = new int[_cells + 1];
        Span<double> shift = stackalloc double[3];
        var coordinate = new int[_d];
        var seen = new HashSet<int>();
        for (int c = 0; c < _cells; c++)
        {
            int rest = c;
            for (int a = _d - 1; a >= 0; a--) { coordinate[a] = rest % dims[a]; rest /= dims[a]; }
            seen.Clear();
            _neighbourStart[c] = list.Count;
            for (int s = 0; s < stencil; s++)
            {
                int cell = 0;
                bool inside = true;
                shift.Clear();
                // offsets of the last axis vary fastest, so consecutive entries are consecutive cells (runs, see BuildRanges)
                for (int a = 0; a < _d; a++)
                {
                    int k = coordinate[a] + (s / (_d == 2 ? (a == 0 ? 3 : 1) : (a == 0 ? 9 : a == 1 ? 3 : 1))) % 3 - 1;
                    if (_box > 0)
                    {
                        // the image of a cell reached across the boundary lies one box length away
                        if (k < 0) shift[a] = -_box;
                        else if (k >= dims[a]) shift[a] = _box;
                        k = (k + dims[a]) % dims[a];
                    }
                    else if (k < 0 || k >= dims[a]) { inside = false; break; }
                    cell = cell * dims[a] + k;
                }
                if (!inside) continue;
                if (seen.Add(cell))
                {
                    list.Add(cell);
                    shifts.Add(shift[0]);
                    shifts.Add(shift[1]);
                    shifts.Add(shift[2]);
                }
            }
        }
        _neighbourStart[_cells] = list.Count;
        _neighbours = list.ToArray();
        _imageShift = shifts.ToArray();
        BuildRanges();
    }
}
