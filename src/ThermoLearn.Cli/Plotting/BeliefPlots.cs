using MathNet.Numerics.LinearAlgebra;
using ScottPlot;
using ThermoLearn.Neural.Transformers;
using ThermoLearn.Processes.Geometry;

namespace ThermoLearn.Cli.Plotting;

/// <summary>
/// Figures of a belief-geometry analysis: the belief simplex (ground truth next to the final layer's regressed
/// beliefs, each point coloured by its true belief as RGB) for 3-state processes, the explained-variance curves,
/// factor-subspace overlap matrices, validation gap / R^2 / PCA dimension over training, and for products the rank
/// split (factored part, joint excess share) over training.
/// </summary>
internal static class BeliefPlots
{
    public static IReadOnlyList<string> WriteAll(string folder, TrainingRun run, BeliefDataset data,
        IReadOnlyList<(long Tokens, double CrossEntropy, BeliefGeometryReport Report)> checkpoints, double floor, TrueBeliefGeometry truth)
    {
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        var last = checkpoints[^1].Report;
        if (data.States == 3)
        {
            string path = Path.Combine(folder, "belief-simplex.png");
            Simplex(data, last.FinalPrediction, path);
            files.Add(path);
        }
        string variance = Path.Combine(folder, "explained-variance.png");
        ExplainedVariance(last, variance);
        files.Add(variance);
        if (last.FactoredFinal is { } factored)
        {
            string path = Path.Combine(folder, "factor-overlaps.png");
            Overlaps(factored, path);
            files.Add(path);
        }
        string metrics = Path.Combine(folder, "training-metrics.png");
        Metrics(run, checkpoints, floor, metrics);
        files.Add(metrics);
        string linked = Path.Combine(folder, "belief-linked.png");
        BeliefLinked(checkpoints, truth, linked);
        files.Add(linked);
        if (checkpoints.All(c => c.Report.Comparison is not null))
        {
            string split = Path.Combine(folder, "rank-split.png");
            RankSplit(checkpoints, split);
            files.Add(split);
        }
        return files;
    }

    /// <summary>Barycentric projection of a belief onto the plane: corners (0,0), (1,0), (1/2, sqrt(3)/2).</summary>
    private static (double X, double Y) Project(ReadOnlySpan<double> b) => (b[1] + 0.5 * b[2], Math.Sqrt(3) / 2 * b[2]);

    private static void Simplex(BeliefDataset data, Matrix<double> predicted, string path)
    {
        var plot = PlotFile.Create("Belief simplex: ground truth (left) and regressed from the final residual stream (right)", "", "");
        const int levels = 6;
        var groups = new Dictionary<int, (List<double> X, List<double> Y)>();
        const double offset = 1.25;
        for (int r = 0; r < data.RowCount; r++)
        {
            var truth = data.RowBelief(r);
            int key = 0;
            for (int k = 0; k < 3; k++) key = key * levels + Math.Clamp((int)(truth[k] * levels), 0, levels - 1);
            if (!groups.TryGetValue(key, out var g)) groups[key] = g = ([], []);
            var (x, y) = Project(truth);
            g.X.Add(x);
            g.Y.Add(y);
            var (px, py) = Project([predicted[r, 0], predicted[r, 1], predicted[r, 2]]);
            g.X.Add(px + offset);
            g.Y.Add(py);
        }
        foreach (var (key, g) in groups)
        {
            double red = key / (levels * levels) + 0.5, green = key / levels % levels + 0.5, blue = key % levels + 0.5;
            var color = new Color((byte)(255 * red / levels), (byte)(255 * green / levels), (byte)(255 * blue / levels));
            plot.Add.Markers(g.X.ToArray(), g.Y.ToArray(), MarkerShape.FilledCircle, 1.5f, color);
        }
        foreach (double shift in new[] { 0.0, offset })
        {
            double h = Math.Sqrt(3) / 2;
            plot.Add.Line(shift, 0, shift + 1, 0).Color = Colors.Gray;
            plot.Add.Line(shift + 1, 0, shift + 0.5, h).Color = Colors.Gray;
            plot.Add.Line(shift + 0.5, h, shift, 0).Color = Colors.Gray;
        }
        plot.Axes.SquareUnits();
        PlotFile.Save(plot, path, 1200, 600);
    }

    private static void ExplainedVariance(BeliefGeometryReport report, string path)
    {
        var plot = PlotFile.Create("Cumulative explained variance of the residual streams (weighted PCA)", "components", "cumulative explained variance");
        foreach (var layer in report.Layers.Append(report.Concatenated))
        {
            var ratios = layer.Pca.ExplainedRatio.Take(40).ToArray();
            double running = 0;
            var ys = ratios.Select(r => running += r).ToArray();
            var xs = Enumerable.Range(1, ys.Length).Select(i => (double)i).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = layer.Layer == "concat" ? "all layers" : layer.Layer == "0" ? "embedding" : $"after block {layer.Layer}";
        }
        plot.Add.HorizontalLine(0.95, 1, Colors.Gray, LinePattern.Dashed);
        plot.ShowLegend(Edge.Right);
        PlotFile.Save(plot, path, 900, 600);
    }

    private static void Overlaps(FactoredAnalysis factored, string path)
    {
        var plot = PlotFile.Create($"Overlap of factor belief subspaces (final layer; factored dimension {factored.FactoredDimension}, joint {factored.JointDimension})", "factor", "factor");
        var map = plot.Add.Heatmap(factored.Overlaps);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(map);
        PlotFile.Save(plot, path, 700, 600);
    }

    /// <summary>
    /// Over training: the centroid dimension (95 % components and participation ratio, +-1 bootstrap standard error;
    /// left axis, with the factored and joint rank bounds as dashed lines and the same dimension of the true factor
    /// beliefs and next-token laws as dotted ones) and the held-out explained variance of the centroids by the factor
    /// beliefs and by the joint belief (+-1 standard error over folds; right axis).
    /// </summary>
    private static void BeliefLinked(IReadOnlyList<(long Tokens, double CrossEntropy, BeliefGeometryReport Report)> checkpoints, TrueBeliefGeometry truth, string path)
    {
        var last = checkpoints[^1].Report;
        string title = last.Comparison is { } final
            ? $"Belief-linked geometry over training (final verdict: {final.Verdict}, margin {final.Margin:F4} +- {final.MarginStandardError:F4}, jointness {final.Jointness:F2} +- {final.JointnessStandardError:F2})"
            : "Belief-linked geometry over training";
        var plot = PlotFile.Create(title, "log10 training tokens", "centroid dimension");
        var cps = checkpoints.Where(c => c.Tokens > 0).ToArray();
        if (cps.Length == 0) cps = checkpoints.ToArray();
        var xs = cps.Select(c => Math.Log10(Math.Max(c.Tokens, 1))).ToArray();
        void Series(double[] ys, double[] errors, string label, Color color, bool right)
        {
            var line = plot.Add.Scatter(xs, ys, color);
            line.LegendText = label;
            var bars = plot.Add.ErrorBar(xs, ys, errors);
            bars.Color = color;
            if (right)
            {
                line.Axes.YAxis = plot.Axes.Right;
                bars.Axes.YAxis = plot.Axes.Right;
            }
        }
        Series(cps.Select(c => (double)c.Report.Centroids.BeliefExplained.Pca.For95).ToArray(), cps.Select(c => c.Report.Centroids.BeliefExplained.For95StandardError).ToArray(),
            "centroid dimension (95%, belief-explained)", Colors.Category10[0], right: false);
        Series(cps.Select(c => c.Report.Centroids.BeliefExplained.Pca.ParticipationRatio).ToArray(), cps.Select(c => c.Report.Centroids.BeliefExplained.ParticipationRatioStandardError).ToArray(),
            "centroid participation ratio", Colors.Category10[1], right: false);
        if (last.FactoredFinal is { } f)
        {
            plot.Add.HorizontalLine(f.FactoredDimension, 1, Colors.Category10[0], LinePattern.Dashed).LegendText = $"factored rank bound {f.FactoredDimension}";
            int trueFactored = truth.FactorBeliefs.BeliefExplained.Pca.For95, trueLaws = truth.NextTokenLaws.BeliefExplained.Pca.For95;
            plot.Add.HorizontalLine(trueFactored, 1, Colors.Category10[0], LinePattern.Dotted).LegendText = $"true factor beliefs, same measure: {trueFactored}";
            plot.Add.HorizontalLine(trueLaws, 1, Colors.Category10[5], LinePattern.Dotted).LegendText = $"true next-token laws, same measure: {trueLaws}";
            // A joint prediction far above everything measured (242 for 3 Mess3 x 2 TomQuantum) would squash the
            // measured curves into the axis: the line is left out and the axis label names the prediction.
            double measured = cps.Max(c => Math.Max(c.Report.Centroids.BeliefExplained.Pca.For95 + c.Report.Centroids.BeliefExplained.For95StandardError,
                c.Report.Centroids.BeliefExplained.Pca.ParticipationRatio));
            double top = 1.5 * Math.Max(measured, f.FactoredDimension);
            if (f.JointDimension <= top)
                plot.Add.HorizontalLine(f.JointDimension, 1, Colors.Category10[3], LinePattern.Dashed).LegendText = $"joint rank bound {f.JointDimension}";
            else
                plot.Axes.Left.Label.Text = $"centroid dimension (joint rank bound {f.JointDimension}: off scale)";
        }
        if (cps.All(c => c.Report.Comparison is not null))
        {
            Series(cps.Select(c => c.Report.Comparison!.FactoredRSquared).ToArray(), cps.Select(c => c.Report.Comparison!.FactoredRSquaredStandardError).ToArray(),
                "held-out R^2, factor beliefs (right)", Colors.Category10[2], right: true);
            Series(cps.Select(c => c.Report.Comparison!.JointRSquared).ToArray(), cps.Select(c => c.Report.Comparison!.JointRSquaredStandardError).ToArray(),
                "held-out R^2, joint belief (right)", Colors.Category10[4], right: true);
            plot.Axes.Right.Label.Text = "held-out explained variance of the centroids";
        }
        plot.ShowLegend(Edge.Right);
        PlotFile.Save(plot, path, 1100, 600);
    }

    /// <summary>
    /// Over training, the rank split the verdict rests on: the factored part (left axis, with the prediction
    /// sum_i (d_i - 1) dashed) and the joint excess's rank, and the excess share, the held-out centroid variance the
    /// excess adds, +-1 paired fold standard error (right axis).
    /// </summary>
    private static void RankSplit(IReadOnlyList<(long Tokens, double CrossEntropy, BeliefGeometryReport Report)> checkpoints, string path)
    {
        var final = checkpoints[^1].Report.Comparison!;
        var plot = PlotFile.Create($"Rank split over training (final verdict: {final.Verdict}; factored part {final.Split.Factored.Rank} of {final.FactoredPrediction}, "
            + $"excess share {final.Split.ExcessShare:G3} +- {final.Split.ExcessShareStandardError:G2})", "log10 training tokens", "rank");
        var cps = checkpoints.Where(c => c.Tokens > 0).ToArray();
        if (cps.Length == 0) cps = checkpoints.ToArray();
        var xs = cps.Select(c => Math.Log10(Math.Max(c.Tokens, 1))).ToArray();
        var factoredRanks = cps.Select(c => (double)c.Report.Comparison!.Split.Factored.Rank).ToArray();
        var excessRanks = cps.Select(c => (double)c.Report.Comparison!.Split.JointExcess.Rank).ToArray();
        // Large open markers for the factored part, small filled ones for the excess: equal ranks stay visible.
        var factored = plot.Add.Scatter(xs, factoredRanks, Colors.Category10[0]);
        factored.LegendText = "factored part";
        factored.MarkerShape = MarkerShape.OpenCircle;
        factored.MarkerSize = 14;
        var excess = plot.Add.Scatter(xs, excessRanks, Colors.Category10[1]);
        excess.LegendText = "joint excess (rank)";
        excess.MarkerShape = MarkerShape.FilledSquare;
        excess.MarkerSize = 6;
        plot.Add.HorizontalLine(final.FactoredPrediction, 1, Colors.Category10[0], LinePattern.Dashed).LegendText = $"factored prediction {final.FactoredPrediction}";
        var shares = cps.Select(c => c.Report.Comparison!.Split.ExcessShare).ToArray();
        var share = plot.Add.Scatter(xs, shares, Colors.Category10[3]);
        share.LegendText = "excess share (right)";
        share.Axes.YAxis = plot.Axes.Right;
        var bars = plot.Add.ErrorBar(xs, shares, cps.Select(c => c.Report.Comparison!.Split.ExcessShareStandardError).ToArray());
        bars.Color = Colors.Category10[3];
        bars.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "excess share of the held-out centroid variance";
        // Both axes from 0, so a share's size and a rank's distance from the prediction read at a glance.
        plot.Axes.SetLimitsY(0, 1.15 * factoredRanks.Concat(excessRanks).Append(final.FactoredPrediction).Max() + 0.5, plot.Axes.Left);
        plot.Axes.SetLimitsY(0, 1.15 * cps.Max(c => c.Report.Comparison!.Split.ExcessShare + c.Report.Comparison!.Split.ExcessShareStandardError) + 1e-6, plot.Axes.Right);
        plot.ShowLegend(Edge.Right);
        PlotFile.Save(plot, path, 1100, 600);
    }

    private static void Metrics(TrainingRun run, IReadOnlyList<(long Tokens, double CrossEntropy, BeliefGeometryReport Report)> checkpoints, double floor, string path)
    {
        var plot = PlotFile.Create("Over training: validation gap to the floor, belief R^2 (final layer), 95% PCA dimension / 10", "log10 training tokens", "value");
        var log = run.Log.Where(e => e.ValidationLoss is not null && e.Tokens > 0).ToArray();
        if (log.Length > 0)
        {
            var gap = plot.Add.Scatter(log.Select(e => Math.Log10(e.Tokens)).ToArray(), log.Select(e => Math.Log10(Math.Max(e.ValidationLoss!.Value - floor, 1e-6))).ToArray());
            gap.LegendText = "log10 validation gap (nats)";
        }
        var cps = checkpoints.Where(c => c.Tokens > 0).ToArray();
        if (cps.Length > 0)
        {
            var xs = cps.Select(c => Math.Log10(c.Tokens)).ToArray();
            plot.Add.Scatter(xs, cps.Select(c => c.Report.Final.InSample.RSquared).ToArray()).LegendText = "R^2 final layer";
            plot.Add.Scatter(xs, cps.Select(c => c.Report.Concatenated.InSample.RSquared).ToArray()).LegendText = "R^2 all layers";
            plot.Add.Scatter(xs, cps.Select(c => c.Report.Final.Pca.For95 / 10.0).ToArray()).LegendText = "95% PCA dimension / 10";
        }
        plot.ShowLegend(Edge.Right);
        PlotFile.Save(plot, path, 1000, 600);
    }
}
