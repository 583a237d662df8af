using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Tests.Inference;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

public class EstimateCommandTests
{
    private static string Folder() => Directory.CreateTempSubdirectory("tl-estimate").FullName;

    [Fact]
    public void EstimatesTheDrivenTrapWithJsonKeysExactValueAndPlot()
    {
        string folder = Folder(), file = Path.Combine(folder, "trap.npy"), plot = Path.Combine(folder, "field.png");
        TrajectoryFile.Write(file, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, 1, 100_000, seed: 101).Trajectories);
        var (code, output, error) = Run("estimate", "--in", file, "--basis", "poly:1", "--diffusion", "0.5", "--plot", plot, "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        foreach (var key in new[] { "ep_rate", "stderr", "ep_rate_debiased", "method", "basis", "n_frames" }) Assert.True(json.ContainsKey(key), key);
        double rate = (double)json["ep_rate"]!, se = (double)json["stderr"]!;
        Assert.InRange(rate, 0.18 - 3 * se, 0.18 + 3 * se); // 0.27% false failures for a calibrated stderr
        Assert.Equal("current+richardson", (string)json["method"]!);
        Assert.Equal("driven-trap-2d", (string)json["model"]!);
        Assert.Equal(0.18, (double)json["exact_ep_rate"]!, 10);
        Assert.Equal(100_000, (long)json["n_frames"]!);
        Assert.True(new FileInfo(plot).Length > 1000);
    }

    [Fact]
    public void WindowsGiveSigmaOfTimeAndPerTrajectoryEntropy()
    {
        string folder = Folder(), file = Path.Combine(folder, "breathing.npy"), csv = Path.Combine(folder, "ds.csv");
        TrajectoryFile.Write(file, InferenceData.Run(new BreathingTrapModel(), 0.02, 4, 2_000, 51, seed: 102).Trajectories);
        var (code, output, error) = Run("estimate", "--in", file, "--basis", "poly:1", "--diffusion", "1", "--windows", "4", "--per-trajectory", csv, "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        var windows = json["ep_rate_t"]!.AsArray();
        Assert.Equal(4, windows.Count);
        foreach (var w in windows)
        {
            Assert.True(w!["t"] is not null && w["ep_rate"] is not null && w["stderr"] is not null);
            Assert.True((double)w["exact_ep_rate"]! > 0);
        }
        Assert.Equal(2_001, File.ReadAllLines(csv).Length);
        var ift = json["per_trajectory"]!;
        double mean = (double)ift["ift_mean_exp_minus_delta_s_tot"]!, se = (double)ift["ift_stderr"]!;
        Assert.InRange(mean, 1 - 3 * se, 1 + 3 * se);
    }

    [Fact]
    public void InferReportsDriftAndDiffusionWithErrors()
    {
        string folder = Folder(), file = Path.Combine(folder, "trap.npy");
        TrajectoryFile.Write(file, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, 4, 20_000, seed: 103).Trajectories);
        var (code, output, error) = Run("infer", "--in", file, "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        var drift = json["drift"]!["coefficients"]!.AsArray();
        var driftSe = json["drift"]!["stderr"]!.AsArray();
        Assert.Equal(3, drift.Count); // 1, x0, x1
        // drift = -A x with A = [[1, 0.3], [-0.3, 1]]: coefficient of x0 in component 0 is -1
        Assert.InRange((double)drift[1]![0]!, -1 - 3 * (double)driftSe[1]![0]!, -1 + 3 * (double)driftSe[1]![0]!);
        var d = json["diffusion"]!["matrix"]!.AsArray();
        var dse = json["diffusion"]!["stderr"]!.AsArray();
        Assert.InRange((double)d[0]![0]!, 0.5 - 3 * (double)dse[0]![0]!, 0.5 + 3 * (double)dse[0]![0]!);
    }

    [Fact]
    public void InferTextShowsTheScoreAndMeanLocalVelocityAsJsonDoes()
    {
        // the text output printed only the drift and D, though the command infers (and --json gives) the score and v as well
        string folder = Folder(), file = Path.Combine(folder, "trap.npy");
        TrajectoryFile.Write(file, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, 4, 2_000, seed: 107).Trajectories);
        var text = Run("infer", "--in", file);
        Assert.True(text.Code == 0, text.Error);
        var json = JsonNode.Parse(Run("infer", "--in", file, "--json").Out)!.AsObject();
        foreach (var (label, key) in new[] { ("drift", "drift"), ("score", "score"), ("mean-local-velocity", "mean_local_velocity") })
        {
            var c = json[key]!["coefficients"]!.AsArray();
            var se = json[key]!["stderr"]!.AsArray();
            string[] functions = ["1", "x0", "x1"];
            for (int a = 0; a < 3; a++)
                Assert.Contains($"  {label}[{functions[a]}] = {(double)c[a]![0]!:G5} +- {(double)se[a]![0]!:G2}, {(double)c[a]![1]!:G5} +- {(double)se[a]![1]!:G2}",
                    text.Out);
        }
    }

    /// <summary>
    /// infer on positions of underdamped motion (R ~ 0.01, far below 0.5) printed D ~ v^2 dt and a rotation as the drift with no word that
    /// these are not an overdamped diffusion's; it now warns as estimate does (stderr and JSON smooth_paths), and overdamped data get no warning.
    /// </summary>
    [Fact]
    public void InferWarnsOnSmoothUnderdampedPaths()
    {
        string folder = Folder(), under = UnderdampedTrap(folder, "2"), trap = Path.Combine(folder, "trap.npy");
        var run = Run("infer", "--in", under, "--columns", "0,1", "--json");
        Assert.True(run.Code == 0, run.Error);
        Assert.Contains("smooth paths", run.Error);
        var warning = JsonNode.Parse(run.Out)!["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "smooth_paths")!;
        Assert.InRange((double)warning["increment_curvature_ratio"]!, 0, 0.1);
        Assert.Contains("smooth paths", Run("infer", "--in", under, "--columns", "0,1").Error);
        OverdampedDataGiveNoWarning(trap, 108, "infer");
    }

    /// <summary>
    /// infer on frames far apart reported the lag-dt drift as the drift with nothing said (driven trap saved every 0.2: 10.6 stderr off).
    /// It now reports the continuous-time fields (Richardson over lags 1 and 2, CoarseSampledDynamicsTests) with the lag-dt ones as
    /// drift_uncorrected, ...; and when the correction is too large to be trusted (estimate's rule: above 20% of the corrected drift and
    /// 2 of its stderr) it warns, as estimate does for the EP rate. Frames 1.0 apart (rate x dt = 1.04): correction 24.8% of the drift
    /// in the large-data limit, the corrected drift still 18% off. Frames 0.01 apart: 0.3-1.1% over 20 seeds, and 0.9-2.6% for
    /// Brownian motion (no drift) with poly:0-2 over 20 seeds each; no warning in those 80 runs.
    /// </summary>
    [Fact]
    public void InferCorrectsCoarseFramesAndWarnsWhenTheCorrectionIsTooLarge()
    {
        string folder = Folder(), coarse = Path.Combine(folder, "coarse.npy"), fine = Path.Combine(folder, "fine.npy");
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "20", "--steps", "2000", "--dt", "1", "--seed", "31", "--out", coarse).Code);
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "20", "--steps", "5000", "--dt", "0.01", "--seed", "32", "--out", fine).Code);
        var run = Run("infer", "--in", coarse, "--json");
        Assert.True(run.Code == 0, run.Error);
        Assert.Contains("too far apart for the first-order coarse-sampling correction of the drift", run.Error);
        var json = JsonNode.Parse(run.Out)!.AsObject();
        Assert.Equal("richardson", (string)json["correction"]!);
        var warning = json["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "coarse_sampling")!;
        double fraction = (double)warning["correction_fraction"]!;
        Assert.InRange(fraction, 0.2, 0.3);
        Assert.Equal(fraction, (double)json["drift_correction_fraction"]!);
        Assert.Equal("drift", (string)warning["quantity"]!);
        // --correction none: the lag-dt fields, which the corrected run keeps under *_uncorrected, and no correction to warn of
        var plain = Run("infer", "--in", coarse, "--correction", "none", "--json");
        Assert.True(plain.Code == 0, plain.Error);
        var lagOne = JsonNode.Parse(plain.Out)!.AsObject();
        Assert.Equal("none", (string)lagOne["correction"]!);
        foreach (var key in new[] { "drift", "score", "mean_local_velocity", "diffusion" })
        {
            Assert.Equal(lagOne[key]!.ToJsonString(), json[key + "_uncorrected"]!.ToJsonString());
            Assert.False(lagOne.ContainsKey(key + "_uncorrected"), key);
        }
        Assert.Null(lagOne["warnings"]);
        var text = Run("infer", "--in", coarse);
        Assert.Contains("  drift-uncorrected[x0] = ", text.Out);
        Assert.Contains("  D-uncorrected = ", text.Out);
        Assert.Contains("too far apart", text.Error);
        var fineRun = Run("infer", "--in", fine, "--json");
        Assert.True(fineRun.Code == 0, fineRun.Error);
        var fineJson = JsonNode.Parse(fineRun.Out)!;
        Assert.Null(fineJson["warnings"]);
        Assert.InRange((double)fineJson["drift_correction_fraction"]!, 0, 0.02);
    }

    /// <summary>
    /// The correction needs lags 1 and 2, so pairs of frames are refused with the way out (--correction none); richardson2 is estimate's,
    /// not infer's; Euler-Maruyama data at their own step, whose lag-dt drift is the chain's own, get estimate's euler_step warning.
    /// </summary>
    [Fact]
    public void InferCorrectionNeedsThreeFramesAndWarnsOnEulerChains()
    {
        string folder = Folder(), pairs = Path.Combine(folder, "pairs.npy"), euler = Path.Combine(folder, "well.npy");
        TrajectoryFile.Write(pairs, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, 500, 2, seed: 33).Trajectories);
        var refused = Run("infer", "--in", pairs);
        Assert.Equal(2, refused.Code);
        Assert.Contains("trajectories of 2 frames", refused.Error);
        Assert.Contains("--correction none", refused.Error);
        Assert.Equal(0, Run("infer", "--in", pairs, "--correction", "none").Code);
        var second = Run("infer", "--in", pairs, "--correction", "richardson2");
        Assert.Equal(2, second.Code);
        Assert.Contains("first-order correction only", second.Error);
        Assert.Equal(0, Run("simulate", "--model", "double-well", "--trajectories", "4", "--steps", "2000", "--dt", "0.01", "--seed", "34", "--out", euler).Code);
        var run = Run("infer", "--in", euler, "--json");
        Assert.True(run.Code == 0, run.Error);
        var warning = JsonNode.Parse(run.Out)!["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "euler_step")!;
        Assert.Equal("euler-maruyama", (string)warning["scheme"]!);
        Assert.Contains("--correction none", (string)warning["message"]!);
        Assert.Contains("over-corrects", run.Error);
        Assert.Null(JsonNode.Parse(Run("infer", "--in", euler, "--correction", "none", "--json").Out)!["warnings"]);
    }

    /// <summary>An (x, v) file of the underdamped driven trap (gamma dt = 0.015: positions on smooth paths, R ~ 0.01) in <paramref name="folder"/>.</summary>
    private static string UnderdampedTrap(string folder, string seed)
    {
        string under = Path.Combine(folder, "under.npy");
        var simulate = Run("simulate", "--model", "underdamped-driven-trap", "--set", "gamma=1.5", "--trajectories", "4", "--steps", "4000", "--dt", "0.002",
            "--save-every", "5", "--seed", seed, "--out", under);
        Assert.True(simulate.Code == 0, simulate.Error);
        return under;
    }

    /// <summary>Overdamped data (a driven trap, R ~ 2) written to <paramref name="trap"/>: the command gives no warning, in JSON or on stderr.</summary>
    private static void OverdampedDataGiveNoWarning(string trap, ulong seed, params string[] command)
    {
        TrajectoryFile.Write(trap, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 1, 20_000, seed: seed).Trajectories);
        var overdamped = Run([.. command, "--in", trap, "--json"]);
        Assert.True(overdamped.Code == 0, overdamped.Error);
        Assert.Null(JsonNode.Parse(overdamped.Out)!["warnings"]);
        Assert.DoesNotContain("warning", overdamped.Error);
    }

    [Fact]
    public void JumpAndTurMethodsRun()
    {
        string folder = Folder(), file = Path.Combine(folder, "ratchet.npy");
        TrajectoryFile.Write(file, DiscreteMarkovChain.FlashingRatchet(1).Sample(new ThermoLearn.Simulation.SimulationOptions { Steps = 100_000, Dt = 1, Seed = 7 }));
        var (code, output, error) = Run("estimate", "--in", file, "--method", "jump", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        double rate = (double)json["ep_rate"]!, se = (double)json["stderr"]!;
        Assert.InRange(rate, 0.062364 - 3 * se, 0.062364 + 3 * se);
        string trap = Path.Combine(folder, "trap.npy");
        TrajectoryFile.Write(trap, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 1, 20_000, seed: 104).Trajectories);
        var tur = Run("estimate", "--in", trap, "--method", "tur", "--basis", "poly:1", "--json");
        Assert.True(tur.Code == 0, tur.Error);
        Assert.Equal("tur", (string)JsonNode.Parse(tur.Out)!["method"]!);
        // --noise-robust: the same bound with the measurement noise's share taken out of the currents' variance, and said so
        var robust = Run("estimate", "--in", trap, "--method", "tur", "--basis", "poly:1", "--noise-robust", "--json");
        Assert.True(robust.Code == 0, robust.Error);
        var rj = JsonNode.Parse(robust.Out)!;
        Assert.Equal(ThermoLearn.Inference.EntropyProductionEstimator.TurNoiseRobust, (string)rj["diffusion_source"]!);
        Assert.NotEqual((double)JsonNode.Parse(tur.Out)!["ep_rate"]!, (double)rj["ep_rate"]!);
    }

    /// <summary>
    /// Issue 20: `simulate --model mjp` data and `estimate --method jump`: every number names its quantity and is compared with the
    /// exact value of that quantity (continuous-time 1.7920, sampled chain at dt = 0.01 1.6916); 3-stderr checks, 0.27% false failures each.
    /// </summary>
    [Fact]
    public void JumpEstimateNamesItsQuantityAndItsExactValue()
    {
        string folder = Folder(), file = Path.Combine(folder, "mjp.npy");
        var simulate = Run("simulate", "--model", "mjp", "--set", "W=[[0,1.5,0.2,0.7],[0.4,0,2.0,0.3],[1.1,0.5,0,1.8],[2.2,0.6,0.9,0]]", "--trajectories", "200", "--steps", "5000", "--dt", "0.01", "--seed", "20", "--out", file);
        Assert.True(simulate.Code == 0, simulate.Error);
        var (code, output, error) = Run("estimate", "--in", file, "--method", "jump", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        Assert.Equal("continuous_ep_rate", (string)json["quantity"]!);
        Assert.Equal("jump-generator-mle", (string)json["method"]!);
        double rate = (double)json["ep_rate"]!, se = (double)json["stderr"]!, exact = (double)json["exact_of_quantity"]!;
        Assert.Equal((double)json["exact_ep_rate"]!, exact);
        Assert.InRange(exact, rate - 3 * se, rate + 3 * se);
        var chain = json["sampled_chain"]!.AsObject();
        Assert.Equal("sampled_chain_ep_rate", (string)chain["quantity"]!);
        double chainExact = (double)json["exact_sampled_chain_ep_rate"]!;
        Assert.InRange(chainExact, (double)chain["ep_rate"]! - 3 * (double)chain["stderr"]!, (double)chain["ep_rate"]! + 3 * (double)chain["stderr"]!);
        Assert.Equal("continuous_ep_rate", (string)json["richardson_lags_1_3"]!["quantity"]!);
        var text = Run("estimate", "--in", file, "--method", "jump");
        Assert.Contains("continuous-time EP rate", text.Out);
        Assert.Contains("sampled every 0.01", text.Out);
    }

    /// <summary>Each non-neural method names its quantity, and a lower bound is compared as a bound.</summary>
    [Fact]
    public void EveryMethodNamesItsQuantity()
    {
        string folder = Folder(), trap = Path.Combine(folder, "trap.npy"), under = Path.Combine(folder, "under.npy"), ratchet = Path.Combine(folder, "ratchet.npy");
        TrajectoryFile.Write(trap, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 1, 20_000, seed: 105).Trajectories);
        var expected = new Dictionary<string, string> { ["current"] = "continuous_ep_rate", ["tur"] = "continuous_ep_rate_lower_bound" };
        foreach (var (method, quantity) in expected)
        {
            var run = Run("estimate", "--in", trap, "--method", method, "--basis", "poly:1", "--json");
            Assert.True(run.Code == 0, run.Error);
            var json = JsonNode.Parse(run.Out)!;
            Assert.Equal(quantity, (string)json["quantity"]!);
            Assert.Equal(0.18, (double)json["exact_of_quantity"]!, 10);
            Assert.True((double)json["exact_sampled_chain_ep_rate"]! < 0.18);
            Assert.Equal(method == "tur" ? "lower bound: expect ep_rate <= exact_of_quantity" : "same quantity", (string)json["exact_comparison"]!);
        }
        var simulate = Run("simulate", "--model", "underdamped-driven-trap", "--trajectories", "1", "--steps", "20000", "--dt", "0.01", "--scheme", "baoab", "--seed", "3", "--out", under);
        Assert.True(simulate.Code == 0, simulate.Error);
        var u = Run("estimate", "--in", under, "--columns", "0,1", "--method", "underdamped", "--basis", "poly:1", "--json");
        Assert.True(u.Code == 0, u.Error);
        Assert.Equal("continuous_ep_rate", (string)JsonNode.Parse(u.Out)!["quantity"]!);
        // a discrete-time chain: no continuous-time rate; the exact per-step value is named as such
        TrajectoryFile.Write(ratchet, DiscreteMarkovChain.FlashingRatchet(1).Sample(new ThermoLearn.Simulation.SimulationOptions { Steps = 50_000, Dt = 1, Seed = 8 }));
        var r = Run("estimate", "--in", ratchet, "--method", "jump", "--json");
        Assert.True(r.Code == 0, r.Error);
        var rj = JsonNode.Parse(r.Out)!;
        Assert.Equal("sampled_chain_ep_rate", (string)rj["quantity"]!);
        Assert.Equal("ep_per_step", (string)rj["exact_ep_rate_quantity"]!);
        Assert.Equal(0.062364, (double)rj["exact_of_quantity"]!, 5);
        Assert.Contains("No generator fits", (string)rj["note"]!);
    }

    /// <summary>
    /// A 1.6 MB file read in chunks of 1 MB (time blocks of each trajectory): the per-trajectory CSV, written as it streams, is
    /// that of the file read as one chunk byte for byte (the in-memory values: StreamingEstimatorsTests), and the jump estimate's
    /// JSON is the in-memory one.
    /// </summary>
    [Fact]
    public void StreamedPerTrajectoryCsvAndJumpEstimateEqualTheInMemoryOnes()
    {
        string folder = Folder(), file = Path.Combine(folder, "breathing.npy");
        TrajectoryFile.Write(file, InferenceData.Run(new BreathingTrapModel(), 0.01, 2, 4, 50_001, seed: 1619).Trajectories);
        string streamedCsv = Path.Combine(folder, "streamed.csv"), memoryCsv = Path.Combine(folder, "memory.csv"), plot = Path.Combine(folder, "sigma.png");
        string[] common = ["estimate", "--in", file, "--basis", "poly:1", "--diffusion", "1", "--windows", "4", "--batches", "8", "--json"];
        var streamed = Run([.. common, "--per-trajectory", streamedCsv, "--chunk-mb", "1"]);
        Assert.True(streamed.Code == 0, streamed.Error);
        var memory = Run([.. common, "--per-trajectory", memoryCsv, "--plot", plot]);
        Assert.True(memory.Code == 0, memory.Error);
        Assert.Equal(5, File.ReadAllLines(streamedCsv).Length);
        Assert.Equal(File.ReadAllBytes(memoryCsv), File.ReadAllBytes(streamedCsv));
        var (a, b) = (JsonNode.Parse(streamed.Out)!["per_trajectory"]!.AsObject(), JsonNode.Parse(memory.Out)!["per_trajectory"]!.AsObject());
        foreach (string key in new[] { "mean_delta_s_tot", "ift_mean_exp_minus_delta_s_tot", "ift_stderr" })
            Assert.Equal(b[key]!.ToJsonString(), a[key]!.ToJsonString());
        Assert.Equal(JsonNode.Parse(memory.Out)!["ep_rate_t"]!.ToJsonString(), JsonNode.Parse(streamed.Out)!["ep_rate_t"]!.ToJsonString());

        string jumps = Path.Combine(folder, "jumps.npy");
        var model = new MarkovJumpProcess(JumpContinuousTimeTests.IssueRates);
        var data = model.SampleFixedStep(new ThermoLearn.Simulation.SimulationOptions { Trajectories = 2, Steps = 100_000, Dt = 0.01, Seed = 1620 });
        TrajectoryFile.Write(jumps, data);
        var jump = Run("estimate", "--in", jumps, "--method", "jump", "--chunk-mb", "1", "--json");
        Assert.True(jump.Code == 0, jump.Error);
        var expected = JsonNode.Parse(jump.Out)!.AsObject();
        var inMemory = ThermoLearn.Cli.Commands.EstimateRunners.Jump(ThermoLearn.Inference.JumpEntropyProduction.Analyse(data, new ThermoLearn.Inference.ErrorOptions(50)));
        Assert.Equal(inMemory.Estimate.Rate, (double)expected["ep_rate"]!);
        Assert.Equal(inMemory.Estimate.StandardError, (double)expected["stderr"]!);
        Assert.Equal(inMemory.Extra!["generator"]!.ToJsonString(), expected["generator"]!.ToJsonString());
    }

    /// <summary>infer on a 1.3 MB file in chunks of 1 MB (time blocks) prints the result of the file read as one chunk (with --plot,
    /// one more pass for its range; the in-memory result: StreamingEstimatorsTests).</summary>
    [Fact]
    public void StreamedInferEqualsTheInMemoryOne()
    {
        string folder = Folder(), file = Path.Combine(folder, "trap.npy"), plot = Path.Combine(folder, "drift.png");
        TrajectoryFile.Write(file, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 4, 20_001, seed: 1622).Trajectories);
        var streamed = Run("infer", "--in", file, "--basis", "poly:1", "--batches", "8", "--chunk-mb", "1", "--json");
        Assert.True(streamed.Code == 0, streamed.Error);
        var memory = Run("infer", "--in", file, "--basis", "poly:1", "--batches", "8", "--plot", plot, "--json");
        Assert.True(memory.Code == 0, memory.Error);
        var (a, b) = (JsonNode.Parse(streamed.Out)!.AsObject(), JsonNode.Parse(memory.Out)!.AsObject());
        foreach (string key in new[] { "drift", "diffusion", "score", "mean_local_velocity", "n_frames", "n_transitions", "dt", "errors", "model" })
            Assert.Equal(b[key]!.ToJsonString(), a[key]!.ToJsonString());
    }

    [Fact]
    public void BadInputExitsWithCode2AndWritesNothing()
    {
        string folder = Folder(), file = Path.Combine(folder, "bad.npy"), csv = Path.Combine(folder, "out.csv"), plot = Path.Combine(folder, "p.png");
        var data = new double[200];
        for (int i = 0; i < 200; i++) data[i] = Math.Sin(i);
        data[57] = double.NaN;
        TrajectoryFile.Write(file, new TrajectoryEnsemble(1, 100, 2, 0.01, data));
        var nan = Run("estimate", "--in", file, "--per-trajectory", csv, "--plot", plot);
        Assert.Equal(2, nan.Code);
        Assert.Contains("frame 28", nan.Error);
        Assert.False(File.Exists(csv));
        Assert.False(File.Exists(plot));

        string single = Path.Combine(folder, "single.npy");
        TrajectoryFile.Write(single, new TrajectoryEnsemble(2, 1, 2, 0.01, new double[4]));
        Assert.Contains("at least 2 frames", Run("estimate", "--in", single).Error);

        string line = Path.Combine(folder, "line.npy");
        var collinear = new double[400];
        for (int f = 0; f < 200; f++) { collinear[2 * f] = Math.Sin(0.1 * f) + 0.01 * Math.Cos(3.7 * f); collinear[2 * f + 1] = 3 * collinear[2 * f]; }
        TrajectoryFile.Write(line, new TrajectoryEnsemble(1, 200, 2, 0.01, collinear));
        var singular = Run("estimate", "--in", line, "--basis", "poly:1", "--diffusion", "1");
        Assert.Equal(2, singular.Code);
        Assert.Contains("collinear", singular.Error);

        Assert.Equal(2, Run("estimate", "--in", line, "--method", "magic").Code);
        Assert.Equal(2, Run("estimate", "--in", line, "--basis", "spline:2").Code);
        Assert.Equal(2, Run("estimate", "--in", line, "--diffusion", "[[1,0]]").Code);
        Assert.Equal(2, Run("estimate", "--in", line, "--method", "tur", "--windows", "3").Code);
        Assert.Equal(2, Run("infer", "--in", Path.Combine(folder, "missing.npy")).Code);
    }

    /// <summary>estimate warns (stderr and JSON) when the provenance says Euler-Maruyama at the frame spacing, and only then.</summary>
    [Fact]
    public void WarnsWhenEulerDataAtTheirOwnStepMeetTheCorrection()
    {
        string folder = Folder();
        string euler = Path.Combine(folder, "euler.npy"), exact = Path.Combine(folder, "exact.npy"), fine = Path.Combine(folder, "fine.npy");
        string[] model = ["--model", "bead-spring", "--set", "n=3", "--set", "k=2", "--set", "gamma=1.5", "--set", "th=5", "--set", "tc=0.5"];
        Assert.Equal(0, Run(["simulate", .. model, "--trajectories", "2", "--steps", "400", "--dt", "0.01", "--scheme", "euler-maruyama", "--out", euler]).Code);
        Assert.Equal(0, Run(["simulate", .. model, "--trajectories", "2", "--steps", "400", "--dt", "0.01", "--out", exact]).Code);
        Assert.Equal(0, Run(["simulate", .. model, "--trajectories", "2", "--steps", "400", "--dt", "0.001", "--save-every", "10", "--scheme", "euler-maruyama", "--out", fine]).Code);
        var warned = Run("estimate", "--in", euler, "--basis", "poly:1", "--json");
        Assert.Equal(0, warned.Code);
        Assert.Contains("warning: ", warned.Error);
        Assert.Contains("--correction none", warned.Error);
        // listed with the methods' warnings (JSON "warnings", id euler_step), which the Python package issues as ThermoLearnWarning;
        // it was a key of its own, "warning", which Python left in result.extra unseen
        var listed = Assert.Single(JsonNode.Parse(warned.Out)!["warnings"]!.AsArray())!;
        Assert.Equal("euler_step", (string?)listed["id"]);
        Assert.Contains("--scheme exact", (string?)listed["message"]);
        Assert.Equal(0.01, (double)listed["integration_dt"]!, 12);
        Assert.Null(JsonNode.Parse(warned.Out)!["warning"]);
        Assert.DoesNotContain("warning", Run("estimate", "--in", euler, "--basis", "poly:1", "--correction", "none").Error);
        Assert.DoesNotContain("warning", Run("estimate", "--in", exact, "--basis", "poly:1").Error);
        Assert.DoesNotContain("warning", Run("estimate", "--in", fine, "--basis", "poly:1").Error);
    }

    /// <summary>
    /// Positions of underdamped motion given to current or tur: R (~ 2 gamma dt / 3 = 0.01 here) is far below 0.5, so stderr and
    /// JSON say the value is not the system's EP rate and name --method underdamped; overdamped data (R ~ 2) get no such warning.
    /// </summary>
    [Fact]
    public void WarnsWhenCurrentMeetsSmoothUnderdampedPaths()
    {
        string folder = Folder(), under = UnderdampedTrap(folder, "1"), trap = Path.Combine(folder, "trap.npy");
        foreach (var method in new[] { "current", "tur" })
        {
            var run = Run("estimate", "--in", under, "--columns", "0,1", "--method", method, "--basis", "poly:1", "--json");
            Assert.True(run.Code == 0, run.Error);
            Assert.Contains("--method underdamped", run.Error);
            var warning = JsonNode.Parse(run.Out)!["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "smooth_paths")!;
            Assert.InRange((double)warning["increment_curvature_ratio"]!, 0, 0.1);
            Assert.Equal("--method underdamped", (string)warning["advice"]!);
        }
        Assert.Contains("see the warning on stderr (smooth_paths)", Run("estimate", "--in", under, "--columns", "0,1", "--basis", "poly:1").Out);
        // the whole (x, v) file: the velocities' R ~ 2 pools with the positions', so the columns alone name the smooth ones
        var whole = Run("estimate", "--in", under, "--basis", "poly:1", "--json");
        Assert.True(whole.Code == 0, whole.Error);
        var pooled = JsonNode.Parse(whole.Out)!["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "smooth_paths")!;
        Assert.Equal([0, 1], pooled["smooth_columns"]!.AsArray().Select(c => (int)c!));
        Assert.True((double)pooled["increment_curvature_ratio"]! > ThermoLearn.Inference.UnderdampedEntropyProduction.SmoothPathsThreshold, "the pooled R alone would not have warned");
        Assert.Contains("--columns 0,1", whole.Error);
        OverdampedDataGiveNoWarning(trap, 106, "estimate", "--basis", "poly:1");
    }

    /// <summary>
    /// An (x, v) file given whole to --method underdamped: the velocities' R ~ 2 swamps the positions' ~ 0.01, so the pooled R says
    /// "overdamped"; the refusal names the smooth columns (in the file's numbering, also under --columns) and the --columns to use.
    /// </summary>
    [Fact]
    public void UnderdampedRefusalNamesTheSmoothColumns()
    {
        string folder = Folder(), under = Path.Combine(folder, "under.npy");
        var simulate = Run("simulate", "--model", "underdamped-driven-trap", "--trajectories", "2", "--steps", "4000", "--dt", "0.002",
            "--save-every", "5", "--seed", "2", "--out", under);
        Assert.True(simulate.Code == 0, simulate.Error);
        var whole = Run("estimate", "--in", under, "--method", "underdamped", "--basis", "poly:1");
        Assert.Equal(2, whole.Code);
        Assert.Contains("columns 0, 1 alone give R = ", whole.Error);
        Assert.Contains("columns 2, 3 give R = ", whole.Error);
        Assert.Contains("use --columns 0,1", whole.Error);
        var some = Run("estimate", "--in", under, "--columns", "1,2,3", "--method", "underdamped", "--basis", "poly:1");
        Assert.Equal(2, some.Code);
        Assert.Contains("column 1 alone gives R = ", some.Error);
        Assert.Contains("use --columns 1.", some.Error);
        Assert.Equal(0, Run("estimate", "--in", under, "--columns", "0,1", "--method", "underdamped", "--basis", "poly:1").Code);
    }

    /// <summary>
    /// Driven trap (k = 2.5, eps = 0.8, mu = 0.6, T = 1.7; exact 0.3072) saved every 0.5: the Richardson correction is about 45% of the
    /// corrected value (the estimate about 60% low), so stderr and JSON say the frames are too far apart, with the fraction; saved every
    /// 0.01 the correction is about 3% and nothing is said.
    /// </summary>
    [Fact]
    public void WarnsWhenTheCoarseSamplingCorrectionIsALargePartOfTheValue()
    {
        string folder = Folder(), coarse = Path.Combine(folder, "coarse.npy"), fine = Path.Combine(folder, "fine.npy");
        string[] model = ["--model", "driven-trap-2d", "--set", "k=2.5", "--set", "eps=0.8", "--set", "mu=0.6", "--set", "T=1.7", "--dt", "0.01", "--seed", "3"];
        Assert.Equal(0, Run(["simulate", .. model, "--trajectories", "50", "--steps", "20000", "--save-every", "50", "--out", coarse]).Code);
        Assert.Equal(0, Run(["simulate", .. model, "--trajectories", "20", "--steps", "5000", "--out", fine]).Code);
        var run = Run("estimate", "--in", coarse, "--basis", "poly:1", "--json");
        Assert.True(run.Code == 0, run.Error);
        Assert.Contains("too far apart", run.Error);
        var json = JsonNode.Parse(run.Out)!;
        var warning = json["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "coarse_sampling")!;
        double fraction = (double)warning["correction_fraction"]!;
        Assert.InRange(fraction, 0.3, 0.8);
        Assert.Equal(fraction, ((double)json["ep_rate"]! - (double)json["ep_rate_uncorrected"]!) / (double)json["ep_rate"]!, 12);
        var fineRun = Run("estimate", "--in", fine, "--basis", "poly:1", "--json");
        Assert.True(fineRun.Code == 0, fineRun.Error);
        Assert.Null(JsonNode.Parse(fineRun.Out)!["warnings"]);
    }

    /// <summary>
    /// `simulate --model mjp` (4 integer states) given to --method current or tur: stderr and JSON say the data look like discrete
    /// states, with the count, and name --method jump; --method jump itself says nothing of it.
    /// </summary>
    [Fact]
    public void WarnsWhenCurrentMeetsIntegerStateLabels()
    {
        string folder = Folder(), file = Path.Combine(folder, "mjp.npy");
        var simulate = Run("simulate", "--model", "mjp", "--set", "W=[[0,1.5,0.2,0.7],[0.4,0,2.0,0.3],[1.1,0.5,0,1.8],[2.2,0.6,0.9,0]]", "--trajectories", "20",
            "--steps", "2000", "--dt", "0.01", "--seed", "21", "--out", file);
        Assert.True(simulate.Code == 0, simulate.Error);
        foreach (var method in new[] { "current", "tur" })
        {
            var run = Run("estimate", "--in", file, "--method", method, "--basis", "poly:1", "--json");
            Assert.True(run.Code == 0, run.Error);
            Assert.Contains("use --method jump", run.Error);
            var warning = JsonNode.Parse(run.Out)!["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "discrete_states")!;
            Assert.Equal(4, (int)warning["distinct_values"]!);
            Assert.Equal("--method jump", (string)warning["advice"]!);
        }
        var jump = Run("estimate", "--in", file, "--method", "jump", "--json");
        Assert.True(jump.Code == 0, jump.Error);
        Assert.Null(JsonNode.Parse(jump.Out)!["warnings"]);
    }

    /// <summary>
    /// Mexican-hat swirl with poly:3 (a projection holding 69% of the exact 2.797): the output said "same quantity; difference -13
    /// stderr" and nothing more. Now the verdict (JSON exact_verdict "below" with its reason, a text line) says that the finite basis
    /// gives a lower bound and does not span the force, and the basis check (poly:5, JSON basis_check) finds the gain and warns
    /// (basis_short). On the driven trap with poly:1 the verdict is "consistent" and the check gains nothing; --basis-check none
    /// leaves it out; a bad --basis-check is refused before the data are read.
    /// </summary>
    [Fact]
    public void BelowTheExactRateTheVerdictNamesTheBasisAndTheCheckFindsTheGain()
    {
        string folder = Folder(), swirl = Path.Combine(folder, "swirl.npy"), trap = Path.Combine(folder, "trap.npy");
        TrajectoryFile.Write(swirl, InferenceData.Run(ModelCatalog.Create("mexican-hat-swirl"), 0.01, 5, 20, 20_001, seed: 24).Trajectories);
        var run = Run("estimate", "--in", swirl, "--basis", "poly:3", "--json");
        Assert.True(run.Code == 0, run.Error);
        var json = JsonNode.Parse(run.Out)!;
        Assert.Equal("same quantity", (string)json["exact_comparison"]!);
        Assert.True((double)json["exact_difference_z"]! < -4);
        Assert.Equal("below", (string)json["exact_verdict"]!);
        Assert.Contains("variational lower bound", (string)json["exact_verdict_reason"]!);
        Assert.Contains("poly:3 does not span the force", (string)json["exact_verdict_reason"]!);
        var check = json["basis_check"]!;
        Assert.Equal("poly:5", (string)check["richer_basis"]!);
        Assert.True((bool)check["short"]!);
        Assert.True((double)check["gain_z"]! > 3);
        var warning = json["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "basis_short")!;
        Assert.Equal("--basis poly:5", (string)warning["advice"]!);
        Assert.Contains("does not span the thermodynamic force", run.Error);
        // report takes the result: no key that reads as a standard error holds a z or a ratio (a negative one was refused)
        string result = Path.Combine(folder, "swirl.json");
        File.WriteAllText(result, run.Out);
        var report = Run("report", "--in", result, "--out", Path.Combine(folder, "swirl.html"));
        Assert.True(report.Code == 0, report.Error);
        var text = Run("estimate", "--in", swirl, "--basis", "poly:3");
        Assert.Contains("variational lower bound", text.Out);
        Assert.Contains("basis check: poly:5 gives", text.Out);

        TrajectoryFile.Write(trap, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, 20, 10_000, seed: 25).Trajectories);
        var fine = JsonNode.Parse(Run("estimate", "--in", trap, "--basis", "poly:1", "--json").Out)!;
        Assert.Equal("consistent", (string)fine["exact_verdict"]!);
        Assert.Null(fine["exact_verdict_reason"]);
        Assert.Equal("poly:3", (string)fine["basis_check"]!["richer_basis"]!);
        Assert.False((bool)fine["basis_check"]!["short"]!);
        Assert.Null(fine["warnings"]);
        Assert.Null(JsonNode.Parse(Run("estimate", "--in", trap, "--basis", "poly:1", "--basis-check", "none", "--json").Out)!["basis_check"]);
        var bad = Run("estimate", "--in", trap, "--basis-check", "poly:x");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--basis-check 'poly:x'", bad.Error);
        var tur = Run("estimate", "--in", trap, "--method", "tur", "--basis-check", "poly:3");
        Assert.Equal(2, tur.Code);
        Assert.Contains("--basis-check", tur.Error);
    }
}
