namespace ThermoLearn.ActiveMatter;

/// <summary>Structure of active-matter snapshots: the local packing-fraction histogram (bimodal in MIPS) and cluster sizes.</summary>
public static class ActiveObservables
{
    /// <summary>
    /// Histogram of the local packing fraction phi_i = (n_i + 1) v_d r0^d / (v_d R^d), with n_i the particles within R of
    /// particle i, over all particles of the snapshots <paramref name="frames"/> (null: all). Returns the bin centres and
    /// the probability density on [0, 1]. R = 5 r0 by default (<see cref="DefaultDensityRadius"/>); R must exceed r0 (a smaller
    /// disc gives every particle phi_i >= 1) and, in a periodic box, be below L / 2 (the disc would meet its own image).
    /// </summary>
    public static (double[] Centres, double[] Density) LocalDensityHistogram(ActiveSnapshots s, int bins = 25, double? radius = null, IReadOnlyList<int>? frames = null)
    {
        var m = s.Model;
        double r = radius ?? DefaultDensityRadius(m);
        if (bins < 1) throw new InvalidInputException($"bins must be positive (got {bins}).");
        if (!(r > m.R0) || !double.IsFinite(r))
            throw new InvalidInputException($"the local-density radius must be finite and larger than the particle radius r0 = {m.R0} (got {r}).");
        if (m.Box is { } box && !(r < box / 2))
            throw new InvalidInputException($"the local-density radius {r} must be smaller than half the periodic box (L / 2 = {box / 2}).");
        var cells = new CellList(m.Particles, m.Dimension, r, m.Box);
        var counts = new double[m.Particles];
        var histogram = new double[bins];
        var x = new double[m.Particles * m.Dimension];
        double perNeighbour = Math.Pow(m.R0 / r, m.Dimension);
        long total = 0;
        foreach (int f in frames ?? Enumerable.Range(0, s.Frames).ToArray())
        {
            s.CopyFrame(f, x);
            cells.Build(x);
            cells.Sweep(new CountKernel(counts));
            foreach (double c in counts)
            {
                double phi = (c + 1) * perNeighbour;
                histogram[Math.Clamp((int)(phi * bins), 0, bins - 1)]++;
                total++;
            }
        }
        var centres = new double[bins];
        for (int b = 0; b < bins; b++)
        {
            centres[b] = (b + 0.5) / bins;
            histogram[b] = histogram[b] / total * bins;
        }
        return (centres, histogram);
    }

    /// <summary>The default radius of the local-density discs: 5 r0.</summary>
    public static double DefaultDensityRadius(ActiveModel model) => 5 * model.R0;

    /// <summary>
    /// Sizes of the clusters of one snapshot, largest first: particles closer than <paramref name="contact"/> (default
    /// 2.2 r0, just beyond contact at 2 r0) belong to the same cluster (union-find over cell-list neighbours).
    /// </summary>
    public static int[] ClusterSizes(ActiveSnapshots s, int frame, double? contact = null)
    {
        var m = s.Model;
        double c = contact ?? 2.2 * m.R0;
        if (m.Box is { } box && box < 2 * c) throw new InvalidInputException($"the box (L = {box:G6}) is smaller than twice the contact distance {c:G6}.");
        var cells = new CellList(m.Particles, m.Dimension, c, m.Box);
        var x = new double[m.Particles * m.Dimension];
        s.CopyFrame(frame, x);
        cells.Build(x);
        var neighbour = new int[m.Particles * 32];
        var count = new int[m.Particles];
        cells.Sweep(new ContactKernel(neighbour, count), 1);
        var parent = Enumerable.Range(0, m.Particles).ToArray();
        int Find(int i) { while (parent[i] != i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; }
        for (int i = 0; i < m.Particles; i++)
            for (int q = 0; q < Math.Min(count[i], 32); q++)
            {
                int a = Find(i), b = Find(neighbour[i * 32 + q]);
                if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b);
            }
        var sizes = new Dictionary<int, int>();
        for (int i = 0; i < m.Particles; i++) { int root = Find(i); sizes[root] = sizes.GetValueOrDefault(root) + 1; }
        return sizes.Values.OrderByDescending(v => v).ToArray();
    }

    private struct CountKernel(double[] counts) : INeighbourKernel
    {
        private int _n;

        public void Begin(int i) => _n = 0;

        public void Add(int i, int j, double r2, double dx, double dy, double dz) => _n++;

        public void End(int i) => counts[i] = _n;
    }

    /// <summary>Records up to 32 contacts per particle (more cannot fit around a disc of radius r0 at distance 2.2 r0).</summary>
    private struct ContactKernel(int[] neighbour, int[] count) : INeighbourKernel
    {
        private int _n;

        public void Begin(int i) => _n = 0;

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            if (_n < 32) neighbour[i * 32 + _n] = j;
            _n++;
        }

        public void End(int i) => count[i] = _n;
    }
}
