namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>
/// The K nearest neighbours within a cutoff r_c of every particle of one 2-D configuration, with the periodic minimum
/// image in a square box of side L (or open space, L = 0): the neighbourhood the local score network reads.
/// Displacements r_ij = x_j - x_i - L round((x_j - x_i) / L) are formed in float64 (positions in a box of side 256 would
/// lose 1e-5 L = 3e-3 in float32, a tenth of the softplus force's width 1 / beta), then stored as float32.
/// Slots beyond the neighbours found hold the particle itself with mask 0 and a zero displacement. The last of the K + 1
/// slots holds the (K + 1)-th nearest particle within r_c, if any: the network fades messages out at its distance, so a
/// particle leaving the K nearest does so with weight 0 and the output stays continuous in the positions.
/// Cell list with cells no smaller than r_c, so the 3 x 3 cells around a particle hold every candidate: O(N K).
/// </summary>
internal sealed class LocalNeighbours
{
    public const int Dimension = 2;

    /// <param name="particles">N.</param>
    /// <param name="neighbours">K: neighbours per particle (K + 1 slots are kept).</param>
    public LocalNeighbours(int particles, int neighbours)
    {
        Particles = particles;
        Slots = neighbours + 1;
        Index = new long[particles * Slots];
        Displacement = new float[particles * Slots * Dimension];
        Mask = new float[particles * Slots];
    }

    public int Particles { get; }
    /// <summary>K + 1.</summary>
    public int Slots { get; }

    /// <summary>Neighbour j of particle i in slot k: Index[i K + k].</summary>
    public long[] Index { get; }

    /// <summary>r_ij, [N, K, 2].</summary>
    public float[] Displacement { get; }

    /// <summary>1 for a neighbour found within r_c, 0 for an empty slot.</summary>
    public float[] Mask { get; }

    /// <summary>Largest number of particles found within r_c of one particle (more than K means some were dropped).</summary>
    public int MostWithinCutoff { get; private set; }

    /// <summary>Fills the lists for positions [N, 2] (float64).</summary>
    /// <param name="positions">x_i, row-major [N, 2].</param>
    /// <param name="cutoff">r_c.</param>
    /// <param name="box">L of the periodic square box [0, L)^2 (positions are wrapped), or 0 for open space.</param>
    public void Build(ReadOnlySpan<double> positions, double cutoff, double box)
    {
        int n = Particles;
        if (positions.Length != n * Dimension)
            throw new ArgumentException($"expected {n * Dimension} coordinates, got {positions.Length}", nameof(positions));
        double minX, minY, spanX, spanY;
        if (box > 0)
        {
            (minX, minY, spanX, spanY) = (0, 0, box, box);
        }
        else
        {
            (minX, minY) = (double.PositiveInfinity, double.PositiveInfinity);
            double maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                minX = Math.Min(minX, positions[2 * i]);
                maxX = Math.Max(maxX, positions[2 * i]);
                minY = Math.Min(minY, positions[2 * i + 1]);
                maxY = Math.Max(maxY, positions[2 * i + 1]);
            }
            (spanX, spanY) = (maxX - minX + 1e-9, maxY - minY + 1e-9);
        }
        // at least r_c per cell; at most about 2 N cells in open space (a wide, sparse cloud)
        int cellsX = Math.Max(1, (int)Math.Floor(spanX / cutoff)), cellsY = Math.Max(1, (int)Math.Floor(spanY / cutoff));
        if (box <= 0)
        {
            double shrink = Math.Sqrt(Math.Max(1.0, (double)cellsX * cellsY / (2.0 * n)));
            cellsX = Math.Max(1, (int)(cellsX / shrink));
            cellsY = Math.Max(1, (int)(cellsY / shrink));
        }
        // a periodic grid of fewer than 3 cells a side would visit a cell twice: use one cell (all pairs) instead
        if (box > 0 && (cellsX < 3 || cellsY < 3)) cellsX = cellsY = 1;
        var head = new int[cellsX * cellsY];
        Array.Fill(head, -1);
        var next = new int[n];
        var cellOf = new int[n];
        for (int i = 0; i < n; i++)
        {
            int cx = Math.Clamp((int)((Wrap(positions[2 * i] - minX, box)) / spanX * cellsX), 0, cellsX - 1);
            int cy = Math.Clamp((int)((Wrap(positions[2 * i + 1] - minY, box)) / spanY * cellsY), 0, cellsY - 1);
            int c = cy * cellsX + cx;
            cellOf[i] = c;
            next[i] = head[c];
            head[c] = i;
        }
        double cutoff2 = cutoff * cutoff;
        int most = 0;
        var positionsCopy = positions.ToArray();
        var mostLock = new Lock();
        Parallel.For(0, n, () => (new double[Slots], new long[Slots], 0), (i, _, local) =>
        {
            var (dist, idx, localMost) = local;
            int found = 0;
            int within = 0;
            double xi = positionsCopy[2 * i], yi = positionsCopy[2 * i + 1];
            int cx = cellOf[i] % cellsX, cy = cellOf[i] / cellsX;
            int rangeX = cellsX == 1 ? 0 : 1, rangeY = cellsY == 1 ? 0 : 1;
            for (int oy = -rangeY; oy <= rangeY; oy++)
            {
                int yy = cy + oy;
                if (box > 0) yy = (yy + cellsY) % cellsY;
                else if (yy < 0 || yy >= cellsY) continue;
                for (int ox = -rangeX; ox <= rangeX; ox++)
                {
                    int xx = cx + ox;
                    if (box > 0) xx = (xx + cellsX) % cellsX;
                    else if (xx < 0 || xx >= cellsX) continue;
                    for (int j = head[yy * cellsX + xx]; j >= 0; j = next[j])
                    {
                        if (j == i) continue;
                        double dx = MinimumImage(positionsCopy[2 * j] - xi, box), dy = MinimumImage(positionsCopy[2 * j + 1] - yi, box);
                        double r2 = dx * dx + dy * dy;
                        if (r2 >= cutoff2) continue;
                        within++;
                        // insertion into the sorted list of the K nearest so far
                        if (found == Slots && r2 >= dist[found - 1]) continue;
                        int k = found == Slots ? found - 1 : found++;
                        while (k > 0 && dist[k - 1] > r2)
                        {
                            dist[k] = dist[k - 1];
                            idx[k] = idx[k - 1];
                            k--;
                        }
                        dist[k] = r2;
                        idx[k] = j;
                    }
                }
            }
            int row = i * Slots;
            for (int k = 0; k < Slots; k++)
            {
                if (k < found)
                {
                    long j = idx[k];
                    Index[row + k] = j;
                    Mask[row + k] = 1;
                    Displacement[2 * (row + k)] = (float)MinimumImage(positionsCopy[2 * j] - xi, box);
                    Displacement[2 * (row + k) + 1] = (float)MinimumImage(positionsCopy[2 * j + 1] - yi, box);
                }
                else
                {
                    Index[row + k] = i;
                    Mask[row + k] = 0;
                    Displacement[2 * (row + k)] = 0;
                    Displacement[2 * (row + k) + 1] = 0;
                }
            }
            return (dist, idx, Math.Max(localMost, within));
        }, local =>
        {
            lock (mostLock) most = Math.Max(most, local.Item3);
        });
        MostWithinCutoff = most;
    }

    private static double Wrap(double x, double box) => box > 0 ? x - box * Math.Floor(x / box) : x;

    private static double MinimumImage(double d, double box) => box > 0 ? d - box * Math.Round(d / box) : d;
}
