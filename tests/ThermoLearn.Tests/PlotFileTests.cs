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
    public void RejectsUnknownExtension()
    {
        var e = Assert.Throws<InvalidInputException>(() => PlotFile.Validate("plot.jpg"));
        Assert.Contains(".png or .svg", e.Message);
    }
}
