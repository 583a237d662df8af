using System.Runtime.CompilerServices;

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
/// order that depends on threads. Buffers are allocated once; <see cref="Build"/> and sweeps do not allocate.
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
    private readonly int[] _cellOf;                // cell of each particle (by original index)
    private readonly int[] _sortedIndex;           // original index of sorted slot k
    private readonly double[] _sorted;             // positions in sorted order, _d per slot
    private int[] _counts = [];

    /// <param name="particles">N.</param>
    /// <param name="dimension">d = 2 or 3.</param>
    /// <param name="cutoff">Interaction range r_c.</param>
    /// <param name="box">Side L of the periodic box, or null for open space. Needs L &gt;= 2 r_c (minimum image).</param>
    public CellList(int particles, int dimension, double cutoff, double? box)
    {
        if (particles < 1) throw new InvalidInputException($"cell list: the number of particles must be positive (got {particles}).");
        if (dimension is not (2 or 3)) throw new InvalidInputException($"cell list: dimension must be 2 or 3 (got {dimension}).");
        if (!(cutoff > 0) || !double.IsFinite(cutoff)) throw new InvalidInputException($"cell list: the cutoff must be a positive number (got {cutoff}).");
        if (box is { } l && !(l >= 2 * cutoff && double.IsFinite(l)))
            throw new InvalidInputException(FormattableString.Invariant(
                $"the periodic box (side L = {l:G6}) is smaller than twice the interaction cutoff (2 r_c = {2 * cutoff:G6}); the minimum image convention needs L >= 2 r_c: use more particles or a lower packing fraction."));
        _n = particles;
        _d = dimension;
        _cutoff = cutoff;
        _cutoff2 = cutoff * cutoff;
        _box = box ?? 0;
        _cellOf = new int[particles];
        _sortedIndex = new int[particles];
        _sorted = new double[particles * dimension];
        if (_box > 0)
        {
            var dims = new int[dimension];
            Array.Fill(dims, (int)Math.Floor(_box / cutoff));
            SetGrid(dims, new double[dimension], new double[dimension]);
        }
    }

    public int Particles => _n;

    public int Dimension => _d;

    public double Cutoff => _cutoff;

    /// <summary>Side L of the periodic box, or null in open space.</summary>
    public double? Box => _box > 0 ? _box : null;

    /// <summary>Number of cells in the current grid.</summary>
    public int Cells => _cells;

    /// <summary>
    /// Sorts the particles into cells. <paramref name="positions"/> holds x[i * d + a]; in a periodic box any real
    /// coordinate is accepted (it is wrapped into [0, L) for the cell index). NaN or infinite coordinates are bad input.
    /// </summary>
    public void Build(ReadOnlySpan<double> positions)
    {
        if (positions.Length != _n * _d) throw new ArgumentException($"positions hold {positions.Length} values; expected N d = {_n * _d}.", nameof(positions));
        if (_box == 0) SetOpenGrid(positions);
        int[] dims = _dims;
        Array.Clear(_counts);
        for (int i = 0; i < _n; i++)
        {
            int cell = 0;
            for (int a = 0; a < _d; a++)
            {
                double x = positions[i * _d + a];
                if (!double.IsFinite(x)) throw new InvalidInputException($"particle {i} has a non-finite coordinate {a} ({x}); the simulation diverged or the input is corrupt (try a smaller dt).");
                int c;
                if (_box > 0)
                {
                    double w = x - _box * Math.Floor(x / _box);
                    c = (int)(w / _box * dims[a]);
                }
                else c = (int)((x - _origin[a]) / _cellSide[a]);
                c = Math.Clamp(c, 0, dims[a] - 1);
                cell = cell * dims[a] + c;
            }
            _cellOf[i] = cell;
            _counts[cell]++;
        }
        _cellStart[0] = 0;
        for (int c = 0; c < _cells; c++) _cellStart[c + 1] = _cellStart[c] + _counts[c];
        // Stable counting sort: within a cell, particles keep increasing index order.
        for (int c = 0; c < _cells; c++) _counts[c] = _cellStart[c];
        for (int i = 0; i < _n; i++)
        {
            int slot = _counts[_cellOf[i]]++;
            _sortedIndex[slot] = i;
            for (int a = 0; a < _d; a++) _sorted[slot * _d + a] = positions[i * _d + a];
        }
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> over every particle and its neighbours within the cutoff (after <see cref="Build"/>).
    /// <paramref name="maxDegreeOfParallelism"/>: -1 all cores, 1 serial; the results do not depend on it.
    /// </summary>
    public void Sweep<TKernel>(TKernel kernel, int maxDegreeOfParallelism = -1) where TKernel : struct, INeighbourKernel
    {
        int chunks = Math.Min(_cells, Math.Max(1, 8 * Environment.ProcessorCount));
        if (maxDegreeOfParallelism == 1 || _n < 2048) chunks = 1;
        if (chunks == 1)
        {
            SweepCells(kernel, 0, _cells);
            return;
        }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            chunk => SweepCells(kernel, (int)((long)_cells * chunk / chunks), (int)((long)_cells * (chunk + 1) / chunks)));
    }

    private void SweepCells<TKernel>(TKernel kernel, int firstCell, int endCell) where TKernel : struct, INeighbourKernel
    {
        double[] sorted = _sorted;
        int[] index = _sortedIndex, start = _cellStart, neighbours = _neighbours, nStart = _neighbourStart;
        double box = _box, inverseBox = box > 0 ? 1 / box : 0, rc2 = _cutoff2;
        bool threeD = _d == 3;
        int d = _d;
        for (int c = firstCell; c < endCell; c++)
        {
            for (int si = start[c]; si < start[c + 1]; si++)
            {
                int i = index[si];
                double xi = sorted[si * d], yi = sorted[si * d + 1], zi = threeD ? sorted[si * d + 2] : 0;
                kernel.Begin(i);
                for (int q = nStart[c]; q < nStart[c + 1]; q++)
                {
                    int nc = neighbours[q];
                    for (int sj = start[nc]; sj < start[nc + 1]; sj++)
                    {
                        if (sj == si) continue;
                        double dx = xi - sorted[sj * d], dy = yi - sorted[sj * d + 1], dz = threeD ? zi - sorted[sj * d + 2] : 0;
                        if (box > 0)
                        {
                            dx -= box * Math.Round(dx * inverseBox);
                            dy -= box * Math.Round(dy * inverseBox);
                            if (threeD) dz -= box * Math.Round(dz * inverseBox);
                        }
                        double r2 = dx * dx + dy * dy + dz * dz;
                        if (r2 < rc2) kernel.Add(i, index[sj], r2, dx, dy, dz);
                    }
                }
                kernel.End(i);
            }
        }
    }

    /// <summary>Minimum-image separation x_i - x_j along one axis (open space: the plain difference).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double MinimumImage(double delta) => _box > 0 ? delta - _box * Math.Round(delta / _box) : delta;

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
        _neighbourStart = new int[_cells + 1];
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
                int cell = 0, code = s;
                bool inside = true;
                for (int a = 0; a < _d; a++)
                {
                    int k = coordinate[a] + code % 3 - 1;
                    code /= 3;
                    if (_box > 0) k = (k + dims[a]) % dims[a];
                    else if (k < 0 || k >= dims[a]) { inside = false; break; }
                    cell = cell * dims[a] + k;
                }
                if (!inside) continue;
                if (seen.Add(cell)) list.Add(cell);
            }
        }
        _neighbourStart[_cells] = list.Count;
        _neighbours = list.ToArray();
    }
}
