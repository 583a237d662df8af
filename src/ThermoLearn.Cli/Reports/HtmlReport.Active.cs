using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ScottPlot;
using ThermoLearn.Cli.Plotting;

namespace ThermoLearn.Cli.Reports;

/// <summary>
/// The section an active-matter estimate gets above its generic rendering: <c>thermolearn estimate --method
/// current|identity|score --json</c> on aoup/abp snapshots (docs/active-matter.md). The system, sigma per estimator with its
/// error bar (fitted and jackknife-debiased, whole system and per particle), the comparison with the exact rate and with
/// identity 4 (eps = 0) as a verdict with its difference, z = difference / stderr and margin 3 stderr - |difference| (room left
/// before |z| = 3), the held-out rate (and the blocks that swamp it), the stationarity checks with their z, and every warning.
/// Every number the section reads is checked here: finite, error bars &gt;= 0; otherwise exit 2 naming the file and key.
/// </summary>
internal static partial class HtmlReport
{
    private static readonly string[] ActiveModels = ["aoup", "abp"];
    private static readonly string[] ActiveMethods = ["current", "identity", "score"];

    private static void RenderActive(StringBuilder html, State state, Input input)
    {
        var obj = input.Result;
        if (obj["model"] is not JsonValue m || !m.TryGetValue(out string? model) || !ActiveModels.Contains(model)
            || obj["method"] is not JsonValue me || !me.TryGetValue(out string? method) || !ActiveMethods.Contains(method)
            || !obj.ContainsKey("n_snapshots"))
            return;
        string file = input.Path;

        // The system
        var p = Require<JsonObject>(file, obj, "parameters", "an object");
        int particles = (int)RequireNumber(file, obj, "particles", nonNegative: true);
        int dimension = (int)RequireNumber(file, p, "parameters.d", "d", nonNegative: true);
        double? phi = OptionalNumber(file, p, "parameters.phi", "phi", nonNegative: true);
        double? trap = OptionalNumber(file, p, "parameters.A", "A", nonNegative: true);
        string box = p["box"] is JsonArray b ? "[" + string.Join(", ", b.Select(x => Scalar(x))) + "]" : "—";
        int frames = (int)RequireNumber(file, obj, "n_snapshots", nonNegative: true);
        double frameDt = RequireNumber(file, obj, "frame_dt", nonNegative: true);
        int blocks = (int)RequireNumber(file, obj, "blocks", nonNegative: true);
        double? asked = OptionalNumber(file, obj, "blocks_asked", "blocks_asked", nonNegative: true);
        string confinement = trap is > 0 ? $"harmonic trap A = {Measurement.Plain(trap.Value)}" : $"periodic box {box}";
        html.Append("<h3>Active matter: entropy production</h3><table class=\"settings\"><tbody>")
            .Append($"<tr><th>system</th><td>{E(model!)}, N = {particles}, d = {dimension}, phi = {E(phi is { } f ? Measurement.Plain(f) : "—")}, {E(confinement)}</td></tr>")
            .Append($"<tr><th>activity</th><td>v0 = {Param(file, p, "v0")}, gamma = {Param(file, p, "gamma")}, eps = {Param(file, p, "eps")}, k = {Param(file, p, "k")}</td></tr>")
            .Append($"<tr><th>data</th><td>{frames} frames every {E(Measurement.Plain(frameDt))}; error from {blocks} block{(blocks == 1 ? "" : "s")}"
                + (asked is { } a && a != blocks ? $" ({a:0} asked)" : "") + "</td></tr>")
            .Append($"<tr><th>method</th><td>{E(method!)}</td></tr></tbody></table>\n");

        // sigma per estimator
        double rate = RequireNumber(file, obj, "ep_rate");
        double? stderr = OptionalNumber(file, obj, "stderr", "stderr", nonNegative: true);
        double? exact = OptionalNumber(file, obj, "exact_ep_rate", "exact_ep_rate");
        html.Append("<table class=\"measurements\"><thead><tr><th>estimate</th><th>sigma (whole system)</th><th>per particle</th><th>exact</th></tr></thead><tbody>");
        ActiveRow(html, "fitted", rate, stderr, particles, exact);
        if (OptionalNumber(file, obj, "ep_rate_debiased", "ep_rate_debiased") is { } debiased)
            ActiveRow(html, "jackknife-debiased", debiased, stderr, particles, exact);
        if (OptionalNumber(file, obj, "ep_rate_per_particle", "ep_rate_per_particle") is { } perParticle)
            html.Append($"<tr><td>per particle, as written</td><td class=\"num\">—</td><td class=\"num\">{E(Measurement.Format(perParticle, OptionalNumber(file, obj, "stderr_per_particle", "stderr_per_particle", nonNegative: true)))}</td>"
                + $"<td class=\"num\">{E(exact is { } e0 ? Measurement.Plain(e0 / particles) : "—")}</td></tr>");
        if (OptionalNumber(file, obj, "ep_rate_x", "ep_rate_x") is { } x && OptionalNumber(file, obj, "ep_rate_g", "ep_rate_g") is { } g)
            html.Append($"<tr><td>x part / g part</td><td class=\"num\">{E(Measurement.Plain(x))} / {E(Measurement.Plain(g))}</td><td class=\"num\">—</td>"
                + $"<td class=\"num\">{E(OptionalNumber(file, obj, "exact_ep_rate_x", "exact_ep_rate_x") is { } ex && OptionalNumber(file, obj, "exact_ep_rate_g", "exact_ep_rate_g") is { } eg ? Measurement.Plain(ex) + " / " + Measurement.Plain(eg) : "—")}</td></tr>");
        if (OptionalNumber(file, obj, "ep_rate_heldout", "ep_rate_heldout") is { } heldOut)
            ActiveRow(html, "held-out (fitted on the other blocks; a lower bound up to its error)", heldOut,
                OptionalNumber(file, obj, "stderr_heldout", "stderr_heldout", nonNegative: true), particles, exact);
        if (OptionalNumber(file, obj, "ep_rate_plugin", "ep_rate_plugin") is { } plugIn)
            ActiveRow(html, "plug-in (score)", plugIn, OptionalNumber(file, obj, "stderr_plugin", "stderr_plugin", nonNegative: true), particles, exact);
        if (OptionalNumber(file, obj, "identity_ep_rate", "identity_ep_rate") is { } identity)
            ActiveRow(html, "identity 4 (exact up to sampling at eps = 0)", identity,
                OptionalNumber(file, obj, "identity_stderr", "identity_stderr", nonNegative: true), particles, exact);
        html.Append("</tbody></table>\n");

        // Comparisons as verdicts
        var verdicts = new List<(string Against, string Compared, string Text)>();
        string compared = obj["exact_compared"] is JsonValue c && c.TryGetValue(out string? cs) ? cs : "ep_rate";
        if (obj.ContainsKey("difference_from_exact") && obj["difference_from_exact"] is not null)
        {
            double difference = RequireNumber(file, obj, "difference_from_exact");
            double? error = OptionalNumber(file, obj, "difference_from_exact_stderr", "difference_from_exact_stderr", nonNegative: true);
            bool rounding = obj["exact_equal_to_rounding"] is JsonValue r && r.TryGetValue(out bool eq) && eq;
            verdicts.Add(("exact rate " + Measurement.Plain(exact ?? double.NaN), compared, ActiveVerdict(difference, error, rounding, null, null)));
        }
        if (obj.ContainsKey("difference_from_identity") && obj["difference_from_identity"] is not null)
        {
            double difference = RequireNumber(file, obj, "difference_from_identity");
            double? error = OptionalNumber(file, obj, "difference_from_identity_stderr", "difference_from_identity_stderr", nonNegative: true);
            double? ratio = OptionalNumber(file, obj, "ratio_to_identity", "ratio_to_identity");
            double? ratioError = OptionalNumber(file, obj, "ratio_to_identity_stderr", "ratio_to_identity_stderr", nonNegative: true);
            string of = obj["identity_compared"] is JsonValue ic && ic.TryGetValue(out string? ics) ? ics : compared;
            verdicts.Add(("identity 4", of, ActiveVerdict(difference, error, false, ratio, ratioError)));
            if (OptionalNumber(file, obj, "heldout_ratio_to_identity", "heldout_ratio_to_identity") is { } hr)
            {
                double? hre = OptionalNumber(file, obj, "heldout_ratio_to_identity_stderr", "heldout_ratio_to_identity_stderr", nonNegative: true);
                verdicts.Add(("identity 4", "ep_rate_heldout", $"ratio {Measurement.Format(hr, hre)}" + (hre is > 0 ? $", {RatioZ(hr, hre.Value)}" : "")));
            }
        }
        if (verdicts.Count > 0)
        {
            html.Append("<table class=\"measurements\"><thead><tr><th>against</th><th>estimate compared</th><th>verdict (z = difference / stderr; margin = 3 stderr - |difference|)</th></tr></thead><tbody>");
            foreach (var (against, of, text) in verdicts)
                html.Append($"<tr><td>{E(against)}</td><td>{E(of)}</td><td>{E(text)}</td></tr>");
            html.Append("</tbody></table>\n");
        }

        if (obj["heldout_swamped"] is JsonObject swamped)
        {
            string list = swamped["blocks"] is JsonArray bl ? string.Join(", ", bl.Select(x => Scalar(x))) : "—";
            double without = RequireNumber(file, swamped, "heldout_swamped.ep_rate_heldout_without", "ep_rate_heldout_without");
            double? withoutError = OptionalNumber(file, swamped, "heldout_swamped.stderr_heldout_without", "stderr_heldout_without", nonNegative: true);
            html.Append($"<p class=\"warning\">Held-out rate swamped by block{(list.Contains(',') ? "s" : "")} {E(list)}: "
                + $"without {(list.Contains(',') ? "them" : "it")} {E(Measurement.Format(without, withoutError))}.</p>\n");
        }

        // Stationarity: identity 4 and the observables it does not fix, each on two stretches of the record
        var checks = new List<(string Name, JsonObject Check, string Path, string MeansKey)>();
        if (obj["stationarity"] is JsonObject st) checks.Add(("identity 4", st, "stationarity", "identity"));
        if (obj["stationarity_observables"] is JsonArray observables)
            for (int i = 0; i < observables.Count; i++)
                if (observables[i] is JsonObject o)
                    checks.Add((o["observable"] is JsonValue ov ? Scalar(ov) : $"observable {i}", o, $"stationarity_observables[{i}]", "mean"));
        if (checks.Count > 0)
        {
            html.Append("<table class=\"measurements\"><thead><tr><th>stationarity check</th><th>frames</th><th>first stretch</th><th>second stretch</th>")
                .Append("<th>difference</th><th>z</th><th>z (reference)</th><th>verdict</th></tr></thead><tbody>");
            foreach (var (name, check, path, meansKey) in checks)
            {
                string[] stretch = ["—", "—"];
                if (check[meansKey] is JsonArray means && check["stderr"] is JsonArray errors)
                    for (int k = 0; k < Math.Min(2, means.Count); k++)
                        stretch[k] = Measurement.Format(RequireNumber(file, new JsonObject { ["v"] = means[k]?.DeepClone() }, $"{path}.{meansKey}[{k}]", "v"),
                            k < errors.Count && errors[k] is not null ? RequireNumber(file, new JsonObject { ["v"] = errors[k]!.DeepClone() }, $"{path}.stderr[{k}]", "v", nonNegative: true) : null);
                double difference = RequireNumber(file, check, $"{path}.difference", "difference");
                double? error = OptionalNumber(file, check, $"{path}.difference_stderr", "difference_stderr", nonNegative: true);
                double? z = OptionalNumber(file, check, $"{path}.z", "z");
                double? zReference = OptionalNumber(file, check, $"{path}.z_reference", "z_reference");
                bool differs = check["differs"] is JsonValue dv && dv.TryGetValue(out bool d) && d;
                bool rounding = check["equal_to_rounding"] is JsonValue rv && rv.TryGetValue(out bool rr) && rr;
                string framesText = check["frames"]?.ToJsonString() ?? "—";
                html.Append($"<tr><td>{E(name)}</td><td>{E(framesText)}</td><td class=\"num\">{E(stretch[0])}</td><td class=\"num\">{E(stretch[1])}</td>")
                    .Append($"<td class=\"num\">{E(Measurement.Format(difference, error))}</td><td class=\"num {(differs ? "off" : "ok")}\">{E(Signed(z))}</td><td class=\"num\">{E(Signed(zReference))}</td>")
                    .Append($"<td>{E(differs ? "differs: not a steady state" : rounding ? "equal to rounding" : "consistent with a steady state")}</td></tr>");
            }
            html.Append("</tbody></table>\n");
        }

        ActiveMaps(html, state, file, obj, exact);

        // Every warning, as the command gave it
        if (obj["warnings"] is JsonArray warnings && warnings.Count > 0)
        {
            html.Append("<ul class=\"warnings\">");
            for (int i = 0; i < warnings.Count; i++)
            {
                if (warnings[i] is not JsonObject w || w["message"] is not JsonValue msg || !msg.TryGetValue(out string? text))
                    throw new InvalidInputException($"{file}: \"warnings[{i}]\" is {warnings[i]?.ToJsonString() ?? "null"}, not a warning ({{id, message, ...}}).");
                string id = w["id"] is JsonValue idv ? Scalar(idv) : "warning";
                html.Append($"<li><b>{E(id)}</b>: {E(text)}</li>");
            }
            html.Append("</ul>\n");
        }
        else html.Append("<p class=\"meta\">No warnings: the estimate's checks (blocks, stationarity, held-out swamping) passed.</p>\n");
        html.Append("<h3>All fields</h3>\n");
    }

    /// <summary>
    /// The local maps: the x vs g split of sigma (bars, exact values as red ticks), and, where estimate --local / --regions wrote
    /// them (JSON local_file, regions_file: read beside the JSON, else as written), the per-particle EP map and the grid map. A
    /// sidecar that is not there is said so; one that is there but malformed is refused (exit 2, the file, line and column).
    /// </summary>
    private static void ActiveMaps(StringBuilder html, State state, string file, JsonObject obj, double? exact)
    {
        if (OptionalNumber(file, obj, "ep_rate_x", "ep_rate_x") is { } rx && OptionalNumber(file, obj, "ep_rate_g", "ep_rate_g") is { } rg)
        {
            var plot = PlotFile.Create("sigma split: positions x and propulsion g", "", "EP rate");
            var bars = plot.Add.Bars(new[] { 1.0, 2.0 }, new[] { rx, rg });
            bars.Color = Colors.Category10[0];
            double? ex = OptionalNumber(file, obj, "exact_ep_rate_x", "exact_ep_rate_x"), eg = OptionalNumber(file, obj, "exact_ep_rate_g", "exact_ep_rate_g");
            if (ex is { } a && eg is { } b)
                plot.Add.Markers(new[] { 1.0, 2.0 }, new[] { a, b }, MarkerShape.HorizontalBar, 40, Colors.Category10[3]).LegendText = "exact";
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(new[] { 1.0, 2.0 }, new[] { "x part", "g part" });
            if (ex is not null && eg is not null) plot.ShowLegend();
            Figure(html, state, plot, $"The fitted sigma split into its position (x) and propulsion (g) parts: {Measurement.Plain(rx)} + {Measurement.Plain(rg)}"
                + (ex is { } a2 && eg is { } b2 ? $"; red: exact {Measurement.Plain(a2)} and {Measurement.Plain(b2)}." : "."));
        }
        if (Sidecar(html, file, obj, "local_file") is { } local)
        {
            var rows = ReadCsv(local, ["x", "y", "ep_rate_mean"]);
            double[] values = rows["ep_rate_mean"];
            // one row per particle: a map left from another run (another N) does not describe this result
            int particles = (int)RequireNumber(file, obj, "particles", nonNegative: true);
            if (values.Length != particles)
                throw new InvalidInputException($"{local}: {values.Length} particles, but {file} is an estimate over {particles}; the map is from another run.");
            var (lo, hi, above) = ActiveMatterPlots.ColourRange(values);
            var plot = PlotFile.Create("local EP rate per particle (time average), at the last snapshot's positions", "x", "y");
            var colormap = new ScottPlot.Colormaps.Viridis();
            const int colourBins = 64;
            for (int bin = 0; bin < colourBins; bin++)
            {
                var members = Enumerable.Range(0, values.Length)
                    .Where(i => Math.Clamp((int)((values[i] - lo) / (hi - lo) * colourBins), 0, colourBins - 1) == bin).ToArray();
                if (members.Length == 0) continue;
                var points = plot.Add.ScatterPoints(members.Select(i => rows["x"][i]).ToArray(), members.Select(i => rows["y"][i]).ToArray());
                points.MarkerSize = 6;
                points.MarkerShape = MarkerShape.FilledCircle;
                points.Color = colormap.GetColor((bin + 0.5) / colourBins);
            }
            var source = plot.Add.Heatmap(new double[,] { { lo, hi } });
            source.IsVisible = false;
            source.Colormap = colormap;
            plot.Add.ColorBar(source).Label = "ep_rate_mean" + (above > 0 ? $" (capped: {above} above {hi.ToString("G3", CultureInfo.InvariantCulture)})" : "");
            plot.Axes.SquareUnits();
            Figure(html, state, plot, $"Per-particle EP map ({values.Length} particles, {local}); sum {Measurement.Plain(values.Sum())}"
                + (exact is { } e ? $", exact whole-system rate {Measurement.Plain(e)}" : "") + "; no error bars: the maps distribute the whole-system rate.");
        }
        if (Sidecar(html, file, obj, "regions_file") is { } regions)
        {
            string column = File.ReadLines(regions).FirstOrDefault()?.Contains("ep_rate_per_projected_area", StringComparison.Ordinal) == true
                ? "ep_rate_per_projected_area" : "ep_rate_per_area";
            var rows = ReadCsv(regions, ["x_centre", "y_centre", column]);
            double[] xs = rows["x_centre"].Distinct().Order().ToArray(), ys = rows["y_centre"].Distinct().Order().ToArray();
            if (xs.Length * ys.Length != rows[column].Length || xs.Length < 2 || ys.Length < 2)
                throw new InvalidInputException($"{regions}: {rows[column].Length} cells on {xs.Length} x centres and {ys.Length} y centres; a grid map holds every (x, y) cell once.");
            var z = new double[ys.Length, xs.Length];
            for (int i = 0; i < rows[column].Length; i++)
                z[ys.Length - 1 - Array.IndexOf(ys, rows["y_centre"][i]), Array.IndexOf(xs, rows["x_centre"][i])] = rows[column][i]; // row 0 at the top
            var plot = PlotFile.Create("EP rate per unit area on the grid", "x", "y");
            var map = plot.Add.Heatmap(z);
            double hx = (xs[1] - xs[0]) / 2, hy = (ys[1] - ys[0]) / 2;
            map.Extent = new CoordinateRect(xs[0] - hx, xs[^1] + hx, ys[0] - hy, ys[^1] + hy);
            map.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(map).Label = column;
            plot.Axes.SquareUnits();
            // cell value x cell area summed is the particles' EP, the per-particle map's sum (docs/active-matter.md)
            double integral = rows[column].Sum() * (2 * hx) * (2 * hy);
            Figure(html, state, plot, $"Grid map, {xs.Length} x {ys.Length} cells ({regions}): {column}; sum of value x cell area {Measurement.Plain(integral)}; no error bars.");
        }
    }

    /// <summary>The sidecar a JSON key names: beside the JSON, else the path as written; null (and a note) when it is not there.</summary>
    private static string? Sidecar(StringBuilder html, string file, JsonObject obj, string key)
    {
        if (obj[key] is null) return null;
        string name = Require<string>(file, obj, key, "a file name");
        string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? "", name);
        if (File.Exists(beside)) return beside;
        if (File.Exists(name)) return name;
        html.Append($"<p class=\"meta\">{E(key)} {E(name)} is not beside {E(Path.GetFileName(file))} nor at that path: the map is not drawn.</p>\n");
        return null;
    }

    /// <summary>The named numeric columns of a CSV sidecar; a missing column or a cell that is not a finite number is refused.</summary>
    private static Dictionary<string, double[]> ReadCsv(string path, string[] columns)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length < 2) throw new InvalidInputException($"{path}: no rows under the header; a map has one row per particle or cell.");
        string[] header = lines[0].Split(',');
        var index = columns.ToDictionary(c => c, c => Array.IndexOf(header, c));
        foreach (var (c, i) in index)
            if (i < 0) throw new InvalidInputException($"{path}: no column \"{c}\" in the header ({lines[0]}).");
        var result = columns.ToDictionary(c => c, _ => new double[lines.Length - 1]);
        for (int r = 1; r < lines.Length; r++)
        {
            string[] cells = lines[r].Split(',');
            foreach (var (c, i) in index)
            {
                if (i >= cells.Length || !double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new InvalidInputException($"{path}: line {r + 1}, column \"{c}\" is \"{(i < cells.Length ? cells[i] : "")}\", not a finite number.");
                result[c][r - 1] = v;
            }
        }
        return result;
    }

    private static string Param(string file, JsonObject p, string key) =>
        E(OptionalNumber(file, p, "parameters." + key, key) is { } v ? Measurement.Plain(v) : "—");

    private static void ActiveRow(StringBuilder html, string name, double value, double? error, int particles, double? exact) =>
        html.Append($"<tr><td>{E(name)}</td><td class=\"num\">{E(Measurement.Format(value, error))}</td>")
            .Append($"<td class=\"num\">{E(particles > 0 ? Measurement.Format(value / particles, error / particles) : "—")}</td>")
            .Append($"<td class=\"num\">{E(exact is { } e ? Measurement.Plain(e) : "—")}</td></tr>");

    /// <summary>The comparison's verdict: difference ± error, z, and the margin to |z| = 3 (positive: room left; negative: beyond it).</summary>
    private static string ActiveVerdict(double difference, double? error, bool equalToRounding, double? ratio, double? ratioError)
    {
        string ratioText = ratio is { } r ? $"; ratio {Measurement.Format(r, ratioError)}" : "";
        if (equalToRounding) return $"equal to rounding: difference {Measurement.Plain(difference)}, z = 0{ratioText}";
        if (error is not { } s || !(s > 0))
            return $"difference {Measurement.Plain(difference)} without an error bar{ratioText}";
        double z = difference / s;
        double margin = 3 * s - Math.Abs(difference);
        string head = Math.Abs(z) <= 3 ? "consistent" : "differs";
        return $"{head}: difference {Measurement.Format(difference, s)}, z = {Signed(z)}, margin {margin.ToString("G4", CultureInfo.InvariantCulture)} "
            + $"({(margin >= 0 ? "within" : "beyond")} 3 standard errors by {(Math.Abs(margin) / s).ToString("F2", CultureInfo.InvariantCulture)}){ratioText}";
    }

    private static string RatioZ(double ratio, double error) => $"z = {Signed((ratio - 1) / error)} against 1";

    private static string Signed(double? z) => z is { } v ? v.ToString("+0.00;-0.00", CultureInfo.InvariantCulture) : "—";
}
