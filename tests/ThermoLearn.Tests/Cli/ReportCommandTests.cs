using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ThermoLearn.Cli;
using ThermoLearn.Cli.Reports;
using ThermoLearn.Tests.IO;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

public class ReportCommandTests
{
    private static readonly string Samples = Path.Combine(AppContext.BaseDirectory, "Cli", "ReportSamples");


    [Fact]
    public void ReportIsSelfContainedWithFiguresErrorBarsExactValuesAndSeeds()
    {
        string html = Path.Combine(TestEnsembles.TempFolder(), "report.html");
        var (code, stdout, error) = Run("report", "--in",
            Path.Combine(Samples, "simulate.json"), Path.Combine(Samples, "estimate.json"),
            Path.Combine(Samples, "optimize.json"), Path.Combine(Samples, "process-info.json"),
            "--out", html, "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(stdout)!.AsObject();
        string page = File.ReadAllText(html);

        // Figures: the z summary, ep_rate_t windows, the protocol lambda(t), block entropies; all embedded PNGs.
        Assert.Equal(4, (int)json["figures"]!);
        var images = Regex.Matches(page, "<img [^>]*src=\"([^\"]*)\"");
        Assert.Equal(4, images.Count);
        foreach (Match m in images)
        {
            Assert.StartsWith("data:image/png;base64,", m.Groups[1].Value);
            byte[] png = Convert.FromBase64String(m.Groups[1].Value["data:image/png;base64,".Length..]);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        }
        // Nothing loaded from elsewhere.
        Assert.DoesNotMatch("(src|href)=\"(https?:|//|file:)", page);
        Assert.DoesNotContain("<link", page);

        // ep_rate 0.1793 ± 0.0041 against exact 0.18: z = -0.17; the debiased estimate shares the error bar.
        Assert.Contains("0.1793 ± 0.0041", page);
        Assert.Contains("<td class=\"num\">0.18</td>", page);
        Assert.Contains("-0.17", page);
        Assert.Contains("0.1799 ± 0.0041", page);
        // work 0.3361 ± 0.0042 against the Schmiedl-Seifert optimum 1/3 (to 15 digits).
        Assert.Contains("0.3361 ± 0.0042", page);
        Assert.Contains(">0.333333333333333<", page);
        // Seeds of every result are collected.
        foreach (string seed in new[] { "seed = 42", "seed = 7", "seed = 3" }) Assert.Contains(seed, page);
        Assert.Equal(4, (int)json["measurements"]!);
    }

    [Fact]
    public void AnyJsonObjectRenders()
    {
        string folder = TestEnsembles.TempFolder();
        string input = Path.Combine(folder, "odd.json");
        File.WriteAllText(input, """{"a": {"b": {"c": [1,2,3]}}, "m": [[1,2],[3,4]], "rows": [{"x": "s", "y": null}], "flag": true, "text": "<b>&"}""");
        string html = Path.Combine(folder, "odd.html");
        var (code, _, error) = Run("report", "--in", input, "--out", html);
        Assert.True(code == 0, error);
        string page = File.ReadAllText(html);
        Assert.Contains("&lt;b&gt;&amp;", page);
        Assert.Contains("[1, 2, 3]", page);
        Assert.Contains("<table class=\"matrix\">", page);
    }

    [Theory]
    [InlineData("{\"a\": 1,\n \"b\": }", "not valid JSON at line 2")]
    [InlineData("[1, 2]", "not an object")]
    [InlineData("", "file is empty")]
    public void BadJsonIsExit2NamingTheFileAndLeavesNoReport(string content, string message)
    {
        string folder = TestEnsembles.TempFolder();
        string input = Path.Combine(folder, "bad.json");
        File.WriteAllText(input, content);
        string html = Path.Combine(folder, "r.html");
        var (code, stdout, error) = Run("report", "--in", input, "--out", html);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", stdout);
        Assert.Contains(input, error);
        Assert.Contains(message, error);
        Assert.False(File.Exists(html));
    }

    [Fact]
    public void OutputMustBeHtml()
    {
        var (code, _, error) = Run("report", "--in", Path.Combine(Samples, "estimate.json"), "--out", Path.Combine(TestEnsembles.TempFolder(), "r.pdf"));
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains(".html", error);
    }

    [Theory]
    [InlineData(0.18234, 0.0041, "0.1823 ± 0.0041")]
    [InlineData(2.026, 0.13, "2.03 ± 0.13")]
    [InlineData(123.4, 5.0, "123.4 ± 5.0")]
    [InlineData(0.5, null, "0.5")]
    public void ValuesAreShownToThePrecisionOfTheirErrorBar(double value, double? error, string expected) =>
        Assert.Equal(expected, Measurement.Format(value, error));

    [Fact]
    public void MeasurementConventionsAreFound()
    {
        var obj = JsonNode.Parse("""{"ep_rate": 0.2, "stderr": 0.01, "exact": 0.18, "work": 1.5, "work_stderr": 0.1, "exact_heat": 2.0, "steps": 10}""")!.AsObject();
        var (found, used) = Measurement.Find("r", "", obj);
        Assert.Equal(3, found.Count);
        var ep = found.Single(m => m.Path == "ep_rate");
        Assert.Equal((0.2, 0.01, 0.18), (ep.Value!.Value, ep.StandardError!.Value, ep.Exact!.Value));
        Assert.Equal(2.0, ep.Deviation!.Value, 12);
        Assert.Equal(0.1, found.Single(m => m.Path == "work").StandardError);
        Assert.Null(found.Single(m => m.Path == "heat").Value);
        Assert.DoesNotContain("steps", used);
    }
}
