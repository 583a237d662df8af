using System.Diagnostics;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Neural.Runtime;
using ThermoLearn.Neural.Training;
using ThermoLearn.Randomness;
using ThermoLearn.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>How the score network is trained and the estimate is made.</summary>
/// <param name="Shape">Network shape.</param>
/// <param name="Steps">Adam steps (learning rate decaying along a cosine to 1%). 0 with a linear head: the closed-form head alone, its
/// training snapshots read in chunks and never held (eps = 0, where only s_g is learned).</param>
/// <param name="ParticlesPerStep">Particles per step: whole snapshots, max(1, this / N) of them (when <paramref name="CentresPerStep"/> is 0).</param>
/// <param name="LearningRate">Initial Adam learning rate.</param>
/// <param name="HeldOutFraction">Fraction of the snapshots (the last ones in time) kept out of training and scored.</param>
/// <param name="Grid">Cells per side of the spatial EP map.</param>
/// <param name="Seed">Seed of the weights, the snapshot order and the Hutchinson probes.</param>
/// <param name="Threads">libtorch threads (1: bit-identical results run to run).</param>
/// <param name="CentresPerStep">0: train on whole snapshots. Otherwise particles per step as neighbourhoods: that many
/// (snapshot, particle) pairs drawn uniformly over the training snapshots, each scored from the Rounds-hop neighbourhood its
/// output reads (<see cref="LocalScoreNetwork.Score"/>). The network is local, so the loss is a sum over particles of terms
/// that each need only that neighbourhood: an unbiased minibatch of the same loss, from many snapshots at once, at a cost
/// per step that does not grow with N.</param>
/// <param name="ValidationFraction">0: train on all training snapshots and keep the last weights. Otherwise that fraction of the
/// training snapshots (the last ones) is kept out of the steps as a validation set: its score-matching loss (fixed probes) is taken
/// before the first step and <see cref="ScoreEntropyProduction.ValidationChecks"/> times along training, and the weights with the
/// lowest one are kept (early stopping at the best checkpoint).</param>
/// <param name="Ridge">The linear head's relative ridge lambda, theta = -(M + lambda diag M)^-1 c; null: chosen on the validation
/// snapshots among <see cref="ScoreEntropyProduction.LinearRidges"/> (0 without them). Set it where the head is to be applied to
/// a state the validation snapshots do not represent (docs/active-matter.md, session 20).</param>
/// <param name="Blocks">Contiguous blocks of held-out snapshots for the standard errors (at most one a snapshot).</param>
public sealed record ScoreSettings(LocalScoreShape Shape, int Steps = 2000, int ParticlesPerStep = 4096, double LearningRate = 2e-3,
    double HeldOutFraction = 0.5, int Grid = 16, ulong Seed = 1, int Threads = 1, int CentresPerStep = 0, double ValidationFraction = 0,
    double? Ridge = null, int Blocks = BlockStatistics.DefaultBlocks)
{
    internal void Validate()
    {
        Shape.Validate();
        if (Steps < 0) throw new InvalidInputException($"training steps must be at least 0, got {Steps}.");
        if (Steps == 0 && Shape.LinearFeatures == 0)
            throw new InvalidInputException("0 training steps leave the network at its start: that is an estimate only with the closed-form linear head (--score-linear).");
        if (ParticlesPerStep < 1) throw new InvalidInputException($"particles per step must be at least 1, got {ParticlesPerStep}.");
        if (CentresPerStep < 0) throw new InvalidInputException($"centres per step must be 0 (whole snapshots) or positive, got {CentresPerStep}.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InvalidInputException($"the learning rate must be positive, got {LearningRate}.");
        if (!(HeldOutFraction > 0 && HeldOutFraction < 1)) throw new InvalidInputException($"the held-out fraction must be in (0, 1), got {HeldOutFraction}.");
        if (Grid < 1) throw new InvalidInputException($"the map grid needs at least 1 cell a side, got {Grid}.");
        if (Blocks < 2) throw new InvalidInputException($"the standard errors need at least 2 blocks of held-out snapshots, got {Blocks}.");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1)) throw new InvalidInputException($"the validation fraction must be in [0, 1), got {ValidationFraction}.");
        if (Ridge is { } ridge && (!(ridge >= 0) || !double.IsFinite(ridge))) throw new InvalidInputException($"the linear head's ridge must be non-negative and finite, got {ridge}.");
        if (Ridge is not null && Shape.LinearFeatures == 0) throw new InvalidInputException("a ridge belongs to the linear head (--score-linear), which this network does not have.");
    }
}

/// <summary>
/// Entropy production on a G x G grid of cells: particle values averaged per cell over all held-out snapshots.
/// Cell (cx, cy) covers [Origin + cx W, Origin + (cx + 1) W) x [Origin + cy W, ...), W = Width / G; row-major by cy.
/// </summary>
/// <param name="Cells">G.</param>
/// <param name="Origin">Lower corner (0 in a periodic box).</param>
/// <param name="Width">Side of the mapped square (L in a periodic box).</param>
/// <param name="MeanRate">Mean sigma_i of the particles in the cell (NaN where none fell).</param>
/// <param name="Density">Particles per unit area per snapshot.</param>
public sealed record EntropyProductionMap(int Cells, double Origin, double Width, double[] MeanRate, double[] Density);

/// <summary>
/// Entropy production rate of active particles from a learned score, on held-out snapshots, with its local parts.
/// sigma_i = |v_{x_i}|^2 / eps + |v_{g_i}|^2 / gamma with v = b - D s (the x-part absent when eps = 0), sigma = sum_i E sigma_i.
/// Standard errors: contiguous blocks of held-out snapshots (<see cref="ScoreSettings.Blocks"/>, 20 by default, at most one a snapshot:
/// <see cref="MeanEstimate.Count"/> of <see cref="Rate"/> says how many), the spread of block means (<see cref="BlockStatistics"/>).
/// </summary>
/// <param name="Method">"score".</param>
/// <param name="Network">Network shape name.</param>
/// <param name="Rate">sigma: the whole system's rate (sum over particles), per unit time, in the variational form
/// sigma = sum over noisy sets S of E[ |b_S|^2 / D_S + 2 div_S b_S ] - L(s_hat), with L the held-out score-matching loss: its error
/// is second order in the score's error (-E|s_hat - s|_D^2 &lt;= 0), where the plug-in form's is first order.</param>
/// <param name="RateX">Part from the positions (0 when eps = 0).</param>
/// <param name="RateG">Part from the active forces.</param>
/// <param name="PlugIn">The plug-in form sum_i E[ |v_{x_i}|^2 / eps + |v_{g_i}|^2 / gamma ], v = b - D s_hat, whose per-particle terms
/// are the local maps.</param>
/// <param name="Particles">N.</param>
/// <param name="Snapshots">Held-out snapshots scored.</param>
/// <param name="TrainingSnapshots">Snapshots the network was trained on.</param>
/// <param name="ParticleRates">sigma_i per held-out snapshot and particle, [S, N] (float).</param>
/// <param name="Map">The grid map.</param>
/// <param name="ScoreMatchingLoss">Held-out score-matching loss per particle, E[|s|_D^2 + 2 div(D s)] / (N max(eps, gamma)).</param>
public sealed record ScoreEstimate(string Method, string Network, MeanEstimate Rate, MeanEstimate RateX, MeanEstimate RateG, MeanEstimate PlugIn, int Particles,
    int Snapshots, int TrainingSnapshots, float[] ParticleRates, EntropyProductionMap Map, double ScoreMatchingLoss)
{
    /// <summary>sigma / N.</summary>
    public MeanEstimate PerParticle => new(Rate.Mean / Particles, Rate.StandardError / Particles, Rate.Count);
}

/// <summary>Training record of a score network.</summary>
/// <param name="Loss">Mean training loss per block of steps (score-matching loss per particle).</param>
/// <param name="Steps">Adam steps taken.</param>
/// <param name="WallSeconds">Wall-clock training time.</param>
/// <param name="CpuSeconds">Process CPU time during training (all threads).</param>
/// <param name="Validation">(steps taken, validation loss per particle) at each check; empty without a validation set.</param>
/// <param name="BestStep">Steps taken by the weights kept: the best check's, or <paramref name="Steps"/> without a validation set.</param>
/// <param name="LinearLoss">The closed-form linear fit's score-matching loss per particle on the snapshots it was fitted on (NaN without a linear head).</param>
/// <param name="LinearRidge">The relative ridge of that fit, chosen on the validation snapshots (0 without them; NaN without a linear head).</param>
public sealed record ScoreTraining(IReadOnlyList<double> Loss, int Steps, double WallSeconds, double CpuSeconds, IReadOnlyList<(int Step, double Loss)> Validation,
    int BestStep, double LinearLoss, double LinearRidge = double.NaN);

/// <summary>A trained network, its training record and the held-out estimate.</summary>
public sealed class ScoreFit(LocalScoreNetwork network, ScoreTraining training, ScoreEstimate estimate) : IDisposable
{
    public LocalScoreNetwork Network { get; } = network;
    public ScoreTraining Training { get; } = training;
    public ScoreEstimate Estimate { get; } = estimate;

    public void Dispose() => Network.Dispose();
}

/// <summary>
/// The score-based entropy-production estimator of Boffi &amp; Vanden-Eijnden (PNAS 2024, arXiv:2309.12991) for AOUP
/// snapshots. The stationary density rho(x, g) is learned through its D-weighted score by implicit score matching
/// (Hyvarinen, JMLR 6, 695, 2005): L(s) = E[ s^T D s + 2 div(D s) ] = E|s - grad log rho|_D^2 - E|grad log rho|_D^2, minimal at
/// D s = D grad log rho, with no noise added to the data (denoising score matching would smooth away the narrow
/// conditional law of g given x at eps = 0, where sigma lives). The divergence is Hutchinson's estimate v^T grad(v^T D s)
/// with Rademacher v over all particles and components (unbiased). Only the noisy coordinates are learned: s_x is
/// trained only when eps &gt; 0. Then v = b - D s with b_x = v0 g - A x + F, b_g = -gamma g, and
/// sigma = E[ v_x . v_x / eps + v_g . v_g / gamma ] (eps = 0: sigma = gamma sum_i E|g_i + s_{g_i}|^2, no forces needed).
/// </summary>
public static class ScoreEntropyProduction
{
    private const int LossBlocks = 50;
    private const int EvaluationProbes = 4;
    private const int EvaluationParticles = 4096;

    /// <summary>Validation checks along training (besides the one before the first step).</summary>
    public const int ValidationChecks = 10;

    /// <summary>Trains on the first (1 - held-out fraction) of the snapshots and scores the rest.</summary>
    internal static ScoreFit Fit(ScoreData data, AoupParameters parameters, ScoreSettings settings,
        IProgress<(int Step, int Steps, double Loss)>? progress = null, CancellationToken cancellation = default) =>
        Fit(ScoreFrames.Of(data), parameters, settings, progress, cancellation);

    /// <summary>
    /// Trains on the first (1 - held-out fraction) of the snapshots and scores the rest, reading each part of the split only when
    /// it is needed: the training and validation snapshots are let go before the held-out ones are read, in chunks
    /// (<see cref="Evaluate(LocalScoreNetwork, ScoreFrames, AoupParameters, int, int, int, IProgress{double}, int)"/>), so the particle bases of the parts are
    /// never in memory together.
    /// </summary>
    internal static ScoreFit Fit(ScoreFrames frames, AoupParameters parameters, ScoreSettings settings,
        IProgress<(int Step, int Steps, double Loss)>? progress = null, CancellationToken cancellation = default, IProgress<double>? scoring = null)
    {
        settings.Validate();
        parameters.Validate();
        if (settings.Steps == 0 && parameters.Epsilon > 0)
            throw new InvalidInputException($"eps = {parameters.Epsilon} > 0: s_x is learned by the network's steps, not by the linear head; 0 training steps need eps = 0.");
        int snapshots = frames.Snapshots;
        int heldOut = (int)Math.Round(snapshots * settings.HeldOutFraction);
        if (heldOut < 2 || snapshots - heldOut < 1)
            throw new InvalidInputException($"the score estimator needs at least 1 training and 2 held-out snapshots; {snapshots} snapshots with held-out fraction {settings.HeldOutFraction} give {snapshots - heldOut} and {heldOut}.");
        int trainable = snapshots - heldOut, validating = (int)Math.Round(trainable * settings.ValidationFraction);
        if (settings.ValidationFraction > 0 && (validating < 1 || trainable - validating < 1))
            throw new InvalidInputException($"the validation fraction {settings.ValidationFraction} of {trainable} training snapshots leaves {trainable - validating} to train on and {validating} to validate; each needs at least 1.");
        var validation = validating > 0 ? frames.Read(trainable - validating, validating) : null;
        TorchRuntime.Initialise(settings.Threads);
        manual_seed(unchecked((long)RandomStream.SplitMix64(settings.Seed)));
        var network = new LocalScoreNetwork(settings.Shape, parameters.Trap > 0);
        try
        {
            var training = settings.Steps == 0
                ? ClosedForm(network, frames.Range(0, trainable - validating), validation, parameters, settings)
                : Trained(network, frames.Read(0, trainable - validating), validation, parameters, settings, progress, cancellation);
            validation = null;   // let the validation snapshots go before the held-out ones are read
            var estimate = Evaluate(network, frames.Range(snapshots - heldOut, heldOut), parameters, settings.Grid, trainable - validating, progress: scoring,
                blocks: settings.Blocks);
            return new ScoreFit(network, training, estimate);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Fits <paramref name="network"/> to <paramref name="train"/> (linear head in closed form, then Adam steps), early-stopped on <paramref name="validation"/>.</summary>
    private static ScoreTraining Trained(LocalScoreNetwork network, ScoreData train, ScoreData? validation, AoupParameters parameters,
        ScoreSettings settings, IProgress<(int Step, int Steps, double Loss)>? progress, CancellationToken cancellation)
    {
        var (linearLoss, linearRidge) = Start(network, TrainingMoments.Of(train), validation, parameters, settings);
        return Train(network, train, validation, parameters, settings, progress, cancellation) with { LinearLoss = linearLoss, LinearRidge = linearRidge };
    }

    /// <summary>
    /// Sets the network's start from its training snapshots' moments: output scales, the contact term's best constant, and the
    /// linear head in closed form (its ridge chosen on <paramref name="validation"/>). Returns the head's training loss and ridge
    /// (NaN without a head).
    /// </summary>
    private static (double LinearLoss, double LinearRidge) Start(LocalScoreNetwork network, TrainingMoments moments, ScoreData? validation,
        AoupParameters parameters, ScoreSettings settings)
    {
        double gScale = moments.GScoreScale(parameters);
        var (contactScale, coefficient) = moments.ContactStart(gScale);
        network.SetScales(moments.PositionScale(parameters), gScale, contactScale);
        if (settings.Shape.ContactInput) network.StartContactCoefficient(coefficient);
        if (settings.Shape.LinearFeatures == 0) return (double.NaN, double.NaN);
        (double[] theta, double loss, double ridge) = LinearFit(moments, parameters, validation, settings.Ridge);
        network.StartLinear(theta, moments.Bounds);
        return (loss, ridge);
    }

    /// <summary>
    /// <see cref="ScoreSettings.Steps"/> = 0: the network is its start, the closed-form linear head, and no step reads a training
    /// snapshot again, so the training snapshots are read in chunks of about <see cref="ChunkParticles"/>
    /// particle-snapshots and summed (<see cref="TrainingMoments"/>): memory for one chunk and the validation snapshots, whatever
    /// the length of the record.
    /// </summary>
    private static ScoreTraining ClosedForm(LocalScoreNetwork network, ScoreFrames train, ScoreData? validation, AoupParameters parameters,
        ScoreSettings settings)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var moments = new TrainingMoments(settings.Shape.LinearFeatures);
        int chunk = Math.Max(1, ChunkParticles / train.Particles);
        static void Add(TrainingMoments moments, ScoreFrames train, int start, int count) => moments.Add(train.Read(start, count));
        for (int start = 0; start < train.Snapshots; start += chunk)
        {
            Add(moments, train, start, Math.Min(chunk, train.Snapshots - start));   // the chunk is unreachable once Add returns
            ReleaseChunk();
        }
        var (linearLoss, linearRidge) = Start(network, moments, validation, parameters, settings);
        var checks = new List<(int, double)>();
        if (validation is not null)
            checks.Add((0, ValidationLoss(network, validation, parameters, new LocalNeighbours(validation.Particles, settings.Shape.Neighbours))));
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        return new ScoreTraining([], 0, clock.Elapsed.TotalSeconds, cpuSeconds, checks, 0, linearLoss, linearRidge);
    }

    /// <summary>Scores all snapshots of <paramref name="data"/> with a trained network (e.g. N = 32,768 with a network trained at N = 4,096).</summary>
    internal static ScoreEstimate Evaluate(LocalScoreNetwork network, ScoreData data, AoupParameters parameters, int grid, int trainingSnapshots = 0) =>
        Evaluate(network, ScoreFrames.Of(data), parameters, grid, trainingSnapshots);

    /// <summary>Particle-snapshots per chunk read by <see cref="Evaluate(LocalScoreNetwork, ScoreFrames, AoupParameters, int, int, int, IProgress{double}, int)"/> and the 0-step fit: about 350 MB of basis at 87 features.</summary>
    private const int ChunkParticles = 1 << 18;

    /// <summary>
    /// Collects a chunk of snapshots that has just been used, or a chunk's worth of the inputs built frame by frame (about 7 MB
    /// per snapshot at N = 4,096 with the linear head). Left to itself the collector frees them only when its budget runs out,
    /// and that budget grows with the live data: the 0-step fit of 641 snapshots of N = 4,096, scoring 400, peaked at 5.9 GB
    /// for chunks of 0.4 GB; the validation loss of 240 snapshots grew by 3.4 GB (docs/active-matter.md, "Memory"). One full
    /// collection per chunk costs milliseconds against the chunk's seconds of work.
    /// </summary>
    private static void ReleaseChunk() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);

    /// <summary>
    /// Scores all snapshots of <paramref name="frames"/> with a trained network, reading them in chunks of about
    /// <paramref name="chunkParticles"/> particle-snapshots (whole batches of the evaluation, whose probes are numbered by
    /// frame, so the numbers do not depend on the chunking). The standard errors come from <paramref name="blocks"/> contiguous blocks
    /// of the snapshots (at most one a snapshot).
    /// </summary>
    internal static ScoreEstimate Evaluate(LocalScoreNetwork network, ScoreFrames frames, AoupParameters parameters, int grid, int trainingSnapshots = 0,
        int chunkParticles = ChunkParticles, IProgress<double>? progress = null, int blocks = BlockStatistics.DefaultBlocks)
    {
        parameters.Validate();
        if (blocks < 2) throw new InvalidInputException($"the standard errors need at least 2 blocks of snapshots, got {blocks}.");
        if (frames.Snapshots < 2) throw new InvalidInputException($"the score estimate needs at least 2 snapshots for a standard error, got {frames.Snapshots}.");
        if (network.Trapped != parameters.Trap > 0)
            throw new InvalidInputException(network.Trapped ? "the network was trained in a trap (A > 0) but these data have A = 0." : "the network was trained without a trap but these data have A > 0.");
        int n = frames.Particles, s = frames.Snapshots;
        network.eval();
        var rates = new float[s * n];
        var plugIn = new double[s];
        var variationalX = new double[s];
        var variationalG = new double[s];
        var variational = new double[s];
        var positions = new double[(long)s * n * ScoreData.Dimension];
        double box = 0;
        var neighbours = new LocalNeighbours(n, network.Shape.Neighbours);
        double lossSum = 0;
        bool noisyX = parameters.Epsilon > 0;
        double eps = parameters.Epsilon, gamma = parameters.Gamma;
        int batch = Math.Max(1, EvaluationParticles / n);
        int chunk = batch * Math.Max(1, chunkParticles / (batch * n));
        for (int start = 0; start < s; start += chunk)
        {
            var data = frames.Read(start, Math.Min(chunk, s - start));
            if (parameters.Epsilon > 0 && data.InteractionForces is not null && data.ForceDivergence is null)
                throw new InvalidInputException("eps > 0 with interactions: the score estimate needs k sum_i div_i F_i of every snapshot besides the forces.");
            box = data.Box;
            data.Positions.CopyTo(positions, (long)start * n * ScoreData.Dimension);
            for (int first = 0; first < data.Snapshots; first += batch)
            {
                progress?.Report((double)(start + first) / s);
                using var scope = NewDisposeScope();
                int[] chosen = Enumerable.Range(first, Math.Min(batch, data.Snapshots - first)).ToArray();
                var input = BuildInput(network, data, chosen, neighbours, parameters, gradients: true, noisyX);
                Tensor score = network.Score(input);
                var random = RandomStream.For(RandomPurposes.ScoreEvaluationSeed, (ulong)(start + first), RandomPurposes.ScoreProbeNoise);
                var (quadX, quadG, divX, divG) = MatchingTerms(network, score, input, parameters, ref random);
                float[] all = score.detach().to_type(ScalarType.Float32).data<float>().ToArray();
                for (int c = 0; c < chosen.Length; c++)
                {
                    int local = chosen[c], t = start + local;
                    lossSum += (quadX[c] + quadG[c] + 2 * (divX[c] + divG[c])) / (n * Math.Max(eps, gamma));
                    ReadOnlySpan<float> sv = all.AsSpan(c * n * 4, n * 4);
                    ReadOnlySpan<double> x = data.PositionsOf(local), g = data.GOf(local);
                    ReadOnlySpan<double> f = data.InteractionForces is null ? default : data.InteractionForces.AsSpan(local * n * 2, n * 2);
                    double sumPlugIn = 0, driftX = 0, driftG = 0;
                    for (int i = 0; i < n; i++)
                    {
                        double sigmaI = 0;
                        for (int a = 0; a < 2; a++)
                        {
                            double gi = g[2 * i + a];
                            double vg = gi + sv[4 * i + 2 + a];
                            sigmaI += gamma * vg * vg;
                            driftG += gamma * gi * gi;
                            if (noisyX)
                            {
                                double b = parameters.V0 * gi - parameters.Trap * x[2 * i + a] + (f.IsEmpty ? 0 : f[2 * i + a]);
                                double vx = b - eps * sv[4 * i + a];
                                sigmaI += vx * vx / eps;
                                driftX += b * b / eps;
                            }
                        }
                        rates[t * n + i] = (float)sigmaI;
                        sumPlugIn += sigmaI;
                    }
                    plugIn[t] = sumPlugIn;
                    // sigma_S = E[ |b_S|^2 / D_S + 2 div_S b_S ] + E|s_S|_D^2, with E|s|_D^2 = -min L >= -L(s_hat)
                    variationalG[t] = driftG - 2 * gamma * 2 * n - (quadG[c] + 2 * divG[c]);
                    if (noisyX)
                    {
                        double divergenceX = -2 * parameters.Trap * n + (data.ForceDivergence?[local] ?? 0);
                        variationalX[t] = driftX + 2 * divergenceX - (quadX[c] + 2 * divX[c]);
                    }
                    variational[t] = variationalX[t] + variationalG[t];
                }
            }
            data = null!;   // unreachable now, even in unoptimised code, which keeps a local alive to the end of its method
            ReleaseChunk();
        }
        progress?.Report(1);
        return new ScoreEstimate("score", network.Shape.Name, BlockStatistics.Mean(variational, blocks), BlockStatistics.Mean(variationalX, blocks),
            BlockStatistics.Mean(variationalG, blocks), BlockStatistics.Mean(plugIn, blocks),
            n, s, trainingSnapshots, rates, Map(positions, box, n, s, rates, grid), lossSum / s);
    }

    /// <summary>
    /// The learned score (s_x, s_g) of every snapshot and particle, [S, N, 4] row-major. <paramref name="parameters"/> give
    /// v0 for a network that reads the pair force (as F_i / v0); without them the force is read as it is.
    /// </summary>
    internal static float[] Scores(LocalScoreNetwork network, ScoreData data, AoupParameters? parameters = null)
    {
        var result = new float[data.Snapshots * data.Particles * 4];
        var neighbours = new LocalNeighbours(data.Particles, network.Shape.Neighbours);
        parameters ??= new AoupParameters(0, 1, 0, network.Trapped ? 1 : 0);
        using var noGrad = no_grad();
        for (int t = 0; t < data.Snapshots; t++)
        {
            using var scope = NewDisposeScope();
            var input = BuildInput(network, data, [t], neighbours, parameters, gradients: false, noisyX: false);
            network.Score(input).data<float>().ToArray().CopyTo(result, t * data.Particles * 4);
        }
        return result;
    }

    /// <summary>
    /// The terms of the score-matching loss of one batch in absolute units, summed over particles: eps sum|s_x|^2, gamma sum|s_g|^2,
    /// div_x(eps s_x) and div_g(gamma s_g), the divergences as the mean of Hutchinson estimates over <see cref="EvaluationProbes"/> probes.
    /// </summary>
    private static (double[] QuadX, double[] QuadG, double[] DivX, double[] DivG) MatchingTerms(LocalScoreNetwork network, Tensor score, ScoreInput input,
        AoupParameters parameters, ref RandomStream random)
    {
        bool noisyX = parameters.Epsilon > 0;
        long b = input.G.shape[0];
        Tensor sx = score.narrow(2, 0, 2), sg = score.narrow(2, 2, 2);
        double[] PerSnapshot(Tensor t, double factor) =>
            Array.ConvertAll(t.sum([1L, 2L]).to_type(ScalarType.Float64).data<double>().ToArray(), v => factor * v);
        double[] quadX = noisyX ? PerSnapshot(sx.detach().Squared(), parameters.Epsilon) : new double[b];
        double[] quadG = PerSnapshot(sg.detach().Squared(), parameters.Gamma);
        var divX = new double[b];
        var divG = new double[b];
        for (int probe = 0; probe < EvaluationProbes; probe++)
        {
            bool last = probe == EvaluationProbes - 1;
            Tensor probeG = Rademacher(input.G.shape, ref random);
            if (noisyX)
            {
                Tensor probeX = Rademacher(input.Shift.shape, ref random);
                var grads = autograd.grad([(sx * probeX).sum()], [input.Shift], retain_graph: true);
                double[] d = PerSnapshot(grads[0] * probeX, parameters.Epsilon / EvaluationProbes);
                for (int c = 0; c < b; c++) divX[c] += d[c];
            }
            var gradsG = autograd.grad([(sg * probeG).sum()], [input.G], retain_graph: !last);
            double[] dg = PerSnapshot(gradsG[0] * probeG, parameters.Gamma / EvaluationProbes);
            for (int c = 0; c < b; c++) divG[c] += dg[c];
        }
        // the linear head's divergence comes with the data (exact, the lag filters' unbiased); Hutchinson's estimate above sees
        // only the rest of the network
        if (network.LinearDivergence(input) is { } linear)
        {
            double[] dl = Array.ConvertAll(linear.detach().sum(1).to_type(ScalarType.Float64).data<double>().ToArray(), v => parameters.Gamma * v);
            for (int c = 0; c < b; c++) divG[c] += dl[c];
        }
        return (quadX, quadG, divX, divG);
    }

    /// <summary>
    /// The closed-form linear score-matching fit s_g = theta . phi over the data's particle basis (<see cref="ScoreData.Basis"/>):
    /// the loss gamma E[sum_i |s_{g_i}|^2 + 2 div_{g_i} s_{g_i}] = gamma (theta^T M theta + 2 theta . c) with M = E[sum_{i,a} phi phi^T],
    /// c = E[sum_i div_{g_i} phi_i] is least at theta = -M^-1 c, where it is -gamma c . M^-1 c. Returns theta and that loss per particle
    /// in the units of the training loss (D over max(eps, gamma)). The same projection the current estimator makes from increments,
    /// here from snapshots alone and with no time-step bias.
    /// With <paramref name="validation"/> snapshots, theta = -(M + lambda diag M)^-1 c with the ridge lambda of
    /// <see cref="LinearRidges"/> whose theta has the lowest loss on them: features that are rare in the training snapshots (a
    /// particle nearly at rest in a gate of width 0.002 v0) otherwise get coefficients of 10^4 that one held-out particle turns
    /// into an estimate of 10^5 times identity 4 (measured at N = 4,096, docs/active-matter.md). That loss is the head's as the
    /// network applies it (<see cref="ClippedLoss"/>: features clipped at the training bounds <see cref="TrainingMoments.Bounds"/>), not
    /// the closed form: a nearly unregularised fit can cancel large coefficients on nearly collinear features (the lag filters
    /// against the contact fields), and a validation particle beyond a bound on one of them breaks the cancellation, which the
    /// closed form would not see.
    /// </summary>
    internal static (double[] Theta, double LossPerParticle, double Ridge) LinearFit(ScoreData data, AoupParameters parameters, ScoreData? validation = null) =>
        LinearFit(TrainingMoments.Of(data), parameters, validation);

    /// <summary>
    /// The fit of <see cref="LinearFit(ScoreData, AoupParameters, ScoreData?)"/> from the training snapshots' moments; with
    /// <paramref name="ridge"/> given, at that ridge (no choice on the validation snapshots).
    /// </summary>
    internal static (double[] Theta, double LossPerParticle, double Ridge) LinearFit(TrainingMoments moments, AoupParameters parameters, ScoreData? validation = null,
        double? ridge = null)
    {
        var (gram, divergence) = moments.Linear();
        int k = divergence.Length;
        double units = parameters.Gamma / Math.Max(parameters.Epsilon, parameters.Gamma);
        double[] Solve(double ridge)
        {
            var ridged = (double[])gram.Clone();
            for (int p = 0; p < k; p++) ridged[p * k + p] *= 1 + ridge;
            return DenseMatrix.SolveRidgedCholesky(ridged, divergence, k, 1);
        }
        double Loss(double[] theta, double[] m, double[] c)
        {
            double sum = 0;
            for (int p = 0; p < k; p++)
            {
                double row = 0;
                for (int q = 0; q < k; q++) row += m[p * k + q] * theta[q];
                sum += theta[p] * row - 2 * theta[p] * c[p];
            }
            return units * sum;
        }
        double chosen = ridge ?? 0;
        if (validation is not null && ridge is null)
        {
            var bounds = moments.Bounds;
            double best = double.PositiveInfinity;
            foreach (double candidate in LinearRidges)
            {
                double loss = units * ClippedLoss(Solve(candidate), validation, bounds);
                if (loss < best) (best, chosen) = (loss, candidate);
            }
        }
        double[] fit = Solve(chosen);
        return (fit, Loss(fit, gram, divergence), chosen);
    }

    /// <summary>
    /// E[sum_i |s_{g_i}|^2 + 2 div_{g_i} s_{g_i}] per particle over <paramref name="data"/> for the head s_g = theta . clip(phi) as the
    /// network applies it: each feature clipped to +-<paramref name="bounds"/>, a clipped one's divergence 0.
    /// </summary>
    internal static double ClippedLoss(double[] theta, ScoreData data, double[] bounds)
    {
        int k = data.BasisFeatures;
        long rows = (long)data.Snapshots * data.Particles * ScoreData.Dimension;
        double sum = 0;
        for (long r = 0; r < rows; r++)
        {
            double s = 0, divergence = 0;
            for (int q = 0; q < k; q++)
            {
                double phi = data.Basis![r * k + q];
                if (Math.Abs(phi) <= bounds[q]) divergence += theta[q] * data.BasisDivergence![r * k + q];
                else phi = Math.Sign(phi) * bounds[q];
                s += theta[q] * phi;
            }
            sum += s * s + 2 * divergence;
        }
        return sum / ((long)data.Snapshots * data.Particles);
    }

    /// <summary>Relative ridges tried by <see cref="LinearFit(TrainingMoments, AoupParameters, ScoreData?, double?)"/> on a validation set (0: none beyond the solver's 1e-12).</summary>
    internal static readonly double[] LinearRidges = [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];

    /// <summary>Score-matching loss per particle of <paramref name="data"/> with the evaluation's fixed probes (as <see cref="ScoreEstimate.ScoreMatchingLoss"/>).</summary>
    internal static double ValidationLoss(LocalScoreNetwork network, ScoreData data, AoupParameters parameters, LocalNeighbours neighbours)
    {
        int n = data.Particles, s = data.Snapshots, batch = Math.Max(1, EvaluationParticles / n);
        double sum = 0, scale = Math.Max(parameters.Epsilon, parameters.Gamma);
        long scored = 0;
        for (int first = 0; first < s; first += batch)
        {
            using var scope = NewDisposeScope();
            int[] chosen = Enumerable.Range(first, Math.Min(batch, s - first)).ToArray();
            var input = BuildInput(network, data, chosen, neighbours, parameters, gradients: true, parameters.Epsilon > 0);
            var random = RandomStream.For(RandomPurposes.ScoreEvaluationSeed, (ulong)first, RandomPurposes.ScoreProbeNoise);
            var (quadX, quadG, divX, divG) = MatchingTerms(network, network.Score(input), input, parameters, ref random);
            for (int c = 0; c < chosen.Length; c++) sum += (quadX[c] + quadG[c] + 2 * (divX[c] + divG[c])) / (n * scale);
            scored += (long)chosen.Length * n;
            if (scored < ChunkParticles) continue;
            scored = 0;
            ReleaseChunk();
        }
        return sum / s;
    }

    private static ScoreTraining Train(LocalScoreNetwork network, ScoreData train, ScoreData? validation, AoupParameters parameters, ScoreSettings settings,
        IProgress<(int, int, double)>? progress, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        int n = train.Particles;
        int batch = Math.Min(train.Snapshots, Math.Max(1, settings.ParticlesPerStep / n));
        var parametersList = network.parameters().ToArray();
        using var adam = new AdamStep(parametersList, settings.LearningRate, settings.LearningRate * 0.01, settings.Steps);
        var neighbours = new LocalNeighbours(n, settings.Shape.Neighbours);
        bool noisyX = parameters.Epsilon > 0;
        var patches = settings.CentresPerStep > 0 ? new NeighbourhoodBatches(network, train, parameters) : null;
        var curve = new List<double>();
        int block = Math.Max(1, settings.Steps / LossBlocks);
        double blockSum = 0;
        int blockCount = 0;
        // early stopping: the weights of the best validation check so far, copied in place (no tensors made per check)
        var checks = new List<(int, double)>();
        Tensor[]? best = validation is null ? null : parametersList.Select(p => p.detach().clone()).ToArray();
        double bestLoss = double.PositiveInfinity;
        int bestStep = settings.Steps, every = Math.Max(1, settings.Steps / ValidationChecks);
        void Check(int taken)
        {
            double loss = ValidationLoss(network, validation!, parameters, neighbours);
            checks.Add((taken, loss));
            if (!(loss < bestLoss)) return;
            bestLoss = loss;
            bestStep = taken;
            using var noGrad = no_grad();
            for (int p = 0; p < best!.Length; p++) best[p].copy_(parametersList[p]);
        }
        network.train();
        for (int step = 0; step < settings.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (validation is not null && step % every == 0) Check(step);
            using var scope = NewDisposeScope();
            var random = RandomStream.For(settings.Seed, (ulong)step, RandomPurposes.ScoreMinibatch);
            ScoreInput input;
            int[]? layers = null;
            if (patches is not null)
            {
                (input, layers, _) = patches.Draw(settings.CentresPerStep, ref random, noisyX);
            }
            else
            {
                var chosen = new int[batch];
                for (int b = 0; b < batch; b++) chosen[b] = (int)(random.NextUInt64() % (ulong)train.Snapshots);
                input = BuildInput(network, train, chosen, neighbours, parameters, gradients: true, noisyX);
            }
            network.zero_grad(set_to_none: true);
            Tensor loss = Loss(network, network.Score(input, layers), input, parameters, ref random, createGraph: true);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new InvalidOperationException($"score matching diverged at step {step + 1} (loss {value}); lower the learning rate.");
            loss.backward();
            adam.Step();
            blockSum += value;
            if (++blockCount == block || step == settings.Steps - 1)
            {
                curve.Add(blockSum / blockCount);
                progress?.Report((step + 1, settings.Steps, blockSum / blockCount));
                blockSum = 0;
                blockCount = 0;
            }
        }
        if (best is not null)
        {
            Check(settings.Steps);
            using (no_grad())
                for (int p = 0; p < best.Length; p++) parametersList[p].copy_(best[p]);
            foreach (var t in best) t.Dispose();
        }
        network.eval();
        return new ScoreTraining(curve, settings.Steps, clock.Elapsed.TotalSeconds,
            (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, checks, bestStep, double.NaN);
    }

    /// <summary>
    /// Implicit score-matching loss per particle, D normalised by max(eps, gamma):
    /// (1/(B N)) [ sum_i s_i^T D s_i + 2 v^T grad(v^T D s) ], v Rademacher over the noisy coordinates of the particles
    /// scored (all of them, or a neighbourhood batch's centres, the first rows of the input).
    /// </summary>
    private static Tensor Loss(LocalScoreNetwork network, Tensor score, ScoreInput input, AoupParameters parameters, ref RandomStream random, bool createGraph)
    {
        double scale = Math.Max(parameters.Epsilon, parameters.Gamma);
        double dx = parameters.Epsilon / scale, dg = parameters.Gamma / scale;
        long scored = score.shape[1], count = score.shape[0] * scored;
        Tensor Own(Tensor gradient) => gradient.shape[1] == scored ? gradient : gradient.narrow(1, 0, scored);
        Tensor sx = score.narrow(2, 0, 2), sg = score.narrow(2, 2, 2);
        Tensor probeG = Rademacher(sg.shape, ref random);
        using Scalar dgScalar = dg.ToScalar(), dxScalar = dx.ToScalar(), two = 2.0.ToScalar(), perParticle = (1.0 / count).ToScalar();
        Tensor quadratic = sg.Squared().sum() * dgScalar;
        Tensor projected = (sg * probeG).sum() * dgScalar;
        Tensor divergence;
        if (parameters.Epsilon > 0)
        {
            Tensor probeX = Rademacher(sx.shape, ref random);
            quadratic = quadratic.Plus(sx.Squared().sum() * dxScalar);
            projected = projected.Plus((sx * probeX).sum() * dxScalar);
            var grads = autograd.grad([projected], [input.Shift, input.G], retain_graph: createGraph, create_graph: createGraph);
            divergence = (Own(grads[0]) * probeX).sum().Plus((Own(grads[1]) * probeG).sum());
        }
        else
        {
            var grads = autograd.grad([projected], [input.G], retain_graph: createGraph, create_graph: createGraph);
            divergence = (Own(grads[0]) * probeG).sum();
        }
        // the linear head's divergence from the data (its features are constants to autograd)
        if (network.LinearDivergence(input) is { } linear) divergence = divergence.Plus(linear.sum() * dgScalar);
        Tensor result = quadratic.add(divergence, two) * perParticle;
        GC.KeepAlive(dgScalar);
        GC.KeepAlive(dxScalar);
        GC.KeepAlive(two);
        GC.KeepAlive(perParticle);
        return result;
    }

    private static Tensor Rademacher(long[] shape, ref RandomStream random)
    {
        long size = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[size];
        for (long i = 0; i < size; i += 64)
        {
            ulong bits = random.NextUInt64();
            for (int k = 0; k < 64 && i + k < size; k++) values[i + k] = ((bits >> k) & 1) == 0 ? -1f : 1f;
        }
        return tensor(values, shape);
    }

    private static ScoreInput BuildInput(LocalScoreNetwork network, ScoreData data, int[] snapshots, LocalNeighbours neighbours,
        AoupParameters parameters, bool gradients, bool noisyX)
    {
        int n = data.Particles, k = network.Shape.Neighbours + 1, b = snapshots.Length;
        var g = new float[b * n * 2];
        var centred = network.Trapped ? new float[b * n * 2] : null;
        var index = new long[b * n * k];
        var displacement = new float[b * n * k * 2];
        var mask = new float[b * n * k];
        for (int c = 0; c < b; c++)
        {
            int t = snapshots[c];
            ReadOnlySpan<double> x = data.PositionsOf(t), gt = data.GOf(t);
            for (int i = 0; i < 2 * n; i++) g[c * 2 * n + i] = (float)gt[i];
            if (centred is not null)
                for (int i = 0; i < 2 * n; i++) centred[c * 2 * n + i] = (float)x[i];
            neighbours.Build(x, network.Shape.Cutoff, data.Box);
            Array.Copy(neighbours.Index, 0, index, c * n * k, n * k);
            Array.Copy(neighbours.Displacement, 0, displacement, c * n * k * 2, n * k * 2);
            Array.Copy(neighbours.Mask, 0, mask, c * n * k, n * k);
        }
        float[]? force = null;
        if (network.Shape.ForceInput)
        {
            if (data.InteractionForces is null) throw new InvalidInputException("this score network reads the pair forces F_i; the data carry none (non-interacting model?).");
            force = new float[b * n * 2];
            double scale = parameters.V0 != 0 ? 1 / parameters.V0 : 1;
            for (int c = 0; c < b; c++)
            {
                ReadOnlySpan<double> f = data.InteractionForces.AsSpan(snapshots[c] * n * 2, n * 2);
                for (int i = 0; i < 2 * n; i++) force[c * 2 * n + i] = (float)(scale * f[i]);
            }
        }
        float[]? contacts = null;
        if (network.Shape.ContactInput)
        {
            if (data.Contacts is null) throw new InvalidInputException("this score network reads the contact fields; the data carry none (non-interacting model?).");
            int columns = ScoreData.ContactColumns;
            contacts = new float[b * n * columns];
            for (int c = 0; c < b; c++)
                for (int i = 0; i < n * columns; i++) contacts[c * n * columns + i] = (float)data.Contacts[(long)snapshots[c] * n * columns + i];
        }
        Tensor? basis = null, basisDivergence = null;
        int features = network.Shape.LinearFeatures;
        if (features > 0)
        {
            if (data.Basis is null || data.BasisDivergence is null || data.BasisFeatures != features)
                throw new InvalidInputException($"this score network has a linear head over {features} features of the particle basis; the data carry {data.BasisFeatures}.");
            var values = new float[(long)b * n * 2 * features];
            var divergences = new float[(long)b * n * 2 * features];
            for (int c = 0; c < b; c++)
            {
                Array.Copy(data.Basis, (long)snapshots[c] * n * 2 * features, values, (long)c * n * 2 * features, n * 2 * features);
                Array.Copy(data.BasisDivergence, (long)snapshots[c] * n * 2 * features, divergences, (long)c * n * 2 * features, n * 2 * features);
            }
            basis = tensor(values, [b, n, 2, features]);
            basisDivergence = tensor(divergences, [b, n, 2, features]);
        }
        Tensor gTensor = tensor(g, [b, n, 2]);
        if (gradients) gTensor.requires_grad_(true);
        Tensor shift = zeros(b, n, 2);
        if (gradients && noisyX) shift.requires_grad_(true);
        return new ScoreInput(gTensor, shift, centred is null ? null : tensor(centred, [b, n, 2]), tensor(displacement, [b, n, k, 2]),
            tensor(index, [b, n * k]), tensor(mask, [b, n, k]), force is null ? null : tensor(force, [b, n, 2]),
            contacts is null ? null : tensor(contacts, [b, n, ScoreData.ContactColumns]), basis, basisDivergence);
    }

    private static EntropyProductionMap Map(double[] positions, double box, int n, int snapshots, float[] rates, int cells)
    {
        double origin, width;
        if (box > 0)
        {
            (origin, width) = (0, box);
        }
        else
        {
            double reach = 0;
            foreach (double v in positions) reach = Math.Max(reach, Math.Abs(v));
            (origin, width) = (-reach, 2 * reach * (1 + 1e-9) + 1e-12);
        }
        var sum = new double[cells * cells];
        var count = new long[cells * cells];
        for (int t = 0; t < snapshots; t++)
        {
            ReadOnlySpan<double> x = positions.AsSpan(t * n * ScoreData.Dimension, n * ScoreData.Dimension);
            for (int i = 0; i < n; i++)
            {
                double px = x[2 * i] - origin, py = x[2 * i + 1] - origin;
                if (box > 0)
                {
                    px -= box * Math.Floor(px / box);
                    py -= box * Math.Floor(py / box);
                }
                int cx = Math.Clamp((int)(px / width * cells), 0, cells - 1), cy = Math.Clamp((int)(py / width * cells), 0, cells - 1);
                sum[cy * cells + cx] += rates[t * n + i];
                count[cy * cells + cx]++;
            }
        }
        double area = width / cells * (width / cells);
        var mean = new double[cells * cells];
        var density = new double[cells * cells];
        for (int c = 0; c < mean.Length; c++)
        {
            mean[c] = count[c] == 0 ? double.NaN : sum[c] / count[c];
            density[c] = count[c] / area / snapshots;
        }
        return new EntropyProductionMap(cells, origin, width, mean, density);
    }
}
