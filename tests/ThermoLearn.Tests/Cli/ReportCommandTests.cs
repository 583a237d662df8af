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

    private static readonly string[] TinyBeliefModel = ["--layers", "1", "--d-model", "16", "--heads", "1", "--d-head", "8", "--d-mlp", "32", "--n-ctx", "4", "--threads", "1"];

    /// <summary>A tiny real training run (about 2 s): the process, its validation cross-entropy, the floor and the gap get a section.</summary>
    [Fact]
    public void BeliefsRunGetsTheCrossEntropyAgainstItsFloor()
    {
        string folder = TestEnsembles.TempFolder();
        string run = Path.Combine(folder, "run");
        var train = Run([.. new[] { "beliefs", "train", "--process", "mess3", "--set", "x=0.05", "--set", "a=0.85", "--out", run, "--tokens", "3200",
            "--batch", "32", "--checkpoints", "1600", "--seed", "5", "--json" }, .. TinyBeliefModel]);
        Assert.True(train.Code == 0, train.Error);
        string trainJson = Path.Combine(folder, "train.json");
        File.WriteAllText(trainJson, train.Out);
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!;
        double ce = (double)file["result"]!["final_validation_loss"]!, floor = (double)file["ce_floor_nats"]!;

        string html = Path.Combine(folder, "beliefs.html");
        var (code, stdout, error) = Run("report", "--in", Path.Combine(run, "run.json"), trainJson, "--out", html, "--json");
        Assert.True(code == 0, error);
        string page = File.ReadAllText(html);
        Assert.Equal(2, Regex.Matches(page, "<h3>Cross-entropy against its floor</h3>").Count);
        Assert.Contains("<td>mess3 (x=0.05, a=0.85)</td>", page);
        Assert.Contains("<td>mess3(x=0.05,a=0.85)</td>", page);
        Assert.Contains($">{Measurement.Format(ce, null)} (exact)<", page);
        Assert.Contains($">{Measurement.Plain(floor)}<", page);
        Assert.Contains($">{Measurement.Format(ce - floor, null)}<", page);
        Assert.True(ce - floor > 0, $"exact validation CE {ce} below its floor {floor}");
        Assert.Contains("above the floor, as an exact loss must be", page);
        // The run's log (steps 0, 1,600 and 3,200 tokens) and train's two checkpoints each give a curve.
        Assert.Contains("Training (", page);
        Assert.Contains("Validation cross-entropy at 2 checkpoints", page);
        Assert.Equal(2, (int)JsonNode.Parse(stdout)!["figures"]!);
    }

    [Fact]
    public void SampledLossAndVerdictsShowTheirMargins()
    {
        string folder = TestEnsembles.TempFolder();
        string input = Path.Combine(folder, "analyze.json");
        File.WriteAllText(input, """
            {"process": "mess3*mess3", "exact": false, "val_ce_exact": null, "val_ce": 2.0, "val_ce_stderr": 0.001, "ce_floor_nats": 1.999,
             "gap_nats": 0.001, "r2_final": 0.9, "rmse_final": 0.05,
             "factored_vs_joint": {"verdict": "factored", "reason": "no excess direction resolved", "margin": 0.002, "margin_stderr": 0.001}}
            """);
        string html = Path.Combine(folder, "analyze.html");
        var (code, _, error) = Run("report", "--in", input, "--out", html);
        Assert.True(code == 0, error);
        string page = File.ReadAllText(html);
        // gap 0.001 over stderr 0.001: z = +1.00, consistent with the bound.
        Assert.Contains("consistent with the floor: gap 0.001 nats, z = +1.00 standard errors", page);
        Assert.Contains(">2.0000 ± 0.0010<", page);
        Assert.Contains("<b>factored</b>", page);
        Assert.Contains("0.0020 ± 0.0010 (z = +2.00)", page);
        Assert.Contains(">0.9<", page);
    }

    [Theory]
    [InlineData("ce_floor_nats", null, "\"ce_floor_nats\" is missing")]
    [InlineData("result.final_validation_loss", "\"abc\"", "\"result.final_validation_loss\" is \"abc\", not a finite number")]
    [InlineData("exact_validation", "1", "\"exact_validation\" is 1, not true or false")]
    [InlineData("process", "\"mess3\"", "\"process\" is \"mess3\", not an object")]
    public void MalformedBeliefsRunIsExit2NamingFileAndKeyAndLeavesNoReport(string key, string? value, string message)
    {
        string folder = TestEnsembles.TempFolder();
        var run = JsonNode.Parse("""
            {"format": "thermolearn-beliefs-run/1", "process": {"spec": "mess3", "settings": [], "n_ctx": 4, "seed": 1},
             "ce_floor_nats": 1.0895944551607142, "exact_validation": true,
             "result": {"steps": 50, "tokens": 6400, "final_validation_loss": 1.121679378584866, "minimum_validation_loss": 1.121679378584866},
             "checkpoints": [], "log": []}
            """)!.AsObject();
        JsonObject parent = key.StartsWith("result.", StringComparison.Ordinal) ? run["result"]!.AsObject() : run;
        string leaf = key.Split('.')[^1];
        if (value is null) parent.Remove(leaf);
        else parent[leaf] = JsonNode.Parse(value);
        string input = Path.Combine(folder, "run.json");
        File.WriteAllText(input, run.ToJsonString());
        string html = Path.Combine(folder, "r.html");
        var (code, stdout, error) = Run("report", "--in", input, "--out", html);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", stdout);
        Assert.Contains(input, error);
        Assert.Contains(message, error);
        Assert.False(File.Exists(html));
        Assert.Empty(Directory.GetFiles(folder, "*.html*"));
    }
}
