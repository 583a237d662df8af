using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.IO;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

public sealed class SimulationCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);


    private string PathOf(string name) => Path.Combine(_folder, name);

    [Fact]
    public void ModelsListsEveryModelWithParameters()
    {
        var (code, output, _) = Run("models", "--json");
        Assert.Equal(0, code);
        var json = JsonNode.Parse(output)!;
        var names = json["models"]!.AsArray().Select(m => (string)m!["name"]!).ToArray();
        Assert.Contains("bead-spring", names);
        Assert.Contains("flashing-ratchet", names);
        var bead = json["models"]!.AsArray().First(m => (string)m!["name"]! == "bead-spring")!;
        Assert.Contains(bead["parameters"]!.AsArray(), p => (string)p!["name"]! == "th" && (string)p["default"]! == "10");
    }

    [Theory]
    [InlineData(new[] { "--model", "driven-trap-2d" }, 0.18)]
    [InlineData(new[] { "--model", "bead-spring", "--set", "n=2" }, 2.025)]
    [InlineData(new[] { "--model", "linear", "--set", "A=[[1,0.5],[-0.5,1]]" }, 0.5)]
    [InlineData(new[] { "--model", "underdamped-driven-trap" }, 0.666667)]
    [InlineData(new[] { "--model", "flashing-ratchet", "--set", "V=2" }, 0.213069)]
    public void ExactPrintsTheRate(string[] args, double expected)
    {
        var (code, output, error) = Run(["exact", .. args, "--json"]);
        Assert.True(code == 0, error);
        Assert.Equal(expected, (double)JsonNode.Parse(output)!["ep_rate"]!, 6);
    }

    [Fact]
    public void ExactGivesTheBreathingTrapTotal()
    {
        var (code, output, _) = Run("exact", "--model", "breathing-trap", "--at", "0.5", "--json");
        Assert.Equal(0, code);
        var json = JsonNode.Parse(output)!;
        var model = new ThermoLearn.Models.BreathingTrapModel();
        Assert.Equal(model.TotalEntropyProduction!.Value, (double)json["ep_total"]!, 12);
        Assert.Equal(model.EntropyProductionRate(0.5)!.Value, (double)json["ep_rate"]!, 12);
    }

    [Fact]
    public void SimulateWritesTrajectoriesEnergeticsAndOneJsonObject()
    {
        string output = PathOf("run.npy"), energetics = PathOf("energy.csv");
        var (code, stdout, error) = Run("simulate", "--model", "harmonic-trap", "--trajectories", "50", "--steps", "100", "--dt", "0.01",
            "--save-every", "10", "--seed", "3", "--out", output, "--energetics", energetics, "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(stdout)!.AsObject();
        foreach (var key in new[] { "model", "parameters", "trajectories", "steps", "dt", "seed", "exact_ep_rate", "mean_work", "mean_heat", "output" })
            Assert.True(json.ContainsKey(key), key);
        Assert.Equal(50, (int)json["trajectories"]!);
        var e = TrajectoryFile.Read(output);
        Assert.Equal((50, 11, 1), (e.Trajectories, e.Frames, e.Dimension));
        Assert.Equal(0.1, e.Dt, 12);
        Assert.Equal("harmonic-trap", e.Metadata.Model);
        var lines = File.ReadAllLines(energetics);
        Assert.Equal("traj,work,heat,delta_energy,medium_entropy,system_entropy,total_entropy", lines[0]);
        Assert.Equal(51, lines.Length);
        double meanWork = lines.Skip(1).Average(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(meanWork, (double)json["mean_work"]!, 10);
    }

    [Fact]
    public void ShardsMergedEqualTheSingleRun()
    {
        string[] common = ["simulate", "--model", "bead-spring", "--set", "n=3", "--trajectories", "11", "--steps", "40", "--dt", "0.01", "--save-every", "4", "--seed", "77"];
        Assert.Equal(0, Run([.. common, "--out", PathOf("whole.npy")]).Code);
        Assert.Equal(0, Run([.. common, "--shard", "2/2", "--threads", "1", "--out", PathOf("b.npy")]).Code);
        Assert.Equal(0, Run([.. common, "--shard", "1/2", "--out", PathOf("a.csv")]).Code);
        // Given out of order: merge orders shards by their first trajectory index.
        var (code, _, error) = Run("merge", "--out", PathOf("merged.npy"), PathOf("b.npy"), PathOf("a.csv"));
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(PathOf("whole.npy")), File.ReadAllBytes(PathOf("merged.npy")));

        // A missing shard is bad input and leaves no output.
        var missing = Run("merge", "--out", PathOf("partial.npy"), PathOf("b.npy"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("missing", missing.Error);
        Assert.False(File.Exists(PathOf("partial.npy")));
        // The same shard twice overlaps.
        Assert.Equal(2, Run("merge", "--out", PathOf("twice.npy"), PathOf("a.csv"), PathOf("a.csv"), PathOf("b.npy")).Code);
    }

    /// <summary>
    /// The shards' --energetics CSVs merge into the single run's file byte for byte (rows and sidecar), in any
    /// argument order; a missing shard, a shard of another run, a mix with trajectory files or a tampered row is bad
    /// input (exit 2) and leaves no output.
    /// </summary>
    [Fact]
    public void EnergeticsShardsMergedEqualTheSingleRun()
    {
        string[] common = ["simulate", "--model", "breathing-trap", "--trajectories", "13", "--steps", "50", "--dt", "0.01", "--save-every", "10", "--seed", "5"];
        Assert.Equal(0, Run([.. common, "--out", PathOf("e-whole.npy"), "--energetics", PathOf("e-whole.csv")]).Code);
        for (int k = 1; k <= 3; k++)
            Assert.Equal(0, Run([.. common, "--shard", $"{k}/3", "--out", PathOf($"e-{k}.npy"), "--energetics", PathOf($"e-{k}.csv")]).Code);
        var (code, stdout, error) = Run("merge", "--out", PathOf("e-merged.csv"), "--json", PathOf("e-3.csv"), PathOf("e-1.csv"), PathOf("e-2.csv"));
        Assert.True(code == 0, error);
        Assert.Equal(13, (int)JsonNode.Parse(stdout)!["trajectories"]!);
        Assert.Equal(File.ReadAllBytes(PathOf("e-whole.csv")), File.ReadAllBytes(PathOf("e-merged.csv")));
        Assert.Equal(File.ReadAllBytes(PathOf("e-whole.csv.json")), File.ReadAllBytes(PathOf("e-merged.csv.json")));

        var missing = Run("merge", "--out", PathOf("e-partial.csv"), PathOf("e-1.csv"), PathOf("e-3.csv"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("missing", missing.Error);
        var lastMissing = Run("merge", "--out", PathOf("e-partial.csv"), PathOf("e-1.csv"), PathOf("e-2.csv"));
        Assert.Equal(2, lastMissing.Code);
        Assert.Contains("the run has 13", lastMissing.Error);
        var mixed = Run("merge", "--out", PathOf("e-partial.csv"), PathOf("e-1.csv"), PathOf("e-2.npy"), PathOf("e-3.csv"));
        Assert.Equal(2, mixed.Code);
        Assert.Contains("separate", mixed.Error);
        Assert.Equal(0, Run([.. common[..^1], "6", "--shard", "3/3", "--out", PathOf("o-3.npy"), "--energetics", PathOf("o-3.csv")]).Code);
        var otherRun = Run("merge", "--out", PathOf("e-partial.csv"), PathOf("e-1.csv"), PathOf("e-2.csv"), PathOf("o-3.csv"));
        Assert.Equal(2, otherRun.Code);
        Assert.Contains("seed", otherRun.Error);
        var lines = File.ReadAllLines(PathOf("e-2.csv"));
        lines[2] = lines[2].Replace(",", ",x", StringComparison.Ordinal);
        File.WriteAllLines(PathOf("e-2.csv"), lines);
        var tampered = Run("merge", "--out", PathOf("e-partial.csv"), PathOf("e-1.csv"), PathOf("e-2.csv"), PathOf("e-3.csv"));
        Assert.Equal(2, tampered.Code);
        Assert.Contains("e-2.csv line 3", tampered.Error);
        Assert.False(File.Exists(PathOf("e-partial.csv")));
    }

    [Theory]
    [InlineData("--model", "nope")]
    [InlineData("--model", "driven-trap-2d", "--set", "kk=2")]
    [InlineData("--model", "driven-trap-2d", "--set", "k")]
    [InlineData("--model", "linear", "--set", "A=[[1,0],[0,-1]]")]
    [InlineData("--model", "linear", "--set", "D=[[1,2],[2,1]]")]
    [InlineData("--model", "driven-trap-2d", "--dt", "0")]
    [InlineData("--model", "driven-trap-2d", "--steps", "0")]
    [InlineData("--model", "driven-trap-2d", "--dt", "abc")]
    [InlineData("--model", "driven-trap-2d", "--shard", "3/2")]
    [InlineData("--model", "driven-trap-2d", "--scheme", "rk4")]
    public void BadSimulateInputExitsTwoAndLeavesNoFile(params string[] args)
    {
        string output = PathOf("bad.npy");
        var list = new List<string> { "simulate", "--trajectories", "4", "--out", output };
        list.AddRange(args);
        if (!args.Contains("--dt")) list.AddRange(["--dt", "0.01"]);
        if (!args.Contains("--steps")) list.AddRange(["--steps", "10"]);
        var (code, stdout, error) = Run([.. list]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error:", error.TrimStart());
        Assert.Empty(Directory.GetFiles(_folder));
    }

    [Fact]
    public void UnwritableOutputIsBadInput()
    {
        var (code, _, error) = Run("simulate", "--model", "double-well", "--trajectories", "4", "--steps", "10", "--dt", "0.01",
            "--out", PathOf("no/such/folder/x.npy"));
        Assert.Equal(2, code);
        Assert.Contains("does not exist", error);
        var unknown = Run("simulate", "--model", "double-well", "--trajectories", "4", "--steps", "10", "--dt", "0.01", "--out", PathOf("x.txt"));
        Assert.Equal(2, unknown.Code);
        Assert.Empty(Directory.GetFiles(_folder));
    }
}
