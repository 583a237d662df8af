using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn estimate --in FILE [--dt DT] --method current|tur|jump|underdamped [--basis poly:2|fourier:K|rbf:M]
/// [--diffusion D|[[..]]|auto|auto-robust] [--windows K] [--time-degree K] [--joint] [--correction none|richardson|richardson2]
/// [--per-trajectory FILE.csv] [--bootstrap B] [--seed S] [--plot FILE.png] [--json]</c>, and for <c>--method neural-current|neep</c>
/// <c>[--hidden 2x64] [--epochs N] [--batch B] [--lr LR] [--folds K] [--threads T] [--save-model FILE | --load-model FILE]</c>
/// (<see cref="NeuralEstimateOptions"/>; JSON adds "training" with the per-epoch curves, --plot draws them): entropy production from trajectories
/// with a calibrated standard error. JSON keys: ep_rate, stderr, ep_rate_debiased, method, basis, n_frames, quantity (what ep_rate
/// estimates: <see cref="EstimatedQuantity"/>) (+ ep_rate_t with --windows; when the file's metadata names a catalogue model: exact_ep_rate,
/// the model's own value, exact_sampled_chain_ep_rate where known, and exact_of_quantity, the exact value of the estimate's own quantity).
/// Methods live in <see cref="EstimateMethods"/>.
/// </summary>
internal static class EstimateCommand
{
    /// <summary>The sigma(t) windows as `ep_rate_t` (with the model's exact rate at each window centre where known) and
    /// the fit used; one rendering shared by `estimate` and `reduce`.</summary>
    /// <summary>
    /// The estimate's quantity and, when the data name a catalogue model, its exact values (estimate and reduce): exact_ep_rate
    /// keeps its meaning (the model's own EP rate; stationary estimates only), exact_of_quantity is the exact value of the
    /// estimate's own quantity, the one it is compared with. Returns the exact reference (null: no model, or windows).
    /// </summary>
    internal static ExactReference? AddQuantityAndExact(JsonObject result, EntropyProductionEstimate e, ThermoLearn.Models.StochasticModel? model,
        int windows, double dt, double startTime)
    {
        result["quantity"] = e.Quantity?.Id;
        result["quantity_description"] = e.Quantity?.Description;
        if (model is null) return null;
        result["model"] = model.Name;
        result["exact_ep_rate"] = windows == 1 ? JsonOutput.Number(model.EntropyProductionRate(startTime)) : null;
        if (windows != 1) return null;
        var exact = ExactReference.For(model, dt, startTime);
        result["exact_ep_rate_quantity"] = exact.PerStep is not null ? "ep_per_step" : EstimatedQuantity.ContinuousRate.Id;
        if (exact.SampledChainRate is { } chain) result["exact_sampled_chain_ep_rate"] = JsonOutput.Number(chain);
        result["exact_of_quantity"] = exact.For(e.Quantity) is { } same ? JsonOutput.Number(same) : null;
        result["exact_comparison"] = exact.For(e.Quantity) is null ? "none: the model has no exact value of this quantity"
            : ExactReference.IsBound(e.Quantity) ? "lower bound: expect ep_rate <= exact_of_quantity" : "same quantity";
        return exact;
    }

    /// <summary>The text lines of <see cref="AddQuantityAndExact"/>'s exact values, with the estimate's distance from its own in standard errors.</summary>
    internal static void WriteExact(CliConsole console, ExactReference? exact, EntropyProductionEstimate e, ThermoLearn.Models.StochasticModel? model, double dt)
    {
        if (exact is null) return;
        if (exact.ContinuousRate is { } rate) console.Out.WriteLine($"exact continuous-time EP rate ({model!.Name}): {rate:G6}");
        if (exact.PerStep is { } step) console.Out.WriteLine($"exact EP per step ({model!.Name}, a discrete-time chain): {step:G6}");
        if (exact.SampledChainRate is { } chain) console.Out.WriteLine($"exact EP per unit time of the chain sampled every {dt:G4}: {chain:G6}");
        console.Out.WriteLine(exact.For(e.Quantity) is { } same
            ? $"compare with: {same:G6} ({(ExactReference.IsBound(e.Quantity) ? "a lower bound, expected at or below it" : "same quantity")}; "
                + $"difference {(e.Rate - same) / e.StandardError:+0.0;-0.0} stderr)"
            : "no exact value of this quantity for this model");
    }

    internal static void AddTimeSeries(JsonObject result, EntropyProductionTimeSeries series, ThermoLearn.Models.StochasticModel? model)
    {
        var list = new JsonArray();
        foreach (var w in series.Windows)
        {
            var item = new JsonObject
            {
                ["t"] = w.Centre, ["t_start"] = w.Start, ["t_end"] = w.End,
                ["ep_rate"] = JsonOutput.Number(w.Rate), ["stderr"] = JsonOutput.Number(w.StandardError), ["ep_rate_debiased"] = JsonOutput.Number(w.Debiased),
            };
            if (model?.EntropyProductionRate(w.Centre) is { } exact) item["exact_ep_rate"] = exact;
            list.Add(item);
        }
        result["ep_rate_t"] = list;
        result["fit"] = series.Fit;
    }

    /// <summary>Options that a method does not read: giving one is an error rather than silently ignored.</summary>
    private static readonly Dictionary<string, string[]> UnreadOptions = new()
    {
        ["tur"] = ["--diffusion", "--correction", "--time-degree", "--joint"],
        ["jump"] = ["--basis", "--diffusion", "--correction", "--time-degree", "--joint"],
        ["underdamped"] = ["--diffusion", "--correction", "--time-degree", "--joint"],
    };

    public static Command Create(CliConsole console)
    {
        var input = new InferenceInput();
        var method = new Option<string>("--method") { Description = "Estimator: " + string.Join("; ", EstimateMethods.All.Select(m => $"{m.Name} ({m.Description})")), DefaultValueFactory = _ => "current" };
        var basis = new Option<string>("--basis") { Description = "Basis: " + BasisSpec.Help + ".", DefaultValueFactory = _ => "poly:2" };
        var diffusion = new Option<string>("--diffusion") { Description = "Diffusion matrix: a number, JSON rows, auto (second cumulant) or auto-robust (measurement noise).", DefaultValueFactory = _ => "auto" };
        var windows = new Option<int>("--windows") { Description = "Non-stationary data: sigma(t) on K equal time windows.", DefaultValueFactory = _ => 1 };
        var timeDegree = new Option<int?>("--time-degree") { Description = "Legendre degree in time of the fields (default 1 with --windows, 4 with --joint or --per-trajectory on non-stationary data)." };
        var joint = new Option<bool>("--joint") { Description = "One joint (x, t) fit instead of a fit per window; sigma per window is then the plug-in <v^T D^-1 v>, which pools the whole record (smaller error bars, docs/inference.md)." };
        var correction = new Option<string>("--correction") { Description = "Coarse-sampling correction: richardson (lags 1, 2; default), richardson2 (lags 1-3) or none.", DefaultValueFactory = _ => "richardson" };
        var perTrajectory = new Option<string?>("--per-trajectory") { Description = "CSV of the per-trajectory total entropy production Delta s_tot (and the IFT check in the output)." };
        var plot = new Option<string?>("--plot") { Description = "Figure (.png/.svg): sigma(t) with the exact curve, or the local EP rate d^T D d of 2-D data." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var streaming = new StreamingOptions();
        var neuralOptions = new NeuralEstimateOptions();
        var active = new ActiveEstimateOptions();
        var command = new Command("estimate", "Estimate the entropy-production rate of trajectories, with a calibrated standard error.");
        input.AddTo(command);
        foreach (var o in new Option[] { method, basis, diffusion, windows, timeDegree, joint, correction, perTrajectory, plot, json }) command.Add(o);
        streaming.AddTo(command);
        neuralOptions.AddTo(command);
        active.AddTo(command);
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(input.In)!;
            if (ThermoLearn.ActiveMatter.ActiveSnapshotFile.IsSnapshotFile(inPath))
                return active.Run(parse, console, inPath, parse.GetValue(method)!, parse.GetValue(plot), parse.GetValue(json),
                    [basis, diffusion, windows, timeDegree, joint, correction, perTrajectory, input.Dt, input.Columns, input.Batches, input.Bootstrap]);
            active.RejectFor(parse);
            var m = EstimateMethods.Find(parse.GetValue(method)!);
            string? plotPath = parse.GetValue(plot), csvPath = parse.GetValue(perTrajectory);
            if (plotPath is not null) PlotFile.Validate(plotPath);
            var neural = neuralOptions.Parse(parse, m.Name, parse.GetValue(input.Seed), plotPath);
            if (neural is not null)
            {
                if (parse.GetResult(basis) is { Implicit: false })
                    throw new InvalidInputException($"--basis sets the linear basis; --method {m.Name} learns a network (set its size with --hidden).");
                if (parse.GetResult(timeDegree) is { Implicit: false } || parse.GetValue(joint))
                    throw new InvalidInputException($"--time-degree and --joint belong to the linear time basis; --method {m.Name} with --windows takes t as a network input.");
            }
            if (UnreadOptions.TryGetValue(m.Name, out var unread))
            {
                var given = command.Options.Where(o => unread.Contains(o.Name) && parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                if (given.Count > 0)
                    throw new InvalidInputException($"{string.Join(", ", given)} {(given.Count == 1 ? "is" : "are")} not used by --method {m.Name}; drop {(given.Count == 1 ? "it" : "them")} "
                        + "(--method current reads the basis, diffusion, time and correction options).");
            }
            if (csvPath is not null)
            {
                if (m.Name != "current") throw new InvalidInputException("--per-trajectory needs --method current.");
                SimulateCommand.CheckWritable(csvPath);
                if (!csvPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                    throw new InvalidInputException($"--per-trajectory {csvPath}: the file is CSV; give a name ending in .csv.");
            }
            int k = parse.GetValue(windows);
            if (k < 1) throw new InvalidInputException($"--windows must be >= 1 (got {k}).");
            if (k > 1 && !m.SupportsWindows) throw new InvalidInputException($"--windows is not available for --method {m.Name}; use --method current.");
            string correctionName = parse.GetValue(correction)!.Trim().ToLowerInvariant();
            int order = (CoarseSamplingCorrection.TryParse(correctionName)
                ?? throw new InvalidInputException($"--correction '{correctionName}': use {string.Join(", ", CoarseSamplingCorrection.All.Select(c => c.Name))}.")).Order;
            bool isJoint = parse.GetValue(joint);
            int degree = parse.GetValue(timeDegree) ?? (isJoint ? 4 : k > 1 ? 1 : 0);
            var errors = input.Errors(parse);
            // current, tur and jump stream the file through their sufficient statistics (memory bounded by --chunk-mb), and
            // --per-trajectory reads it once more; other methods and the plots need the data in memory
            bool streamed = StreamingOptions.Applies(m.Name, plotPath);
            streaming.Check(parse, streamed, m.Name);
            using var reader = streamed ? input.Open(parse, console) : null;
            var data = streamed ? null : input.Read(parse, console);
            var header = reader?.Header ?? new TrajectoryHeader(parse.GetValue(input.In)!, data!.Trajectories, data.Frames, data.Dimension, data.Dt, data.StartTime, data.Metadata);
            string? warning = order > 0 ? EulerChainWarning(parse.GetValue(input.In)!, header.Metadata, header.Dt) : null;
            if (warning is not null) console.Error.WriteLine("warning: " + warning);
            var spec = InferenceInput.Diffusion(parse.GetValue(diffusion)!, header.Dimension);
            var model = InferenceInput.KnownModel(header.Metadata);
            if (plotPath is not null && k == 1 && header.Dimension > 2 && m.Name == "current")
                throw new InvalidInputException($"--plot draws fields of 1-D or 2-D data or sigma(t) with --windows; these data have {header.Dimension} coordinates.");

            var outcome = reader is not null
                ? m.Name == "jump" ? EstimateMethods.Jump(JumpEntropyProduction.Analyse(reader, errors, streaming.ChunkValues(parse)))
                : streaming.Run(parse, input, reader, parse.GetValue(basis)!, new CurrentEstimateRequest(m.Name, spec, k, degree, isJoint, m.Name == "tur" ? 0 : order, errors))
                : m.Run(new EstimateContext(data!, parse.GetValue(basis)!, spec, k, degree, isJoint, order, errors, console,
                    parse.GetResult(correction) is { Implicit: false }, neural));
            using var fit = outcome.Neural;
            var e = outcome.Estimate;
            var result = new JsonObject
            {
                ["ep_rate"] = JsonOutput.Number(e.Rate),
                ["stderr"] = JsonOutput.Number(e.StandardError),
                ["ep_rate_debiased"] = JsonOutput.Number(e.Debiased),
                ["method"] = e.Method,
                ["basis"] = e.Basis,
                ["n_frames"] = e.Frames,
                ["n_transitions"] = e.Transitions,
                ["observed_time"] = JsonOutput.Number(e.ObservedTime),
                ["dt"] = header.Dt,
                ["errors"] = e.Settings.Errors,
                ["diffusion"] = JsonOutput.Array(e.Settings.Diffusion),
                ["diffusion_source"] = e.Settings.DiffusionSource,
                ["input"] = parse.GetValue(input.In),
            };
            if (warning is not null) result["warning"] = warning;
            if (outcome.Extra is { } extra)
                foreach (var (key, value) in extra) result[key] = value?.DeepClone();
            var exact = AddQuantityAndExact(result, e, model, k, header.Dt, header.StartTime);
            if (outcome.TimeSeries is { } series) EstimateCommand.AddTimeSeries(result, series, model);
            TrajectoryEntropyEstimate? trajectories = null;
            // outputs last, each atomic; a failure removes what this command already wrote
            var written = new List<string>();
            try
            {
                if (streaming.Write(parse, outcome) is { } statsPath) written.Add(statsPath);
                if (csvPath is not null)
                {
                    int perDegree = parse.GetValue(timeDegree) ?? (k > 1 || isJoint ? 4 : 0);
                    trajectories = PerTrajectory(csvPath, header.Metadata.FirstTrajectory, data, () => input.Open(parse), parse.GetValue(basis)!, spec, perDegree, errors,
                        streaming.ChunkValues(parse));
                    written.Add(csvPath);
                    result["per_trajectory"] = new JsonObject
                    {
                        ["file"] = csvPath,
                        ["time_degree"] = perDegree,
                        ["mean_delta_s_tot"] = JsonOutput.Number(trajectories.MeanTotalEntropy),
                        ["ift_mean_exp_minus_delta_s_tot"] = JsonOutput.Number(trajectories.ExpMinusMean),
                        ["ift_stderr"] = JsonOutput.Number(trajectories.ExpMinusStandardError),
                    };
                }
                if (fit is not null && parse.GetValue(neuralOptions.SaveModel) is { } modelPath)
                {
                    fit.Model.Save(modelPath);
                    written.Add(modelPath);
                }
                if (plotPath is not null)
                {
                    if (fit is not null)
                        InferencePlots.TrainingCurves(fit.Curves, $"training curve: {e.Method} {e.Basis}",
                            e.Method.StartsWith(Neural.Inference.NeuralMethods.Current, StringComparison.Ordinal) && k == 1 ? model?.EntropyProductionRate(header.StartTime) : null, plotPath);
                    else if (outcome.TimeSeries is { } s) InferencePlots.SigmaOfTime(s, model, plotPath);
                    else if (outcome.Force is { } force && header.Dimension == 2)
                        InferencePlots.Field2D(data!, force, e.Settings.Diffusion.ToArray(), "local EP rate d^T D d of the learned force", plotPath);
                    else if (outcome.Force is { } force1 && header.Dimension == 1)
                        InferencePlots.Field1D(data!, force1, "learned thermodynamic force d(x) = v/D", "d(x)", plotPath);
                    else throw new InvalidInputException($"--plot: method {m.Name} has no field or sigma(t) to draw; use --method current.");
                    written.Add(plotPath);
                }
            }
            catch
            {
                foreach (var path in written) { try { File.Delete(path); } catch (IOException) { } }
                throw;
            }
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            else
            {
                console.Out.WriteLine($"{e.Quantity?.Description ?? "EP rate"} ({e.Method}, {(e.Basis.Length > 0 ? e.Basis : "no basis")}): {e.Rate:G6} +- {e.StandardError:G3} "
                    + $"(debiased {e.Debiased:G6}; {e.Frames} frames, {e.Settings.Errors})");
                WriteExact(console, exact, e, model, header.Dt);
                if (outcome.Extra?["note"] is JsonValue note) console.Out.WriteLine($"note: {note}");
                foreach (var (key, label) in new[] { ("sampled_chain", "sampled chain"), ("richardson_lags_1_3", "sampled chain extrapolated over lags 1-3") })
                    if (outcome.Extra?[key] is JsonObject other && other["ep_rate"] is not null)
                        console.Out.WriteLine($"  {label} ({other["quantity"]}): {(double)other["ep_rate"]!:G6} +- {(double)other["stderr"]!:G3}");
                if (fit is not null)
                    foreach (var (c, i) in fit.Curves.Select((c, i) => (c, i)))
                        console.Out.WriteLine($"  fold {i + 1}: {c.ValidationLoss.Count} epochs, kept epoch {c.BestEpoch}"
                            + (c.ValidationLoss.Count > 0 ? $", held-out loss {c.ValidationLoss[^1]:G5}" : "") + (c.Diverged is not null ? ", DIVERGED" : ""));
                if (outcome.TimeSeries is { } s)
                    foreach (var w in s.Windows) console.Out.WriteLine($"  t in [{w.Start:G4}, {w.End:G4}): {w.Debiased:G6} +- {w.StandardError:G3}");
                if (trajectories is not null)
                    console.Out.WriteLine($"<exp(-Delta s_tot)> = {trajectories.ExpMinusMean:G6} +- {trajectories.ExpMinusStandardError:G3} (integral fluctuation theorem: 1)");
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// --per-trajectory: Delta s_tot of each trajectory into <paramref name="csvPath"/> (traj,delta_s_tot; traj counts from the
    /// file's first trajectory), written under a temporary name as the values come and renamed at the end. From the data in
    /// memory when the command holds them, else streamed from the file (two passes in chunks of <paramref name="chunkValues"/>;
    /// the same values bit for bit).
    /// </summary>
    private static TrajectoryEntropyEstimate PerTrajectory(string csvPath, long first, TrajectoryEnsemble? data, Func<TrajectoryReader> open, string basisSpec,
        DiffusionSpec spec, int degree, ErrorOptions errors, long chunkValues)
    {
        TrajectoryEntropyEstimate? estimate = null;
        AtomicFile.Write(csvPath, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            writer.Write("traj,delta_s_tot\n");
            void Row(long trajectory, double value)
            {
                writer.Write((first + trajectory).ToString(CultureInfo.InvariantCulture));
                writer.Write(',');
                writer.Write(value.ToString("R", CultureInfo.InvariantCulture));
                writer.Write('\n');
            }
            if (data is not null)
            {
                estimate = TrajectoryEntropy.Estimate(data, BasisSpec.Parse(basisSpec, data), spec, degree, errors);
                for (int i = 0; i < estimate.TotalEntropy.Count; i++) Row(i, estimate.TotalEntropy[i]);
            }
            else
            {
                IBasis basis;
                using (var reader = open()) basis = BasisSpec.Parse(basisSpec, reader.Header.Dimension, () => StreamingOptions.Range(open, chunkValues));
                estimate = TrajectoryEntropy.Estimate(open, basis, spec, degree, errors, chunkValues, (i, value) => Row(i, value));
            }
        });
        return estimate!;
    }

    /// <summary>
    /// The coarse-sampling correction assumes frames of a continuous process. Data that Euler-Maruyama wrote at every step
    /// are an Euler chain observed at its own step: the chain has no sampling bias there, so the correction over-corrects
    /// (3-bead chain at dt = 0.01: 1.612 +- 0.012 against the exact 1.543). Returns the advice, or null when the provenance
    /// does not say so.
    /// </summary>
    internal static string? EulerChainWarning(string path, TrajectoryEnsemble data) => EulerChainWarning(path, data.Metadata, data.Dt);

    internal static string? EulerChainWarning(string path, ThermoLearn.Trajectories.TrajectoryMetadata m, double dt)
    {
        var data = (Dt: dt, Metadata: m);
        if (m.Scheme != "euler-maruyama" || m.IntegrationDt is not { } step || Math.Abs(step - data.Dt) > 1e-9 * data.Dt) return null;
        string finer = (data.Dt / 10).ToString("G6", CultureInfo.InvariantCulture);
        return $"{path} was made by Euler-Maruyama with its step equal to the frame spacing (dt = {data.Dt.ToString("G6", CultureInfo.InvariantCulture)}); "
            + "an Euler chain has no coarse-sampling bias at its own step, so the coarse-sampling correction over-corrects. "
            + $"Estimate these data with --correction none, or simulate with a finer step (--dt {finer} --save-every 10) or, for a linear model, --scheme exact.";
    }
}
