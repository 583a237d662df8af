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
        AssertRefused(content, "bad.json", message);
    }

    /// <summary>
    /// Every value the report reads as a number is checked before anything is drawn: a string, a boolean or a non-finite
    /// value where a number belongs (a value beside its error bar, an exact value, an optimum, a corrected estimate, an element
    /// of a series or a column of numbers) and a negative standard error are refused with exit 2, the file and the key path
    /// named, and no page written. Before the check, each of these rendered: the value as a setting, the measurement, figure
    /// or band silently left out.
    /// </summary>
    [Theory]
    [InlineData("""{"ep_rate": "abc", "stderr": 0.1}""", "\"ep_rate\" is \"abc\", not a finite number")]
    [InlineData("""{"work": "abc", "work_stderr": 0.004}""", "\"work\" is \"abc\", not a finite number")]
    [InlineData("""{"runs": [{"work": 0.3, "work_stderr": 0.004}, {"work": true, "work_stderr": 0.004}]}""", "\"runs[1].work\" is true, not a finite number")]
    [InlineData("""{"work": 0.34, "work_stderr": 0.004, "optimum_work": "1/3"}""", "\"optimum_work\" is \"1/3\", not a finite number")]
    [InlineData("""{"ep_rate": 0.18, "exact_ep_rate": "abc"}""", "\"exact_ep_rate\" is \"abc\", not a finite number")]
    [InlineData("""{"ep_rate": 0.18, "stderr": 0.01, "exact": "0.18"}""", "\"exact\" is \"0.18\", not a finite number")]
    [InlineData("""{"ep_rate": 0.18, "stderr": 0.01, "exact": {"ep_rate": "abc"}}""", "\"exact.ep_rate\" is \"abc\", not a finite number")]
    [InlineData("""{"ep_rate": 0.18, "stderr": 0.01, "ep_rate_debiased": "abc"}""", "\"ep_rate_debiased\" is \"abc\", not a finite number")]
    [InlineData("""{"t": [0, 1, 2, 3, 4, 5, 6, 7], "ep_rate_t": [0.1, 0.2, "abc", 0.2, 0.1, 0.2, 0.1, 0.2]}""", "\"ep_rate_t[2]\" is \"abc\" in an array of numbers")]
    [InlineData("""{"windows": [{"t": 0, "ep_rate": 0.1}, {"t": "abc", "ep_rate": 0.2}]}""", "\"windows[1].t\" is \"abc\" in a column of numbers")]
    [InlineData("""{"x": [1, 2, 3, 4, 5, 6, 7, 8], "x_stderr": [0.1, 0.1, -0.1, 0.1, 0.1, 0.1, 0.1, 0.1]}""", "\"x_stderr[2]\" is -0.1; a standard error cannot be negative")]
    [InlineData("""{"x": [1, 2], "x_stderr": {"lo": 0.1}}""", "\"x_stderr\" is {\"lo\":0.1}; a standard error is a finite number >= 0")]
    [InlineData("""{"work": 0.3, "work_stderr": "NaN"}""", "\"work_stderr\" is \"NaN\"; a standard error is a finite number >= 0")]
    [InlineData("""{"work": "NaN", "work_stderr": 0.004}""", "\"work\" is the string \"NaN\", not a finite number")]
    [InlineData("""{"work": 0.3, "work_stderr": "0.004"}""", "\"work_stderr\" is \"0.004\"; a standard error is a finite number >= 0")]
    [InlineData("""{"work": 0.3, "work_stderr": -0.004}""", "\"work_stderr\" is -0.004; a standard error cannot be negative")]
    public void MalformedNumbersAreExit2NamingFileAndKeyPathAndLeaveNoPage(string json, string message)
    {
        AssertRefused(json, "result.json", message);
    }

    /// <summary>null stands for a value a result does not have (ThermoLearn writes a non-finite one so): it renders as —, beside numbers too.</summary>
    [Fact]
    public void NullIsAValueTheResultDoesNotHave()
    {
        string folder = TestEnsembles.TempFolder();
        string input = Path.Combine(folder, "result.json");
        File.WriteAllText(input, """
            {"ep_rate": null, "stderr": null, "work": 0.34, "work_stderr": 0.004, "optimum_work": null, "error": 0.01, "error_stderr": null,
             "verdict": "consistent", "exact_verdict": "below", "exact_validation": true, "exact_comparison": "same quantity",
             "t": [0, 1, 2, 3, 4, 5, 6, 7], "ep_rate_t": [0.1, null, 0.3, 0.2, 0.1, 0.2, 0.1, 0.2],
             "windows": [{"t": 0, "ep_rate": 0.1, "stderr": 0.01}, {"t": 1, "ep_rate": null, "stderr": null}], "labels": ["a", "b"]}
            """);
        string html = Path.Combine(folder, "r.html");
        var (code, _, error) = Run("report", "--in", input, "--out", html);
        Assert.True(code == 0, error);
        Assert.Contains("0.3400 ± 0.0040", File.ReadAllText(html));
    }

    /// <summary>The real --json of optimize and evaluate-protocol (a short run) renders: every number it writes passes the check.</summary>
    [Fact]
    public void RealControlResultsRender()
    {
        string folder = TestEnsembles.TempFolder();
        string protocol = Path.Combine(folder, "p.json");
        var optimize = Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "steps=100", "--iterations", "2", "--trajectories", "200",
            "--seed", "3", "--out", protocol, "--json");
        Assert.True(optimize.Code == 0, optimize.Error);
        var evaluate = Run("evaluate-protocol", "--task", "translate-trap", "--protocol", protocol, "--trajectories", "400", "--seed", "4", "--json");
        Assert.True(evaluate.Code == 0, evaluate.Error);
        string a = Path.Combine(folder, "optimize.json"), b = Path.Combine(folder, "evaluate.json");
        File.WriteAllText(a, optimize.Out);
        File.WriteAllText(b, evaluate.Out);
        string html = Path.Combine(folder, "control.html");
        var (code, stdout, error) = Run("report", "--in", a, b, protocol, "--out", html, "--json");
        Assert.True(code == 0, error);
        Assert.True((int)JsonNode.Parse(stdout)!["measurements"]! >= 2);
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

    /// <summary>The belief-state section's numbers (beliefs analyze --json) are checked too: each names its key path.</summary>
    [Theory]
    [InlineData(""" "layers": [{"layer": "1", "r2": "abc"}]""", "\"layers[0].r2\" is \"abc\", not a finite number")]
    [InlineData(""" "rmse_final": -0.05""", "\"rmse_final\" is -0.05; it cannot be negative")]
    [InlineData(""" "checkpoints": [{"tokens": 100, "val_ce": 2.1}, {"tokens": 200, "val_ce": "abc"}]""", "\"checkpoints[1].val_ce\" is \"abc\"")]
    [InlineData(""" "checkpoints": [{"tokens": 100, "val_ce": -2.1}, {"tokens": 200, "val_ce": 2.0}]""", "\"checkpoints[0].val_ce\" is -2.1; it cannot be negative")]
    [InlineData(""" "centroids": {"dimension": 2}, "true_geometry": {"factor_beliefs": {"d95": "two"}}""", "\"true_geometry.factor_beliefs.d95\" is \"two\", not a finite number")]
    [InlineData(""" "checkpoint_verdicts": [{"tokens": 100, "verdict": "joint", "excess_share": "abc"}]""", "\"checkpoint_verdicts[0].excess_share\" is \"abc\", not a finite number")]
    public void MalformedBeliefsAnalyzeNumbersAreExit2NamingTheKeyPath(string extra, string message)
    {
        AssertRefused("""{"process": "mess3", "exact": false, "val_ce": 2.0, "val_ce_stderr": 0.001, "ce_floor_nats": 1.999, "r2_final": 0.9,""" + extra + "}",
            "analyze.json", message);
    }

    [Theory]
    [InlineData("ce_floor_nats", null, "\"ce_floor_nats\" is missing")]
    [InlineData("result.final_validation_loss", "\"abc\"", "\"result.final_validation_loss\" is \"abc\", not a finite number")]
    [InlineData("exact_validation", "1", "\"exact_validation\" is 1, not true or false")]
    [InlineData("process", "\"mess3\"", "\"process\" is \"mess3\", not an object")]
    [InlineData("ce_floor_nats", "null", "\"ce_floor_nats\" is null, not a finite number")]
    [InlineData("ce_floor_nats", "-0.5", "\"ce_floor_nats\" is -0.5; it cannot be negative")]
    [InlineData("log.0.train_loss", "\"abc\"", "\"log[0].train_loss\" is \"abc\"")]
    [InlineData("log.0.validation_loss", "-1.2", "\"log[0].validation_loss\" is -1.2; it cannot be negative")]
    [InlineData("log.0.tokens", "null", "\"log[0].tokens\" is null, not a finite number")]
    public void MalformedBeliefsRunIsExit2NamingFileAndKeyAndLeavesNoReport(string key, string? value, string message)
    {
        var run = JsonNode.Parse("""
            {"format": "thermolearn-beliefs-run/1", "process": {"spec": "mess3", "settings": [], "n_ctx": 4, "seed": 1},
             "ce_floor_nats": 1.0895944551607142, "exact_validation": true,
             "result": {"steps": 50, "tokens": 6400, "final_validation_loss": 1.121679378584866, "minimum_validation_loss": 1.121679378584866},
             "checkpoints": [], "log": [{"step": 0, "tokens": 0, "seconds": 0.1, "train_loss": null, "validation_loss": 1.2},
                                        {"step": 50, "tokens": 6400, "seconds": 1.5, "train_loss": 1.15, "validation_loss": 1.121679378584866}]}
            """)!.AsObject();
        JsonObject parent = key.StartsWith("result.", StringComparison.Ordinal) ? run["result"]!.AsObject()
            : key.StartsWith("log.", StringComparison.Ordinal) ? run["log"]![int.Parse(key.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)]!.AsObject() : run;
        string leaf = key.Split('.')[^1];
        if (value is null) parent.Remove(leaf);
        else parent[leaf] = JsonNode.Parse(value);
        AssertRefused(run.ToJsonString(), "run.json", message);
    }

    /// <summary>
    /// report refuses <paramref name="content"/> (written to <paramref name="fileName"/> in a fresh folder): exit 2, nothing on
    /// stdout, the file and <paramref name="message"/> named on stderr, and no page in the folder.
    /// </summary>
    internal static void AssertRefused(string content, string fileName, string message)
    {
        string folder = TestEnsembles.TempFolder();
        string input = Path.Combine(folder, fileName);
        File.WriteAllText(input, content);
        string html = Path.Combine(folder, "r.html");
        var (code, stdout, error) = Run("report", "--in", input, "--out", html);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", stdout);
        Assert.Contains(input, error);
        Assert.Contains(message, error);
        Assert.False(File.Exists(html));
        Assert.Empty(Directory.GetFiles(folder, "*.htm*"));
    }
}
