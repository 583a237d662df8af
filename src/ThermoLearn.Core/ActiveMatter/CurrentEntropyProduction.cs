namespace ThermoLearn.ActiveMatter;

/// <summary>Settings of <see cref="CurrentEntropyProduction"/>.</summary>
public sealed record CurrentEstimatorOptions
{
    /// <summary>Radial tents of the pair features (<see cref="ParticleBasis"/>).</summary>
    public int Tents { get; init; } = 4;

    /// <summary>Neighbour-g shells of the pair features.</summary>
    public int Shells { get; init; } = 2;

    /// <summary>Contiguous blocks of snapshots for the jackknife standard error and bias.</summary>
    public int Blocks { get; init; } = BlockStatistics.DefaultBlocks;

    /// <summary>Coarse-sampling correction: Richardson extrapolation from lags 1 and 2, sigma = 2 sigma(dt) - sigma(2 dt).</summary>
    public bool Richardson { get; init; } = true;

    /// <summary>Square grid of the region map (bins per axis).</summary>
    public int GridBins { get; init; } = 16;

    /// <summary>At most this many snapshots (evenly spaced) enter the local maps.</summary>
    public int MapSnapshots { get; init; } = 200;

    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>
/// The local decomposition of a current-based estimate: per particle, per degree of freedom and per region.
/// </summary>
/// <param name="ParticleRates">Time-averaged local EP of each particle, e_i = E[F_{x,i} . eps F_{x,i} + F_{g,i} . gamma F_{g,i}].</param>
/// <param name="SnapshotFrame">The snapshot of <see cref="SnapshotRates"/>.</param>
/// <param name="SnapshotRates">e_i at that one snapshot (for particle maps coloured by EP).</param>
/// <param name="RegionRates">EP per unit area on a grid over (x, y) (in 3-D: per unit projected area), averaged over snapshots; row-major [bin y, bin x].</param>
/// <param name="Bins">Bins per axis of the grid.</param>
/// <param name="RegionOrigin">Lower corner of the grid.</param>
/// <param name="RegionBin">Side of a grid bin.</param>
public sealed record LocalEntropyMaps(double[] ParticleRates, int SnapshotFrame, double[] SnapshotRates, double[] RegionRates, int Bins,
    double RegionOrigin, double RegionBin);

/// <summary>The current-based estimate with its fitted force field and local maps.</summary>
public sealed record ManyBodyCurrentEstimateResult(ManyBodyEntropyEstimate Estimate, IReadOnlyList<string> Features, double[] CoefficientsX, double[] CoefficientsG,
    double RateLag1, double RateLag2, LocalEntropyMaps Maps);

/// <summary>
/// Model-free entropy production of a many-body AOUP system from snapshot increments with the current loss
/// (Otsubo, Manikandan, Sagawa &amp; Ito, Commun. Phys. 5 (2022) 11; our paper 1): for each set S of noisy coordinates
/// (x with diffusion eps when eps &gt; 0; g with diffusion gamma) the thermodynamic force F_S = D_S^-1 v_S is fitted in
/// the particle-local basis phi (<see cref="ParticleBasis"/>) by maximising 2 theta . J - theta . M theta with the
/// Stratonovich current J_k = E[sum_{i,a} phi_k o dz_{i,a}] / dt (trapezoid: the mean of phi at both ends of an
/// increment) and M_kl = D_S E[sum_{i,a} phi_k phi_l]; sigma_S = J . M^-1 J, sigma = sigma_x + sigma_g. It needs no
/// equations of motion: only the diffusion constants (from the file's parameters). Increments in a box use the
/// minimum image. Standard error and finite-data bias: jackknife over contiguous blocks of snapshots.
/// With eps = 0 the positions carry no noise, so only the g coordinates contribute.
/// </summary>
public static class CurrentEntropyProduction
{
    public static ManyBodyCurrentEstimateResult Estimate(ActiveSnapshots snapshots, CurrentEstimatorOptions? options = null)
    {
        options ??= new CurrentEstimatorOptions();
        var m = snapshots.Model;
        if (m.Kind != ActiveModelKind.Aoup) throw new InvalidInputException($"the current estimator for many-body systems takes AOUP snapshots ({m.Name} given).");
        int lags = options.Richardson ? 2 : 1;
        if (snapshots.Frames < lags + 2 * options.Blocks)
            throw new InvalidInputException($"the current estimator needs at least {lags + 2 * options.Blocks} snapshots ({options.Blocks} blocks of 2 or more increments); the file has {snapshots.Frames}.");
        if (options.Blocks < 2) throw new InvalidInputException($"blocks must be at least 2 (got {options.Blocks}).");
        var basis = new ParticleBasis(m, options.Tents, options.Shells);
        int n = m.Particles, d = m.Dimension, k = basis.Count, rows = n * d, frames = snapshots.Frames, blocks = options.Blocks;
        bool noisyX = m.Epsilon > 0;
        double dt = snapshots.FrameDt;

        // Sums per block and lag: J_x, J_g (k each) and the Gram matrix sum phi phi^T (k x k).
        var jx = new double[lags, blocks, k];
        var jg = new double[lags, blocks, k];
        var gram = new double[lags, blocks, k * k];
        var counts = new int[lags, blocks];
        var phi = new double[frames >= 3 ? 3 : frames][];
        var xs = new double[3][];
        var gs = new double[3][];
        for (int q = 0; q < 3; q++) { phi[q % phi.Length] = new double[rows * k]; xs[q] = new double[rows]; gs[q] = new double[rows]; }
        double box = m.Box ?? 0;
        // Ring of the last three frames' positions, g and features: frame t sits in slot t % 3.
        for (int t = 0; t < frames; t++)
        {
            int slot = t % 3;
            snapshots.CopyFrame(t, xs[slot], gs[slot]);
            basis.Evaluate(xs[slot], gs[slot], phi[slot], options.MaxDegreeOfParallelism);
            for (int lag = 1; lag <= lags; lag++)
            {
                int start = t - lag;
                if (start < 0) continue;
                int from = start % 3;
                int block = (int)((long)start * blocks / (frames - lag));
                counts[lag - 1, block]++;
                Accumulate(phi[from], phi[slot], xs[from], xs[slot], gs[from], gs[slot], rows, k, box, noisyX, lag - 1, block, jx, jg, gram);
            }
        }

        // Per lag: totals and leave-one-block-out fits.
        double Sigma(int lag, int leaveOut, out double sx, out double sg, out double[] thetaX, out double[] thetaG)
        {
            var jxs = new double[k];
            var jgs = new double[k];
            var g2 = new double[k * k];
            int count = 0;
            for (int b = 0; b < blocks; b++)
            {
                if (b == leaveOut) continue;
                count += counts[lag, b];
                for (int p = 0; p < k; p++) { jxs[p] += jx[lag, b, p]; jgs[p] += jg[lag, b, p]; }
                for (int p = 0; p < k * k; p++) g2[p] += gram[lag, b, p];
            }
            double tau = (lag + 1) * dt;
            for (int p = 0; p < k; p++) { jxs[p] /= count * tau; jgs[p] /= count * tau; }
            for (int p = 0; p < k * k; p++) g2[p] /= count;
            thetaG = Solve(g2, jgs, k, m.Gamma);
            sg = Dot(jgs, thetaG);
            if (noisyX)
            {
                thetaX = Solve(g2, jxs, k, m.Epsilon);
                sx = Dot(jxs, thetaX);
            }
            else
            {
                thetaX = new double[k];
                sx = 0;
            }
            return sx + sg;
        }

        double s1 = Sigma(0, -1, out double s1x, out double s1g, out var theta1x, out var theta1g);
        double s2 = 0, s2x = 0, s2g = 0;
        double[] theta2x = theta1x, theta2g = theta1g;
        if (lags == 2) s2 = Sigma(1, -1, out s2x, out s2g, out theta2x, out theta2g);
        double Combine(double a, double b) => lags == 2 ? 2 * a - b : a;
        double rate = Combine(s1, s2), rateX = Combine(s1x, s2x), rateG = Combine(s1g, s2g);
        var leaveOut = new double[blocks];
        for (int b = 0; b < blocks; b++)
        {
            double l1 = Sigma(0, b, out _, out _, out _, out _);
            leaveOut[b] = lags == 2 ? Combine(l1, Sigma(1, b, out _, out _, out _, out _)) : l1;
        }
        double mean = leaveOut.Average(), variance = 0;
        foreach (double v in leaveOut) variance += (v - mean) * (v - mean);
        double stderr = Math.Sqrt((blocks - 1.0) / blocks * variance);
        double debiased = blocks * rate - (blocks - 1) * mean;
        var estimate = new ManyBodyEntropyEstimate(rate, stderr, debiased, rateX, rateG, "current", frames, n);

        // The fitted field: Richardson-combined coefficients theta = 2 theta(dt) - theta(2 dt) (theta is linear in J at fixed M).
        double[] thetaX = new double[k], thetaG = new double[k];
        for (int p = 0; p < k; p++) { thetaX[p] = Combine(theta1x[p], theta2x[p]); thetaG[p] = Combine(theta1g[p], theta2g[p]); }
        var maps = Maps(snapshots, basis, thetaX, thetaG, options);
        return new ManyBodyCurrentEstimateResult(estimate, basis.Names, thetaX, thetaG, s1, lags == 2 ? s2 : double.NaN, maps);
    }

    private static void Accumulate(double[] phiFrom, double[] phiTo, double[] xFrom, double[] xTo, double[] gFrom, double[] gTo, int rows, int k,
        double box, bool noisyX, int lag, int block, double[,,] jx, double[,,] jg, double[,,] gram)
    {
        Span<double> sumX = stackalloc double[k], sumG = stackalloc double[k], sumGram = stackalloc double[k * k];
        for (int r = 0; r < rows; r++)
        {
            double dg = gTo[r] - gFrom[r];
            double dx = 0;
            if (noisyX)
            {
                dx = xTo[r] - xFrom[r];
                if (box > 0) dx -= box * Math.Round(dx / box);
            }
            int o = r * k;
            for (int p = 0; p < k; p++)
            {
                double mid = 0.5 * (phiFrom[o + p] + phiTo[o + p]);
                sumG[p] += mid * dg;
                if (noisyX) sumX[p] += mid * dx;
                double a = phiFrom[o + p];
                for (int q = 0; q <= p; q++) sumGram[p * k + q] += a * phiFrom[o + q];
            }
        }
        for (int p = 0; p < k; p++)
        {
            jx[lag, block, p] += sumX[p];
            jg[lag, block, p] += sumG[p];
            for (int q = 0; q <= p; q++)
            {
                gram[lag, block, p * k + q] += sumGram[p * k + q];
                if (q != p) gram[lag, block, q * k + p] += sumGram[p * k + q];
            }
        }
    }

    /// <summary>theta = (D G)^-1 J by Cholesky, with a relative ridge of 1e-12 (features that vanish, e.g. pair sums of an isolated system).</summary>
    private static double[] Solve(double[] gram, double[] j, int k, double diffusion)
    {
        var a = new double[k * k];
        double trace = 0;
        for (int p = 0; p < k; p++) trace += gram[p * k + p];
        double ridge = 1e-12 * Math.Max(trace / k, 1e-300);
        for (int p = 0; p < k * k; p++) a[p] = diffusion * gram[p];
        for (int p = 0; p < k; p++) a[p * k + p] += diffusion * ridge;
        for (int p = 0; p < k; p++)
        {
            for (int q = 0; q <= p; q++)
            {
                double s = a[p * k + q];
                for (int r = 0; r < q; r++) s -= a[p * k + r] * a[q * k + r];
                a[p * k + q] = p == q ? Math.Sqrt(Math.Max(s, 1e-300)) : s / a[q * k + q];
            }
        }
        var y = new double[k];
        for (int p = 0; p < k; p++)
        {
            double s = j[p];
            for (int r = 0; r < p; r++) s -= a[p * k + r] * y[r];
            y[p] = s / a[p * k + p];
        }
        var theta = new double[k];
        for (int p = k - 1; p >= 0; p--)
        {
            double s = y[p];
            for (int r = p + 1; r < k; r++) s -= a[r * k + p] * theta[r];
            theta[p] = s / a[p * k + p];
        }
        return theta;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int p = 0; p < a.Length; p++) s += a[p] * b[p];
        return s;
    }

    /// <summary>Local EP e_i = eps |theta_x . phi_i|^2 + gamma |theta_g . phi_i|^2 per particle, at one snapshot, and on a grid.</summary>
    private static LocalEntropyMaps Maps(ActiveSnapshots snapshots, ParticleBasis basis, double[] thetaX, double[] thetaG, CurrentEstimatorOptions options)
    {
        var m = snapshots.Model;
        int n = m.Particles, d = m.Dimension, k = basis.Count, frames = snapshots.Frames;
        int used = Math.Max(1, Math.Min(options.MapSnapshots, frames));
        var x = new double[n * d];
        var g = new double[n * d];
        var phi = new double[n * d * k];
        var particle = new double[n];
        var snapshot = new double[n];
        int bins = Math.Max(1, options.GridBins);
        var region = new double[bins * bins];
        // Grid: the box, or in a trap the square holding every recorded position.
        double origin, side;
        if (m.Box is { } l) { origin = 0; side = l; }
        else
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int f = 0; f < frames; f++)
                for (int i = 0; i < n; i++)
                    for (int a = 0; a < Math.Min(d, 2); a++) { double v = snapshots.Position(f, i, a); lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            origin = lo;
            side = Math.Max(hi - lo, 1e-12) * (1 + 1e-9);
        }
        double bin = side / bins;
        int lastFrame = frames - 1;
        for (int u = 0; u < used; u++)
        {
            int f = used == 1 ? lastFrame : (int)((long)lastFrame * u / (used - 1));
            snapshots.CopyFrame(f, x, g);
            basis.Evaluate(x, g, phi, options.MaxDegreeOfParallelism);
            for (int i = 0; i < n; i++)
            {
                double e = 0;
                for (int a = 0; a < d; a++)
                {
                    int o = (i * d + a) * k;
                    double fx = 0, fg = 0;
                    for (int p = 0; p < k; p++) { fx += thetaX[p] * phi[o + p]; fg += thetaG[p] * phi[o + p]; }
                    e += m.Epsilon * fx * fx + m.Gamma * fg * fg;
                }
                particle[i] += e / used;
                if (f == lastFrame) snapshot[i] = e;
                int bx = Math.Clamp((int)((x[i * d] - origin) / bin), 0, bins - 1), by = Math.Clamp((int)((x[i * d + 1] - origin) / bin), 0, bins - 1);
                region[by * bins + bx] += e / used / (bin * bin);
            }
        }
        return new LocalEntropyMaps(particle, lastFrame, snapshot, region, bins, origin, bin);
    }
}
