using ThermoLearn.Cli;
using ThermoLearn.Inference;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// Classes 3 and 4 of issue 15: invalid or ignored options are refused (exit 2, a message naming the option),
/// and a numerically blown-up simulation is an error naming the trajectory, the step and the stability limit.
/// </summary>
public sealed class InvalidOptionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-options-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);


    private string Simulated(string model = "driven-trap-2d", int steps = 200, double dt = 0.01)
    {
        string path = PathOf(model + ".npy");
        if (!File.Exists(path))
        {
            var (code, _, error) = Run("simulate", "--model", model, "--trajectories", "20", "--steps", steps.ToString(), "--dt", dt.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", path);
            Assert.True(code == 0, error);
        }
        return path;
    }

    private static void Refused((int Code, string Out, string Error) r, params string[] mentions)
    {
        Assert.True(r.Code == CliApp.ExitBadInput, $"exit {r.Code}: {r.Out}{r.Error}");
        Assert.Equal("", r.Out);
        foreach (string m in mentions) Assert.Contains(m, r.Error);
    }

    [Fact]
    public void NonSymmetricDiffusionIsRefusedByEstimate() =>
        Refused(Run("estimate", "--in", Simulated(), "--diffusion", "[[1,0.5],[0,1]]"), "--diffusion", "not symmetric", "D[0,1] = 0.5");

    [Fact]
    public void NonSymmetricDiffusionIsRefusedByTheCoreType()
    {
        var e = Assert.Throws<InvalidInputException>(() => DiffusionSpec.Given([1, 0.5, 0, 1], 2));
        Assert.Contains("not symmetric", e.Message);
        Assert.Contains("finite", Assert.Throws<InvalidInputException>(() => DiffusionSpec.Given([1, double.NaN, double.NaN, 1], 2)).Message);
        Assert.NotNull(DiffusionSpec.Given([1, 0.5, 0.5, 1], 2));
    }

    [Fact]
    public void NonSymmetricDiffusionIsRefusedBySimulate() =>
        Refused(Run("simulate", "--model", "linear", "--set", "D=[[1,0.5],[0,1]]", "--trajectories", "2", "--steps", "2", "--dt", "0.01", "--out", PathOf("x.npy")),
            "symmetric");

    [Theory]
    [InlineData("mjp", "0.05")]
    [InlineData("flashing-ratchet", "1")]
    public void EnergeticsOfAJumpProcessAreRefusedBeforeTheRun(string model, string dt)
    {
        Refused(Run("simulate", "--model", model, "--trajectories", "2", "--steps", "10", "--dt", dt, "--out", PathOf("j.npy"), "--energetics", PathOf("j.csv")),
            "--energetics", "jump process");
        Assert.False(File.Exists(PathOf("j.npy")));
    }

    [Fact]
    public void UnderdampedMethodOnOverdampedDataIsRefused() =>
        Refused(Run("estimate", "--in", Simulated(), "--method", "underdamped"), "look overdamped", "R = ");

    /// <summary>
    /// The statistic on both kinds of data: overdamped increments are independent, R = 2 (20 x 200 increments: spread ~ 2 sqrt(3/4000) = 0.06,
    /// so the band [1.7, 2.3] fails with probability far below 1e-6); underdamped data at gamma dt = 0.01 give R ~ 2 gamma dt / 3 ~ 0.007 (band: below 0.1).
    /// </summary>
    [Fact]
    public void TheOverdampedStatisticSeparatesTheTwoKinds()
    {
        double over = UnderdampedEntropyProduction.IncrementCurvatureRatio(TrajectoryFile.Read(Simulated()));
        Assert.InRange(over, 1.7, 2.3);
        var under = TrajectoryFile.Read(Simulated("underdamped-driven-trap", 400));
        var positions = new double[under.Trajectories * under.Frames];
        for (int t = 0; t < under.Trajectories; t++)
            for (int f = 0; f < under.Frames; f++) positions[t * under.Frames + f] = under.Frame(t, f)[0];
        double r = UnderdampedEntropyProduction.IncrementCurvatureRatio(new ThermoLearn.Trajectories.TrajectoryEnsemble(under.Trajectories, under.Frames, 1, under.Dt, positions));
        Assert.InRange(r, 0, 0.1);
        Assert.True(over > UnderdampedEntropyProduction.OverdampedThreshold && r < UnderdampedEntropyProduction.OverdampedThreshold);
    }

    [Theory]
    [InlineData("jump", "--basis", "poly:3")]
    [InlineData("tur", "--diffusion", "1")]
    [InlineData("underdamped", "--correction", "none")]
    [InlineData("jump", "--time-degree", "2")]
    [InlineData("current", "--noise-robust", "true")]
    public void OptionsAMethodDoesNotReadAreRefused(string method, string option, string value) =>
        Refused(Run("estimate", "--in", Simulated(), "--method", method, option, value), option, "not used by --method " + method,
            option == "--noise-robust" ? "--diffusion auto-robust" : "drop it");

    [Theory]
    [InlineData("simulate", "--model", "driven-trap-2d", "--set", "k=1", "--set", "k=2", "--trajectories", "2", "--steps", "2", "--dt", "0.01", "--out", "OUT")]
    [InlineData("exact", "--model", "driven-trap-2d", "--set", "k=1", "--set", " k =3")]
    [InlineData("optimize", "--task", "translate-trap", "--tau", "1", "--set", "k=1", "--set", "k=2", "--iterations", "1")]
    [InlineData("process", "info", "--process", "mess3", "--set", "x=0.05", "--set", "x=0.1")]
    public void ARepeatedSetKeyIsRefusedInEveryCommand(params string[] args)
    {
        var list = args.Select(a => a == "OUT" ? PathOf("y.npy") : a).ToArray();
        Refused(Run(list), "--set gives", "twice");
        Assert.False(File.Exists(PathOf("y.npy")));
    }

    [Fact]
    public void CheckpointsBeyondTheRunAreRefused() =>
        Refused(Run("beliefs", "train", "--process", "mess3", "--out", PathOf("run"), "--tokens", "640", "--checkpoints", "320,6400"),
            "--checkpoints 6400", "beyond");

    [Theory]
    [InlineData("--lr-final", "1e-5", "--max-seconds", "1")]
    [InlineData("--lr-final", "1e-5", "--tokens", "640", "--optimizer", "sgd")]
    [InlineData("--warmup-tokens", "100", "--tokens", "640", "--optimizer", "adam")]
    public void ALearningRateScheduleNeedsAdamATokenBudgetAndAFinalRate(params string[] args)
    {
        Refused(Run(["beliefs", "train", "--process", "mess3", "--out", PathOf("run"), .. args]), args[0]);
        Assert.False(Directory.Exists(PathOf("run")));
    }

    [Theory]
    [InlineData("{\"ep_rate\": \"NaN\", \"stderr\": 0.1}", "\"ep_rate\" is the string \"NaN\"")]
    [InlineData("{\"ep_rate\": 0.18, \"stderr\": -1}", "cannot be negative")]
    [InlineData("{\"ep_rate\": 0.18, \"stderr\": \"Infinity\"}", "a standard error is a finite number")]
    [InlineData("{\"windows\": [{\"ep_rate\": 0.18, \"ep_rate_stderr\": -0.5}]}", "windows[0].ep_rate_stderr")]
    [InlineData("{\"ep_rate\": 1e400, \"stderr\": 0.1}", "\"ep_rate\" is 1e400, beyond the range of double-precision numbers")]
    [InlineData("{\"windows\": [{\"t\": 1, \"ep_rate\": -2e308}]}", "\"windows[0].ep_rate\" is -2e308")]
    public void ReportRefusesNonFiniteAndNegativeErrors(string json, string message)
    {
        File.WriteAllText(PathOf("r.json"), json);
        Refused(Run("report", "--in", PathOf("r.json"), "--out", PathOf("r.html")), message);
        Assert.False(File.Exists(PathOf("r.html")));
    }

    [Theory]
    [InlineData("1e6")]
    [InlineData("3")]
    public void ABlownUpSimulationIsAnErrorNamingTrajectoryStepAndLimit(string dt)
    {
        // Euler-Maruyama named: linear models default to their exact propagator, which has no stability limit
        var r = Run("simulate", "--model", "driven-trap-2d", "--scheme", "euler-maruyama", "--trajectories", "20", "--steps", "100", "--dt", dt, "--out", PathOf("b.npy"));
        Refused(r, "blew up", "trajectory ", "between steps ", "stability limit dt < 2 / 1.04");
        Assert.Contains("warning: --dt", r.Error);   // announced before the run
        Assert.False(File.Exists(PathOf("b.npy")));
    }

    [Fact]
    public void TheStabilityLimitOfALinearDriftIsTwoOverTheLargestEigenvalue()
    {
        // driven-trap-2d: drift -k x + eps (rotation), mobility 1: eigenvalues -k +- i eps, |lambda| = sqrt(k^2 + eps^2)
        var model = ModelCatalog.Create("driven-trap-2d", new Dictionary<string, string> { ["k"] = "3", ["eps"] = "0.4" });
        var limit = SimulationHealth.Limit(model, "euler-maruyama")!;
        Assert.Equal(Math.Sqrt(9 + 0.16), limit.Rate, 4);
        Assert.Equal(2 / Math.Sqrt(9 + 0.16), limit.MaxDt, 4);
        Assert.Null(SimulationHealth.Limit(model, "exact"));
    }

    [Fact]
    public void AStableRunPassesTheScan()
    {
        var r = Run("simulate", "--model", "driven-trap-2d", "--scheme", "euler-maruyama", "--trajectories", "8", "--steps", "100", "--dt", "0.5", "--out", PathOf("ok.npy"));
        Assert.True(r.Code == 0, r.Error);
        Assert.DoesNotContain("warning", r.Error);
    }

    [Fact]
    public void ABlownUpControlRunIsAnErrorNamingTrajectoryStepAndLimitInOptimizeAndEvaluateProtocol()
    {
        // translate-trap at k = 1e4 (mobility 1): Euler-Maruyama needs dt < 2e-4; tau / steps = 0.005 is 25 times past it
        string protocol = PathOf("p.json");
        var made = Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "steps=200", "--iterations", "2", "--trajectories", "400", "--out", protocol);
        Assert.True(made.Code == 0, made.Error);
        Assert.DoesNotContain("warning", made.Error);   // k = 1, dt = 0.005: well inside the limit dt < 2
        foreach (var r in new[]
                 {
                     Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "steps=200", "--set", "k=1e4", "--iterations", "2", "--trajectories", "400"),
                     Run("evaluate-protocol", "--task", "translate-trap", "--protocol", protocol, "--set", "k=1e4", "--trajectories", "400"),
                 })
        {
            Refused(r, "control: the simulated paths blew up (euler-maruyama): trajectory ", "between steps 1 and 16", "stability limit dt < 2 / 1E+04");
            Assert.Contains("warning: ", r.Error);   // announced before the run
            Assert.Contains("Use --set steps=10001 or more", r.Error);
        }
    }

    [Theory]
    [InlineData("translate-trap", 7.0, 2.0)]
    [InlineData("translate-trap", 1.0, 0.5)]
    public void TheControlStabilityLimitIsTwoOverMobilityTimesStiffness(string task, double k, double gamma)
    {
        // V = k/2 (x - lambda)^2 and mobility 1/gamma: the drift's Jacobian is -k/gamma everywhere and at every lambda
        var t = ThermoLearn.Control.Tasks.TaskCatalog.Create(task, 1, new Dictionary<string, double> { ["k"] = k, ["gamma"] = gamma });
        var limit = t.StabilityLimit(t.LinearRamp())!;
        Assert.Equal(k / gamma, limit.Rate, 6);
        Assert.Equal(2 * gamma / k, limit.MaxDt, 6);
    }
}
