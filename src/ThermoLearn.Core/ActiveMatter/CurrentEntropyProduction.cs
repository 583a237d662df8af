using ThermoLearn.Inference;
using ThermoLearn.Simd;
using ThermoLearn.Statistics;

namespace ThermoLearn.ActiveMatter;

/// <summary>Settings of <see cref="CurrentEntropyProduction"/>.</summary>
public sealed record CurrentEstimatorOptions
{
    /// <summary>Radial tents of the pair features (<see cref="ParticleBasis"/>).</summary>
    public int Tents { get; init; } = 4;

    /// <summary>Neighbour-g shells of the pair features.</summary>
    public int Shells { get; init; } = 2;

    /// <summary>Also the lag filters of the stiff contact modes (<see cref="ParticleBasis"/>, ParticleBasis.LagFilters.cs).</summary>
    public bool LagFilters { get; init; } = true;

    /// <summary>Contiguous blocks of snapshots for the jackknife standard error and bias.</summary>
    public int Blocks { get; init; } = BlockStatistics.DefaultBlocks;

    /// <summary>
    /// Coarse-sampling correction (the one the linear and neural estimators use): by default Richardson extrapolation from
    /// lags 1 and 2, sigma = 2 sigma(dt) - sigma(2 dt); <see cref="CoarseSamplingCorrection.None"/> for lag 1 alone.
    /// </summary>
    public CoarseSamplingCorrection Correction { get; init; } = CoarseSamplingCorrection.Richardson;

    /// <summary>Square grid of the region map (bins per axis).</summary>
    public int GridBins { get; init; } = 16;

    /// <summary>At most this many snapshots (evenly spaced) enter the local maps.</summary>
    public int MapSnapshots { get; init; } = 200;

    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Fraction of the work done, after each frame of the accumulation pass and of the maps' pass (null: none).</summary>
    public IProgress<double>? Progress { get; init; }
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

/// <summary>
/// The current-based estimate with its fitted force field (coefficients of <see cref="Features"/> for the x and g sets, with
/// jackknife standard errors over the same blocks as the rate) and local maps. <see cref="HeldOut"/> is the block cross-validated
/// rate: for each block the force fitted on the other blocks, scored on that block by 2 theta . J_b - theta . M_b theta (the
/// same lag correction), averaged over the blocks; <see cref="HeldOutError"/> is their spread / sqrt(blocks). Fitted and scored on
/// different snapshots it has no in-sample optimism: in expectation it is at most the rate of the best force in the basis, so
/// it is a lower bound of the EP rate up to its error.
/// </summary>
/// <remarks>
/// <see cref="HeldOutScores"/> holds each block's score, and <see cref="HeldOutSwamping"/> the blocks (if any) that swamp their mean:
/// one block's score can be far outside the others' where a feature that hardly fires in the other blocks is fitted there with a
/// large, poorly determined coefficient and then fires on the scored block (an interacting trap: -7,419 +- 7,694 against identity 4's
/// 327, docs/active-matter.md).
/// </remarks>
public sealed record ManyBodyCurrentEstimateResult(ManyBodyEntropyEstimate Estimate, IReadOnlyList<string> Features, double[] CoefficientsX, double[] CoefficientsG,
    double[] CoefficientErrorsX, double[] CoefficientErrorsG, double RateLag1, double RateLag2, LocalEntropyMaps Maps, double HeldOut, double HeldOutError,
    double[] HeldOutScores, HeldOutSwamping? HeldOutSwamping);

/// <summary>
/// Blocks whose held-out scores swamp the held-out rate: leaving a block's score out moves the mean of the scores by more than
/// <see cref="Threshold"/> standard errors of the rest. For scores that scatter as a sample, that is a score
/// 3 B / sqrt(B - 1) (13.8 for B = 20) sample deviations from the others' mean, which a t-distributed score reaches with probability
/// below 1e-9; the blocks are taken out one at a time, the largest influence first, at most a quarter of them.
/// </summary>
/// <param name="Blocks">The blocks, in the order found (0-based).</param>
/// <param name="Frames">Each block's first and last frame (its increments' start frames and the last end frame).</param>
/// <param name="Scores">Their scores.</param>
/// <param name="WithoutThem">The held-out rate over the other blocks, with its error (their spread / sqrt(count)).</param>
public sealed record HeldOutSwamping(int[] Blocks, (int First, int Last)[] Frames, double[] Scores, MeanEstimate WithoutThem)
{
    public const double Threshold = 3;

    /// <summary>The swamping blocks of <paramref name="scores"/> (B blocks over <paramref name="frames"/> snapshots), or null where none swamps.</summary>
    public static HeldOutSwamping? Find(double[] scores, int frames)
    {
        int blocks = scores.Length;
        var kept = Enumerable.Range(0, blocks).ToList();
        var found = new List<int>();
        while (found.Count < blocks / 4 && kept.Count >= 4)
        {
            double mean = kept.Average(b => scores[b]);
            int worst = -1;
            double worstMove = 0;
            foreach (int b in kept)
            {
                double rest = (mean * kept.Count - scores[b]) / (kept.Count - 1);
                double variance = kept.Where(c => c != b).Sum(c => (scores[c] - rest) * (scores[c] - rest)) / (kept.Count - 2);
                double se = Math.Sqrt(variance / (kept.Count - 1));
                double move = Math.Abs(mean - rest) / se;
                if (!(move <= worstMove)) { worst = b; worstMove = move; }
            }
            if (!(worstMove > Threshold)) break;
            found.Add(worst);
            kept.Remove(worst);
        }
        if (found.Count == 0) return null;
        var restScores = kept.Select(b => scores[b]).ToArray();
        double m = restScores.Average(), v = restScores.Sum(x => (x - m) * (x - m)) / (restScores.Length - 1);
        // block b holds the increments starting at frames t with floor(t B / (frames - 1)) = b (lag 1)
        int Start(int b) => (int)(((long)b * (frames - 1) + blocks - 1) / blocks);
        return new HeldOutSwamping([.. found], [.. found.Select(b => (Start(b), Start(b + 1)))], [.. found.Select(b => scores[b])],
            new MeanEstimate(m, Math.Sqrt(v / restScores.Length), restScores.Length));
    }
}

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
        var correction = options.Correction;
        int lags = correction.Lags;
        if (snapshots.Frames < lags + 2 * options.Blocks)
            throw new InvalidInputException($"the current estimator needs at least {lags + 2 * options.Blocks} snapshots ({options.Blocks} blocks of 2 or more increments); the file has {snapshots.Frames}.");
        if (options.Blocks < 4)
            throw new InvalidInputException($"the current estimator needs at least 4 blocks (--blocks; got {options.Blocks}): its bias correction takes neighbouring blocks' covariance, which needs B - 3 > 0.");
        var basis = new ParticleBasis(m, options.Tents, options.Shells, options.LagFilters);
        int n = m.Particles, d = m.Dimension, k = basis.Count, rows = n * d, frames = snapshots.Frames, blocks = options.Blocks;
        bool noisyX = m.Epsilon > 0;
        double dt = snapshots.FrameDt;

        // Sums per block and lag: J_x, J_g (k each) and the Gram matrix sum phi phi^T (k x k).
        var jx = new double[lags, blocks, k];
        var jg = new double[lags, blocks, k];
        var gram = new double[lags, blocks, k * k];
        var counts = new int[lags, blocks];
        int ring = lags + 1;
        var phi = new double[frames >= ring ? ring : frames][];
        var xs = new double[ring][];
        var gs = new double[ring][];
        for (int q = 0; q < ring; q++) { phi[q % phi.Length] = new double[rows * k]; xs[q] = new double[rows]; gs[q] = new double[rows]; }
        double box = m.Box ?? 0;
        var columns = new double[rows * k];
        var frameGram = new double[k * k];
        // Ring of the last lags + 1 frames' positions, g and features: frame t sits in slot t % ring.
        // progress: one unit per frame accumulated, one per frame of the maps
        double work = frames + MapFrames(options, frames);
        for (int t = 0; t < frames; t++)
        {
            options.Progress?.Report(t / work);
            int slot = t % ring;
            snapshots.CopyFrame(t, xs[slot], gs[slot]);
            basis.Evaluate(xs[slot], gs[slot], phi[slot], options.MaxDegreeOfParallelism);
            // M takes the features at the start of each increment: this frame's Gram matrix, once, for every lag it starts
            if (t + 1 < frames)
            {
                FrameGram(phi[slot], rows, k, columns, frameGram);
                for (int lag = 1; lag <= lags && t + lag < frames; lag++)
                {
                    int block = (int)((long)t * blocks / (frames - lag));
                    for (int p = 0; p < k; p++)
                        for (int q = 0; q <= p; q++)
                        {
                            gram[lag - 1, block, p * k + q] += frameGram[p * k + q];
                            if (q != p) gram[lag - 1, block, q * k + p] += frameGram[p * k + q];
                        }
                }
            }
            for (int lag = 1; lag <= lags; lag++)
            {
                int start = t - lag;
                if (start < 0) continue;
                int from = start % ring;
                int block = (int)((long)start * blocks / (frames - lag));
                counts[lag - 1, block]++;
                AccumulateCurrents(phi[from], phi[slot], xs[from], xs[slot], gs[from], gs[slot], rows, k, box, noisyX, lag - 1, block, jx, jg);
            }
        }

        // Per lag: totals and leave-one-block-out fits.
        // J per unit time and M per increment of one lag over the blocks that `include` selects.
        (double[] Jx, double[] Jg, double[] M) Moments(int lag, Func<int, bool> include)
        {
            var jxs = new double[k];
            var jgs = new double[k];
            var g2 = new double[k * k];
            int count = 0;
            for (int b = 0; b < blocks; b++)
            {
                if (!include(b)) continue;
                count += counts[lag, b];
                for (int p = 0; p < k; p++) { jxs[p] += jx[lag, b, p]; jgs[p] += jg[lag, b, p]; }
                for (int p = 0; p < k * k; p++) g2[p] += gram[lag, b, p];
            }
            double tau = (lag + 1) * dt;
            for (int p = 0; p < k; p++) { jxs[p] /= count * tau; jgs[p] /= count * tau; }
            for (int p = 0; p < k * k; p++) g2[p] /= count;
            return (jxs, jgs, g2);
        }

        double Sigma(int lag, int leaveOut, int alsoLeaveOut, out double sx, out double sg, out double[] thetaX, out double[] thetaG)
        {
            var (jxs, jgs, g2) = Moments(lag, b => b != leaveOut && b != alsoLeaveOut);
            thetaG = DenseMatrix.SolveRidgedCholesky(g2, jgs, k, m.Gamma);
            sg = DenseMatrix.Dot(jgs, thetaG);
            if (noisyX)
            {
                thetaX = DenseMatrix.SolveRidgedCholesky(g2, jxs, k, m.Epsilon);
                sx = DenseMatrix.Dot(jxs, thetaX);
            }
            else
            {
                thetaX = new double[k];
                sx = 0;
            }
            return sx + sg;
        }

        // Per lag l = 1..lags: sigma, its x and g parts and the fitted coefficients, combined with the correction's weights.
        var sigma = new double[lags];
        var sigmaX = new double[lags];
        var sigmaG = new double[lags];
        var thetaXs = new double[lags][];
        var thetaGs = new double[lags][];
        for (int l = 0; l < lags; l++) sigma[l] = Sigma(l, -1, -1, out sigmaX[l], out sigmaG[l], out thetaXs[l], out thetaGs[l]);
        double rate = correction.Combine(l => sigma[l - 1]), rateX = correction.Combine(l => sigmaX[l - 1]), rateG = correction.Combine(l => sigmaG[l - 1]);
        // Block b's own loss 2 theta . J_b - D theta . M_b theta for a force fitted without it (one lag).
        double Scored(int lag, int b, double[] thetaX, double[] thetaG)
        {
            var (jxb, jgb, mb) = Moments(lag, c => c == b);
            double score = 0;
            for (int p = 0; p < k; p++)
            {
                score += 2 * thetaG[p] * jgb[p];
                if (noisyX) score += 2 * thetaX[p] * jxb[p];
                for (int q = 0; q < k; q++)
                {
                    score -= m.Gamma * thetaG[p] * mb[p * k + q] * thetaG[q];
                    if (noisyX) score -= m.Epsilon * thetaX[p] * mb[p * k + q] * thetaX[q];
                }
            }
            return score;
        }

        var leaveOut = new double[blocks];
        var leavePairOut = new double[blocks];
        var heldOut = new double[blocks];
        var leaveOutThetaX = new double[blocks][];
        var leaveOutThetaG = new double[blocks][];
        for (int b = 0; b < blocks; b++)
        {
            var tx = new double[lags][];
            var tg = new double[lags][];
            var sl = new double[lags];
            var scored = new double[lags];
            var pair = new double[lags];
            for (int l = 0; l < lags; l++)
            {
                sl[l] = Sigma(l, b, -1, out _, out _, out tx[l], out tg[l]);
                scored[l] = Scored(l, b, tx[l], tg[l]);
                pair[l] = Sigma(l, b, (b + 1) % blocks, out _, out _, out _, out _);
            }
            leaveOut[b] = correction.Combine(l => sl[l - 1]);
            leavePairOut[b] = correction.Combine(l => pair[l - 1]);
            heldOut[b] = correction.Combine(l => scored[l - 1]);
            leaveOutThetaX[b] = new double[k];
            leaveOutThetaG[b] = new double[k];
            for (int p = 0; p < k; p++)
            {
                int q = p;
                leaveOutThetaX[b][p] = correction.Combine(l => tx[l - 1][q]);
                leaveOutThetaG[b][p] = correction.Combine(l => tg[l - 1][q]);
            }
        }
        var (debiased, stderr) = NeighbourJackknife(rate, leaveOut, leavePairOut);
        // one value per block: the block mean and its standard error sqrt(var / B)
        var heldOutRate = BlockStatistics.Mean(heldOut, blocks);
        var estimate = new ManyBodyEntropyEstimate(rate, stderr, debiased, rateX, rateG, "current", frames, n, blocks);

        // The fitted field: corrected coefficients, e.g. theta = 2 theta(dt) - theta(2 dt) (theta is linear in J at fixed M).
        double[] thetaX = new double[k], thetaG = new double[k];
        for (int p = 0; p < k; p++)
        {
            int q = p;
            thetaX[p] = correction.Combine(l => thetaXs[l - 1][q]);
            thetaG[p] = correction.Combine(l => thetaGs[l - 1][q]);
        }
        var maps = Maps(snapshots, basis, thetaX, thetaG, options);
        options.Progress?.Report(1);
        return new ManyBodyCurrentEstimateResult(estimate, basis.Names, thetaX, thetaG, JackknifeErrors(leaveOutThetaX), JackknifeErrors(leaveOutThetaG),
            sigma[0], lags >= 2 ? sigma[1] : double.NaN, maps, heldOutRate.Mean, heldOutRate.StandardError, heldOut, HeldOutSwamping.Find(heldOut, frames));
    }

    /// <summary>
    /// Bias correction and standard error of a smooth function f of block means whose neighbouring blocks are correlated
    /// (docs/active-matter.md, "Neighbouring blocks"). With d_b the deviation of block b's mean from the whole record's, f's
    /// leave-one-out and leave-neighbours-out changes are, to second order, Delta_b = -g . d_b / (B - 1) + d_b^T A d_b / (B - 1)^2 and
    /// Delta_{b,b+1} = -g . (d_b + d_b+1) / (B - 2) + (d_b + d_b+1)^T A (d_b + d_b+1) / (B - 2)^2 (g the gradient, A half the Hessian;
    /// pairs taken round the circle so that the gradient terms sum to 0). The bias of f is tr(A Var(mean)), and for blocks that are
    /// 1-dependent (each correlated with its neighbours only) Var(mean) = (Gamma_0 + Gamma_1 + Gamma_1^T) / B, which
    /// sum_b [(B - 2)^2 Delta_{b,b+1} - (B - 1)^2 Delta_b] / (B (B - 3)) estimates. The plain jackknife,
    /// (B - 1) sum_b Delta_b / B, assumes Gamma_1 = 0: where a feature's current telescopes (g's current is d|g|^2 / 2, so the block
    /// currents are boundary terms and neighbours are anticorrelated, Gamma_1 = -Gamma_0 / 2) it overstated the bias B-fold. The
    /// standard error is the jackknife one of the debiased value itself: pseudo-values q_b = f - B beta_b with beta_b the block's
    /// term of the bias, error sqrt(sum_b (q_b - mean q)^2 / (B (B - 1))), which includes the noise of the bias correction.
    /// </summary>
    private static (double Debiased, double StandardError) NeighbourJackknife(double full, double[] leaveOut, double[] leavePairOut)
    {
        int blocks = leaveOut.Length;
        double b1 = blocks - 1.0, b2 = blocks - 2.0, scale = blocks * (blocks - 3.0);
        var pseudo = new double[blocks];
        double bias = 0;
        for (int b = 0; b < blocks; b++)
        {
            double beta = (b2 * b2 * (leavePairOut[b] - full) - b1 * b1 * (leaveOut[b] - full)) / scale;
            bias += beta;
            pseudo[b] = full - blocks * beta;
        }
        double mean = pseudo.Average(), variance = 0;
        foreach (double q in pseudo) variance += (q - mean) * (q - mean);
        return (full - bias, Math.Sqrt(variance / (blocks * b1)));
    }

    /// <summary>Jackknife standard error of each component from its leave-one-block-out values.</summary>
    private static double[] JackknifeErrors(double[][] leaveOut)
    {
        int blocks = leaveOut.Length, k = leaveOut[0].Length;
        var errors = new double[k];
        for (int p = 0; p < k; p++)
        {
            double mean = 0, variance = 0;
            for (int b = 0; b < blocks; b++) mean += leaveOut[b][p] / blocks;
            for (int b = 0; b < blocks; b++) variance += (leaveOut[b][p] - mean) * (leaveOut[b][p] - mean);
            errors[p] = Math.Sqrt((blocks - 1.0) / blocks * variance);
        }
        return errors;
    }

    /// <summary>
    /// The lower triangle of sum_r phi_r phi_r^T over one frame's rows (phi row-major, rows x k) into <paramref name="into"/>[p k + q],
    /// q &lt;= p: the features are copied into columns, then summed in <see cref="FixedOrderSum.Gram"/>'s fixed order (register-blocked
    /// fused multiply-adds, the same bits on every machine and thread count).
    /// </summary>
    private static void FrameGram(double[] phi, int rows, int k, double[] columns, double[] into)
    {
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < k; p++) columns[p * rows + r] = phi[r * k + p];
        FixedOrderSum.Gram(columns, rows, k, 0, rows, into);
    }

    /// <summary>Adds one lag's Stratonovich currents sum_r phi_mid(r) dz_r (g, and x when it is noisy) for the increments from one frame to another.</summary>
    private static void AccumulateCurrents(double[] phiFrom, double[] phiTo, double[] xFrom, double[] xTo, double[] gFrom, double[] gTo, int rows, int k,
        double box, bool noisyX, int lag, int block, double[,,] jx, double[,,] jg)
    {
        Span<double> sumX = stackalloc double[k], sumG = stackalloc double[k];
        for (int r = 0; r < rows; r++)
        {
            double dg = gTo[r] - gFrom[r];
            double dx = 0;
            if (noisyX)
            {
                dx = xTo[r] - xFrom[r];
                if (box > 0) dx = PeriodicBox.MinimumImage(dx, box);
            }
            int o = r * k;
            for (int p = 0; p < k; p++)
            {
                double mid = 0.5 * (phiFrom[o + p] + phiTo[o + p]);
                sumG[p] += mid * dg;
                if (noisyX) sumX[p] += mid * dx;
            }
        }
        for (int p = 0; p < k; p++)
        {
            jx[lag, block, p] += sumX[p];
            jg[lag, block, p] += sumG[p];
        }
    }

    /// <summary>Snapshots (evenly spaced, the last among them) that enter the local maps: at most <see cref="CurrentEstimatorOptions.MapSnapshots"/>, at least 1.</summary>
    private static int MapFrames(CurrentEstimatorOptions options, int frames) => Math.Max(1, Math.Min(options.MapSnapshots, frames));

    /// <summary>Local EP e_i = eps |theta_x . phi_i|^2 + gamma |theta_g . phi_i|^2 per particle, at one snapshot, and on a grid.</summary>
    private static LocalEntropyMaps Maps(ActiveSnapshots snapshots, ParticleBasis basis, double[] thetaX, double[] thetaG, CurrentEstimatorOptions options)
    {
        var m = snapshots.Model;
        int n = m.Particles, d = m.Dimension, k = basis.Count, frames = snapshots.Frames;
        int used = MapFrames(options, frames);
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
            options.Progress?.Report((frames + u) / (double)(frames + used));
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
