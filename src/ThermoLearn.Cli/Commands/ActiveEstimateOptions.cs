using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.IO;
using ThermoLearn.Neural.ActiveMatter;
using ThermoLearn.Statistics;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn estimate --in SNAPSHOTS.h5|.npy --method current|identity|score [--blocks B] [--local FILE.csv] [--regions FILE.csv]
/// [--plot FILE.png|svg] [--score-steps S] [--score-centres C] [--score-lr R] [--score-linear] [--score-validation F] [--held-out F] [--save-model FILE | --load-model FILE] [--json]</c> on active-matter snapshots: the whole system's EP rate sigma with its
/// standard error, sigma / N, the x and g parts, the exact value where a closed form applies, and for
/// <c>--method current</c> the local maps (per particle as CSV and as a figure of particles coloured by their EP;
/// per region as CSV). Flags that belong to trajectory ensembles are rejected. With <c>--method score</c>, <c>--save-model</c> writes
/// the trained network and the model it was trained on (<see cref="ScoreModel"/>), and <c>--load-model</c> applies such a network
/// unchanged to every snapshot of the input (N may differ from the training data; any parameter that changes the score is refused).
/// </summary>
internal sealed class ActiveEstimateOptions
{
    private readonly Option<int> _blocks = new("--blocks") { Description = "Snapshots files: contiguous blocks for the standard error (block averaging / jackknife; at most one a snapshot: fewer snapshots give fewer blocks, reported as JSON blocks, with a warning).", DefaultValueFactory = _ => BlockStatistics.DefaultBlocks };
    private readonly Option<string?> _local = new("--local") { Description = "Snapshot files, --method current|score: CSV of each particle's local EP rate (time average and at the last snapshot) with its position (x, y, and z in 3-D); no error bars. The JSON names it (local_file), and thermolearn report draws it." };
    private readonly Option<string?> _regions = new("--regions") { Description = "Snapshot files, --method current|score: CSV of the EP rate per unit area on a 16 x 16 grid over the box (in 3-D over its projection onto (x, y): ep_rate_per_projected_area); no error bars. The JSON names it (regions_file), and thermolearn report draws it." };
    private readonly Option<int> _scoreSteps = new("--score-steps") { Description = "Snapshot files, --method score: Adam steps of the score network (default 2000; 0 with --score-linear at eps = 0: the closed-form linear head alone, its training frames read in chunks, never held).", DefaultValueFactory = _ => 2000 };
    private readonly Option<int> _scoreCentres = new("--score-centres") { Description = "Snapshot files, --method score: train on this many particles' neighbourhoods per step, drawn across the training snapshots (default 0: whole snapshots).", DefaultValueFactory = _ => 0 };
    private readonly Option<double?> _scoreLr = new("--score-lr") { Description = "Snapshot files, --method score: initial Adam learning rate of the score network (cosine decay to 1% of it; default 2e-3)." };
    private readonly Option<bool> _scoreLinear = new("--score-linear") { Description = "Snapshot files, --method score: add a linear head over the current estimator's particle basis and start training at its closed-form score-matching fit." };
    private readonly Option<double> _scoreValidation = new("--score-validation") { Description = "Snapshot files, --method score: fraction of the training snapshots (the last ones) kept out of the steps to pick the checkpoint with the lowest validation loss (default 0: keep the last weights).", DefaultValueFactory = _ => 0 };
    private readonly Option<double?> _scoreRidge = new("--score-ridge") { Description = "Snapshot files, --method score with --score-linear: the linear head's relative ridge lambda, theta = -(M + lambda diag M)^-1 c (default: chosen on the validation snapshots, 0 without them)." };
    private readonly Option<double> _heldOut = new("--held-out") { Description = "Snapshot files, --method score: fraction of the snapshots (the last ones) kept out of training and scored (default 0.5).", DefaultValueFactory = _ => 0.5 };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _blocks, _local, _regions, _scoreSteps, _scoreCentres, _scoreLr, _scoreLinear, _scoreValidation, _scoreRidge, _heldOut }) command.Add(o);
    }

    /// <summary>Whether a training flag of the score network was given.</summary>
    private bool Training(ParseResult parse) => parse.GetResult(_scoreSteps) is { Implicit: false } || parse.GetResult(_scoreCentres) is { Implicit: false }
        || parse.GetResult(_scoreLr) is not null || parse.GetResult(_heldOut) is { Implicit: false } || parse.GetValue(_scoreLinear)
        || parse.GetResult(_scoreValidation) is { Implicit: false } || parse.GetResult(_scoreRidge) is not null;

    /// <summary>Bad input when a snapshot-only flag is given for trajectory data.</summary>
    public void RejectFor(ParseResult parse)
    {
        if (parse.GetValue(_local) is not null || parse.GetValue(_regions) is not null || parse.GetResult(_blocks) is { Implicit: false }
            || Training(parse))
            throw new InvalidInputException("--local, --regions, --blocks, --score-steps, --score-centres, --score-lr, --score-linear, --score-validation, --score-ridge and --held-out belong to active-matter snapshot files (thermolearn simulate --model aoup).");
    }

    public int Run(ParseResult parse, CliConsole console, string inPath, string method, string? plotPath, bool json, Option[] trajectoryOnly,
        string? saveModel, string? loadModel, Option<ulong> seedOption)
    {
        foreach (var option in trajectoryOnly)
            if (parse.GetResult(option) is { Implicit: false })
                throw new InvalidInputException($"{option.Name} does not apply to active-matter snapshots; their options are --method current|identity|score, --blocks, --local, --regions, --plot, --score-steps, --score-centres, --score-lr, --score-linear, --score-validation, --score-ridge, --held-out, --save-model, --load-model.");
        method = method.Trim().ToLowerInvariant();
        if (method is not ("current" or "identity" or "score"))
            throw new InvalidInputException($"--method {method} is not available for active-matter snapshots; use current, identity or score.");
        int scoreSteps = parse.GetValue(_scoreSteps);
        double heldOut = parse.GetValue(_heldOut);
        int scoreCentres = parse.GetValue(_scoreCentres);
        if (scoreCentres < 0) throw new InvalidInputException($"--score-centres must be 0 (whole snapshots) or positive, got {scoreCentres}.");
        double? scoreLr = parse.GetValue(_scoreLr);
        if (scoreLr is { } lr && (!(lr > 0) || !double.IsFinite(lr))) throw new InvalidInputException($"--score-lr must be positive and finite, got {lr}.");
        double validation = parse.GetValue(_scoreValidation);
        if (!(validation >= 0 && validation < 1)) throw new InvalidInputException($"--score-validation must be in [0, 1), got {validation}.");
        double? ridge = parse.GetValue(_scoreRidge);
        if (ridge is { } r && (!(r >= 0) || !double.IsFinite(r))) throw new InvalidInputException($"--score-ridge must be non-negative and finite, got {r}.");
        if (ridge is not null && !parse.GetValue(_scoreLinear)) throw new InvalidInputException("--score-ridge sets the ridge of the linear head; give --score-linear with it.");
        if (method != "score" && Training(parse))
            throw new InvalidInputException("--score-steps, --score-centres, --score-lr, --score-linear, --score-validation, --score-ridge and --held-out belong to --method score.");
        if (method != "score" && (saveModel is not null || loadModel is not null))
            throw new InvalidInputException($"--save-model and --load-model on snapshot files belong to --method score (got --method {method}).");
        // The seed drives the score network's training only (weights, snapshot order, Hutchinson probes); the identity, the
        // current estimator and a loaded network's evaluation draw no numbers from it, so a seed given there would be ignored.
        ulong seed = parse.GetValue(seedOption);
        if (parse.GetResult(seedOption) is { Implicit: false } && (method != "score" || loadModel is not null))
            throw new InvalidInputException(method != "score"
                ? $"--seed drives the training of --method score; --method {method} on snapshots draws no random numbers."
                : "--seed drives the training of --method score; --load-model evaluates a trained network and draws nothing from it.");
        if (loadModel is not null)
        {
            if (saveModel is not null) throw new InvalidInputException("--load-model and --save-model together would only copy the file; give one of them.");
            if (Training(parse))
                throw new InvalidInputException("--score-steps, --score-centres, --score-lr, --score-linear, --score-validation, --score-ridge and --held-out set up training; --load-model scores every snapshot with a trained network: give one or the other.");
            if (!File.Exists(loadModel)) throw new InvalidInputException($"--load-model {loadModel}: no such file.");
        }
        if (saveModel is not null)
        {
            SimulateCommand.CheckWritable(saveModel);
            if (Path.GetFullPath(saveModel) == Path.GetFullPath(inPath)) throw new InvalidInputException("--save-model names the input file; give another name.");
        }
        string? localPath = parse.GetValue(_local), regionsPath = parse.GetValue(_regions);
        int blocks = parse.GetValue(_blocks);
        const int threads = -1;   // all cores: the numbers do not depend on the thread count
        if (blocks < 2) throw new InvalidInputException($"--blocks must be at least 2 (got {blocks}).");
        if (plotPath is not null) PlotFile.Validate(plotPath);
        foreach (var path in new[] { localPath, regionsPath })
            if (path is not null)
            {
                SimulateCommand.CheckWritable(path);
                if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) throw new InvalidInputException($"{path}: local maps are written as CSV; give a name ending in .csv.");
                if (method == "identity") throw new InvalidInputException("--local and --regions need --method current or score (the identity gives the total only).");
            }
        var snapshots = ActiveSnapshotFile.Read(inPath);
        var model = snapshots.Model;
        // eps = 0: the identity's summand at every frame, for the identity itself, the learned estimates' comparison and the stationarity check
        double[]? identitySeries = IdentityEntropyProduction.Holds(model) ? IdentityEntropyProduction.PerSnapshot(snapshots, threads) : null;
        ManyBodyEntropyEstimate estimate;
        ManyBodyCurrentEstimateResult? current = null;
        ScoreFit? score = null;
        double learningRate = double.NaN;
        ScoreEstimate? scoreEstimate = null;
        ScoreModelInfo? loaded = null;
        LocalEntropyMaps? maps = null;
        if (method == "identity")
            estimate = identitySeries is null ? IdentityEntropyProduction.Estimate(snapshots, blocks, threads) : IdentityEntropyProduction.Estimate(model, identitySeries, blocks);
        else if (method == "score" && loadModel is not null)
        {
            using var saved = ScoreModel.Load(loadModel);
            loaded = saved.Info;
            try
            {
                scoreEstimate = saved.Evaluate(snapshots, progress: new ProgressReporter(console, "score (loaded network) scoring the snapshots"), blocks: blocks);
            }
            catch (InvalidInputException e)
            {
                throw new InvalidInputException($"--load-model {loadModel}: {e.Message}", e);
            }
            estimate = ScoreSnapshots.AsManyBody(scoreEstimate);
            maps = ScoreSnapshots.Maps(scoreEstimate, snapshots.Frames - 1);
        }
        else if (method == "score")
        {
            var settings = ScoreSnapshots.DefaultSettings(model) with { Steps = scoreSteps, HeldOutFraction = heldOut, Seed = seed, CentresPerStep = scoreCentres };
            if (scoreLr is { } rate) settings = settings with { LearningRate = rate };
            if (parse.GetValue(_scoreLinear)) settings = settings with { Shape = settings.Shape with { LinearFeatures = ScoreSnapshots.LinearFeatures(model) } };
            settings = settings with { ValidationFraction = validation, Ridge = ridge, Blocks = blocks };
            learningRate = settings.LearningRate;
            var reporter = new ProgressReporter(console, "score training");
            score = ScoreSnapshots.Fit(snapshots, settings, new SynchronousProgress<(int Step, int Steps, double Loss)>(p =>
                reporter.Report((double)p.Step / p.Steps, $"step {p.Step}/{p.Steps}, loss {p.Loss:G5} (then the held-out snapshots are scored)")),
                scoring: new ProgressReporter(console, "score: scoring the held-out snapshots"));
            scoreEstimate = score.Estimate;
            estimate = ScoreSnapshots.AsManyBody(score.Estimate);
            maps = ScoreSnapshots.Maps(score.Estimate, snapshots.Frames - 1);
            if (saveModel is not null) ScoreModel.Save(saveModel, score.Network, ScoreModelInfo.For(model, settings, score.Estimate.TrainingSnapshots, score.Training.LinearRidge));
        }
        else
        {
            current = CurrentEntropyProduction.Estimate(snapshots,
                new CurrentEstimatorOptions { Blocks = blocks, MaxDegreeOfParallelism = threads, Progress = new ProgressReporter(console, "current") });
            estimate = current.Estimate;
            maps = current.Maps;
        }
        var exact = ActiveEntropyReferences.For(model);
        // eps = 0: the identity is exact up to sampling error on any frames, so every learned estimate is set against it on the
        // frames it was scored on (all of them for the current estimator, the held-out ones for the score)
        MeanEstimate identity = default;
        IdentityComparison? versus = null, heldOutVersus = null;
        int identityFirst = 0;
        StationarityCheck? stationarity = null;
        if (identitySeries is not null)
        {
            identityFirst = snapshots.Frames - (scoreEstimate?.Snapshots ?? snapshots.Frames);
            if (method != "identity")
            {
                identity = IdentityEntropyProduction.OnFrames(identitySeries, identityFirst, blocks);
                versus = IdentityComparison.Of(Compared(estimate).Value, estimate.StandardError, identity);
                if (current is not null) heldOutVersus = IdentityComparison.Of(current.HeldOut, current.HeldOutError, identity);
            }
            // a score trained here: its training frames against the held-out ones it was scored on; otherwise the two halves of the
            // frames the estimate covers
            stationarity = score is not null
                ? IdentityEntropyProduction.Stationarity(identitySeries, 0, identityFirst, blocks)
                : IdentityEntropyProduction.Stationarity(identitySeries, identityFirst, identityFirst + (snapshots.Frames - identityFirst) / 2, blocks);
        }
        // Observables that identity 4 does not hold fixed (a trap's spread, |g|^2), on the same two stretches, for every AOUP record
        int scoredFirst = snapshots.Frames - (scoreEstimate?.Snapshots ?? snapshots.Frames);
        var observableChecks = score is not null
            ? StationarityObservables.Check(snapshots, 0, scoredFirst, blocks)
            : StationarityObservables.Check(snapshots, scoredFirst, scoredFirst + (snapshots.Frames - scoredFirst) / 2, blocks);
        var warnings = FewerBlocks(blocks, estimate, versus is null ? null : identity, snapshots.Frames - identityFirst)
            .Concat(NotStationary(stationarity is null ? observableChecks : [stationarity, .. observableChecks]))
            .Concat(HeldOutSwamped(current?.HeldOutSwamping, current?.HeldOut ?? double.NaN, current?.HeldOutError ?? double.NaN))
            .Concat(CoarseSampling(current, snapshots.FrameDt)).ToList();
        if (localPath is not null && maps is not null) WriteLocal(localPath, snapshots, maps);
        if (regionsPath is not null && maps is not null) WriteRegions(regionsPath, maps, model.Dimension);
        if (plotPath is not null)
        {
            var values = maps?.SnapshotRates;
            string title = maps is null
                ? $"{model.Name} snapshot {snapshots.Frames - 1} (N = {model.Particles}, phi = {model.PackingFraction})"
                : $"local EP rate per particle, snapshot {snapshots.Frames - 1} (N = {model.Particles}, phi = {model.PackingFraction})";
            if (model.Dimension == 3) title += ", projected onto (x, y)";
            ActiveMatterPlots.Particles(snapshots, snapshots.Frames - 1, values, title, "local EP rate e_i", plotPath);
        }
        if (json)
        {
            var result = new JsonObject
            {
                ["quantity"] = "steady-state entropy production rate of the whole system (all particles), per unit time",
                ["ep_rate"] = JsonOutput.Number(estimate.Rate),
                ["stderr"] = JsonOutput.Number(estimate.StandardError),
                ["ep_rate_debiased"] = JsonOutput.Number(estimate.Debiased),
                ["ep_rate_per_particle"] = JsonOutput.Number(estimate.RatePerParticle),
                ["stderr_per_particle"] = JsonOutput.Number(estimate.StandardErrorPerParticle),
                ["ep_rate_x"] = JsonOutput.Number(estimate.RateX),
                ["ep_rate_g"] = JsonOutput.Number(estimate.RateG),
                ["method"] = estimate.Method,
                ["n_snapshots"] = estimate.Snapshots,
                ["particles"] = model.Particles,
                ["blocks"] = estimate.Blocks,
                ["blocks_asked"] = blocks,
                ["frame_dt"] = snapshots.FrameDt,
                ["model"] = model.Name,
                ["parameters"] = model.ToJson(),
                ["exact_ep_rate"] = exact?.Total,
                ["exact_ep_rate_x"] = exact?.X,
                ["exact_ep_rate_g"] = exact?.G,
                ["input"] = inPath,
            };
            // the maps' sidecars, so that thermolearn report draws them
            if (localPath is not null && maps is not null) result["local_file"] = localPath;
            if (regionsPath is not null && maps is not null) result["regions_file"] = regionsPath;
            if (exact is { } reference)
            {
                // as the trajectory estimates name it: the exact value is of the same quantity; then which value is set against
                // it, and the difference with its error (as difference_from_identity)
                var (of, value) = Compared(estimate);
                result["exact_comparison"] = "same quantity";
                result["exact_compared"] = of;
                result["difference_from_exact"] = JsonOutput.Number(value - reference.Total);
                result["difference_from_exact_stderr"] = JsonOutput.Number(estimate.StandardError);
                result["difference_from_exact_relative"] = JsonOutput.Number(reference.Total != 0 ? value / reference.Total - 1 : double.NaN);
                var agreement = Agreement.Of(value, reference.Total, estimate.StandardError);
                result["difference_from_exact_z"] = JsonOutput.Number(agreement.Z);
                result["exact_equal_to_rounding"] = agreement.EqualToRounding;
            }
            if (versus is not null)
            {
                result["identity_ep_rate"] = identity.Mean;
                result["identity_stderr"] = identity.StandardError;
                result["identity_frames"] = new JsonArray(identityFirst, snapshots.Frames - 1);
                result["identity_blocks"] = identity.Count;
                result["identity_compared"] = Compared(estimate).Of;
                result["difference_from_identity"] = JsonOutput.Number(versus.Difference);
                result["difference_from_identity_stderr"] = JsonOutput.Number(versus.DifferenceError);
                result["ratio_to_identity"] = JsonOutput.Number(versus.Ratio);
                result["ratio_to_identity_stderr"] = JsonOutput.Number(versus.RatioError);
                if (heldOutVersus is not null)
                {
                    result["heldout_ratio_to_identity"] = JsonOutput.Number(heldOutVersus.Ratio);
                    result["heldout_ratio_to_identity_stderr"] = JsonOutput.Number(heldOutVersus.RatioError);
                }
            }
            if (stationarity is { } st)
            {
                result["stationarity"] = new JsonObject
                {
                    ["quantity"] = "identity 4 on two stretches of the record (the halves of the frames compared, or a trained score's training and held-out frames): equal in a steady state, |z| <= 3",
                    ["frames"] = new JsonArray(new JsonArray(st.First, st.Second - 1), new JsonArray(st.Second, st.Last)),
                    ["identity"] = new JsonArray(st.FirstStretch.Mean, st.SecondStretch.Mean),
                    ["stderr"] = new JsonArray(st.FirstStretch.StandardError, st.SecondStretch.StandardError),
                    ["difference"] = st.Difference,
                    ["difference_stderr"] = st.Error,
                    ["relative_difference"] = JsonOutput.Number(st.RelativeDifference),
                    ["z"] = JsonOutput.Number(st.Z),
                    ["difference_stderr_reference"] = JsonOutput.Number(st.ReferenceError),
                    ["z_reference"] = JsonOutput.Number(st.ReferenceZ),
                    ["differs"] = st.Differs,
                    ["equal_to_rounding"] = st.EqualToRounding,
                };
            }
            if (observableChecks.Count > 0)
                result["stationarity_observables"] = new JsonArray([.. observableChecks.Select(c => (JsonNode)new JsonObject
                {
                    ["observable"] = c.Observable,
                    ["frames"] = new JsonArray(new JsonArray(c.First, c.Second - 1), new JsonArray(c.Second, c.Last)),
                    ["mean"] = new JsonArray(c.FirstStretch.Mean, c.SecondStretch.Mean),
                    ["stderr"] = new JsonArray(c.FirstStretch.StandardError, c.SecondStretch.StandardError),
                    ["difference"] = c.Difference,
                    ["difference_stderr"] = c.Error,
                    ["relative_difference"] = JsonOutput.Number(c.RelativeDifference),
                    ["z"] = JsonOutput.Number(c.Z),
                    ["difference_stderr_reference"] = JsonOutput.Number(c.ReferenceError),
                    ["z_reference"] = JsonOutput.Number(c.ReferenceZ),
                    ["differs"] = c.Differs,
                    ["equal_to_rounding"] = c.EqualToRounding,
                })]);
            if (current is not null)
            {
                result["ep_rate_heldout"] = JsonOutput.Number(current.HeldOut);
                result["stderr_heldout"] = JsonOutput.Number(current.HeldOutError);
                result["heldout_block_scores"] = JsonOutput.Array(current.HeldOutScores);
                if (current.HeldOutSwamping is { } sw)
                    result["heldout_swamped"] = new JsonObject
                    {
                        ["quantity"] = "blocks whose held-out score moves the mean of the scores by more than 3 standard errors of the rest, and the held-out rate without them",
                        ["blocks"] = new JsonArray([.. sw.Blocks.Select(b => (JsonNode)JsonValue.Create(b))]),
                        ["frames"] = new JsonArray([.. sw.Frames.Select(f => (JsonNode)new JsonArray(f.First, f.Last))]),
                        ["scores"] = JsonOutput.Array(sw.Scores),
                        ["ep_rate_heldout_without"] = JsonOutput.Number(sw.WithoutThem.Mean),
                        ["stderr_heldout_without"] = JsonOutput.Number(sw.WithoutThem.StandardError),
                    };
                result["ep_rate_lag1"] = JsonOutput.Number(current.RateLag1);
                result["ep_rate_lag2"] = JsonOutput.Number(current.RateLag2);
                result["features"] = new JsonArray(current.Features.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray());
                result["coefficients_x"] = JsonOutput.Array(current.CoefficientsX);
                result["coefficients_g"] = JsonOutput.Array(current.CoefficientsG);
                result["coefficient_errors_x"] = JsonOutput.Array(current.CoefficientErrorsX);
                result["coefficient_errors_g"] = JsonOutput.Array(current.CoefficientErrorsG);
            }
            if (scoreEstimate is not null)
            {
                result["ep_rate_plugin"] = scoreEstimate.PlugIn.Mean;
                result["stderr_plugin"] = scoreEstimate.PlugIn.StandardError;
                result["network"] = scoreEstimate.Network;
                result["score_matching_loss"] = scoreEstimate.ScoreMatchingLoss;
            }
            if (loaded is not null)
            {
                result["loaded_model"] = new JsonObject
                {
                    ["file"] = loadModel,
                    ["trained_particles"] = loaded.Particles,
                    ["trained_box"] = loaded.Box,
                    ["training_snapshots"] = loaded.TrainingSnapshots,
                    ["training_steps"] = loaded.Steps,
                    ["linear_ridge"] = loaded.LinearRidge,
                };
            }
            if (score is not null)
            {
                result["training_snapshots"] = score.Estimate.TrainingSnapshots;
                result["training_steps"] = score.Training.Steps;
                result["centres_per_step"] = scoreCentres;
                result["seed"] = seed;
                result["learning_rate"] = learningRate;
                result["training_wall_seconds"] = score.Training.WallSeconds;
                result["training_cpu_seconds"] = score.Training.CpuSeconds;
                result["best_step"] = score.Training.BestStep;
                if (score.Training.Validation.Count > 0)
                {
                    result["validation_steps"] = new JsonArray(score.Training.Validation.Select(v => (JsonNode?)JsonValue.Create(v.Step)).ToArray());
                    result["validation_loss"] = JsonOutput.Array(score.Training.Validation.Select(v => v.Loss).ToArray());
                }
                if (double.IsFinite(score.Training.LinearLoss))
                {
                    result["linear_start_loss"] = score.Training.LinearLoss;
                    result["linear_start_ridge"] = score.Training.LinearRidge;
                }
                if (saveModel is not null) result["saved_model"] = saveModel;
            }
            if (EstimateWarning.Json(warnings) is { } list) result["warnings"] = list;
            JsonOutput.Write(console, result);
        }
        else
        {
            console.Out.WriteLine($"EP rate of the whole system ({model.Particles} particles), --method {estimate.Method}: {estimate.Rate:G6} +- {estimate.StandardError:G3} "
                + $"(per particle {estimate.RatePerParticle:G6} +- {estimate.StandardErrorPerParticle:G3}; x part {estimate.RateX:G6}, g part {estimate.RateG:G6}; {estimate.Snapshots} snapshots, "
                + $"error from {estimate.Blocks} blocks)");
            if (current is not null)
                console.Out.WriteLine($"held-out EP rate (the force fitted on {blocks - 1} of {blocks} blocks, scored on the other; a lower bound up to its error): "
                    + $"{current.HeldOut:G6} +- {current.HeldOutError:G3} (per particle {current.HeldOut / model.Particles:G6} +- {current.HeldOutError / model.Particles:G3})"
                    + (current.HeldOutSwamping is { } sw ? $"; without block{(sw.Blocks.Length > 1 ? "s" : "")} {string.Join(", ", sw.Blocks)}, which swamp{(sw.Blocks.Length > 1 ? "" : "s")} it: {sw.WithoutThem.Mean:G6} +- {sw.WithoutThem.StandardError:G3}" : ""));
            if (versus is not null)
            {
                string name = Compared(estimate).Of == "ep_rate" ? "estimate" : "jackknife-debiased estimate";
                string ratio = double.IsFinite(versus.Ratio) ? $"; {name} / identity = {versus.Ratio:F4} +- {versus.RatioError:F4}" : "";
                if (heldOutVersus is not null && double.IsFinite(heldOutVersus.Ratio)) ratio += $" (held out {heldOutVersus.Ratio:F4} +- {heldOutVersus.RatioError:F4})";
                console.Out.WriteLine($"identity (eps = 0: sigma = d A N - k E[sum_i div_i F_i], exact up to sampling error) on frames {identityFirst}..{snapshots.Frames - 1}: "
                    + $"{identity.Mean:G6} +- {identity.StandardError:G3}; {name} - identity = {versus.Difference:G4} +- {versus.DifferenceError:G3}{ratio} (errors combined as if independent)");
            }
            if (stationarity is { } st)
            {
                string verdict = st.Differs
                    ? $"they differ, by {100 * st.RelativeDifference:F2}% of the first: the record drifts, or fluctuates over longer than its blocks; the identity (and an estimate fitted on one stretch) describes a changing state to that extent"
                    : st.EqualToRounding ? "equal to rounding" : "no difference resolved";
                console.Out.WriteLine($"stationarity (identity 4 is sigma only in a steady state): frames {st.First}..{st.Second - 1} {st.FirstStretch.Mean:G6} +- {st.FirstStretch.StandardError:G3}, "
                    + $"frames {st.Second}..{st.Last} {st.SecondStretch.Mean:G6} +- {st.SecondStretch.StandardError:G3}; difference {st.Difference:G4} +- {st.Error:G3} "
                    + $"(z = {st.Z:F1}; {st.ReferenceZ:F1} against the second stretch's fluctuations; |z| <= {StationarityCheck.Threshold} and {StationarityCheck.ReferenceThreshold} in a steady state): {verdict}");
            }
            foreach (var c in observableChecks)
                console.Out.WriteLine($"stationarity of {c.Observable.Replace('_', ' ')}: frames {c.First}..{c.Second - 1} {c.FirstStretch.Mean:G6} +- {c.FirstStretch.StandardError:G3}, "
                    + $"frames {c.Second}..{c.Last} {c.SecondStretch.Mean:G6} +- {c.SecondStretch.StandardError:G3}; difference {c.Difference:G4} +- {c.Error:G3} "
                    + $"(z = {c.Z:F1}; {c.ReferenceZ:F1} against the second stretch's fluctuations; |z| <= {StationarityCheck.Threshold} and {StationarityCheck.ReferenceThreshold} in a steady state): "
                    + (c.Differs ? $"they differ, by {100 * c.RelativeDifference:F2}% of the first" : c.EqualToRounding ? "equal to rounding" : "no difference resolved"));
            if (exact is { } e)
            {
                var (of, value) = Compared(estimate);
                string name = of == "ep_rate" ? "estimate" : $"jackknife-debiased estimate {value:G6}";
                // the identity of a trap without interactions is d A N at every snapshot: the same number as the exact rate, with an
                // error of a few ulps, whose ratio is no z
                var agreement = Agreement.Of(value, e.Total, estimate.StandardError);
                string relative = e.Total != 0 ? $", {(value / e.Total - 1) * 100:F2}%" : "";
                string verdict = agreement.EqualToRounding || double.IsInfinity(agreement.Z) ? agreement.Verdict : $"{agreement.Z:F2} stderr{relative}";
                console.Out.WriteLine($"exact EP rate: {e.Total:G6} (x {e.X:G6}, g {e.G:G6}); {name} - exact = {value - e.Total:G4} ({verdict})");
            }
        }
        EstimateWarning.Print(console, warnings);
        if (score is not null)
        {
            var t = score.Training;
            console.Error.WriteLine($"score network {score.Estimate.Network}: {t.Steps} steps on {score.Estimate.TrainingSnapshots} snapshots in {t.WallSeconds:F0} s ({t.CpuSeconds:F0} CPU-s); "
                + $"plug-in form {score.Estimate.PlugIn.Mean:G6} +- {score.Estimate.PlugIn.StandardError:G3} on the {score.Estimate.Snapshots} held-out snapshots");
            score.Dispose();
        }
        else if (loaded is not null && scoreEstimate is not null)
        {
            console.Error.WriteLine($"score network {scoreEstimate.Network} from {loadModel} (trained on N = {loaded.Particles}, {loaded.TrainingSnapshots} snapshots, {loaded.Steps} steps) "
                + $"applied unchanged to all {scoreEstimate.Snapshots} snapshots of N = {model.Particles}; plug-in form {scoreEstimate.PlugIn.Mean:G6} +- {scoreEstimate.PlugIn.StandardError:G3}");
        }
        return CliApp.ExitOk;
    }

    /// <summary>
    /// A warning where a standard error came from fewer blocks than --blocks asked for: block averaging takes at most one block a
    /// snapshot, so a record of fewer snapshots than blocks (the identity and the score; the current estimator refuses it) has its
    /// error from one block a snapshot, which ignores the correlation between neighbouring snapshots.
    /// </summary>
    internal static IReadOnlyList<EstimateWarning> FewerBlocks(int asked, ManyBodyEntropyEstimate estimate, MeanEstimate? identity, int identitySnapshots)
    {
        var parts = new List<string>();
        if (estimate.Blocks < asked) parts.Add($"the estimate's standard error comes from {estimate.Blocks} blocks (its {estimate.Snapshots} snapshots)");
        if (identity is { } i && i.Count < asked) parts.Add($"that of the identity it is set against from {i.Count} (its {identitySnapshots} snapshots)");
        if (parts.Count == 0) return [];
        var fields = new JsonObject { ["blocks_asked"] = asked, ["blocks"] = estimate.Blocks };
        if (identity is { } id) fields["identity_blocks"] = id.Count;
        return [new EstimateWarning("fewer-blocks", $"--blocks {asked}: a block holds at least one snapshot, so {string.Join(", and ", parts)}; "
            + "one snapshot a block leaves out the correlation between neighbouring snapshots, so the error is too small where they are correlated: "
            + "record more snapshots or give fewer --blocks.", fields)];
    }

    /// <summary>
    /// A warning where a stationarity check (identity 4, a trap's mean squared position, the mean |g|^2) finds its two stretches
    /// different (|z| &gt; 3, or |z against the second stretch's fluctuations| &gt; 10; 0.3-1.5% for each check of a steady state): the record drifts (no burn-in, a system still
    /// ordering) or fluctuates over longer than its blocks, and every estimate here assumes a steady state.
    /// </summary>
    internal static IReadOnlyList<EstimateWarning> NotStationary(IReadOnlyList<StationarityCheck> checks)
    {
        var differing = checks.Where(c => c.Differs).ToList();
        if (differing.Count == 0) return [];
        string what = string.Join("; ", differing.Select(c => FormattableString.Invariant(
            $"{(c.Observable == StationarityCheck.Identity ? "identity 4" : c.Observable.Replace('_', ' '))} {c.FirstStretch.Mean:G4} on frames {c.First}..{c.Second - 1} against {c.SecondStretch.Mean:G4} on {c.Second}..{c.Last} (z = {c.Z:F1}, {c.ReferenceZ:F1} against the second stretch's fluctuations)")));
        var fields = new JsonObject { ["observables"] = new JsonArray([.. differing.Select(c => (JsonNode)JsonValue.Create(c.Observable)!)]) };
        return [new EstimateWarning("not-stationary", $"the record is not stationary: {what}; the estimates assume a steady state. "
            + "Discard the transient (simulate --burn-in, or keep the later frames) or record longer blocks.", fields)];
    }

    /// <summary>
    /// A warning where one block's held-out score (or a few) swamps the held-out rate (<see cref="HeldOutSwamping"/>): it names the
    /// blocks, their frames and scores, and gives the rate over the other blocks.
    /// </summary>
    internal static IReadOnlyList<EstimateWarning> HeldOutSwamped(HeldOutSwamping? swamping, double heldOut, double heldOutError)
    {
        if (swamping is not { } sw) return [];
        string blocks = string.Join(", ", sw.Blocks.Select((b, q) => FormattableString.Invariant($"block {b} (frames {sw.Frames[q].First}..{sw.Frames[q].Last}) scored {sw.Scores[q]:G4}")));
        var fields = new JsonObject
        {
            ["blocks"] = new JsonArray([.. sw.Blocks.Select(b => (JsonNode)JsonValue.Create(b))]),
            ["ep_rate_heldout_without"] = JsonOutput.Number(sw.WithoutThem.Mean),
            ["stderr_heldout_without"] = JsonOutput.Number(sw.WithoutThem.StandardError),
        };
        return [new EstimateWarning("heldout-swamped", FormattableString.Invariant($"the held-out rate {heldOut:G4} +- {heldOutError:G3} is swamped by {blocks}: ")
            + "a force fitted on the other blocks, where some feature hardly fires, extrapolates there. "
            + FormattableString.Invariant($"Over the other {sw.WithoutThem.Count} blocks it is {sw.WithoutThem.Mean:G4} +- {sw.WithoutThem.StandardError:G3}; a longer record, or fewer --blocks, puts more of each state in every fit."), fields)];
    }

    /// <summary>
    /// A warning where the frames are far apart for the current estimator. With sigma(dt) = sigma + a dt + b dt^2 + ..., the
    /// Richardson extrapolation 2 sigma(dt) - sigma(2 dt) removes a dt and leaves -2 b dt^2, which two lags cannot measure; where
    /// the correction sigma(dt) - sigma(2 dt) (= -a dt - 3 b dt^2) is above <see cref="Inference.CoarseSamplingCorrection.TrustedFraction"/> of the estimate (the
    /// linear estimators' rule) and
    /// beyond 3 of its standard errors, that remainder can exceed the error bar (64 trapped AOUPs, A = gamma = 1, eps = 0: frames
    /// 0.05 apart, correction 8.7%, estimate 128.9 +- 3.0 for 128; 0.2 apart, 25%, 115.5 +- 1.4, 9 stderr below).
    /// </summary>
    internal static IReadOnlyList<EstimateWarning> CoarseSampling(ManyBodyCurrentEstimateResult? current, double frameDt)
    {
        if (current is null || !double.IsFinite(current.RateLag2)) return [];
        double rate = current.Estimate.Rate, correction = current.RateLag1 - current.RateLag2;
        if (!(Math.Abs(correction) > Inference.CoarseSamplingCorrection.TrustedFraction * Math.Abs(rate) && Math.Abs(correction) > 3 * current.Estimate.StandardError)) return [];
        double share = Math.Abs(correction / rate);
        var fields = new JsonObject
        {
            ["ep_rate_lag1"] = JsonOutput.Number(current.RateLag1),
            ["ep_rate_lag2"] = JsonOutput.Number(current.RateLag2),
            ["correction_fraction"] = JsonOutput.Number(share),
            ["frame_dt"] = JsonOutput.Number(frameDt),
        };
        return [new EstimateWarning("coarse_sampling", FormattableString.Invariant(
            $"frames {frameDt:G4} apart are coarse for the current estimator: the rate is {current.RateLag1:G4} at lag 1 and {current.RateLag2:G4} at lag 2, so the ")
            + FormattableString.Invariant($"Richardson correction to dt -> 0 is {100 * share:F0}% of the estimate {rate:G4} +- {current.Estimate.StandardError:G3}; ")
            + "the O(dt^2) remainder it leaves can exceed the error bar. Record frames closer together (the correction shrinks in proportion).", fields)];
    }

    /// <summary>Each particle's local EP (time average and at the last snapshot) with its position there: x, y, and z in 3-D.</summary>
    private static void WriteLocal(string path, ActiveSnapshots s, LocalEntropyMaps maps)
    {
        int d = s.Model.Dimension;
        var text = new StringBuilder(d == 3 ? "particle,x,y,z,ep_rate_mean,ep_rate_snapshot\n" : "particle,x,y,ep_rate_mean,ep_rate_snapshot\n");
        for (int i = 0; i < s.Particles; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i}");
            for (int a = 0; a < d; a++) text.Append(CultureInfo.InvariantCulture, $",{s.Position(maps.SnapshotFrame, i, a):R}");
            text.Append(CultureInfo.InvariantCulture, $",{maps.ParticleRates[i]:R},{maps.SnapshotRates[i]:R}\n");
        }
        OutputFile.WriteText(path, text.ToString());
    }

    /// <summary>
    /// The grid map: EP per unit area of each cell of the (x, y) grid. In 3-D the grid is that of the projection onto (x, y): a
    /// cell holds the EP of its whole column along z per unit of its area, and the column says so (a 16^3 grid of a few hundred
    /// particles would leave most cells empty).
    /// </summary>
    private static void WriteRegions(string path, LocalEntropyMaps maps, int dimension)
    {
        var text = new StringBuilder(dimension == 3 ? "x_centre,y_centre,ep_rate_per_projected_area\n" : "x_centre,y_centre,ep_rate_per_area\n");
        for (int by = 0; by < maps.Bins; by++)
            for (int bx = 0; bx < maps.Bins; bx++)
                text.Append(CultureInfo.InvariantCulture, $"{maps.RegionOrigin + (bx + 0.5) * maps.RegionBin:R},{maps.RegionOrigin + (by + 0.5) * maps.RegionBin:R},{maps.RegionRates[by * maps.Bins + bx]:R}\n");
        OutputFile.WriteText(path, text.ToString());
    }

    /// <summary>
    /// The value set against an exact rate, against identity 4 and, in active-sweep, against other runs: the jackknife-debiased rate
    /// where the estimator has a finite-data bias (the current estimator: its in-sample rate J^T M^-1 J is biased upwards by about one
    /// noise quadratic per feature, which at sigma = 0, reference 3, is several standard errors whatever the record's length), the
    /// rate itself otherwise. <c>Of</c> is its JSON name.
    /// </summary>
    internal static (string Of, double Value) Compared(ManyBodyEntropyEstimate estimate) =>
        estimate.Debiased != estimate.Rate && double.IsFinite(estimate.Debiased) ? ("ep_rate_debiased", estimate.Debiased) : ("ep_rate", estimate.Rate);
}
