using ScottPlot;
using ThermoLearn.ActiveMatter;

namespace ThermoLearn.Cli.Plotting;

/// <summary>Figures of active-matter snapshots: particles as discs coloured by a per-particle value.</summary>
internal static class ActiveMatterPlots
{
    /// <summary>
    /// One snapshot: each particle a marker at its (x, y), coloured by <paramref name="values"/> (e.g. its local EP rate)
    /// on a Viridis scale with a colour bar (<see cref="ColourRange"/>; the label says where the scale is capped);
    /// <paramref name="values"/> null colours by nothing (a plain snapshot).
    /// </summary>
    public static void Particles(ActiveSnapshots snapshots, int frame, double[]? values, string title, string colourLabel, string path)
    {
        var m = snapshots.Model;
        int n = m.Particles;
        var plot = PlotFile.Create(title, "x", "y");
        double lo = 0, hi = 1;
        if (values is not null)
        {
            (lo, hi, int above) = ColourRange(values);
            if (above > 0) colourLabel += FormattableString.Invariant($" (capped at the {100 * CappedQuantile:G3}th percentile, {hi:G3}: {above} above)");
        }
        var colormap = new ScottPlot.Colormaps.Viridis();
        // Marker size in pixels from the particle radius: a 800 px wide figure spans the box (or the data).
        double span = m.Box ?? Enumerable.Range(0, n).Max(i => Math.Abs(snapshots.Position(frame, i, 0))) * 2.2;
        float size = (float)Math.Clamp(2 * m.R0 / span * 640, 1.5, 30);
        // One scatter per colour bin (64 bins) keeps the SVG small for 10^4 particles.
        const int colourBins = 64;
        var xs = new List<double>[colourBins];
        var ys = new List<double>[colourBins];
        for (int b = 0; b < colourBins; b++) { xs[b] = []; ys[b] = []; }
        for (int i = 0; i < n; i++)
        {
            int b = values is null ? colourBins / 2 : Math.Clamp((int)((values[i] - lo) / (hi - lo) * colourBins), 0, colourBins - 1);
            xs[b].Add(snapshots.Position(frame, i, 0));
            ys[b].Add(snapshots.Position(frame, i, 1));
        }
        for (int b = 0; b < colourBins; b++)
        {
            if (xs[b].Count == 0) continue;
            var scatter = plot.Add.ScatterPoints(xs[b].ToArray(), ys[b].ToArray());
            scatter.MarkerSize = size;
            scatter.MarkerShape = MarkerShape.FilledCircle;
            scatter.Color = values is null ? Colors.SteelBlue : colormap.GetColor((b + 0.5) / colourBins);
        }
        if (values is not null)
        {
            // The colour bar reads its range from a colour source: an invisible 1 x 2 heatmap holding the range.
            var source = plot.Add.Heatmap(new double[,] { { lo, hi } });
            source.IsVisible = false;
            source.Colormap = colormap;
            var bar = plot.Add.ColorBar(source);
            bar.Label = colourLabel;
        }
        if (m.Box is { } l)
        {
            plot.Axes.SetLimits(0, l, 0, l);
        }
        plot.Axes.SquareUnits();
        PlotFile.Save(plot, path, 800, 760);
    }

    /// <summary>The quantile at which a per-particle map's colour scale is capped.</summary>
    internal const double CappedQuantile = 0.995;

    /// <summary>
    /// The colour range of a per-particle map: from the least value to the <see cref="CappedQuantile"/> quantile (the value of rank
    /// ceil(0.995 n)), so that a few extreme particles (a snapshot's local EP is heavy-tailed) do not turn the rest into one colour;
    /// the particles above are drawn in the top colour and counted. When the quantile equals the least value the range is the full one.
    /// </summary>
    internal static (double Low, double High, int Above) ColourRange(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        double low = sorted[0], high = sorted[Math.Max(0, (int)Math.Ceiling(CappedQuantile * sorted.Length) - 1)];
        if (!(high > low)) high = sorted[^1];
        if (!(high > low)) return (low, low + 1, 0);
        int above = sorted.Length - 1 - Array.FindLastIndex(sorted, v => v <= high);
        return (low, high, above);
    }

    /// <summary>sigma / N against the packing fraction, with error bars (one series per method).</summary>
    public static void RateAgainstPackingFraction(IReadOnlyList<(string Method, double[] Phi, double[] Rate, double[] Error)> series, string title, string path)
    {
        var plot = PlotFile.Create(title, "packing fraction phi", "EP rate per particle sigma / N");
        foreach (var (method, phi, rate, error) in series)
        {
            var scatter = plot.Add.Scatter(phi, rate);
            scatter.LegendText = method;
            var bars = plot.Add.ErrorBar(phi, rate, error);
            bars.Color = scatter.Color;
        }
        plot.ShowLegend();
        PlotFile.Save(plot, path);
    }
}
