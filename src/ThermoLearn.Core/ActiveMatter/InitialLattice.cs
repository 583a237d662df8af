namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The sites of the start without an initial state: the densest regular lattice that fits, so that discs (spheres) of
/// radius r0 do not overlap at any packing fraction a lattice of N sites allows.
/// <para>Periodic box, 2-D: a triangular lattice of c rows of a sites each (M = a c &gt;= N, the M - N sites left over
/// stay empty), row j shifted along x by j b / c of a site spacing with b = floor(c / 2) or ceil(c / 2) (a shift of
/// exactly half a spacing per row for even c, the hexagonal lattice; for odd c a slightly oblique one that still closes
/// on itself across the box), stretched to the square box: spacing L / a along x, L / c between rows. Of all c
/// (a = ceil(N / c)) the one with the largest nearest-site distance (the shortest vector of the lattice, by Gauss
/// reduction) is taken, fewer sites on a tie. Periodic box, 3-D: face-centred cubic, n_x x n_y x n_z cubic cells of four
/// sites (M = 4 n_x n_y n_z &gt;= N) stretched to the box, the cell counts with the largest nearest-site distance.
/// The nearest distance scales with L, so for each N there is a largest phi at which the lattice still holds the
/// particles apart (<see cref="LargestPackingFraction"/>): 0.9057 for N = 418 (22 rows of 19), 0.8667 for N = 400 in
/// 2-D; 0.7405 (the densest packing) for N = 4 n^3 in 3-D.</para>
/// <para>Trap: the N sites of the unbounded triangular (fcc) lattice nearest to a site, centred on the trap minimum; its
/// nearest distance 2 r0 (phi_max / phi)^(1/d) (phi_max the densest packing) makes the patch's packing fraction phi.</para>
/// </summary>
internal static class InitialLattice
{
    /// <summary>The M &gt;= N sites (M rows of d coordinates, in [0, L) in a periodic box) and their nearest distance.</summary>
    public static (double[] Sites, double NearestDistance) Sites(ActiveModel model)
    {
        int n = model.Particles, d = model.Dimension;
        if (!model.Periodic) return d == 2 ? TriangularPatch(model) : FccPatch(model);
        double box = model.Box!.Value;
        if (d == 2)
        {
            var (a, c, b, nearest) = BestTriangular(n);
            var sites = new double[2 * a * c];
            for (int j = 0; j < c; j++)
                for (int k = 0; k < a; k++)
                {
                    int s = j * a + k;
                    double x = (k + 0.5 + (double)j * b / c) / a;
                    sites[2 * s] = box * (x - Math.Floor(x));
                    sites[2 * s + 1] = box * (j + 0.5) / c;
                }
            return (sites, nearest * box);
        }
        else
        {
            var (nx, ny, nz, nearest) = BestFcc(n);
            int[] cells = [nx, ny, nz];
            var sites = new double[3 * 4 * nx * ny * nz];
            int q = 0;
            for (int z = 0; z < nz; z++)
                for (int y = 0; y < ny; y++)
                    for (int x = 0; x < nx; x++)
                        for (int basis = 0; basis < 4; basis++)
                        {
                            int[] cell = [x, y, z];
                            for (int axis = 0; axis < 3; axis++)
                            {
                                // basis 0 at the cell corner, basis 1..3 at the centres of the faces normal to z, y, x
                                double half = basis != 0 && basis != 3 - axis ? 0.5 : 0;
                                sites[q++] = box * (cell[axis] + 0.25 + half) / cells[axis];
                            }
                        }
            return (sites, nearest * box);
        }
    }

    /// <summary>
    /// The largest packing fraction at which the periodic start of N particles in d dimensions holds them apart (nearest
    /// site distance 2 r0); in a trap, the densest packing.
    /// </summary>
    public static double LargestPackingFraction(int n, int d)
    {
        // in a box of side 1 the lattice's nearest distance is s, and phi = N v_d (s / 2)^d at contact
        if (d == 2) return n * Math.PI * Math.Pow(BestTriangular(n).Nearest / 2, 2);
        return n * 4.0 / 3 * Math.PI * Math.Pow(BestFcc(n).Nearest / 2, 3);
    }

    /// <summary>Rows c, sites per row a, shift b (row j moves by j b / c of a spacing) and the nearest distance in a box of side 1.</summary>
    private static (int A, int C, int B, double Nearest) BestTriangular(int n)
    {
        (int A, int C, int B, double Nearest) best = (n, 1, 0, 0);
        for (int c = 1; c <= n; c++)
        {
            int a = (n + c - 1) / c;
            for (int b = c / 2; b <= (c + 1) / 2; b++)
            {
                int shift = b % c;
                double nearest = ShortestVector(1.0 / a, 0, (double)shift / ((double)a * c), 1.0 / c);
                if (nearest > best.Nearest * (1 + 1e-12) || (nearest >= best.Nearest * (1 - 1e-12) && (long)a * c < (long)best.A * best.C))
                    best = (a, c, shift, nearest);
            }
        }
        return best;
    }

    /// <summary>Length of the shortest non-zero vector of the 2-D lattice spanned by (ux, uy) and (vx, vy) (Gauss reduction).</summary>
    private static double ShortestVector(double ux, double uy, double vx, double vy)
    {
        double uu = ux * ux + uy * uy, vv = vx * vx + vy * vy;
        if (uu > vv) { (ux, uy, vx, vy) = (vx, vy, ux, uy); (uu, vv) = (vv, uu); }
        while (true)
        {
            double mu = Math.Round((ux * vx + uy * vy) / uu);
            vx -= mu * ux;
            vy -= mu * uy;
            vv = vx * vx + vy * vy;
            if (vv >= uu) return Math.Sqrt(uu);
            (ux, uy, vx, vy) = (vx, vy, ux, uy);
            (uu, vv) = (vv, uu);
        }
    }

    /// <summary>Cubic cells along x, y, z and the nearest distance in a box of side 1.</summary>
    private static (int Nx, int Ny, int Nz, double Nearest) BestFcc(int n)
    {
        (int Nx, int Ny, int Nz, double Nearest) best = (1, 1, (n + 3) / 4, 0);
        int cells = (n + 3) / 4, limit = 2 * (int)Math.Ceiling(Math.Cbrt(cells)) + 1;
        for (int nx = 1; nx <= limit; nx++)
            for (int ny = 1; ny <= limit; ny++)
            {
                int nz = (int)((cells + (long)nx * ny - 1) / ((long)nx * ny));
                double x = 1.0 / nx, y = 1.0 / ny, z = 1.0 / nz;
                // half face diagonals, and the cell edges (shorter only for cells stretched by more than sqrt 3)
                double nearest = Math.Min(Math.Min(Math.Min(x, y), z),
                    0.5 * Math.Sqrt(Math.Min(Math.Min(x * x + y * y, y * y + z * z), x * x + z * z)));
                long sites = 4L * nx * ny * nz;
                if (nearest > best.Nearest * (1 + 1e-12) || (nearest >= best.Nearest * (1 - 1e-12) && sites < 4L * best.Nx * best.Ny * best.Nz))
                    best = (nx, ny, nz, nearest);
            }
        return best;
    }

    /// <summary>Nearest distance of the trap's patch: the lattice whose packing fraction is phi.</summary>
    private static double PatchSpacing(ActiveModel model) =>
        2 * model.R0 * Math.Pow(model.DensestPacking / model.PackingFraction, 1.0 / model.Dimension);

    private static (double[] Sites, double NearestDistance) TriangularPatch(ActiveModel model)
    {
        int n = model.Particles;
        double s = PatchSpacing(model), h = s * Math.Sqrt(3) / 2;
        // a disc of N sites has radius s sqrt(N sqrt 3 / (2 pi)); two spacings more hold every site needed
        int rows = (int)Math.Ceiling(s * Math.Sqrt(n * Math.Sqrt(3) / (2 * Math.PI)) / h) + 2;
        var points = new List<(double R2, double X, double Y, double Z)>();
        for (int j = -rows; j <= rows; j++)
            for (int k = -rows - Math.Abs(j); k <= rows + Math.Abs(j); k++)
            {
                double x = (k + 0.5 * j) * s, y = j * h;
                points.Add((x * x + y * y, x, y, 0));
            }
        return (Nearest(points, n, 2), s);
    }

    private static (double[] Sites, double NearestDistance) FccPatch(ActiveModel model)
    {
        int n = model.Particles;
        double s = PatchSpacing(model), half = s / Math.Sqrt(2);   // fcc: sites at half-cell steps (i, j, k) with i + j + k even
        int reach = (int)Math.Ceiling(Math.Cbrt(3 * n * 2 * half * half * half / (4 * Math.PI)) / half) + 2;
        var points = new List<(double R2, double X, double Y, double Z)>();
        for (int i = -reach; i <= reach; i++)
            for (int j = -reach; j <= reach; j++)
                for (int k = -reach; k <= reach; k++)
                {
                    if (((i + j + k) & 1) != 0) continue;
                    double x = i * half, y = j * half, z = k * half;
                    points.Add((x * x + y * y + z * z, x, y, z));
                }
        return (Nearest(points, n, 3), s);
    }

    /// <summary>The N points nearest the origin (in generation order), moved so their mean is the origin.</summary>
    private static double[] Nearest(List<(double R2, double X, double Y, double Z)> points, int n, int d)
    {
        var order = new int[points.Count];
        for (int p = 0; p < order.Length; p++) order[p] = p;
        var r2 = points.Select(p => p.R2).ToArray();
        Array.Sort(r2, order);   // deterministic for the same points, so the same patch every run
        var chosen = order.AsSpan(0, n).ToArray();
        Array.Sort(chosen);
        var sites = new double[n * d];
        double[] mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            var p = points[chosen[i]];
            for (int c = 0; c < d; c++) { sites[i * d + c] = c == 0 ? p.X : c == 1 ? p.Y : p.Z; mean[c] += sites[i * d + c] / n; }
        }
        for (int i = 0; i < n; i++)
            for (int c = 0; c < d; c++) sites[i * d + c] -= mean[c];
        return sites;
    }
}
