using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ScottPlot;
using ThermoLearn.Cli.Plotting;

namespace ThermoLearn.Cli.Reports;

/// <summary>
/// The section a belief-state result gets above its generic rendering: a run folder's <c>run.json</c>
/// (format thermolearn-beliefs-run/1), <c>beliefs train --json</c> and <c>beliefs analyze --json</c>. The validation
/// cross-entropy is set against its floor, the entropy-rate bound mean h(L) over L = 2..n_ctx+1 (docs/beliefs.md):
/// gap = CE - floor, which the exact validation loss can never make negative and a sampled one only by its error.
/// </summary>
internal static partial class HtmlReport
{
    /// <summary>An exact validation loss below the floor by more than this (nats) breaks the bound; less is float32 round-off.</summary>
    private const double FloorRoundOff = 1e-6;

    private static void RenderBeliefs(StringBuilder html, State state, Input input)
    {
        var obj = input.Result;
        string? format = obj["format"] is JsonValue f && f.TryGetValue(out string? text) ? text : null;
        bool run = format?.StartsWith("thermolearn-beliefs-run/", StringComparison.Ordinal) == true;
        bool printed = !run && obj.ContainsKey("ce_floor_nats") && obj.ContainsKey("val_ce");
        if (!run && !printed) return;
        string file = input.Path;
        if (run && format != "thermolearn-beliefs-run/1")
            throw new InvalidInputException($"{file}: \"format\" is \"{format}\"; this report reads thermolearn-beliefs-run/1 run files.");

        string process;
        double ce, floor;
        double? stderr;
        bool exact;
        if (run)
        {
            var spec = Require<JsonObject>(file, obj, "process", "an object");
            process = Require<string>(file, spec, "process.spec", "a string", "spec");
            if (spec["settings"] is JsonArray { Count: > 0 } settings)
                process += " (" + string.Join(", ", settings.Select(s => Scalar(s))) + ")";
            floor = RequireNumber(file, obj, "ce_floor_nats", nonNegative: true);
            exact = Require<bool>(file, obj, "exact_validation", "true or false");
            var result = Require<JsonObject>(file, obj, "result", "an object");
            ce = RequireNumber(file, result, "result.final_validation_loss", "final_validation_loss", nonNegative: true);
            stderr = null;
        }
        else
        {
            process = Require<string>(file, obj, "process", "a string");
            floor = RequireNumber(file, obj, "ce_floor_nats", nonNegative: true);
            ce = RequireNumber(file, obj, "val_ce", nonNegative: true);
            exact = Require<bool>(file, obj, obj.ContainsKey("exact") ? "exact" : "exact_validation", "true or false");
            stderr = exact ? null : OptionalNumber(file, obj, "val_ce_stderr", "val_ce_stderr", nonNegative: true);
        }
        double gap = ce - floor;

        html.Append("<h3>Cross-entropy against its floor</h3><table class=\"measurements\"><thead><tr>")
            .Append("<th>process</th><th>validation CE (nats)</th><th>floor: entropy-rate bound (nats)</th><th>gap (nats)</th><th>verdict</th></tr></thead><tbody>")
            .Append($"<tr><td>{E(process)}</td><td class=\"num\">{E(Measurement.Format(ce, stderr))}{(exact ? " (exact)" : stderr is null ? " (sampled)" : "")}</td>")
            .Append($"<td class=\"num\">{E(Measurement.Plain(floor))}</td><td class=\"num\">{E(Measurement.Format(gap, stderr))}</td>")
            .Append($"<td>{E(FloorVerdict(gap, stderr, exact))}</td></tr></tbody></table>\n");

        if (run && obj["log"] is JsonArray log) TrainingCurve(html, state, file, log, floor);
        if (!run && obj["checkpoints"] is JsonArray checkpoints) CheckpointCurve(html, state, file, checkpoints, floor);
        if (!run && obj.ContainsKey("r2_final")) RenderBeliefGeometry(html, file, obj);
    }

    /// <summary>The gap's verdict with its margin: how far above the floor, or how far below and whether that breaks the bound.</summary>
    private static string FloorVerdict(double gap, double? stderr, bool exact)
    {
        string nats = gap.ToString("G4", CultureInfo.InvariantCulture);
        if (exact)
            return gap >= -FloorRoundOff
                ? $"above the floor, as an exact loss must be: the model is {nats} nats per token from the best possible prediction"
                : $"below the floor by {(-gap).ToString("G4", CultureInfo.InvariantCulture)} nats, beyond round-off ({FloorRoundOff:G1}): an exact loss cannot be; the run or its floor is wrong";
        if (stderr is not { } s || !(s > 0))
            return $"gap {nats} nats; the sampled loss has no error bar here (beliefs analyze --json gives one)";
        double z = gap / s;
        string zs = z.ToString("+0.00;-0.00", CultureInfo.InvariantCulture);
        return z >= -3
            ? $"{(z > 3 ? "above the floor" : "consistent with the floor")}: gap {nats} nats, z = {zs} standard errors"
            : $"below the floor by {zs} standard errors: more than sampling explains; the run or its floor is wrong";
    }

    /// <summary>Training and validation cross-entropy against tokens from a run's log, the floor dashed.</summary>
    private static void TrainingCurve(StringBuilder html, State state, string file, JsonArray log, double floor)
    {
        var train = new List<(double X, double Y)>();
        var validation = new List<(double X, double Y)>();
        for (int i = 0; i < log.Count; i++)
        {
            if (log[i] is not JsonObject entry) throw new InvalidInputException($"{file}: \"log[{i}]\" is {log[i]?.ToJsonString() ?? "null"}, not a log line ({{step, tokens, seconds, train_loss, validation_loss}}).");
            double tokens = RequireNumber(file, entry, $"log[{i}].tokens", "tokens", nonNegative: true);
            if (OptionalNumber(file, entry, $"log[{i}].train_loss", "train_loss", nonNegative: true) is { } t) train.Add((tokens, t));
            if (OptionalNumber(file, entry, $"log[{i}].validation_loss", "validation_loss", nonNegative: true) is { } v) validation.Add((tokens, v));
        }
        if (train.Count + validation.Count < 2) return;
        var plot = PlotFile.Create("Training curve", "tokens", "cross-entropy (nats)");
        if (train.Count > 0)
        {
            var line = plot.Add.ScatterLine(train.Select(p => p.X).ToArray(), train.Select(p => p.Y).ToArray(), Colors.Category10[0]);
            line.LineWidth = 2;
            line.LegendText = "training CE (mean since the previous line)";
        }
        AddValidationAndFloor(plot, validation, floor);
        Figure(html, state, plot, $"Training ({train.Count} log lines) and validation ({validation.Count} evaluations) cross-entropy against tokens; dashed: the floor {Measurement.Plain(floor)} nats.");
    }

    /// <summary>The validation cross-entropy's points (when there are any), the floor dashed, and the legend: both curves draw them alike.</summary>
    private static void AddValidationAndFloor(ScottPlot.Plot plot, IReadOnlyList<(double X, double Y)> validation, double floor)
    {
        if (validation.Count > 0)
        {
            var line = plot.Add.Scatter(validation.Select(p => p.X).ToArray(), validation.Select(p => p.Y).ToArray(), Colors.Category10[1]);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = "validation CE";
        }
        plot.Add.HorizontalLine(floor, 1.5f, Colors.Category10[3], LinePattern.Dashed).LegendText = "floor (entropy-rate bound)";
        plot.ShowLegend();
    }

    /// <summary>Validation cross-entropy at each checkpoint (train and analyze --json), the floor dashed.</summary>
    private static void CheckpointCurve(StringBuilder html, State state, string file, JsonArray checkpoints, double floor)
    {
        var points = checkpoints.Select((c, i) => c is JsonObject o
                ? (X: OptionalNumber(file, o, $"checkpoints[{i}].tokens", "tokens", nonNegative: true), Y: OptionalNumber(file, o, $"checkpoints[{i}].val_ce", "val_ce", nonNegative: true))
                : (X: null, Y: null))
            .Where(p => p.X is not null && p.Y is not null).Select(p => (X: p.X!.Value, Y: p.Y!.Value)).ToList();
        if (points.Count < 2) return;
        var plot = PlotFile.Create("Validation cross-entropy at the checkpoints", "tokens", "cross-entropy (nats)");
        AddValidationAndFloor(plot, points, floor);
        Figure(html, state, plot, $"Validation cross-entropy at {points.Count} checkpoints; dashed: the floor {Measurement.Plain(floor)} nats.");
    }

    /// <summary>
    /// beliefs analyze: the belief regression per residual stream with its controls (held-out R^2 near the in-sample
    /// value, label-shuffled R^2 near or below 0; a perfect linear image gives 1), the centroid dimension against the same
    /// measure on the true beliefs, and every factored-versus-joint verdict with its margin.
    /// </summary>
    private static void RenderBeliefGeometry(StringBuilder html, string file, JsonObject obj)
    {
        RequireNumber(file, obj, "r2_final");
        OptionalNumber(file, obj, "rmse_final", "rmse_final", nonNegative: true);
        html.Append("<h3>Belief regression (reference: R^2 = 1 for a linear image of the beliefs; label-shuffled control ≤ 0)</h3>")
            .Append("<table class=\"measurements\"><thead><tr><th>stream</th><th>R^2</th><th>held-out R^2</th><th>shuffled-label R^2</th><th>RMSE</th><th>PCA 95 %</th></tr></thead><tbody>");
        if (obj["layers"] is JsonArray layers)
            for (int i = 0; i < layers.Count; i++)
            {
                if (layers[i] is not JsonObject layer) continue;
                string at = $"layers[{i}]";
                string name = layer["layer"] is JsonValue l && l.TryGetValue(out string? s) ? (s == "0" ? "embeddings" : s == "concat" ? "concatenated" : "block " + s) : "?";
                html.Append($"<tr><td>{E(name)}</td><td class=\"num\">{Cell(file, layer, at, "r2")}</td><td class=\"num\">{Cell(file, layer, at, "r2_held_out")}</td>")
                    .Append($"<td class=\"num\">{Cell(file, layer, at, "r2_shuffled")}</td><td class=\"num\">{Cell(file, layer, at, "rmse", nonNegative: true)}</td>")
                    .Append($"<td class=\"num\">{Cell(file, layer["pca"], at + ".pca", "d95", nonNegative: true)}</td></tr>");
            }
        else
            html.Append($"<tr><td>final</td><td class=\"num\">{Cell(file, obj, "", "r2_final")}</td><td>—</td><td>—</td><td class=\"num\">{Cell(file, obj, "", "rmse_final", nonNegative: true)}</td><td>—</td></tr>");
        html.Append("</tbody></table>\n");

        if (obj["centroids"] is JsonObject centroids && obj["true_geometry"] is JsonObject truth)
        {
            html.Append("<h3>Belief-linked geometry, final layer (reference: the same measure on the true beliefs)</h3>")
                .Append("<table class=\"measurements\"><thead><tr><th>quantity</th><th>model</th><th>true factor beliefs</th><th>true joint belief</th><th>true next-token laws</th></tr></thead><tbody>");
            // dimensions, participation ratios and ranks count directions: none is negative
            string Spectrum(JsonNode? o, string at, string key) => OptionalNumber(file, o, Join(at, key), key, nonNegative: true) is { } v
                ? E(Measurement.Format(v, OptionalNumber(file, o, Join(at, key + "_stderr"), key + "_stderr", nonNegative: true))) : "—";
            html.Append($"<tr><td>centroid dimension (95 %)</td><td class=\"num\">{Spectrum(centroids, "centroids", "dimension")}</td><td class=\"num\">{Spectrum(truth["factor_beliefs"], "true_geometry.factor_beliefs", "d95")}</td>")
                .Append($"<td class=\"num\">{Spectrum(truth["joint_belief"], "true_geometry.joint_belief", "d95")}</td><td class=\"num\">{Spectrum(truth["next_token_laws"], "true_geometry.next_token_laws", "d95")}</td></tr>");
            html.Append($"<tr><td>participation ratio</td><td class=\"num\">{Spectrum(centroids["belief_explained"], "centroids.belief_explained", "participation_ratio")}</td><td class=\"num\">{Spectrum(truth["factor_beliefs"], "true_geometry.factor_beliefs", "participation_ratio")}</td>")
                .Append($"<td class=\"num\">{Spectrum(truth["joint_belief"], "true_geometry.joint_belief", "participation_ratio")}</td><td class=\"num\">{Spectrum(truth["next_token_laws"], "true_geometry.next_token_laws", "participation_ratio")}</td></tr>");
            html.Append($"<tr><td>affine rank bound</td><td>—</td><td class=\"num\">{Cell(file, truth, "true_geometry", "factored_rank", nonNegative: true)}</td><td class=\"num\">{Cell(file, truth, "true_geometry", "joint_rank", nonNegative: true)}</td><td class=\"num\">{Cell(file, truth, "true_geometry", "next_token_rank", nonNegative: true)}</td></tr>")
                .Append("</tbody></table>\n");
        }

        var verdicts = new List<(string Where, string Path, JsonObject Comparison)>();
        if (obj["factored_vs_joint"] is JsonObject final) verdicts.Add(("final checkpoint", "factored_vs_joint", final));
        if (obj["checkpoint_verdicts"] is JsonArray perCheckpoint)
            for (int i = 0; i < perCheckpoint.Count; i++)
                if (perCheckpoint[i] is JsonObject c)
                    verdicts.Add(($"{Cell(file, c, $"checkpoint_verdicts[{i}]", "tokens", nonNegative: true)} tokens", $"checkpoint_verdicts[{i}]", c));
        if (verdicts.Count == 0) return;
        html.Append("<h3>Factored versus joint (every verdict with its margin)</h3><table class=\"measurements\"><thead><tr>")
            .Append("<th>at</th><th>verdict</th><th>margin R^2_joint - R^2_factored</th><th>excess share</th><th>split jointness</th><th>reason</th></tr></thead><tbody>");
        foreach (var (where, at, c) in verdicts)
        {
            string verdict = c["verdict"] is JsonValue v && v.TryGetValue(out string? text) ? text
                : throw new InvalidInputException($"{file}: a factored-versus-joint comparison at the {where} has no \"verdict\" string.");
            html.Append($"<tr><td>{E(where)}</td><td><b>{E(verdict)}</b></td><td class=\"num\">{WithZ(file, c, at, "margin")}</td>")
                .Append($"<td class=\"num\">{WithZ(file, c, at, "excess_share")}</td><td class=\"num\">{WithZ(file, c, at, "split_jointness")}</td><td>{E(c["reason"] is JsonValue r ? Scalar(r) : "")}</td></tr>");
        }
        html.Append("</tbody></table>\n");
    }

    /// <summary>value ± stderr (z = value / stderr) for a quantity whose reference is 0.</summary>
    private static string WithZ(string file, JsonObject o, string path, string key)
    {
        if (OptionalNumber(file, o, Join(path, key), key) is not { } value) return "—";
        double? s = OptionalNumber(file, o, Join(path, key + "_stderr"), key + "_stderr", nonNegative: true);
        string text = Measurement.Format(value, s);
        if (s is > 0) text += $" (z = {(value / s.Value).ToString("+0.00;-0.00", CultureInfo.InvariantCulture)})";
        return E(text);
    }

    private static string Cell(string file, JsonNode? parent, string path, string key, bool nonNegative = false) =>
        OptionalNumber(file, parent, Join(path, key), key, nonNegative) is { } v ? E(v.ToString("G4", CultureInfo.InvariantCulture)) : "—";

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    /// <summary>
    /// A number the section reads where the result may leave it out: absent or null gives null (shown as —); anything else
    /// must be a finite number, and one &gt;= 0 where the quantity cannot be negative (a cross-entropy, a token count, an
    /// error bar, a dimension).
    /// </summary>
    private static double? OptionalNumber(string file, JsonNode? parent, string path, string key, bool nonNegative = false) =>
        parent is JsonObject obj && obj[key] is not null ? RequireNumber(file, obj, path, key, nonNegative) : null;

    private static double RequireNumber(string file, JsonObject obj, string path, string? key = null, bool nonNegative = false)
    {
        key ??= path;
        if (!obj.ContainsKey(key)) throw new InvalidInputException($"{file}: \"{path}\" is missing; the report's section for this kind of result needs it as a number.");
        double value = Measurement.Number(obj[key])
            ?? throw new InvalidInputException($"{file}: \"{path}\" is {obj[key]?.ToJsonString() ?? "null"}, not a finite number.");
        if (nonNegative && value < 0)
            throw new InvalidInputException($"{file}: \"{path}\" is {value.ToString("G", CultureInfo.InvariantCulture)}; it cannot be negative.");
        return value;
    }

    private static T Require<T>(string file, JsonObject obj, string path, string what, string? key = null)
    {
        key ??= path;
        if (!obj.ContainsKey(key)) throw new InvalidInputException($"{file}: \"{path}\" is missing; the report's section for this kind of result needs it as {what}.");
        if (obj[key] is T node) return node;
        if (obj[key] is JsonValue v && v.TryGetValue(out T? value) && value is not null) return value;
        throw new InvalidInputException($"{file}: \"{path}\" is {obj[key]?.ToJsonString() ?? "null"}, not {what}.");
    }
}
