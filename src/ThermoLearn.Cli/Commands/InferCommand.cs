using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn infer --in FILE [--dt DT] [--basis poly:1] [--noise-robust] [--correction richardson|none] [--plot FILE.png] [--chunk-mb M] [--json]</c>:
/// drift (force) coefficients, diffusion matrix, score and mean local velocity with standard errors (see <see cref="DynamicsEstimator"/>).
/// By default the drift, score and v are the continuous-time fields, corrected for coarse sampling from lags 1 and 2 (as
/// <c>estimate</c>'s EP rate), with the lag-dt fields beside them (JSON <c>drift_uncorrected</c>, ...); a correction too large to be
/// trusted is a <c>coarse_sampling</c> warning, as in <c>estimate</c>.
/// Without --plot the file is read in chunks into the current statistics (memory bounded by --chunk-mb; the same bits as in memory).
/// </summary>
internal static class InferCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new InferenceInput();
        var basis = new Option<string>("--basis") { Description = "Basis: " + BasisSpec.Help + ".", DefaultValueFactory = _ => "poly:1" };
        var robust = new Option<bool>("--noise-robust")
        {
            Description = "Remove white measurement noise on the positions (estimated from successive increments, reported as measurement_noise) from "
                + "drift, diffusion, score and mean local velocity: with a polynomial (poly:N) or Fourier (fourier:K) basis its share of every moment is removed exactly for Gaussian "
                + "noise (deconvolution; for fourier the highest modes' noise grows by exp(q^T Sigma q / 2), reported as measurement_noise.amplification and warned above 3); "
                + "with rbf bases the coefficients of non-affine functions keep a bias of the order of the noise variance (docs/inference.md).",
        };
        var correction = new Option<string>("--correction")
        {
            Description = "Coarse-sampling correction of the drift, score and mean local velocity: richardson (2 f(dt) - f(2 dt) from lags 1 and 2: "
                + "the continuous-time fields, and D's remaining O(dt^2) term removed; default) or none (the lag-dt fields, e.g. (E[x(t+dt)|x(t)] - x(t))/dt, and the lag-1 D).",
            DefaultValueFactory = _ => DynamicsEstimator.DefaultCorrection.Name,
        };
        var plot = new Option<string?>("--plot") { Description = "Figure (.png/.svg) of the inferred drift: |drift| over 2-D data, drift(x) for 1-D data." };
        var json = SharedOptions.Json();
        var chunkMb = new Option<int>("--chunk-mb")
        {
            Description = "Megabytes of the file held per chunk (two chunks are held); without --plot the file is read in chunks into the sums, never whole.",
            DefaultValueFactory = _ => 128,
        };
        var command = new Command("infer", "Infer drift, diffusion, score and mean local velocity from trajectories, with standard errors: the continuous-time fields, corrected for the frame spacing (--correction), with the lag-dt ones beside them.");
        input.AddTo(command);
        foreach (var o in new Option[] { basis, robust, correction, plot, chunkMb, json }) command.Add(o);
        command.SetAction(parse =>
        {
            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null) PlotFile.Validate(plotPath);
            long chunkValues = ConvertCommand.ChunkValues(parse.GetValue(chunkMb));
            string correctionName = parse.GetValue(correction)!.Trim().ToLowerInvariant();
            var fix = DynamicsEstimator.Corrections.FirstOrDefault(c => c.Name == correctionName)
                ?? throw new InvalidInputException($"--correction '{correctionName}': use {string.Join(" or ", DynamicsEstimator.Corrections.Select(c => c.Name))}"
                    + (correctionName == CoarseSamplingCorrection.Richardson2.Name ? " (infer has the first-order correction only, from lags 1 and 2)." : "."));
            // the estimate is a function of the current statistics, which stream, and the figure needs only the data's range
            // (one more pass in chunks): the file is never held whole
            using var reader = input.Open(parse, console);
            var header = reader.Header;
            if (plotPath is not null && header.Dimension > 2)
                throw new InvalidInputException($"--plot draws 1-D or 2-D drift fields; these data have {header.Dimension} coordinates.");
            var b = BasisSpec.Parse(parse.GetValue(basis)!, header.Dimension, () => StreamingOptions.Range(() => input.Open(parse), chunkValues));
            var errors = input.Errors(parse);
            if (header.Frames < fix.MinimumFrames)
                throw new InvalidInputException($"{header.Path}: trajectories of {header.Frames} frames; --correction {fix.Name} fits lags 1 to {fix.Lags} and needs at least "
                    + $"{fix.MinimumFrames} frames per trajectory; use --correction none for the lag-dt fields.");
            var stats = CurrentStatistics.Accumulate(reader, b, DynamicsEstimator.StatisticsOptions(fix, header.Frames), errors, chunkValues);
            var result = DynamicsEstimator.Infer(stats, b, parse.GetValue(robust), errors, fix);
            // positions of underdamped motion: the increments are not an overdamped diffusion's, so none of the four fields is the system's
            var smooth = EstimateRunners.SmoothPaths(header.Path, "infer",
                "infer reads these increments as an overdamped diffusion's, so its drift, diffusion matrix (of the order of v^2 dt, not a diffusion "
                + "coefficient), score and mean local velocity are not this system's; for the EP rate use 'thermolearn estimate --method underdamped' on the positions", stats[0],
                reader.Columns);
            int d = header.Dimension;
            JsonObject Diffusion(DiffusionEstimate e) => new()
            {
                ["matrix"] = Rows(e.Matrix, d),
                ["stderr"] = Rows(e.StandardErrors, d),
                ["method"] = e.Method,
            };
            JsonObject Field(LinearVectorField f) => new()
            {
                ["coefficients"] = Rows(f.Coefficients, d),
                ["stderr"] = Rows(f.StandardErrors!, d),
            };
            var output = new JsonObject
            {
                ["basis"] = b.Name,
                ["functions"] = new JsonArray(Enumerable.Range(0, b.Count).Select(a => (JsonNode?)JsonValue.Create(b.Describe(a))).ToArray()),
                ["dimension"] = d,
                ["correction"] = fix.Name,
                ["drift"] = Field(result.Drift),
                ["diffusion"] = Diffusion(result.Diffusion),
                ["score"] = Field(result.Score),
                ["mean_local_velocity"] = Field(result.MeanLocalVelocity),
                ["n_frames"] = result.Frames,
                ["n_transitions"] = result.Transitions,
                ["dt"] = header.Dt,
                ["errors"] = result.Settings.Errors,
                ["input"] = parse.GetValue(input.In),
            };
            if (result.Uncorrected is { } lagOne)
            {
                output["drift_uncorrected"] = Field(lagOne.Drift);
                output["score_uncorrected"] = Field(lagOne.Score);
                output["mean_local_velocity_uncorrected"] = Field(lagOne.MeanLocalVelocity);
                output["diffusion_uncorrected"] = Diffusion(lagOne.Diffusion);
                output["drift_correction_fraction"] = JsonOutput.Number(result.DriftCorrection!.Fraction);
            }
            if (result.MeasurementNoise is { } removed) output["measurement_noise"] = MeasurementNoiseJson(removed);
            if (InferenceInput.KnownModel(header.Metadata) is { } model) output["model"] = model.Name;
            var warnings = new List<EstimateWarning>();
            if (EulerChain(header.Path, header.Metadata, header.Dt, fix) is { } euler) warnings.Add(euler);
            if (smooth is not null) warnings.Add(smooth);
            if (result.MeasurementNoise is { } removedNoise && NoiseAmplification(header.Path, b, removedNoise) is { } amplified) warnings.Add(amplified);
            if (result.DriftCorrection is { } size && CoarseSampling(header.Path, header.Dt, size, fix, parse.GetValue(robust)) is { } coarse) warnings.Add(coarse);
            EstimateWarning.Print(console, warnings);
            if (EstimateWarning.Json(warnings) is { } list) output["warnings"] = list;
            if (plotPath is not null)
            {
                PlotRange range;
                using (var again = input.Open(parse)) range = PlotRange.Of(again, d, chunkValues);
                if (d == 2) InferencePlots.Field2D(range, result.Drift, [], "|drift| of the inferred force field", plotPath);
                else InferencePlots.Field1D(range, result.Drift, "inferred drift mu F(x)", "drift", plotPath);
            }
            if (parse.GetValue(json)) JsonOutput.Write(console, output);
            else
            {
                console.Out.WriteLine($"basis {b.Name}; {result.Frames} frames; errors: {result.Settings.Errors}; correction: "
                    + (result.Uncorrected is null ? "none (lag-dt fields)" : $"{fix.Name} (continuous-time drift, score and v from lags 1 and 2; the drift moved by "
                        + $"{100 * result.DriftCorrection!.Fraction:F1}% of its size)"));
                // all three fields, as in --json: the score and v are what the command is named for, not only the drift
                var fields = new List<(string, LinearVectorField)> { ("drift", result.Drift), ("score", result.Score), ("mean-local-velocity", result.MeanLocalVelocity) };
                if (result.Uncorrected is { } u)
                    fields.AddRange([("drift-uncorrected", u.Drift), ("score-uncorrected", u.Score), ("mean-local-velocity-uncorrected", u.MeanLocalVelocity)]);
                foreach (var (label, field) in fields)
                    for (int a = 0; a < b.Count; a++)
                        console.Out.WriteLine($"  {label}[{b.Describe(a)}] = " + string.Join(", ", Enumerable.Range(0, d).Select(m =>
                            $"{field.Coefficients[a * d + m]:G5} +- {field.StandardErrors![a * d + m]:G2}")));
                void Matrix(string label, IReadOnlyList<double> values, IReadOnlyList<double> errors) => console.Out.WriteLine(MatrixLine(label, values, errors, d));
                Matrix("D", result.Diffusion.Matrix, result.Diffusion.StandardErrors);
                if (result.Uncorrected is { } lagOneD) Matrix("D-uncorrected", lagOneD.Diffusion.Matrix, lagOneD.Diffusion.StandardErrors);
                if (result.MeasurementNoise is { } noise) console.Out.WriteLine(MeasurementNoiseLine(noise));
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// Removing Gaussian noise from a Fourier basis' moments multiplies each mode's observed mean by exp(q^T Sigma q / 2)
    /// (docs/inference.md, "Fourier bases"), and its standard error with it: above
    /// <see cref="MeasurementNoiseEstimate.AmplificationWarning"/> at the Gram's highest harmonic the fields are unbiased but much
    /// noisier, and fewer harmonics (or less noisy positions) serve better.
    /// </summary>
    internal static EstimateWarning? NoiseAmplification(string path, IBasis basis, MeasurementNoiseEstimate noise)
    {
        if (!(noise.Amplification > MeasurementNoiseEstimate.AmplificationWarning)) return null;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        string message = $"{path}: removing the measurement noise (variance {string.Join(", ", Enumerable.Range(0, noise.Dimension).Select(i => noise.Covariance[i * noise.Dimension + i].ToString("G3", culture)))} "
            + $"per coordinate) from the moments of {basis.Name} multiplies its highest modes by up to {noise.Amplification.ToString("G3", culture)} (exp(q^T Sigma q / 2), "
            + $"flagged above {MeasurementNoiseEstimate.AmplificationWarning.ToString(culture)}): the fields are corrected for the noise, but their statistical noise grows by "
            + "as much, more than their standard errors may show on few data. Use fewer harmonics, or positions with less measurement noise.";
        return new EstimateWarning("noise_amplification", message, new JsonObject
        {
            ["amplification"] = JsonOutput.Number(noise.Amplification),
            ["threshold"] = MeasurementNoiseEstimate.AmplificationWarning,
            ["basis"] = basis.Name,
            ["advice"] = "use fewer harmonics, or positions with less measurement noise",
        });
    }

    /// <summary>
    /// The drift's coarse-sampling correction is a large part of it (<see cref="CorrectionSize.UntrustedFraction"/>, the rule and
    /// threshold of estimate's EP rate): the frames are too far apart for the expansion in dt (linear models: a correction of 20% of the
    /// drift left about 10% of it; docs/inference.md).
    /// </summary>
    /// White measurement noise also moves the drift between the lags (-Sigma/dt at lag dt, -Sigma/(2 dt) at 2 dt, docs/inference.md),
    /// so without <paramref name="noiseRemoved"/> the advice names --noise-robust too.
    internal static EstimateWarning? CoarseSampling(string path, double dt, CorrectionSize size, CoarseSamplingCorrection correction, bool noiseRemoved)
    {
        if (size.UntrustedFraction is not { } fraction) return null;
        string message = $"{path}: frames {dt:G4} apart are too far apart for the first-order coarse-sampling correction of the drift to be trusted: {correction.Name} "
            + $"moves the drift from its lag-dt value (drift_uncorrected) by {100 * fraction:F0}% of its size (sqrt<F^T D^-1 F> over the data; trusted up to "
            + $"{100 * CoarseSamplingCorrection.TrustedFraction:F0}%, as in estimate; on linear models a 20% correction left about 10% of the drift, docs/inference.md "
            + "\"Coarse sampling: drift, diffusion and score\"), so the drift, score and mean local velocity keep a bias likely larger than their standard errors. Record frames closer together "
            + "(the correction shrinks in proportion to the spacing)"
            + (noiseRemoved ? "." : "; if the positions carry measurement noise, whose share in the drift differs between the two lags, infer with --noise-robust.");
        return new EstimateWarning("coarse_sampling", message, new JsonObject
        {
            ["quantity"] = "drift",
            ["correction_fraction"] = JsonOutput.Number(fraction),
            ["threshold"] = CoarseSamplingCorrection.TrustedFraction,
            ["correction"] = correction.Name,
            ["advice"] = noiseRemoved ? "record frames closer together" : "record frames closer together, or --noise-robust if the positions carry measurement noise",
        });
    }

    /// <summary>
    /// Euler-Maruyama data at its own step (the sidecar says so): the lag-dt drift of an Euler chain is its own drift exactly, so
    /// the correction over-corrects, as for estimate's EP rate (<see cref="EstimateCommand.EulerChainWarning(string, ThermoLearn.Trajectories.TrajectoryMetadata, double)"/>).
    /// </summary>
    internal static EstimateWarning? EulerChain(string path, ThermoLearn.Trajectories.TrajectoryMetadata metadata, double dt, CoarseSamplingCorrection correction) =>
        correction.Order > 0 ? EstimateCommand.EulerChainWarning(path, metadata, dt) : null;

    /// <summary>The removed measurement noise as JSON "measurement_noise" (infer, estimate): Sigma and its standard errors as d x d rows, and the amplification.</summary>
    internal static JsonObject MeasurementNoiseJson(MeasurementNoiseEstimate noise) => new()
    {
        ["covariance"] = Rows(noise.Covariance, noise.Dimension),
        ["stderr"] = Rows(noise.StandardErrors, noise.Dimension),
        ["amplification"] = JsonOutput.Number(noise.Amplification),
    };

    /// <summary>The removed measurement noise as a line of text (infer, estimate): "  measurement noise covariance = s11 +- e11, ...; ...".</summary>
    internal static string MeasurementNoiseLine(MeasurementNoiseEstimate noise) =>
        MatrixLine("measurement noise covariance", noise.Covariance, noise.StandardErrors, noise.Dimension);

    private static string MatrixLine(string label, IReadOnlyList<double> values, IReadOnlyList<double> errors, int d) => $"  {label} = " + string.Join("; ", Enumerable.Range(0, d).Select(i =>
        string.Join(", ", Enumerable.Range(0, d).Select(j => $"{values[i * d + j]:G5} +- {errors[i * d + j]:G2}"))));

    private static JsonArray Rows(IReadOnlyList<double> values, int columns)
    {
        var rows = new JsonArray();
        for (int r = 0; r < values.Count / columns; r++)
            rows.Add(JsonOutput.Array(Enumerable.Range(0, columns).Select(c => values[r * columns + c])));
        return rows;
    }
}
