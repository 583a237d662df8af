using ThermoLearn.ActiveMatter;

namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>
/// The score estimator on Core's active-matter snapshots (<see cref="ActiveSnapshots"/>, AOUP in 2-D): the model's
/// parameters give the drift b; with interactions the pair forces k F_i and k sum_i div_i F_i of every snapshot are computed
/// from Core's <see cref="PairForces"/> (b_x with eps &gt; 0, and the network's optional force input).
/// </summary>
public static class ScoreSnapshots
{
    /// <summary>
    /// Trains on the first (1 - held-out fraction) of the snapshots and scores the rest (<see cref="ScoreEntropyProduction"/>);
    /// <paramref name="progress"/> follows the training steps, <paramref name="scoring"/> the fraction of held-out snapshots scored.
    /// </summary>
    public static ScoreFit Fit(ActiveSnapshots snapshots, ScoreSettings settings, IProgress<(int Step, int Steps, double Loss)>? progress = null,
        CancellationToken cancellation = default, IProgress<double>? scoring = null) =>
        ScoreEntropyProduction.Fit(Frames(snapshots, settings.Shape.LinearFeatures), Parameters(snapshots.Model), settings, progress, cancellation, scoring);

    /// <summary>
    /// Scores every snapshot with a trained network (any N: the network is local); <paramref name="progress"/>: the fraction scored;
    /// standard errors over <paramref name="blocks"/> contiguous blocks of snapshots (at most one a snapshot).
    /// </summary>
    public static ScoreEstimate Evaluate(LocalScoreNetwork network, ActiveSnapshots snapshots, int grid = 16, IProgress<double>? progress = null,
        int blocks = BlockStatistics.DefaultBlocks) =>
        ScoreEntropyProduction.Evaluate(network, Frames(snapshots, network.Shape.LinearFeatures), Parameters(snapshots.Model), grid, progress: progress, blocks: blocks);

    /// <summary>The snapshots as <see cref="ScoreFrames"/>: each frame range's <see cref="ScoreData"/> (with the basis of a linear head of <paramref name="linearFeatures"/>) built when it is read.</summary>
    internal static ScoreFrames Frames(ActiveSnapshots snapshots, int linearFeatures) =>
        new(snapshots.Frames, snapshots.Model.Particles, (first, count) => Data(snapshots, linearFeatures, first, count));

    /// <summary>
    /// Features of the particle basis of <paramref name="model"/>'s snapshots: the size of a linear head over it; with
    /// <paramref name="lagFilters"/> (an interacting model) the basis includes the lag filters, whose own-g divergences are
    /// Hutchinson estimates with one probe per snapshot (<see cref="ParticleBasis.Evaluate"/>).
    /// </summary>
    public static int LinearFeatures(ActiveModel model, bool lagFilters = true) => new ParticleBasis(model, lagFilters: lagFilters).Count;

    /// <summary>
    /// The CLI's default settings for a model: K = 12 neighbours within the pair cutoff (2 r0 without interactions), hidden
    /// width 32, two message-passing rounds, 16 radial Gaussians, the pair-force and contact inputs when the model interacts.
    /// </summary>
    public static ScoreSettings DefaultSettings(ActiveModel model) => new(new LocalScoreShape(Neighbours: 12,
        Cutoff: model.Interacting ? model.Cutoff : 2 * model.R0, Hidden: 32, Rounds: 2, RadialBasis: 16, ForceInput: model.Interacting,
        ContactInput: model.Interacting));

    /// <summary>The estimate as Core's many-body result (rate = the variational form; no finite-data debiasing; the blocks its error used).</summary>
    public static ManyBodyEntropyEstimate AsManyBody(ScoreEstimate e) =>
        new(e.Rate.Mean, e.Rate.StandardError, e.Rate.Mean, e.RateX.Mean, e.RateG.Mean, e.Method, e.Snapshots, e.Particles, (int)e.Rate.Count);

    /// <summary>
    /// The local maps in Core's form: per particle the mean of sigma_i over the held-out snapshots, sigma_i at the last one,
    /// and per grid cell the EP per unit area (mean sigma_i of the cell's particles times their density).
    /// </summary>
    /// <param name="e">The estimate.</param>
    /// <param name="lastFrame">Frame index (in the scored file) of the last held-out snapshot.</param>
    public static LocalEntropyMaps Maps(ScoreEstimate e, int lastFrame)
    {
        int n = e.Particles, s = e.Snapshots;
        var mean = new double[n];
        for (int t = 0; t < s; t++)
            for (int i = 0; i < n; i++) mean[i] += e.ParticleRates[t * n + i] / (double)s;
        var last = new double[n];
        for (int i = 0; i < n; i++) last[i] = e.ParticleRates[(s - 1) * n + i];
        var map = e.Map;
        var perArea = new double[map.MeanRate.Length];
        for (int c = 0; c < perArea.Length; c++) perArea[c] = map.Density[c] == 0 ? 0 : map.MeanRate[c] * map.Density[c];
        return new LocalEntropyMaps(mean, lastFrame, last, perArea, map.Cells, map.Origin, map.Width / map.Cells);
    }

    internal static AoupParameters Parameters(ActiveModel model)
    {
        if (model.Kind != ActiveModelKind.Aoup) throw new InvalidInputException($"the score estimator takes AOUP snapshots ({model.Name} given).");
        if (model.Dimension != 2) throw new InvalidInputException($"the score network is two-dimensional; these snapshots have d = {model.Dimension}.");
        return new AoupParameters(model.V0, model.Gamma, model.Epsilon, model.A);
    }

    /// <summary>
    /// The snapshots as <see cref="ScoreData"/>; with <paramref name="linearFeatures"/> &gt; 0 also Core's particle basis and its own-g
    /// divergences (a network's linear head; the count must be the basis's).
    /// </summary>
    internal static ScoreData Data(ActiveSnapshots snapshots, int linearFeatures = 0) => Data(snapshots, linearFeatures, 0, snapshots.Frames);

    /// <summary>Frames [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) as <see cref="ScoreData"/>: the same values
    /// as those frames of the whole file (each frame's basis, lag-filter probes included, depends on that frame alone).</summary>
    internal static ScoreData Data(ActiveSnapshots snapshots, int linearFeatures, int first, int count)
    {
        if (first < 0 || count < 1 || first + count > snapshots.Frames)
            throw new ArgumentOutOfRangeException(nameof(count), $"frames [{first}, {first + count}) are not within the {snapshots.Frames} frames.");
        var model = snapshots.Model;
        Parameters(model);
        // a head saved without the lag filters keeps its basis: the count tells which
        var basis = linearFeatures <= 0 ? null : new ParticleBasis(model, lagFilters: true);
        if (basis is not null && basis.Count != linearFeatures) basis = new ParticleBasis(model);
        if (basis is not null && basis.Count != linearFeatures)
            throw new InvalidInputException($"the network's linear head has {linearFeatures} features; the particle basis of these snapshots has {basis.Count} "
                + $"({string.Join(", ", basis.Names)}). A network saved with another version of the basis "
                + "cannot be applied; train it again with --score-linear.");
        float[]? basisValues = basis is null ? null : new float[(long)count * model.Particles * 2 * basis.Count];
        float[]? basisDivergence = basis is null ? null : new float[(long)count * model.Particles * 2 * basis.Count];
        var framePhi = basis is null ? null : new double[model.Particles * 2 * basis.Count];
        var frameDivergence = basis is null ? null : new double[model.Particles * 2 * basis.Count];
        int s = count, n = model.Particles;
        var x = new double[(long)s * n * 2];
        var g = new double[(long)s * n * 2];
        var frameX = new double[n * 2];
        var frameG = new double[n * 2];
        bool forces = model.Interacting;
        var pairs = forces ? PairForces.For(model) : null;
        double[]? f = forces ? new double[(long)s * n * 2] : null;
        double[]? divergence = forces ? new double[s] : null;
        double[]? contacts = forces ? new double[(long)s * n * ScoreData.ContactColumns] : null;
        var frameF = new double[n * 2];
        var perParticle = new double[n];
        for (int t = 0; t < s; t++)
        {
            snapshots.CopyFrame(first + t, frameX, frameG);
            frameX.CopyTo(x, (long)t * n * 2);
            frameG.CopyTo(g, (long)t * n * 2);
            if (basis is not null)
            {
                basis.Evaluate(frameX, frameG, framePhi!, -1, frameDivergence, probe: (ulong)(first + t));
                for (int q = 0; q < framePhi!.Length; q++) basisValues![(long)t * framePhi.Length + q] = (float)framePhi[q];
                for (int q = 0; q < frameDivergence!.Length; q++) basisDivergence![(long)t * frameDivergence.Length + q] = (float)frameDivergence[q];
            }
            if (pairs is not null)
            {
                pairs.Forces(frameX, frameF, -1);
                for (int k = 0; k < 2 * n; k++) f![(long)t * n * 2 + k] = model.K * frameF[k];
                divergence![t] = model.K * pairs.Divergence(frameX, perParticle, -1);
                // Divergence has just built the pair field's cell list on this frame: sweep it again for the contacts.
                pairs.Cells.Sweep(new ContactKernel(pairs, frameG, frameF, contacts!, (long)t * n * ScoreData.ContactColumns, model.K, model.V0));
            }
        }
        return new ScoreData(s, n, model.Box ?? 0, x, g, f, divergence, contacts, basis?.Count ?? 0, basisValues, basisDivergence);
    }

    /// <summary>
    /// <see cref="ScoreData.Contacts"/> of one configuration: with J = f' rhat rhat^T + (f / r)(I - rhat rhat^T) per pair,
    /// P_i = k v0 sum_j J, c0_i = -k v0 sum_j J g_j + k^2 sum_j J (F_i - F_j) (F without k), kappa_i = -k sum_j tr J.
    /// </summary>
    private struct ContactKernel(IPairForces pairs, double[] g, double[] forces, double[] contacts, long offset, double k, double v0) : INeighbourKernel
    {
        private double _jxx, _jxy, _jyy, _gx, _gy, _fx, _fy;

        public void Begin(int i) => (_jxx, _jxy, _jyy, _gx, _gy, _fx, _fy) = (0, 0, 0, 0, 0, 0, 0);

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            double r = Math.Sqrt(r2), ux = dx / r, uy = dy / r, f = pairs.Force(r);
            if (f == 0) return;
            double fp = pairs.ForceDerivative(r), fr = f / r, c = fp - fr;
            double xx = c * ux * ux + fr, xy = c * ux * uy, yy = c * uy * uy + fr;
            _jxx += xx;
            _jxy += xy;
            _jyy += yy;
            _gx += xx * g[2 * j] + xy * g[2 * j + 1];
            _gy += xy * g[2 * j] + yy * g[2 * j + 1];
            double wx = forces[2 * i] - forces[2 * j], wy = forces[2 * i + 1] - forces[2 * j + 1];
            _fx += xx * wx + xy * wy;
            _fy += xy * wx + yy * wy;
        }

        public void End(int i)
        {
            long row = offset + (long)i * ScoreData.ContactColumns;
            contacts[row] = k * v0 * _jxx;
            contacts[row + 1] = k * v0 * _jxy;
            contacts[row + 2] = k * v0 * _jyy;
            contacts[row + 3] = -k * v0 * _gx + k * k * _fx;
            contacts[row + 4] = -k * v0 * _gy + k * k * _fy;
            contacts[row + 5] = -k * (_jxx + _jyy);
        }
    }
}
