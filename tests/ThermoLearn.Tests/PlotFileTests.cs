using ThermoLearn.Cli.Plotting;
using Xunit;

namespace ThermoLearn.Tests;

public class PlotFileTests
{
    [Fact]
    public void WritesPngAndSvgWithEmbeddedFont()
    {
        string folder = Directory.CreateTempSubdirectory("tl-plot").FullName;
        var plot = PlotFile.Create("title", "t", "sigma");
        plot.Add.Scatter(new double[] { 0, 1, 2 }, new double[] { 0, 1, 4 });
        string png = Path.Combine(folder, "a.png"), svg = Path.Combine(folder, "a.svg");
        PlotFile.Save(plot, png, 320, 240);
        PlotFile.Save(plot, svg, 320, 240);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        Assert.Contains("DejaVu Sans", File.ReadAllText(svg));
        Assert.Equal(2, Directory.GetFiles(folder).Length); // no temporary files left
    }

    [Fact]
    public void LongTitlesAreWrappedToFitOverTheDataArea()
    {
        // The belief-linked figure's title ran off both edges: ScottPlot centres it over the data area, which the legend pushes left.
        const string title = "Belief-linked geometry over training (final verdict: factored, margin -0.0003 +- 0.0002, jointness -0.00 +- 0.00) and a few more words";
        const int width = 800;
        var plot = PlotFile.Create(title, "x", "y");
        plot.Add.Scatter(new double[] { 0, 1, 2 }, new double[] { 0, 1, 4 }).LegendText = "a legend entry long enough to take room";
        plot.ShowLegend(ScottPlot.Edge.Right);
        string folder = Directory.CreateTempSubdirectory("tl-plot").FullName;
        PlotFile.Save(plot, Path.Combine(folder, "t.png"), width, 500);
        var label = plot.Axes.Title.Label;
        var lines = label.Text.Split('\n');
        Assert.True(lines.Length >= 2, label.Text);
        Assert.Equal(title, string.Join(" ", lines));
        var data = plot.RenderManager.LastRender.DataRect;
        double centre = (data.Left + data.Right) / 2;
        using var paint = ScottPlot.Paint.NewDisposablePaint();
        foreach (string line in lines)
        {
            label.Text = line;
            double half = label.Measure(paint).Width / 2;
            Assert.True(centre - half >= 0 && centre + half <= width, $"'{line}' spans {centre - half:F0}..{centre + half:F0} px of {width}");
        }
    }

    [Fact]
    public void RejectsUnknownExtension()
    {
        var e = Assert.Throws<InvalidInputException>(() => PlotFile.Validate("plot.jpg"));
        Assert.Contains(".png or .svg", e.Message);
    }
}
