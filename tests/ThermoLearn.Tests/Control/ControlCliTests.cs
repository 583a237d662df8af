using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Control;

public class ControlCliTests
{
    private static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "thermolearn-control-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static readonly string[] QuickTrap =
        ["optimize", "--task", "translate-trap", "--tau", "1", "--set", "steps=50", "--iterations", "4", "--trajectories", "256", "--seed", "3", "--json"];

    [Fact]
    public void OptimizeWritesJsonProtocolAndPlotAndEvaluateReMeasuresIt()
    {
        string folder = TempFolder();
        string protocol = Path.Combine(folder, "protocol.json"), plot = Path.Combine(folder, "lambda.png");
        var (code, output, error) = Run([.. QuickTrap, "--out", protocol, "--plot", plot]);
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        foreach (string key in new[] { "work", "work_stderr", "error", "protocol", "baseline", "optimum_work", "linear_ramp_work", "optimum_work_at_dt", "linear_ramp_work_at_dt", "iterations",
                     "steps", "work_at_dt", "work_at_dt_stderr", "error_at_dt", "work_step_bias", "work_step_bias_stderr", "optimum_work_extrapolated" })
            Assert.True(json.ContainsKey(key), $"missing key {key}");
        Assert.Equal(1.0 / 3, json["optimum_work"]!.GetValue<double>(), 12);
        var t = json["protocol"]!["t"]!.AsArray();
        var lambda = json["protocol"]!["lambda"]!.AsArray();
        Assert.Equal(t.Count, lambda.Count);
        Assert.Equal(0.0, lambda[0]![0]!.GetValue<double>());
        Assert.Equal(1.0, lambda[^1]![0]!.GetValue<double>());
        Assert.Equal(4, json["iterations"]!.AsArray().Count);
        Assert.True(File.Exists(protocol) && new FileInfo(plot).Length > 1000);
        Assert.Contains("optimize", error);   // progress goes to stderr
        // steps = 50 (k h / gamma = 0.02): the chain's exact <W> of lambda* (the same recursion in Python) is 0.34 % under
        // W*, inside the 0.5 % that stderr lets pass
        Assert.Equal(0.3322152, json["optimum_work_at_dt"]!.GetValue<double>(), 6);
        Assert.DoesNotContain("the simulated chain's exact <W>", error);

        var (code2, output2, error2) = Run("evaluate-protocol", "--task", "translate-trap", "--protocol", protocol, "--trajectories", "500", "--json");
        Assert.True(code2 == 0, error2);
        var again = JsonNode.Parse(output2)!.AsObject();
        Assert.True(again["work"]!.GetValue<double>() > 0);
        Assert.True(again.ContainsKey("baseline"));
    }

    [Fact]
    public void AStepThatBiasesTheTrapsWorkIsSaidWithTheChainsExactReference()
    {
        // k = 100, 500 steps: k h / gamma = 0.2, the chain's <W> of lambda* is 0.8842, 9.8 % under W* = 0.9804
        var (code, output, error) = Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "k=100", "--set", "steps=500",
            "--iterations", "1", "--trajectories", "64", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(0.8842, json["optimum_work_at_dt"]!.GetValue<double>(), 4);
        Assert.Equal(100.0 / 102, json["optimum_work"]!.GetValue<double>(), 12);
        Assert.Contains("the simulated chain's exact <W> of the optimum is 0.88418, not W* = 0.98039 (-9.8 %)", error);
        Assert.Contains("--set steps=25000", error);
        // the final measurements are extrapolated to dt -> 0: exactly 0.9804 for lambda* (W* to 4 digits), the chain at dt kept apart
        Assert.Contains("optimum_work_extrapolated = 0.9804)", error);
        Assert.Equal(100.0 / 102, json["optimum_work_extrapolated"]!.GetValue<double>(), 4);
        Assert.Equal(500, json["steps"]!.GetValue<int>());

        // a step no allowed steps can make stable is said as such, not as an overflowed step count
        var far = Run("optimize", "--task", "translate-trap", "--tau", "1e300", "--iterations", "1", "--trajectories", "16", "--json");
        Assert.Equal(CliApp.ExitBadInput, far.Code);
        Assert.Contains("more than the 10^7 allowed", far.Error);
        Assert.DoesNotContain("NaN %", far.Error);   // nor a bias of the chain that ran away
    }

    [Fact]
    public void FlipReportsTheOverdampedObjectiveBound()
    {
        const double alpha = 6;
        var (code, output, error) = Run("optimize", "--task", "flip-underdamped", "--tau", "1", "--set", "steps=100",
            "--alpha", alpha.ToString(System.Globalization.CultureInfo.InvariantCulture), "--iterations", "2", "--trajectories", "64", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        // every overdamped 1-D flip has objective >= alpha / 2 (success <= 1/2)
        Assert.Equal(alpha / 2, json["overdamped_objective_bound"]!.GetValue<double>());
        Assert.Equal(alpha / 2, json["baseline"]!["overdamped_objective_bound"]!.GetValue<double>());
    }

    [Fact]
    public void AnUnderdampedStepThatBlowsUpEveryPathIsExitCode2WithItsNumbers()
    {
        // m = 0.002, gamma = 1.2, tau = 4 at 1,000 steps (the former default): gamma dt / m = 2.4, velocity factor -1.4 per step
        var (code, output, error) = Run("optimize", "--task", "flip-underdamped", "--tau", "4", "--set", "mass=0.002", "--set", "gamma=1.2",
            "--set", "steps=1000", "--iterations", "1", "--trajectories", "16", "--json");
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", output);
        Assert.Contains("gamma dt / m = 2.4 >= 2", error);
        Assert.Contains("Use steps >= 1201 (the default for these settings is 22756)", error);
    }

    [Fact]
    public void SameSeedGivesTheSameResult()
    {
        var first = Run(QuickTrap);
        var second = Run(QuickTrap);
        Assert.Equal(0, first.Code);
        Assert.Equal(first.Out, second.Out);
    }

    [Theory]
    [InlineData("--tau", "0", "tau")]
    [InlineData("--tau", "-2", "tau")]
    [InlineData("--task", "juggle", "unknown task 'juggle'")]
    [InlineData("--set", "stiffness=2", "no setting 'stiffness'")]
    [InlineData("--set", "k", "name=value")]
    public void BadOptimizeInputIsExitCode2(string option, string value, string message)
    {
        var args = new List<string> { "optimize", "--task", "translate-trap", "--tau", "1", "--iterations", "1", "--trajectories", "32" };
        int at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([option, value]);
        var (code, output, error) = Run([.. args]);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", output);
        Assert.Contains(message, error);
    }

    [Fact]
    public void ProtocolFilesThatDoNotFitTheTaskAreExitCode2()
    {
        string folder = TempFolder();
        string trap = Path.Combine(folder, "trap.json");
        Assert.Equal(0, Run([.. QuickTrap, "--out", trap]).Code);

        var wrongTask = Run("evaluate-protocol", "--task", "erase", "--protocol", trap, "--json");
        Assert.Equal(CliApp.ExitBadInput, wrongTask.Code);
        Assert.Contains("made for task 'translate-trap'", wrongTask.Error);

        string twoControls = Path.Combine(folder, "two.json");
        File.WriteAllText(twoControls, """{"task": "translate-trap", "t": [0, 1], "lambda": [[0, 0], [1, 0]]}""");
        var dimension = Run("evaluate-protocol", "--task", "translate-trap", "--protocol", twoControls);
        Assert.Equal(CliApp.ExitBadInput, dimension.Code);
        Assert.Contains("2 controls", dimension.Error);

        string wrongEnd = Path.Combine(folder, "end.json");
        File.WriteAllText(wrongEnd, """{"task": "translate-trap", "t": [0, 0.5, 1], "lambda": [[0], [0.4], [2]]}""");
        var endpoint = Run("evaluate-protocol", "--task", "translate-trap", "--protocol", wrongEnd);
        Assert.Equal(CliApp.ExitBadInput, endpoint.Code);
        Assert.Contains("ends at 2", endpoint.Error);

        string renamed = Path.Combine(folder, "renamed.json");
        File.WriteAllText(renamed, """{"task": "translate-trap", "controls": ["b"], "t": [0, 0.5, 1], "lambda": [[0], [0.4], [1]]}""");
        var names = Run("evaluate-protocol", "--task", "translate-trap", "--protocol", renamed);
        Assert.Equal(CliApp.ExitBadInput, names.Code);
        Assert.Contains("controls are (b) but task 'translate-trap' has (lambda)", names.Error);

        // the text output names the references, as optimize's does
        var text = Run("evaluate-protocol", "--task", "translate-trap", "--protocol", trap, "--trajectories", "200");
        Assert.True(text.Code == 0, text.Error);
        Assert.Contains("optimum (Schmiedl-Seifert): W* = 0.3333", text.Out);

        string broken = Path.Combine(folder, "broken.json");
        File.WriteAllText(broken, "{\"task\": \"translate-trap\", \"t\": [0, 1]");
        Assert.Equal(CliApp.ExitBadInput, Run("evaluate-protocol", "--task", "translate-trap", "--protocol", broken).Code);
        Assert.Equal(CliApp.ExitBadInput, Run("evaluate-protocol", "--task", "translate-trap", "--protocol", Path.Combine(folder, "none.json")).Code);
    }

    [Fact]
    public void NoProtocolFileIsLeftWhenTheRunFails()
    {
        string folder = TempFolder();
        string protocol = Path.Combine(folder, "p.json");
        var (code, _, _) = Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "lambda_f=nan", "--out", protocol);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Empty(Directory.GetFiles(folder));
    }
}
