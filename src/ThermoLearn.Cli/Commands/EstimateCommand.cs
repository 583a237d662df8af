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
/// [--diffusion D|[[..]]|auto|auto-robust] [--noise-robust (tur)] [--windows K] [--time-degree K] [--joint] [--correction none|richardson|richardson2]
/// [--per-trajectory FILE.csv] [--bootstrap B] [--seed S] [--plot FILE.png] [--json]</c>, and for <c>--method neural-current|neep</c>
/// <c>[--hidden 2x64] [--epochs N] [--batch B] [--lr LR] [--folds K] [--threads T] [--save-model FILE | --load-model FILE]</c>
/// (<see cref="NeuralEstimateOptions"/>; JSON adds "training" with the per-epoch curves, --plot draws them): entropy production from trajectories
/// with a calibrated standard error. JSON keys: ep_rate, stderr, ep_rate_debiased, method, basis, n_frames, quantity (what ep_rate
/// estimates: <see cref="EstimatedQuantity"/>) (+ ep_rate_t with --windows; when the file's metadata names a catalogue model: exact_ep_rate,
/// the model's own value, exact_sampled_chain_ep_rate where known, exact_of_quantity, the exact value of the estimate's own quantity, and
/// exact_difference_z, exact_verdict, exact_verdict_reason) (+ basis_check for current on stationary data, <see cref="BasisConvergence"/>)
/// (+ warnings, a list of {id, message, numbers}, when the data put the estimate's meaning in doubt; each is also on stderr).
/// Methods live in <see cref="EstimateRunners"/> (the library's in <see cref="Inference.EstimateMethods"/>, with the defaults); the command parses and
/// checks the options (Validate), runs the method (Run), and renders JSON, files and text (Json, WriteFiles, WriteText).
/// </summary>
internal static class EstimateCommand
{
    /// <summary>
    /// The estimate's quantity and, when the data name a catalogue model, its exact values (estimate and reduce): exact_ep_rate
    /// keeps its meaning (the model's own EP rate; stationary estimates only), exact_of_quantity is the exact value of the
    /// estimate's own quantity, the one it is compared with, exact_difference_z the distance from it in standard errors and
    /// exact_verdict what that distance says (<see cref="Verdict"/>). Returns the exact reference (null: no model, or windows).
    /// </summary>
    internal static ExactReference? AddQuantityAndExact(JsonObject result, EntropyProductionEstimate e, ThermoLearn.Models.StochasticModel? model,
        int windows, double dt, double startTime, EstimateOutcome? outcome = null)
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
        if (exact.For(e.Quantity) is { } value)
        {
            var (id, reason) = Verdict(e, value, outcome);
            result["exact_difference_z"] = JsonOutput.Number((e.Rate - value) / e.StandardError);
            result["exact_verdict"] = id;
            if (reason is not null) result["exact_verdict_reason"] = reason;
        }
        return exact;
    }

    /// <summary>Beyond this many standard errors from the exact value an estimate disagrees with it (false alarms 0.3% for a calibrated error).</summary>
    internal const double DisagreementStandardErrors = 3;

    /// <summary>
    /// What the distance z = (ep_rate - exact) / stderr says: "consistent" (|z| at most <see cref="DisagreementStandardErrors"/>), "below"
    /// or "above", with the reason where the method explains it. The current estimator with a finite basis is a variational lower bound on
    /// sigma (the projection of the thermodynamic force on the basis, <see cref="BasisConvergence"/>), so an estimate well below the exact
    /// rate says first of all that the basis does not span the force (mexican-hat swirl, poly:3: 1.90 +- 0.10 against 2.80, which the
    /// output used to call "same quantity" and nothing more); frames too far apart pull it down as well (the coarse_sampling warning).
    /// </summary>
    internal static (string Id, string? Reason) Verdict(EntropyProductionEstimate e, double exact, EstimateOutcome? outcome)
    {
        double z = (e.Rate - exact) / e.StandardError;
        if (!(Math.Abs(z) > DisagreementStandardErrors)) return ("consistent", null);
        if (z > 0) return ("above", null);
        bool current = e.Method == Inference.EstimateMethods.Current.Name || e.Method.StartsWith(Inference.EstimateMethods.Current.Name + "+", StringComparison.Ordinal);
        if (!current || e.Quantity != EstimatedQuantity.ContinuousRate || ExactReference.IsBound(e.Quantity)) return ("below", null);
        string checkText = outcome?.BasisCheck is { } check
            ? check.Short ? $"; the basis check's {check.RicherBasis} gains {check.Gain:G3} +- {check.GainStandardError:G2} over it"
                : $"; the basis check's {check.RicherBasis} gains only {check.Gain:G3} +- {check.GainStandardError:G2}, so either it misses the same part of the force (try another family, e.g. rbf:M) or the shortfall has another cause"
            : "";
        bool coarse = outcome?.Warnings.Any(w => w.Id == "coarse_sampling") == true;
        return ("below", $"below the exact value by {-z:F1} stderr: with a finite basis the current estimator is a variational lower bound on the EP rate "
            + $"(the projection of the thermodynamic force on the basis), and the first suspect is that {e.Basis} does not span the force{checkText}. Use a richer basis or --method neural-current"
            + (coarse ? "; frames too far apart pull the estimate down as well (the coarse_sampling warning)." : "."));
    }

    /// <summary>The text lines of <see cref="AddQuantityAndExact"/>'s exact values, with the estimate's distance from its own in standard errors.</summary>
    internal static void WriteExact(CliConsole console, ExactReference? exact, EntropyProductionEstimate e, ThermoLearn.Models.StochasticModel? model, double dt,
        EstimateOutcome? outcome = null)
    {
        if (exact is null) return;
        if (exact.ContinuousRate is { } rate) console.Out.WriteLine($"exact continuous-time EP rate ({model!.Name}): {rate:G6}");
        if (exact.PerStep is { } step) console.Out.WriteLine($"exact EP per step ({model!.Name}, a discrete-time chain): {step:G6}");
        if (exact.SampledChainRate is { } chain) console.Out.WriteLine($"exact EP per unit time of the chain sampled every {dt:G4}: {chain:G6}");
        console.Out.WriteLine(exact.For(e.Quantity) is { } same
            ? $"compare with: {same:G6} ({(ExactReference.IsBound(e.Quantity) ? "a lower bound, expected at or below it" : "same quantity")}; "
                + $"difference {(e.Rate - same) / e.StandardError:+0.0;-0.0} stderr)"
            : "no exact value of this quantity for this model");
        if (exact.For(e.Quantity) is { } value && Verdict(e, value, outcome).Reason is { } reason) console.Out.WriteLine("  " + reason);
    }

    /// <summary>The sigma(t) windows as `ep_rate_t` (with the model's exact rate at each window centre where known) and
    /// the fit used; one rendering shared by `estimate` and `reduce`.</summary>
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

    /// <summary>The flags of the inputs a method may not read: giving one to a method that does not read it is an error.</summary>
    private static readonly (EstimateInputs Input, string[] Flags)[] InputFlags =
    [
        (EstimateInputs.Basis, ["--basis"]),
        (EstimateInputs.Diffusion, ["--diffusion"]),
        (EstimateInputs.Correction, ["--correction"]),
        (EstimateInputs.TimeBasis, ["--time-degree", "--joint"]),
        (EstimateInputs.NoiseRobust, ["--noise-robust"]),
    ];

    /// <summary>The options of <c>estimate</c> on trajectory data (the snapshot options are <see cref="ActiveEstimateOptions"/>).</summary>
    private sealed class Options
    {
        public InferenceInput Input { get; } = new();
        public Option<string> Method { get; } = new("--method") { Description = "Estimator: " + string.Join("; ", EstimateRunners.All.Select(m => $"{m.Name} ({m.Help})")), DefaultValueFactory = _ => Inference.EstimateMethods.Default.Name };
        public Option<string> Basis { get; } = new("--basis") { Description = "Basis: " + BasisSpec.Help + ".", DefaultValueFactory = _ => Inference.EstimateMethods.DefaultBasis };
        public Option<string> Diffusion { get; } = new("--diffusion") { Description = "Diffusion matrix: a number, JSON rows, auto (drift-corrected second cumulant) or auto-robust (the same less white measurement noise on the positions, told from successive increments; with a polynomial or Fourier basis the current method's force fit is freed of the noise as well, and a Fourier basis' modes amplified more than 3-fold are warned as noise_amplification; with rbf bases it keeps it; current and tur report the noise's covariance as measurement_noise).", DefaultValueFactory = _ => Inference.EstimateMethods.DefaultDiffusion };
        public Option<int> Windows { get; } = new("--windows") { Description = "Non-stationary data: sigma(t) on K equal time windows.", DefaultValueFactory = _ => 1 };
        public Option<int?> TimeDegree { get; } = new("--time-degree") { Description = "Legendre degree in time of the fields (default 1 with --windows, 4 with --joint or --per-trajectory on non-stationary data)." };
        public Option<bool> Joint { get; } = new("--joint") { Description = "One joint (x, t) fit instead of a fit per window; sigma per window is then the plug-in <v^T D^-1 v>, which pools the whole record (smaller error bars, docs/inference.md)." };
        public Option<string> BasisCheck { get; } = new("--basis-check")
        {
            Description = "--method current, stationary: refit in a richer basis on the same data (one more pass) and warn when it gains beyond doubt and beyond the error bar, "
                + $"i.e. when the basis does not span the thermodynamic force (JSON basis_check): auto (the next of the family: poly:N+2, fourier:K+2, rbf:M+2; skipped above "
                + $"{ThermoLearn.Inference.BasisConvergence.DefaultMaximumFunctions} functions), none, or a basis.",
            DefaultValueFactory = _ => "auto",
        };
        public Option<bool> NoiseRobust { get; } = new("--noise-robust")
        {
            Description = "--method tur: the positions carry white measurement noise; its covariance, told from successive increments, is removed from the currents' "
                + "variance (which the noise inflates, biasing the bound low) and reported as measurement_noise. For --method current use --diffusion auto-robust.",
        };
        public Option<string> Correction { get; } = new("--correction") { Description = "Coarse-sampling correction: richardson (lags 1, 2; default), richardson2 (lags 1-3) or none.", DefaultValueFactory = _ => Inference.EstimateMethods.DefaultCorrection.Name };
        public Option<string?> PerTrajectory { get; } = new("--per-trajectory") { Description = "CSV of the per-trajectory total entropy production Delta s_tot (and the IFT check in the output)." };
        public Option<string?> Plot { get; } = new("--plot") { Description = "Figure (.png/.svg): sigma(t) with the exact curve, or the local EP rate d^T D d of 2-D data." };
        public Option<bool> Json { get; } = SharedOptions.Json();
        public StreamingOptions Streaming { get; } = new();
        public NeuralEstimateOptions Neural { get; } = new();
        public ActiveEstimateOptions Active { get; } = new();

        public void AddTo(Command command)
        {
            Input.AddTo(command);
            foreach (var o in new Option[] { Method, Basis, BasisCheck, Diffusion, NoiseRobust, Windows, TimeDegree, Joint, Correction, PerTrajectory, Plot, Json }) command.Add(o);
            Streaming.AddTo(command);
            Neural.AddTo(command);
            Active.AddTo(command);
        }
    }

    /// <summary>An estimate of trajectory data, parsed and checked before any data are read.</summary>
    /// <param name="Input">The trajectory file.</param>
    /// <param name="Method">The method and the function that runs it.</param>
    /// <param name="Basis">The basis specification.</param>
    /// <param name="Diffusion">The diffusion specification (resolved once the data's dimension is known).</param>
    /// <param name="Windows">Time windows (1: stationary).</param>
    /// <param name="TimeDegree">Legendre degree in time of the estimate's fields (given, or <see cref="Inference.EstimateMethods.TimeDegree"/>).</param>
    /// <param name="PerTrajectoryTimeDegree">The same for --per-trajectory (given, or <see cref="Inference.EstimateMethods.PerTrajectoryTimeDegree"/>).</param>
    /// <param name="Joint">One joint (x, t) fit.</param>
    /// <param name="Correction">The coarse-sampling correction.</param>
    /// <param name="CorrectionGiven">Whether --correction was given rather than defaulted.</param>
    /// <param name="Plot">The figure to draw, or null.</param>
    /// <param name="PerTrajectory">The per-trajectory CSV to write, or null.</param>
    /// <param name="Neural">The neural methods' arguments; null for the others.</param>
    /// <param name="Errors">Batches and resampling of the standard errors.</param>
    /// <param name="Json">Print JSON rather than text.</param>
    /// <param name="BasisCheck">--basis-check: "auto", "none" or a basis (current, stationary; "none" for the other methods).</param>
    /// <param name="NoiseRobust">--noise-robust (tur).</param>
    private sealed record Request(string Input, EstimateRunner Method, string Basis, string Diffusion, int Windows, int TimeDegree, int PerTrajectoryTimeDegree,
        bool Joint, CoarseSamplingCorrection Correction, bool CorrectionGiven, string? Plot, string? PerTrajectory, NeuralArguments? Neural, ErrorOptions Errors,
        bool Json, string BasisCheck, bool NoiseRobust);

    /// <summary>What an estimate produced, ready to render (and the statistics for --statistics-out).</summary>
    private sealed record Estimated(TrajectoryHeader Header, DiffusionSpec Diffusion, EstimateOutcome Outcome,
        ThermoLearn.Models.StochasticModel? Model, StatisticsOutput Statistics);

    public static Command Create(CliConsole console)
    {
        var options = new Options();
        var command = new Command("estimate", "Estimate the entropy-production rate of trajectories, with a calibrated standard error.");
        options.AddTo(command);
        command.SetAction(parse =>
        {
            string inPath = parse.GetValue(options.Input.In)!;
            if (ThermoLearn.ActiveMatter.ActiveSnapshotFile.IsSnapshotFile(inPath))
                return options.Active.Run(parse, console, inPath, parse.GetValue(options.Method)!, parse.GetValue(options.Plot), parse.GetValue(options.Json),
                    [options.Basis, options.BasisCheck, options.Diffusion, options.NoiseRobust, options.Windows, options.TimeDegree, options.Joint, options.Correction, options.PerTrajectory,
                        options.Input.Dt, options.Input.Columns, options.Input.Batches, options.Input.Bootstrap, .. options.Neural.TrainingOptions],
                    parse.GetValue(options.Neural.SaveModel), parse.GetValue(options.Neural.LoadModel), options.Input.Seed);
            RejectSnapshotMethodOnOtherFiles(inPath, parse.GetValue(options.Method)!);
            options.Active.RejectFor(parse);
            var request = Validate(parse, options, command);
            var estimated = Run(parse, options, request, console);
            using var fit = estimated.Outcome.Neural;
            var (json, exact) = Json(request, estimated);
            var trajectories = WriteFiles(parse, options, request, estimated);
            if (trajectories is not null) AddPerTrajectory(json, request, trajectories);
            if (request.Json) JsonOutput.Write(console, json);
            else WriteText(console, estimated, exact, trajectories);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// --method identity and score read only active-matter snapshots. A file meant as snapshots that cannot be recognised as
    /// such (a .npy without its sidecar, a truncated HDF5 file) would otherwise reach the trajectory methods and be answered
    /// with "--method 'identity' is unknown"; the snapshot reader says what is wrong with it instead.
    /// </summary>
    private static void RejectSnapshotMethodOnOtherFiles(string path, string method)
    {
        string name = method.Trim().ToLowerInvariant();
        if (name is not ("identity" or "score")) return;
        if (!File.Exists(path)) throw new InvalidInputException($"--in {path}: no such file.");
        try { ThermoLearn.ActiveMatter.ActiveSnapshotFile.Read(path); }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"--method {name} reads active-matter snapshot files ('thermolearn simulate --model aoup'), and {path} cannot be read as one: {e.Message}");
        }
        throw new InvalidInputException($"--method {name} reads active-matter snapshot files ('thermolearn simulate --model aoup'); {path} is not one.");
    }

    /// <summary>Parses and checks the options, in flag terms, before any data are read.</summary>
    private static Request Validate(ParseResult parse, Options o, Command command)
    {
        var m = EstimateRunners.Find(parse.GetValue(o.Method)!);
        string? plotPath = parse.GetValue(o.Plot), csvPath = parse.GetValue(o.PerTrajectory);
        if (plotPath is not null) PlotFile.Validate(plotPath);
        var neural = o.Neural.Parse(parse, m.Name, parse.GetValue(o.Input.Seed), plotPath);
        if (neural is not null)
        {
            if (parse.GetResult(o.Basis) is { Implicit: false })
                throw new InvalidInputException($"--basis sets the linear basis; --method {m.Name} learns a network (set its size with --hidden).");
            if (parse.GetResult(o.TimeDegree) is { Implicit: false } || parse.GetValue(o.Joint))
                throw new InvalidInputException($"--time-degree and --joint belong to the linear time basis; --method {m.Name} with --windows takes t as a network input.");
            if (parse.GetValue(o.NoiseRobust))
                throw new InvalidInputException($"--noise-robust removes measurement noise from the currents' variance of --method tur; --method {m.Name} takes it in its diffusion (--diffusion auto-robust).");
        }
        else
        {
            var unread = InputFlags.Where(f => !m.Method.Reads.HasFlag(f.Input)).SelectMany(f => f.Flags).ToHashSet();
            var given = command.Options.Where(opt => unread.Contains(opt.Name) && parse.GetResult(opt) is { Implicit: false }).Select(opt => opt.Name).ToList();
            if (given.Count > 0)
                throw new InvalidInputException($"{string.Join(", ", given)} {(given.Count == 1 ? "is" : "are")} not used by --method {m.Name}; drop {(given.Count == 1 ? "it" : "them")} "
                    + "(--method current reads the basis, diffusion, time and correction options; tur the basis and --noise-robust)"
                    + (given.Contains("--noise-robust") && m.Method.Reads.HasFlag(EstimateInputs.Diffusion)
                        ? $"; --method {m.Name} removes measurement noise from its diffusion with --diffusion auto-robust." : "."));
        }
        if (csvPath is not null)
        {
            if (m.Method != Inference.EstimateMethods.Current) throw new InvalidInputException("--per-trajectory needs --method current.");
            SimulateCommand.CheckWritable(csvPath);
            if (!csvPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                throw new InvalidInputException($"--per-trajectory {csvPath}: the file is CSV; give a name ending in .csv.");
        }
        int k = parse.GetValue(o.Windows);
        if (k < 1) throw new InvalidInputException($"--windows must be >= 1 (got {k}).");
        if (k > 1 && !m.Method.SupportsWindows) throw new InvalidInputException($"--windows is not available for --method {m.Name}; use --method current.");
        string correctionName = parse.GetValue(o.Correction)!.Trim().ToLowerInvariant();
        var correction = CoarseSamplingCorrection.TryParse(correctionName)
            ?? throw new InvalidInputException($"--correction '{correctionName}': use {string.Join(", ", CoarseSamplingCorrection.All.Select(c => c.Name))}.");
        bool joint = parse.GetValue(o.Joint);
        int? degree = parse.GetValue(o.TimeDegree);
        var errors = o.Input.Errors(parse);
        o.Streaming.Check(parse, m.Name);
        string basisCheck = parse.GetValue(o.BasisCheck)!.Trim().ToLowerInvariant();
        if (parse.GetResult(o.BasisCheck) is { Implicit: false } && basisCheck != "none")
        {
            if (m.Method != Inference.EstimateMethods.Current || k > 1 || joint || degree is > 0)
                throw new InvalidInputException($"--basis-check refits the stationary current estimate in a richer basis; it needs --method current without --windows, --joint or --time-degree (got --method {m.Name}).");
            if (basisCheck != "auto")
                try { BasisSpec.Parse(basisCheck, 1, () => ([0.0], [1.0])); }
                catch (InvalidInputException e) { throw new InvalidInputException($"--basis-check '{basisCheck}': {e.Message} Give auto, none or a basis."); }
        }
        if (m.Method != Inference.EstimateMethods.Current || k > 1 || joint || degree is > 0) basisCheck = "none";
        return new Request(parse.GetValue(o.Input.In)!, m, parse.GetValue(o.Basis)!, parse.GetValue(o.Diffusion)!, k,
            degree ?? Inference.EstimateMethods.TimeDegree(k, joint), degree ?? Inference.EstimateMethods.PerTrajectoryTimeDegree(k, joint), joint,
            correction, parse.GetResult(o.Correction) is { Implicit: false }, plotPath, csvPath, neural, errors, parse.GetValue(o.Json), basisCheck, parse.GetValue(o.NoiseRobust));
    }

    /// <summary>
    /// Runs the method on the file, which every method reads in chunks of --chunk-mb (current, tur and jump through their
    /// sufficient statistics, underdamped through its regression sums, the neural methods once per epoch; --per-trajectory and a
    /// field's --plot take one more pass): memory is bounded by the chunks, never by the file.
    /// </summary>
    private static Estimated Run(ParseResult parse, Options o, Request r, CliConsole console)
    {
        using var reader = o.Input.Open(parse, console);
        var header = reader.Header;
        var spec = InferenceInput.Diffusion(r.Diffusion, header.Dimension);
        var model = InferenceInput.KnownModel(header.Metadata);
        if (r.Plot is not null && r.Windows == 1 && header.Dimension > 2 && r.Method.Method == Inference.EstimateMethods.Current)
            throw new InvalidInputException($"--plot draws fields of 1-D or 2-D data or sigma(t) with --windows; these data have {header.Dimension} coordinates.");
        var statistics = o.Streaming.Output(parse);
        var outcome = r.Method.Run(new EstimateContext(reader, () => o.Input.Open(parse), o.Streaming.ChunkValues(parse), r.Basis, spec, r.Windows, r.TimeDegree,
            r.Joint, r.Correction.Order, r.Errors, console, r.CorrectionGiven, r.Neural, statistics, r.BasisCheck, r.NoiseRobust));
        if (r.Correction.Order > 0 && EulerChainWarning(r.Input, header.Metadata, header.Dt) is { } euler)
            outcome = outcome with { Warnings = [euler, .. outcome.Warnings] };
        EstimateWarning.Print(console, outcome.Warnings);
        return new Estimated(header, spec, outcome, model, statistics);
    }

    /// <summary>The fields every EP estimate prints (estimate and reduce): rate, error, method and the data it came from.</summary>
    internal static JsonObject EstimateFields(EntropyProductionEstimate e, double dt) => new()
    {
        ["ep_rate"] = JsonOutput.Number(e.Rate),
        ["stderr"] = JsonOutput.Number(e.StandardError),
        ["ep_rate_debiased"] = JsonOutput.Number(e.Debiased),
        ["method"] = e.Method,
        ["basis"] = e.Basis,
        ["n_frames"] = e.Frames,
        ["n_transitions"] = e.Transitions,
        ["observed_time"] = JsonOutput.Number(e.ObservedTime),
        ["dt"] = dt,
        ["errors"] = e.Settings.Errors,
        ["diffusion"] = JsonOutput.Array(e.Settings.Diffusion),
        ["diffusion_source"] = e.Settings.DiffusionSource,
    };

    /// <summary>The JSON object of the estimate, and the exact reference it was compared with.</summary>
    private static (JsonObject Json, ExactReference? Exact) Json(Request r, Estimated x)
    {
        var e = x.Outcome.Estimate;
        var result = EstimateFields(e, x.Header.Dt);
        result["input"] = r.Input;
        if (EstimateWarning.Json(x.Outcome.Warnings) is { } warnings) result["warnings"] = warnings;
        if (x.Outcome.Extra is { } extra)
            foreach (var (key, value) in extra) result[key] = value?.DeepClone();
        var exact = AddQuantityAndExact(result, e, x.Model, r.Windows, x.Header.Dt, x.Header.StartTime, x.Outcome);
        if (x.Outcome.TimeSeries is { } series) AddTimeSeries(result, series, x.Model);
        return (result, exact);
    }

    /// <summary>The per-trajectory sums in the JSON object.</summary>
    private static void AddPerTrajectory(JsonObject result, Request r, TrajectoryEntropyEstimate trajectories) =>
        result["per_trajectory"] = new JsonObject
        {
            ["file"] = r.PerTrajectory,
            ["time_degree"] = r.PerTrajectoryTimeDegree,
            ["mean_delta_s_tot"] = JsonOutput.Number(trajectories.MeanTotalEntropy),
            ["ift_mean_exp_minus_delta_s_tot"] = JsonOutput.Number(trajectories.ExpMinusMean),
            ["ift_stderr"] = JsonOutput.Number(trajectories.ExpMinusStandardError),
        };

    /// <summary>
    /// Writes the output files, each atomically; a failure removes what this command already wrote. Returns the per-trajectory
    /// sums when --per-trajectory asked for them (computed as their CSV is written).
    /// </summary>
    private static TrajectoryEntropyEstimate? WriteFiles(ParseResult parse, Options o, Request r, Estimated x)
    {
        var e = x.Outcome.Estimate;
        var fit = x.Outcome.Neural;
        TrajectoryEntropyEstimate? trajectories = null;
        var written = new List<string>();
        try
        {
            if (StreamingOptions.Write(x.Statistics) is { } statsPath) written.Add(statsPath);
            if (r.PerTrajectory is { } csvPath)
            {
                trajectories = PerTrajectory(csvPath, x.Header.Metadata.FirstTrajectory, () => o.Input.Open(parse), r.Basis,
                    x.Diffusion, r.PerTrajectoryTimeDegree, r.Errors, o.Streaming.ChunkValues(parse));
                written.Add(csvPath);
            }
            if (fit is not null && parse.GetValue(o.Neural.SaveModel) is { } modelPath)
            {
                fit.Model.Save(modelPath);
                written.Add(modelPath);
            }
            if (r.Plot is { } plotPath)
            {
                if (fit is not null)
                    InferencePlots.TrainingCurves(fit.Curves, $"training curve: {e.Method} {e.Basis}",
                        e.Method.StartsWith(Neural.Inference.NeuralMethods.Current, StringComparison.Ordinal) && r.Windows == 1 ? x.Model?.EntropyProductionRate(x.Header.StartTime) : null, plotPath);
                else if (x.Outcome.TimeSeries is { } s) InferencePlots.SigmaOfTime(s, x.Model, plotPath);
                else if (x.Outcome.Force is { } force && x.Header.Dimension == 2)
                    InferencePlots.Field2D(Range(2), force, e.Settings.Diffusion.ToArray(), "local EP rate d^T D d of the learned force", plotPath);
                else if (x.Outcome.Force is { } force1 && x.Header.Dimension == 1)
                    InferencePlots.Field1D(Range(1), force1, "learned thermodynamic force d(x) = v/D", "d(x)", plotPath);
                else throw new InvalidInputException($"--plot: method {r.Method.Name} has no field or sigma(t) to draw; use --method current.");
                written.Add(plotPath);
            }
        }
        catch
        {
            foreach (var path in written) { try { File.Delete(path); } catch (IOException) { } }
            throw;
        }
        return trajectories;

        // the figure's range from one more pass over the file in chunks (the frames the in-memory range takes)
        PlotRange Range(int coordinates)
        {
            using var reader = o.Input.Open(parse);
            return PlotRange.Of(reader, coordinates, o.Streaming.ChunkValues(parse));
        }
    }

    /// <summary>The estimate as text for people.</summary>
    private static void WriteText(CliConsole console, Estimated x, ExactReference? exact, TrajectoryEntropyEstimate? trajectories)
    {
        var e = x.Outcome.Estimate;
        var outcome = x.Outcome;
        console.Out.WriteLine($"{e.Quantity?.Description ?? "EP rate"} ({e.Method}, {(e.Basis.Length > 0 ? e.Basis : "no basis")}): {e.Rate:G6} +- {e.StandardError:G3} "
            + $"(debiased {e.Debiased:G6}; {e.Frames} frames, {e.Settings.Errors})");
        WriteExact(console, exact, e, x.Model, x.Header.Dt, outcome);
        // the basis check's warning is about the estimate itself (the verdict above says it), not about the data fitting the method
        var premises = outcome.Warnings.Where(w => w.Id != "basis_short").ToList();
        if (exact is not null && premises.Count > 0)
            console.Out.WriteLine($"  but see the warning{(premises.Count > 1 ? "s" : "")} on stderr ({string.Join(", ", premises.Select(w => w.Id))}): "
                + "the comparison holds only if the data fit the method");
        if (outcome.Extra?["basis_check"] is JsonObject bc)
            console.Out.WriteLine(outcome.BasisCheck is { } check
                ? $"basis check: {check.RicherBasis} gives {check.RicherDebiased:G6} +- {check.RicherStandardError:G3} (debiased), {check.Gain:+0.####;-0.####} +- {check.GainStandardError:G2} over {check.Basis}"
                    + (check.Short ? " (the basis does not span the force: see the warning)" : "")
                : $"basis check skipped: {bc["skipped"]}");
        if (outcome.MeasurementNoise is { } noise)
            console.Out.WriteLine(InferCommand.MeasurementNoiseLine(noise) + $" (removed; amplification {noise.Amplification:G3})");
        if (outcome.Extra?["note"] is JsonValue note) console.Out.WriteLine($"note: {note}");
        foreach (var (key, label) in new[] { ("sampled_chain", "sampled chain"), ("richardson_lags_1_3", "sampled chain extrapolated over lags 1-3") })
            if (outcome.Extra?[key] is JsonObject other && other["ep_rate"] is not null)
                console.Out.WriteLine($"  {label} ({other["quantity"]}): {(double)other["ep_rate"]!:G6} +- {(double)other["stderr"]!:G3}");
        if (outcome.Neural is { } fit)
            foreach (var (c, i) in fit.Curves.Select((c, i) => (c, i)))
                console.Out.WriteLine($"  fold {i + 1}: {c.ValidationLoss.Count} epochs, kept epoch {c.BestEpoch}"
                    + (c.ValidationLoss.Count > 0 ? $", held-out loss {c.ValidationLoss[^1]:G5}" : "") + (c.Diverged is not null ? ", DIVERGED" : ""));
        if (outcome.TimeSeries is { } s)
            foreach (var w in s.Windows) console.Out.WriteLine($"  t in [{w.Start:G4}, {w.End:G4}): {w.Debiased:G6} +- {w.StandardError:G3}");
        if (trajectories is not null)
            console.Out.WriteLine($"<exp(-Delta s_tot)> = {trajectories.ExpMinusMean:G6} +- {trajectories.ExpMinusStandardError:G3} (integral fluctuation theorem: 1)");
    }

    /// <summary>
    /// --per-trajectory: Delta s_tot of each trajectory into <paramref name="csvPath"/> (traj,delta_s_tot; traj counts from the
    /// file's first trajectory), written under a temporary name as the values come and renamed at the end. Streamed from the
    /// file (two passes in chunks of <paramref name="chunkValues"/>; the in-memory values bit for bit, StreamingEstimatorsTests).
    /// </summary>
    private static TrajectoryEntropyEstimate PerTrajectory(string csvPath, long first, Func<TrajectoryReader> open, string basisSpec,
        DiffusionSpec spec, int degree, ErrorOptions errors, long chunkValues)
    {
        TrajectoryEntropyEstimate? estimate = null;
        OutputFile.Write(csvPath, stream =>
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
            IBasis basis;
            using (var reader = open()) basis = BasisSpec.Parse(basisSpec, reader.Header.Dimension, () => StreamingOptions.Range(open, chunkValues));
            estimate = TrajectoryEntropy.Estimate(open, basis, spec, degree, errors, chunkValues, (i, value) => Row(i, value));
        });
        return estimate!;
    }

    /// <summary>
    /// The coarse-sampling correction assumes frames of a continuous process. Data that Euler-Maruyama wrote at every step
    /// are an Euler chain observed at its own step: the chain has no sampling bias there, so the correction over-corrects
    /// (3-bead chain at dt = 0.01: 1.612 +- 0.012 against the exact 1.543). Returns the warning (id <c>euler_step</c>, listed
    /// with the method's own in JSON "warnings"), or null when the provenance does not say so.
    /// </summary>
    internal static EstimateWarning? EulerChainWarning(string path, ThermoLearn.Trajectories.TrajectoryMetadata m, double dt)
    {
        var data = (Dt: dt, Metadata: m);
        if (m.Scheme != "euler-maruyama" || m.IntegrationDt is not { } step || Math.Abs(step - data.Dt) > 1e-9 * data.Dt) return null;
        string finer = (data.Dt / 10).ToString("G6", CultureInfo.InvariantCulture);
        return new EstimateWarning("euler_step", $"{path} was made by Euler-Maruyama with its step equal to the frame spacing (dt = {data.Dt.ToString("G6", CultureInfo.InvariantCulture)}); "
            + "an Euler chain has no coarse-sampling bias at its own step, so the coarse-sampling correction over-corrects. "
            + $"Estimate these data with --correction none, or simulate with a finer step (--dt {finer} --save-every 10) or, for a linear model, --scheme exact.",
            new JsonObject { ["scheme"] = m.Scheme, ["integration_dt"] = step, ["dt"] = data.Dt });
    }
}
