using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.Cli.Reports;
using ThermoLearn.Tests.IO;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>The report's active-matter section (HtmlReport.Active.cs) on estimate --json of aoup snapshots.</summary>
public class ActiveReportTests
{
    private static string Z(double z) => z.ToString("+0.00;-0.00", CultureInfo.InvariantCulture);

    private static double N(JsonObject o, string key) => (double)o[key]!;

    /// <summary>
    /// 64 free AOUPs in a trap at eps = 0 (identity 4 holds: sigma = d A N = 128 exactly, reference 1), 801 frames: the section
    /// shows each estimator's sigma with the JSON's own error bar, the identity verdict with the JSON's difference and z, the
    /// held-out rate and the stationarity z; the generic summary gains the held-out, per-particle and identity rates.
    /// </summary>
    [Fact]
    public void ActiveEstimateGetsItsSectionWithTheJsonsNumbers()
    {
        string folder = TestEnsembles.TempFolder();
        string snapshots = Path.Combine(folder, "trap.h5");
        var (simulated, _, simError) = Run("simulate", "--model", "aoup", "--set", "n=64", "--set", "phi=0.2", "--set", "v0=1", "--set", "gamma=1",
            "--set", "eps=0", "--set", "k=0", "--set", "A=1", "--dt", "0.01", "--burn-in", "2000", "--steps", "4000", "--save-every", "5",
            "--seed", "2", "--out", snapshots);
        Assert.True(simulated == 0, simError);
        string local = Path.Combine(folder, "local.csv"), regions = Path.Combine(folder, "regions.csv");
        var (estimated, stdout, estError) = Run("estimate", "--in", snapshots, "--method", "current", "--local", local, "--regions", regions, "--json");
        Assert.True(estimated == 0, estError);
        string input = Path.Combine(folder, "current.json");
        File.WriteAllText(input, stdout);
        var result = JsonNode.Parse(stdout)!.AsObject();

        string html = Path.Combine(folder, "active.html");
        var (code, _, error) = Run("report", "--in", input, "--out", html);
        Assert.True(code == 0, error);
        string page = WebUtility.HtmlDecode(File.ReadAllText(html));
        int section = page.IndexOf("Active matter: entropy production", StringComparison.Ordinal);
        Assert.True(section >= 0, "no active-matter section");
        int end = page.IndexOf("<h3>All fields</h3>", section, StringComparison.Ordinal);
        string part = page[section..end];

        Assert.Contains("aoup, N = 64, d = 2, phi = 0.2, harmonic trap A = 1", part);
        Assert.Contains("801 frames every 0.05; error from 20 blocks", part);
        // sigma per estimator, with the JSON's error bars: fitted, debiased, per particle, held-out, identity 4
        double stderr = N(result, "stderr");
        Assert.Contains(Measurement.Format(N(result, "ep_rate"), stderr), part);
        Assert.Contains(Measurement.Format(N(result, "ep_rate_debiased"), stderr), part);
        Assert.Contains(Measurement.Format(N(result, "ep_rate_per_particle"), N(result, "stderr_per_particle")), part);
        Assert.Contains(Measurement.Format(N(result, "ep_rate_heldout"), N(result, "stderr_heldout")), part);
        Assert.Equal(128, N(result, "identity_ep_rate"));
        Assert.Contains(Measurement.Format(N(result, "identity_ep_rate"), N(result, "identity_stderr")), part);
        // the identity verdict: difference, z and margin from the JSON's difference and its error bar
        double difference = N(result, "difference_from_identity"), differenceError = N(result, "difference_from_identity_stderr");
        double z = difference / differenceError;
        string verdict = (Math.Abs(z) <= 3 ? "consistent" : "differs") + $": difference {Measurement.Format(difference, differenceError)}, z = {Z(z)}, margin "
            + (3 * differenceError - Math.Abs(difference)).ToString("G4", CultureInfo.InvariantCulture);
        Assert.Contains(verdict, part);
        Assert.Contains("ratio " + Measurement.Format(N(result, "ratio_to_identity"), N(result, "ratio_to_identity_stderr")), part);
        Assert.Contains("ratio " + Measurement.Format(N(result, "heldout_ratio_to_identity"), N(result, "heldout_ratio_to_identity_stderr")), part);
        // the exact rate: the JSON's own z
        Assert.Contains($"z = {Z(N(result, "difference_from_exact_z"))}", part);
        // stationarity: identity 4 (equal to rounding at eps = 0) and each observable's z
        Assert.Contains("equal to rounding", part);
        foreach (var check in result["stationarity_observables"]!.AsArray())
        {
            Assert.Contains((string)check!["observable"]!, part);
            Assert.Contains(Z((double)check["z"]!), part);
        }
        Assert.Contains(result["warnings"] is null ? "No warnings" : (string)result["warnings"]![0]!["message"]!, part);

        // The generic summary now draws the error bars of the held-out, per-particle and identity rates.
        string summary = page[..section];
        Assert.Contains($"<td>ep_rate_heldout</td><td class=\"num\">{Measurement.Format(N(result, "ep_rate_heldout"), N(result, "stderr_heldout"))}</td>", summary);
        Assert.Contains($"<td>ep_rate_per_particle</td><td class=\"num\">{Measurement.Format(N(result, "ep_rate_per_particle"), N(result, "stderr_per_particle"))}</td>", summary);
        Assert.Contains("<td>identity_ep_rate</td>", summary);

        // The local maps: the x vs g split, and the sidecars estimate named (local_file, regions_file) as figures.
        Assert.Equal(local, (string)result["local_file"]!);
        Assert.Equal(regions, (string)result["regions_file"]!);
        Assert.Contains($"The fitted sigma split into its position (x) and propulsion (g) parts: {Measurement.Plain(N(result, "ep_rate_x"))} + {Measurement.Plain(N(result, "ep_rate_g"))}", part);
        double localSum = File.ReadLines(local).Skip(1).Sum(l => double.Parse(l.Split(',')[3], CultureInfo.InvariantCulture));
        Assert.Contains($"Per-particle EP map (64 particles, {local}); sum {Measurement.Plain(localSum)}, exact whole-system rate 128", part);
        Assert.Contains($"Grid map, 16 x 16 cells ({regions}): ep_rate_per_area", part);
        // the grid integrates to the particles' EP (sum of value x cell area = sum of ep_rate_mean, to rounding)
        double integral = double.Parse(System.Text.RegularExpressions.Regex.Match(part, @"sum of value x cell area ([-0-9.eE+]+);").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(integral - localSum) <= 1e-9 * Math.Abs(localSum), $"grid {integral} against particles {localSum}");
        int figures = System.Text.RegularExpressions.Regex.Matches(part, "<img ").Count;
        Assert.Equal(3, figures);

        // A malformed sidecar is refused: exit 2 naming the file, line and column, and no page.
        var lines = File.ReadAllLines(local);
        lines[2] = string.Join(',', lines[2].Split(',')[..3]) + ",abc,0";
        File.WriteAllLines(local, lines);
        string again = Path.Combine(folder, "again.html");
        var (bad, _, badError) = Run("report", "--in", input, "--out", again);
        Assert.Equal(CliApp.ExitBadInput, bad);
        Assert.Contains($"{local}: line 3, column \"ep_rate_mean\" is \"abc\", not a finite number", badError);
        Assert.False(File.Exists(again));

        // A map of another run (here one particle fewer) does not describe this estimate: refused, naming both counts.
        File.WriteAllLines(local, lines.Where((_, i) => i != 2));
        var (stale, _, staleError) = Run("report", "--in", input, "--out", again);
        Assert.Equal(CliApp.ExitBadInput, stale);
        Assert.Contains($"{local}: 63 particles, but {input} is an estimate over 64", staleError);
        Assert.False(File.Exists(again));
    }

    private const string Active = """
        {"ep_rate": 120.5, "stderr": 3.1, "ep_rate_debiased": 120.2, "ep_rate_per_particle": 1.88, "stderr_per_particle": 0.048,
         "method": "current", "n_snapshots": 801, "particles": 64, "blocks": 20, "blocks_asked": 20, "frame_dt": 0.05, "model": "aoup",
         "parameters": {"kind": "aoup", "n": 64, "d": 2, "phi": 0.2, "v0": 1, "gamma": 1, "eps": 0, "k": 0, "A": 1, "box": null},
         "identity_ep_rate": 128, "identity_stderr": 0, "difference_from_identity": -7.8, "difference_from_identity_stderr": 3.1,
         "ep_rate_heldout": 119.9, "stderr_heldout": 2.9,
         "stationarity": {"frames": [[0, 399], [400, 800]], "identity": [128, 128], "stderr": [0, 0], "difference": 0, "difference_stderr": 0, "z": 0, "differs": false},
         "heldout_swamped": {"blocks": [16], "ep_rate_heldout_without": 121.0, "stderr_heldout_without": 2.5}
        """;

    /// <summary>A malformed number the section reads: exit 2 naming the file and the key path, no page.</summary>
    [Theory]
    [InlineData("\"stderr_heldout\": -1", "\"stderr_heldout\" is -1; a standard error cannot be negative")]
    [InlineData("\"stderr_per_particle\": \"abc\"", "\"stderr_per_particle\" is \"abc\"; a standard error is a finite number >= 0")]
    [InlineData("\"identity_stderr\": -0.5", "\"identity_stderr\" is -0.5; a standard error cannot be negative")]
    [InlineData("\"ep_rate_heldout\": \"abc\"", "\"ep_rate_heldout\" is \"abc\", not a finite number")]
    [InlineData("\"identity_ep_rate\": \"abc\"", "\"identity_ep_rate\" is \"abc\", not a finite number")]
    [InlineData("\"heldout_swamped\": {\"blocks\": [16], \"ep_rate_heldout_without\": 121.0, \"stderr_heldout_without\": -2.5}", "\"heldout_swamped.stderr_heldout_without\" is -2.5; a standard error cannot be negative")]
    [InlineData("\"stationarity\": {\"difference\": 0, \"z\": \"abc\"}", "\"stationarity.z\" is \"abc\", not a finite number")]
    [InlineData("\"difference_from_identity_stderr\": -3.1", "\"difference_from_identity_stderr\" is -3.1")]
    [InlineData("\"warnings\": [\"fewer-blocks\"]", "\"warnings[0]\" is \"fewer-blocks\", not a warning")]
    public void MalformedActiveEstimateIsExit2NamingFileAndKeyAndLeavesNoPage(string replacement, string message)
    {
        var obj = JsonNode.Parse(Active + "}")!.AsObject();
        var change = JsonNode.Parse("{" + replacement + "}")!.AsObject();
        foreach (var (key, value) in change) obj[key] = value?.DeepClone();
        ReportCommandTests.AssertRefused(obj.ToJsonString(), "active.json", message);
    }

    /// <summary>The well-formed sample renders, with the swamped-block note and the verdict's margin (3 x 3.1 - 7.8 = 1.5).</summary>
    [Fact]
    public void WellFormedSampleRendersTheSwampedNoteAndMargin()
    {
        string folder = TestEnsembles.TempFolder();
        string input = Path.Combine(folder, "active.json");
        File.WriteAllText(input, Active + "}");
        string html = Path.Combine(folder, "r.html");
        var (code, _, error) = Run("report", "--in", input, "--out", html);
        Assert.True(code == 0, error);
        string page = WebUtility.HtmlDecode(File.ReadAllText(html));
        Assert.Contains("Held-out rate swamped by block 16: without it 121.0 ± 2.5.", page);
        Assert.Contains("consistent: difference -7.8 ± 3.1, z = -2.52, margin 1.5 (within 3 standard errors by 0.48)", page);
    }
}
