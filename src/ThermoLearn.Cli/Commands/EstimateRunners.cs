using System.Text.Json.Nodes;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Neural.Inference;

namespace ThermoLearn.Cli.Commands;

/// <summary>What an <c>estimate</c> method receives: the file, read in chunks, and the parsed, method-independent options.</summary>
/// <param name="Reader">The file, opened (its header read; coordinates already selected) for the method's first pass.</param>
/// <param name="Open">Opens the file again for further passes (rbf centres, the neural methods' epochs).</param>
/// <param name="ChunkValues">Values held per chunk (--chunk-mb).</param>
/// <param name="Basis">The --basis specification (e.g. "poly:2").</param>
/// <param name="Diffusion">The --diffusion choice resolved for the data's dimension.</param>
/// <param name="Windows">--windows K (1: stationary).</param>
/// <param name="TimeDegree">--time-degree.</param>
/// <param name="Joint">--joint: one (x, t) fit instead of per-window fits.</param>
/// <param name="CorrectionOrder">--correction: 0 none, 1 richardson, 2 richardson2.</param>
/// <param name="Errors">Batches, bootstrap replicates and seed of the standard errors.</param>
/// <param name="Console">For progress text on stderr.</param>
/// <param name="CorrectionExplicit">Whether --correction was given (rather than its default).</param>
/// <param name="Neural">Training settings or a saved model for the neural methods; null for the others.</param>
/// <param name="Statistics">Where the current statistics go for --statistics-out (current, tur).</param>
/// <param name="BasisCheck">--basis-check: "auto" (the next richer basis of the family), "none", or a basis specification.</param>
/// <param name="NoiseRobust">--noise-robust: remove white measurement noise on the positions (tur: from the currents' variance).</param>
internal sealed record EstimateContext(TrajectoryReader Reader, Func<TrajectoryReader> Open, long ChunkValues, string Basis, DiffusionSpec Diffusion, int Windows,
    int TimeDegree, bool Joint, int CorrectionOrder, ErrorOptions Errors, Infrastructure.CliConsole Console, bool CorrectionExplicit, NeuralArguments? Neural,
    StatisticsOutput Statistics, string BasisCheck = "none", bool NoiseRobust = false)
{
    private (double[] Lower, double[] Upper)? _range;

    /// <summary>The basis for the data's dimension (rbf centres from the data's range: one more pass in chunks).</summary>
    public IBasis ParseBasis() => ParseBasis(Basis);

    /// <summary>The basis <paramref name="spec"/> names, for the data's dimension (the range, for rbf, from one pass, kept for the next basis).</summary>
    public IBasis ParseBasis(string spec) => BasisSpec.Parse(spec, Reader.Header.Dimension, () => _range ??= StreamingOptions.Range(Open, ChunkValues));
}

/// <summary>
/// What a method returns: the overall estimate, and optionally sigma(t), the learned force (for plots), extra JSON fields,
/// and for a trained neural method its fit (training curves for --plot, networks for --save-model; the command disposes it).
/// </summary>
internal sealed record EstimateOutcome(EntropyProductionEstimate Estimate, EntropyProductionTimeSeries? TimeSeries = null, LinearVectorField? Force = null,
    JsonObject? Extra = null, NeuralFit? Neural = null)
{
    /// <summary>What the data say about the estimate's premises (stderr, and "warnings" in JSON); empty when nothing is amiss.</summary>
    public IReadOnlyList<EstimateWarning> Warnings { get; init; } = [];

    /// <summary>The estimate refitted in a richer basis (current, stationary, --basis-check); null when not made.</summary>
    public BasisCheck? BasisCheck { get; init; }

    /// <summary>The measurement noise removed (current with a noise-robust diffusion, tur --noise-robust; JSON "measurement_noise"); else null.</summary>
    public MeasurementNoiseEstimate? MeasurementNoise { get; init; }
}

/// <summary>
/// A warning about an estimate whose value stands but whose meaning the data put in doubt: <paramref name="Id"/> names the
/// check (JSON "id"), <paramref name="Message"/> says what, where, the number and what would be right, and
/// <paramref name="Fields"/> holds the numbers for machines (JSON, beside id and message).
/// </summary>
internal sealed record EstimateWarning(string Id, string Message, JsonObject Fields)
{
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["id"] = Id, ["message"] = Message };
        foreach (var (key, value) in Fields) o[key] = value?.DeepClone();
        return o;
    }

    /// <summary>Each warning on stderr, as the tool's other warnings: "warning: message".</summary>
    public static void Print(Infrastructure.CliConsole console, IEnumerable<EstimateWarning> warnings)
    {
        foreach (var w in warnings) console.Error.WriteLine("warning: " + w.Message);
    }

    /// <summary>The JSON "warnings" list, or null when there is none (the key is then left out).</summary>
    public static JsonArray? Json(IReadOnlyCollection<EstimateWarning> warnings) =>
        warnings.Count == 0 ? null : new JsonArray([.. warnings.Select(w => (JsonNode)w.ToJson())]);
}

/// <summary>A method of <c>thermolearn estimate --method NAME</c>: the library's description of it and the function that runs it.</summary>
/// <param name="Method">Name, what it reads, whether it gives sigma(t) or streams (<see cref="Inference.EstimateMethods"/>, <see cref="NeuralMethods"/>).</param>
/// <param name="Help">What --help says of it (the description, with the flags that tune it).</param>
/// <param name="Run">Runs it on the file, in chunks.</param>
internal sealed record EstimateRunner(EstimateMethod Method, string Help, Func<EstimateContext, EstimateOutcome> Run)
{
    public string Name => Method.Name;
}

/// <summary>
/// The <c>estimate</c> methods: the library's (<see cref="Inference.EstimateMethods"/>) and the neural ones, each with the function that
/// runs it; adding a method is one entry here; the command, its options, JSON and plots stay as they are.
/// </summary>
internal static class EstimateRunners
{
    private static readonly EstimateRunner[] Runners =
    [
        new(Inference.EstimateMethods.Current, Inference.EstimateMethods.Current.Description, c => Current(c, Inference.EstimateMethods.Current.Name, c.CorrectionOrder)),
        new(Inference.EstimateMethods.Tur, Inference.EstimateMethods.Tur.Description, c => Current(c, Inference.EstimateMethods.Tur.Name, 0)),
        new(Inference.EstimateMethods.Jump, Inference.EstimateMethods.Jump.Description, c => Jump(JumpEntropyProduction.Analyse(c.Reader, c.Errors, c.ChunkValues))),
        new(Inference.EstimateMethods.Underdamped, Inference.EstimateMethods.Underdamped.Description, c =>
            new EstimateOutcome(UnderdampedEntropyProduction.Estimate(c.Reader, c.ParseBasis(), c.Errors, c.ChunkValues))),
        new(NeuralMethods.CurrentMethod, NeuralMethods.CurrentMethod.Description + " (--hidden, --epochs, --batch, --lr)",
            context => NeuralEstimateOptions.Run(context, NeuralMethods.Current)),
        new(NeuralMethods.NeepMethod, NeuralMethods.NeepMethod.Description, context => NeuralEstimateOptions.Run(context, NeuralMethods.Neep)),
    ];

    public static IReadOnlyList<EstimateRunner> All => Runners;

    public static EstimateRunner Find(string name) =>
        Runners.FirstOrDefault(m => m.Name == name)
            ?? throw new InvalidInputException($"--method '{name}' is unknown; use one of {string.Join(", ", Runners.Select(m => m.Name))}.");

    /// <summary>The outcome of a jump analysis (also the in-memory one's, for tests).</summary>
    internal static EstimateOutcome Jump(JumpEntropyProductionResult result)
    {
        static JsonNode? Summary(EntropyProductionEstimate? e) => e is null ? null : new JsonObject
        {
            ["ep_rate"] = Infrastructure.JsonOutput.Number(e.Rate),
            ["stderr"] = Infrastructure.JsonOutput.Number(e.StandardError),
            ["ep_rate_debiased"] = Infrastructure.JsonOutput.Number(e.Debiased),
            ["method"] = e.Method,
            ["quantity"] = e.Quantity?.Id,
        };
        var extra = new JsonObject
        {
            ["continuous"] = Summary(result.Continuous),
            ["sampled_chain"] = Summary(result.SampledChain),
            ["richardson_lags_1_3"] = Summary(result.Richardson),
            ["state_labels"] = Infrastructure.JsonOutput.Array(result.Labels),
            ["generator"] = result.Generator is { } q
                ? new JsonArray(Enumerable.Range(0, q.GetLength(0)).Select(i => (JsonNode)Infrastructure.JsonOutput.Array(
                    Enumerable.Range(0, q.GetLength(1)).Select(j => q[i, j]).ToArray())).ToArray())
                : null,
            ["deviance"] = result.Deviance is { } g ? Infrastructure.JsonOutput.Number(g) : null,
            ["note"] = result.Note,
        };
        return new EstimateOutcome(result.Best, null, null, extra);
    }

    /// <summary>current (with the correction of <paramref name="correctionOrder"/>) and tur: the chunked current statistics of <paramref name="method"/>.</summary>
    private static EstimateOutcome Current(EstimateContext c, string method, int correctionOrder)
    {
        var request = new CurrentEstimateRequest(method, c.Diffusion, c.Windows, c.TimeDegree, c.Joint, correctionOrder, c.Errors, c.NoiseRobust);
        var warnings = new List<EstimateWarning>();
        // before the pass, so that the sample's chunk is not held beside the pass's two
        if (DiscreteStates(c.Open, c.ChunkValues, method) is { } discrete) warnings.Add(discrete);
        var basis = c.ParseBasis();
        var stats = request.Accumulate(c.Reader, basis, c.ChunkValues, runLayout: c.Statistics.Path is not null);
        if (c.Statistics.Path is not null) c.Statistics.Part = new StatisticsPart(request, stats, c.Reader.Header.Path, c.Reader.Header.Metadata);
        if (SmoothPaths(c.Reader.Header.Path, method, stats[0], c.Reader.Columns) is { } smooth) warnings.Add(smooth);
        var result = request.Estimate(stats);
        // auto-robust deconvolves the force fit's moments as infer --noise-robust does, and warns as it does when that amplifies them
        if (result.MeasurementNoise is { } noise && InferCommand.NoiseAmplification(c.Reader.Header.Path, basis, noise) is { } amplified) warnings.Add(amplified);
        if (result.Uncorrected is { } lagOne && CoarseSampling(c.Reader.Header.Path, c.Reader.Header.Dt, result.Estimate, lagOne, correctionOrder,
                noiseRemoved: result.MeasurementNoise is not null) is { } coarse)
            warnings.Add(coarse);
        var outcome = StreamingOptions.Outcome(result);
        if (method == Inference.EstimateMethods.Current.Name && !request.Windowed && c.BasisCheck != "none")
        {
            var (json, check) = CheckBasis(c, request, basis, stats, result.Estimate);
            outcome.Extra!["basis_check"] = json;
            if (check is { Short: true }) warnings.Add(BasisShort(c.Reader.Header.Path, check, result.Estimate));
            outcome = outcome with { BasisCheck = check };
        }
        return outcome with { Warnings = warnings };
    }

    /// <summary>
    /// --basis-check: the estimate refitted in a richer basis on the same data (one more pass; <see cref="BasisConvergence"/>), as JSON
    /// "basis_check", and the check itself (null when skipped: no richer basis in the family, the default's size limit, or a richer
    /// basis the data do not determine; "skipped" says which).
    /// </summary>
    private static (JsonObject Json, BasisCheck? Check) CheckBasis(EstimateContext c, CurrentEstimateRequest request, IBasis basis,
        IReadOnlyList<CurrentStatistics> stats, EntropyProductionEstimate estimate)
    {
        JsonObject Skipped(string why, string? richer = null) => new() { ["basis"] = estimate.Basis, ["richer_basis"] = richer, ["skipped"] = why };
        string spec;
        if (c.BasisCheck == "auto")
        {
            if (BasisConvergence.Richer(basis) is not { } next) return (Skipped($"{basis.Name} has no richer basis in its family to check against; name one with --basis-check SPEC"), null);
            if (next.Functions > BasisConvergence.DefaultMaximumFunctions)
                return (Skipped($"{next.Spec} in {basis.Dimension} dimensions has {next.Functions:G4} functions, more than the {BasisConvergence.DefaultMaximumFunctions} the default "
                    + $"check takes (its cost grows as their square); ask for it with --basis-check {next.Spec}", next.Spec), null);
            spec = next.Spec;
        }
        else spec = c.BasisCheck;
        BasisCheck check;
        try
        {
            var richer = c.ParseBasis(spec);
            using var reader = c.Open();
            check = BasisConvergence.Check(stats, request.Accumulate(reader, richer, c.ChunkValues), request.Diffusion, request.Errors, request.CorrectionOrder);
        }
        catch (InvalidInputException e) when (c.BasisCheck == "auto")
        {
            return (Skipped($"the data do not determine {spec}: {e.Message}", spec), null);
        }
        return (new JsonObject
        {
            ["basis"] = check.Basis,
            ["richer_basis"] = check.RicherBasis,
            ["ep_rate"] = Infrastructure.JsonOutput.Number(check.RicherRate),
            ["stderr"] = Infrastructure.JsonOutput.Number(check.RicherStandardError),
            ["ep_rate_debiased"] = Infrastructure.JsonOutput.Number(check.RicherDebiased),
            ["gain"] = Infrastructure.JsonOutput.Number(check.Gain),
            ["gain_stderr"] = Infrastructure.JsonOutput.Number(check.GainStandardError),
            ["gain_z"] = Infrastructure.JsonOutput.Number(check.GainZ),
            ["gain_in_estimate_errors"] = Infrastructure.JsonOutput.Number(check.GainInEstimateErrors),
            ["short"] = check.Short,
        }, check);
    }

    /// <summary>
    /// The richer basis gains beyond doubt and beyond the error bar (<see cref="BasisCheck.Short"/>): the estimate's basis does not
    /// span the thermodynamic force, and the estimate, a variational lower bound with a finite basis, is short of sigma by at least the gain.
    /// </summary>
    internal static EstimateWarning BasisShort(string path, BasisCheck check, EntropyProductionEstimate estimate)
    {
        string message = $"{path}: the richer basis {check.RicherBasis} gives {check.RicherDebiased:G4} +- {check.RicherStandardError:G3} (debiased), "
            + $"{check.Gain:G3} +- {check.GainStandardError:G2} above {check.Basis}'s {estimate.Debiased:G4} ({check.GainZ:F0} of the gain's standard errors, "
            + $"{check.GainInEstimateErrors:F1} of the estimate's): {check.Basis} does not span the thermodynamic force. With a finite basis the current estimator "
            + "is a variational lower bound on the EP rate (the projection of the force on the basis), so this estimate is short by at least the gain, more than its "
            + $"error bar says. Use a richer basis (--basis {check.RicherBasis} or beyond, until the basis check gains nothing) or --method neural-current.";
        return new EstimateWarning("basis_short", message, new JsonObject
        {
            ["basis"] = check.Basis,
            ["richer_basis"] = check.RicherBasis,
            ["gain"] = Infrastructure.JsonOutput.Number(check.Gain),
            ["gain_stderr"] = Infrastructure.JsonOutput.Number(check.GainStandardError),
            ["advice"] = $"--basis {check.RicherBasis}",
        });
    }

    /// <summary>Values looked at for state labels: the first chunk, at most this many (a bounded sample; the statistics' pass is not touched).</summary>
    private const long StateLabelSample = 1 << 20;

    /// <summary>
    /// Integer state labels given to current or tur (<see cref="JumpEntropyProduction.LooksLikeStateLabels"/>, on the first chunk of a
    /// second reader): jumps between a few levels are not the increments of a diffusion (mjp data: about 0 against the exact rate).
    /// </summary>
    internal static EstimateWarning? DiscreteStates(Func<TrajectoryReader> open, long chunkValues, string method)
    {
        using var reader = open();
        if (JumpEntropyProduction.LooksLikeStateLabels(reader, Math.Min(chunkValues, StateLabelSample)) is not { } found) return null;
        var (labels, values) = found;
        string shown = string.Join(", ", labels.Take(8).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + (labels.Length > 8 ? ", ..." : "");
        string message = $"{reader.Header.Path}: the data look like discrete states: the first {values} values are all integers, with {labels.Length} distinct ({shown}). "
            + $"--method {method} takes the coordinates for a diffusion, and jumps between a few levels are not its increments, so its value is not the jump "
            + "process's EP rate; for state labels use --method jump.";
        return new EstimateWarning("discrete_states", message, new JsonObject
        {
            ["distinct_values"] = labels.Length,
            ["values_checked"] = values,
            ["limit"] = JumpEntropyProduction.StateLabelLimit,
            ["advice"] = "--method jump",
        });
    }

    /// <summary>
    /// The coarse-sampling correction is a large part of the value (<see cref="CoarseSamplingCorrection.UntrustedFraction(EntropyProductionEstimate, EntropyProductionEstimate)"/>): the
    /// frames are too far apart for its expansion in dt (driven trap saved every 0.2 and 0.5: corrections of 30-75% of the value,
    /// results 11-79 stderr below the exact rate).
    /// </summary>
    internal static EstimateWarning? CoarseSampling(string path, double dt, EntropyProductionEstimate corrected, EntropyProductionEstimate lagOne, int order,
        bool noiseRemoved = true)
    {
        if (CoarseSamplingCorrection.UntrustedFraction(corrected, lagOne) is not { } fraction) return null;
        var correction = CoarseSamplingCorrection.FromOrder(order);
        string message = $"{path}: frames {dt:G4} apart are too far apart for the first-order coarse-sampling correction to be trusted: {correction.Name} moves the estimate from "
            + $"{lagOne.Rate:G4} (lag 1) to {corrected.Rate:G4}, {100 * fraction:F0}% of the corrected value (trusted up to {100 * CoarseSamplingCorrection.TrustedFraction:F0}%; "
            + "a 24% correction left a bias of -11%, docs/inference.md \"Coarse sampling\"), so the bias it leaves is likely larger than the stderr "
            + $"{corrected.StandardError:G3}. Record frames closer together (the correction shrinks in proportion to the spacing), or report the value with that table"
            // only the current method has a correction (the TUR bound takes one lag), and --diffusion auto-robust removes its noise
            + (noiseRemoved ? "." : "; if the positions carry measurement noise, whose share differs between the two lags, estimate with --diffusion auto-robust.");
        return new EstimateWarning("coarse_sampling", message, new JsonObject
        {
            ["correction_fraction"] = Infrastructure.JsonOutput.Number(fraction),
            ["threshold"] = CoarseSamplingCorrection.TrustedFraction,
            ["ep_rate_lag1"] = Infrastructure.JsonOutput.Number(lagOne.Rate),
            ["correction"] = correction.Name,
            ["advice"] = "record frames closer together",
        });
    }

    /// <summary>
    /// Positions of underdamped motion given to current or tur: R = var(Delta^2 x) / var(Delta x) from the lag-1 statistics of
    /// the same pass (<see cref="UnderdampedEntropyProduction.IncrementCurvatureRatio(CurrentStatistics)"/>), well below the
    /// overdamped threshold. Both estimators take the increments for those of an overdamped diffusion; on smooth paths they
    /// are not (driven underdamped trap, exact 0.6178: current gave 80.1 +- 6.4), so the value is not the system's EP rate.
    /// </summary>
    internal static EstimateWarning? SmoothPaths(string path, string method, CurrentStatistics lagOne, IReadOnlyList<int>? columns) => SmoothPaths(path, $"--method {method}",
        $"--method {method} reads these increments as overdamped diffusion, so its value is not this system's EP rate and not comparable with an exact one; "
        + "use --method underdamped on the positions", lagOne, columns);

    /// <summary>The same for any command that reads increments as an overdamped diffusion's (<paramref name="reader"/>, e.g. infer), with its own consequence.</summary>
    internal static EstimateWarning? SmoothPaths(string path, string reader, string consequence, CurrentStatistics lagOne, IReadOnlyList<int>? columns)
    {
        // coordinate by coordinate: an (x, v) file pools the velocities' R ~ 2 with the positions' R << 1 (Python sweep, session 22:
        // all four columns of an underdamped trap gave 1.2e5 against 0.67 with no word of this)
        double[] each = UnderdampedEntropyProduction.IncrementCurvatureRatios(lagOne);
        int[] smooth = [.. Enumerable.Range(0, each.Length).Where(i => each[i] < UnderdampedEntropyProduction.SmoothPathsThreshold)];
        if (smooth.Length == 0) return null;
        double r = UnderdampedEntropyProduction.IncrementCurvatureRatio(lagOne);
        string File(int i) => (columns is null ? i : columns[i]).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string which = smooth.Length == each.Length
            ? $"the coordinates move on smooth paths, as positions of underdamped motion do: R = var(x[f+2] - 2 x[f+1] + x[f]) / var(x[f+1] - x[f]) = {r:G3}"
            : $"columns {string.Join(", ", smooth.Select(File))} move on smooth paths, as positions of underdamped motion do: R = var(x[f+2] - 2 x[f+1] + x[f]) / "
                + $"var(x[f+1] - x[f]) = {string.Join(", ", smooth.Select(i => each[i].ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))} there";
        string message = $"{path}: {which} "
            + $"(overdamped data, which {reader} assumes, give R = 2; below {UnderdampedEntropyProduction.SmoothPathsThreshold} velocities are resolved). "
            + $"{consequence} (--columns {string.Join(",", smooth.Select(File))}).";
        return new EstimateWarning("smooth_paths", message, new JsonObject
        {
            ["increment_curvature_ratio"] = Infrastructure.JsonOutput.Number(r),
            ["increment_curvature_ratios"] = new JsonArray([.. each.Select(v => (JsonNode?)Infrastructure.JsonOutput.Number(v))]),
            ["smooth_columns"] = new JsonArray([.. smooth.Select(i => (JsonNode?)(columns is null ? i : columns[i]))]),
            ["threshold"] = UnderdampedEntropyProduction.SmoothPathsThreshold,
            ["overdamped_value"] = 2.0,
            ["advice"] = "--method underdamped",
        });
    }
}
