using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Tests.Inference;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// <c>estimate --method neural-current|neep</c>: JSON keys shared with the linear methods plus the training curve, --plot,
/// --save-model / --load-model, determinism, divergence and bad input. Data: the driven 2-D trap (exact sigma = 0.18).
/// </summary>
public class NeuralEstimateCommandTests
{
    private static string Folder() => Directory.CreateTempSubdirectory("tl-neural").FullName;

    private static string Trap(string folder, int trajectories, int frames, ulong seed)
    {
        string file = Path.Combine(folder, $"trap-{seed}.npy");
        TrajectoryFile.Write(file, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 2, trajectories, frames, seed).Trajectories);
        return file;
    }

    [Fact]
    public void NeuralCurrentGivesTheLinearKeysTheTrainingCurveAPlotAndAModelThatReloads()
    {
        string folder = Folder(), plot = Path.Combine(folder, "curve.svg"), model = Path.Combine(folder, "trap.model");
        string file = Trap(folder, 50, 4000, seed: 201);
        var (code, output, error) = Run("estimate", "--in", file, "--method", "neural-current", "--diffusion", "0.5", "--epochs", "12",
            "--hidden", "2x32", "--batch", "2048", "--seed", "3", "--plot", plot, "--save-model", model, "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        foreach (var key in new[] { "ep_rate", "stderr", "ep_rate_debiased", "method", "basis", "n_frames" }) Assert.True(json.ContainsKey(key), key);
        double rate = (double)json["ep_rate"]!, se = (double)json["stderr"]!;
        Assert.InRange(rate, 0.18 - 3 * se, 0.18 + 3 * se); // 0.27% false failures for a calibrated stderr; the seed is fixed
        Assert.Equal("neural-current+richardson", (string)json["method"]!);
        Assert.Equal("continuous_ep_rate_lower_bound", (string)json["quantity"]!);
        Assert.Equal("mlp:2x32", (string)json["basis"]!);
        Assert.Equal(200_000, (long)json["n_frames"]!);
        var training = json["training"]!.AsObject();
        Assert.False((bool)training["diverged"]!);
        var curves = training["curves"]!.AsArray();
        Assert.Equal(2, curves.Count);
        foreach (var curve in curves)
        {
            int epochs = curve!["train_loss"]!.AsArray().Count;
            Assert.InRange(epochs, 1, 12);
            Assert.Equal(epochs, curve["heldout_loss"]!.AsArray().Count);
        }
        Assert.Contains("<svg", File.ReadAllText(plot));
        Assert.True(new FileInfo(model).Length > 1000);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp*"));

        // the saved model on new data of the same system
        string fresh = Trap(folder, 50, 2000, seed: 202);
        var loaded = Run("estimate", "--in", fresh, "--method", "neural-current", "--load-model", model, "--json");
        Assert.True(loaded.Code == 0, loaded.Error);
        var again = JsonNode.Parse(loaded.Out)!.AsObject();
        double r2 = (double)again["ep_rate"]!, se2 = (double)again["stderr"]!;
        Assert.InRange(r2, 0.18 - 3 * se2, 0.18 + 3 * se2);
        Assert.Equal("mlp:2x32", (string)again["loaded_model"]!["network"]!);

        // a model of 2-D data cannot score 3-D data, nor be read as another method
        string wide = Path.Combine(folder, "wide.npy");
        var w = new double[40 * 50 * 3];
        for (int i = 0; i < w.Length; i++) w[i] = Math.Sin(0.37 * i);
        TrajectoryFile.Write(wide, new TrajectoryEnsemble(40, 50, 3, 0.01, w));
        var mismatch = Run("estimate", "--in", wide, "--method", "neural-current", "--load-model", model);
        Assert.Equal(2, mismatch.Code);
        Assert.Contains("dimension 3", mismatch.Error);
        var other = Run("estimate", "--in", fresh, "--method", "neep", "--load-model", model);
        Assert.Equal(2, other.Code);
        Assert.Contains("neural-current model", other.Error);
    }

    [Fact]
    public void SameSeedSameResultAndNeepRuns()
    {
        string folder = Folder(), file = Trap(folder, 12, 1000, seed: 203);
        string[] args = ["estimate", "--in", file, "--method", "neep", "--epochs", "2", "--hidden", "1x16", "--threads", "1", "--json"];
        var a = Run([.. args, "--seed", "5"]);
        var b = Run([.. args, "--seed", "5"]);
        var c = Run([.. args, "--seed", "6"]);
        Assert.True(a.Code == 0, a.Error);
        Assert.Equal(a.Out, b.Out);
        Assert.NotEqual(JsonNode.Parse(a.Out)!["ep_rate"]!.ToJsonString(), JsonNode.Parse(c.Out)!["ep_rate"]!.ToJsonString());
        var json = JsonNode.Parse(a.Out)!.AsObject();
        Assert.Equal("neep", (string)json["method"]!);
        Assert.Equal("sampled_chain_ep_rate_lower_bound", (string)json["quantity"]!);
        Assert.Equal("antisymmetric-mlp:1x16", (string)json["basis"]!);
    }

    [Fact]
    public void WindowsGiveSigmaOfTimeFromAFieldWithTimeInput()
    {
        string folder = Folder(), file = Path.Combine(folder, "breathing.npy");
        TrajectoryFile.Write(file, InferenceData.Run(new BreathingTrapModel(), 0.02, 4, 400, 51, seed: 206).Trajectories);
        var (code, output, error) = Run("estimate", "--in", file, "--method", "neural-current", "--windows", "4", "--epochs", "2", "--hidden", "1x16",
            "--diffusion", "1", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!.AsObject();
        Assert.Equal("mlp:1x16+t", (string)json["basis"]!);
        var windows = json["ep_rate_t"]!.AsArray();
        Assert.Equal(4, windows.Count);
        Assert.All(windows, w => Assert.True(w!["stderr"] is not null && w["exact_ep_rate"] is not null));
    }

    [Fact]
    public void DivergingTrainingIsReportedNotACrash()
    {
        string folder = Folder(), file = Trap(folder, 12, 1000, seed: 204);
        var (code, output, error) = Run("estimate", "--in", file, "--method", "neural-current", "--epochs", "3", "--hidden", "1x16", "--lr", "1e30", "--json");
        Assert.True(code == 0, error);
        Assert.Contains("diverged", error);
        Assert.Contains("lower --lr", error);
        var training = JsonNode.Parse(output)!["training"]!;
        Assert.True((bool)training["diverged"]!);
        Assert.NotNull(training["curves"]![0]!["diverged"]);
    }

    [Fact]
    public void BadInputExitsWithCode2AndWritesNothing()
    {
        string folder = Folder(), file = Trap(folder, 12, 200, seed: 205);
        string csv = Path.Combine(folder, "s.csv"), model = Path.Combine(folder, "m.model"), plot = Path.Combine(folder, "p.png");
        var before = Directory.GetFiles(folder);
        void Refused(string expected, params string[] args)
        {
            var r = Run(["estimate", "--in", file, .. args]);
            Assert.True(r.Code == 2, $"{string.Join(' ', args)}: exit {r.Code}, {r.Error}");
            Assert.Contains(expected, r.Error);
        }
        Refused("apply only to --method", "--method", "current", "--epochs", "3");
        Refused("apply only to --method", "--method", "current", "--save-model", model);
        Refused("--hidden '2y64'", "--method", "neural-current", "--hidden", "2y64");
        Refused("learning rate", "--method", "neural-current", "--lr", "-1");
        Refused("batch size", "--method", "neep", "--batch", "0");
        Refused("--basis sets the linear basis", "--method", "neural-current", "--basis", "poly:3");
        Refused("--correction applies to neural-current", "--method", "neep", "--correction", "richardson");
        Refused("--windows is not available", "--method", "neep", "--windows", "3");
        Refused("no such file", "--method", "neep", "--load-model", Path.Combine(folder, "missing.model"));
        Refused("give one or the other", "--method", "neep", "--load-model", file, "--epochs", "3");
        Refused("has none", "--method", "neep", "--load-model", file, "--plot", plot);
        Refused("not a ThermoLearn neural model", "--method", "neep", "--load-model", file);
        Refused("--per-trajectory needs --method current", "--method", "neep", "--per-trajectory", csv, "--save-model", model, "--plot", plot);
        Refused("does not exist", "--method", "neep", "--save-model", Path.Combine(folder, "no", "m.model"));
        Assert.False(File.Exists(csv));
        Assert.False(File.Exists(model));
        Assert.False(File.Exists(plot));
        Assert.Equal(before, Directory.GetFiles(folder));
    }
}
