using ScottPlot;
using ThermoLearn.Inference;
using ThermoLearn.Models;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Plotting;

/// <summary>Figures of the inference commands: sigma(t) with the exact curve, and 2-D fields on the data's range.</summary>
internal static class InferencePlots
{
    /// <summary>sigma(t) per window with error bars, and the exact curve when the model is known.</summary>
    public static void SigmaOfTime(EntropyProductionTimeSeries series, StochasticModel? model, string path)
    {
        var plot = PlotFile.Create($"entropy production rate sigma(t): {series.Fit}", "t", "sigma(t)");
        var t = series.Windows.Select(w => w.Centre).ToArray();
        var y = series.Windows.Select(w => w.Debiased).ToArray();
        var bars = plot.Add.ErrorBar(t, y, series.Windows.Select(w => w.StandardError).ToArray());
        bars.Color = Colors.Category10[0];
        var points = plot.Add.Scatter(t, y, Colors.Category10[0]);
        points.LineWidth = 0;
        points.LegendText = "estimate (debiased) +- 1 stderr";
        if (model is not null && model.EntropyProductionRate(t[0]) is not null)
        {
            double a = series.Windows[0].Start, b = series.Windows[^1].End;
            var xs = Enumerable.Range(0, 201).Select(i => a + (b - a) * i / 200).ToArray();
            var exact = plot.Add.ScatterLine(xs, xs.Select(x => model.EntropyProductionRate(x)!.Value).ToArray(), Colors.Category10[3]);
            exact.LegendText = $"exact ({model.Name})";
        }
        plot.ShowLegend();
        PlotFile.Save(plot, path);
    }

    /// <summary>
    /// Training curves of a neural estimate: per epoch, the mean minibatch loss (solid) and the held-out early-stopping
    /// loss (dashed) of every cross-fitting fold, the kept epoch marked; for the current loss, whose minimum is -sigma,
    /// the line -sigma_exact when the model is known.
    /// </summary>
    public static void TrainingCurves(IReadOnlyList<Neural.Training.TrainingCurve> curves, string title, double? exactSigma, string path)
    {
        var plot = PlotFile.Create(title, "epoch", "loss");
        for (int k = 0; k < curves.Count; k++)
        {
            var c = curves[k];
            var color = Colors.Category10[k % 10];
            if (c.TrainLoss.Count > 0)
            {
                var epochs = Enumerable.Range(1, c.TrainLoss.Count).Select(i => (double)i).ToArray();
                var train = plot.Add.ScatterLine(epochs, c.TrainLoss.ToArray(), color);
                train.LegendText = $"fold {k + 1} train";
                var held = plot.Add.ScatterLine(epochs, c.ValidationLoss.ToArray(), color);
                held.LinePattern = LinePattern.Dashed;
                held.LegendText = $"fold {k + 1} held-out";
            }
            if (c.BestEpoch >= 1)
            {
                var best = plot.Add.Marker(c.BestEpoch, c.ValidationLoss[c.BestEpoch - 1], MarkerShape.OpenCircle, 10, color);
                best.LegendText = $"fold {k + 1} kept (epoch {c.BestEpoch})";
            }
        }
        if (exactSigma is { } sigma)
        {
            var line = plot.Add.HorizontalLine(-sigma, 1, Colors.Black, LinePattern.Dotted);
            line.LegendText = "-sigma exact (minimum of the current loss)";
        }
        plot.ShowLegend(Alignment.UpperRight); // the curves fall from the upper left
        PlotFile.Save(plot, path);
    }

    /// <summary>
    /// A scalar field of a learned 2-D vector field on a grid over the data's range (2nd to 98th percentile):
    /// the local EP rate per particle d^T D d for a thermodynamic force, or |v| for a drift.
    /// </summary>
    public static void Field2D(PlotRange range, LinearVectorField field, double[] diffusion, string title, string path)
    {
        var (lo0, hi0) = range.Coordinates[0];
        var (lo1, hi1) = range.Coordinates[1];
        const int n = 60;
        var z = new double[n, n];
        Span<double> x = stackalloc double[2];
        Span<double> d = stackalloc double[2];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                x[0] = lo0 + (hi0 - lo0) * (j + 0.5) / n;
                x[1] = hi1 - (hi1 - lo1) * (i + 0.5) / n; // row 0 at the top
                field.Evaluate(x, range.StartTime, d);
                z[i, j] = diffusion.Length == 4
                    ? d[0] * (diffusion[0] * d[0] + diffusion[1] * d[1]) + d[1] * (diffusion[2] * d[0] + diffusion[3] * d[1])
                    : Math.Sqrt(d[0] * d[0] + d[1] * d[1]);
            }
        var plot = PlotFile.Create(title, "x0", "x1");
        var heatmap = plot.Add.Heatmap(z);
        heatmap.Extent = new CoordinateRect(lo0, hi0, lo1, hi1);
        plot.Add.ColorBar(heatmap);
        PlotFile.Save(plot, path);
    }

    /// <summary>A learned 1-D field d(x) over the data's range.</summary>
    public static void Field1D(PlotRange range, LinearVectorField field, string title, string yLabel, string path)
    {
        var (lo, hi) = range.Coordinates[0];
        var xs = Enumerable.Range(0, 201).Select(i => lo + (hi - lo) * i / 200).ToArray();
        var ys = new double[xs.Length];
        Span<double> d = stackalloc double[1];
        for (int i = 0; i < xs.Length; i++)
        {
            field.Evaluate([xs[i]], range.StartTime, d);
            ys[i] = d[0];
        }
        var plot = PlotFile.Create(title, "x", yLabel);
        plot.Add.ScatterLine(xs, ys, Colors.Category10[0]);
        PlotFile.Save(plot, path);
    }
}
