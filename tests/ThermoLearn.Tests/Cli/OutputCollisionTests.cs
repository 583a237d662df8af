using System.CommandLine;
using System.Security.Cryptography;
using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.IO;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// Class 1 of issue 15: no command may write an output over one of its inputs or over another of its outputs,
/// whatever the spelling (relative path, symbolic link, hard link). Each case checks exit 2, a message naming
/// both options, and the input's bytes unchanged.
/// </summary>
public sealed class OutputCollisionTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-collide-").FullName;

    public OutputCollisionTests()
    {
        var (code, _, error) = Run("simulate", "--model", "driven-trap-2d", "--trajectories", "4", "--steps", "20", "--dt", "0.01",
            "--out", PathOf("run.npy"), "--energetics", PathOf("energetics.csv"));
        Assert.True(code == 0, error);
        Assert.Equal(0, Run("convert", "--in", PathOf("run.npy"), "--out", PathOf("run.csv")).Code);
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "4", "--steps", "20", "--dt", "0.01", "--shard", "1/2",
            "--out", PathOf("a.npy")).Code);
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "4", "--steps", "20", "--dt", "0.01", "--shard", "2/2",
            "--out", PathOf("b.npy")).Code);
        File.WriteAllText(PathOf("report.json"), "{\"ep_rate\": 1.0, \"stderr\": 0.1}");
        File.WriteAllText(PathOf("proc.json"), "{}");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);


    private string Hash(string name) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(PathOf(name))));

    /// <summary>Runs the command, which must be refused with exit 2 naming <paramref name="mentions"/>, and leaves every file of the folder unchanged.</summary>
    private void Refused(string[] args, params string[] mentions)
    {
        var before = Directory.GetFiles(_folder).ToDictionary(f => f, f => Hash(Path.GetFileName(f)));
        var (code, output, error) = Run(args);
        Assert.True(code == CliApp.ExitBadInput, $"exit {code}: {output}{error}");
        Assert.StartsWith("error: ", error);
        foreach (string m in mentions) Assert.Contains(m, error);
        var after = Directory.GetFiles(_folder).ToDictionary(f => f, f => Hash(Path.GetFileName(f)));
        Assert.Equal(before, after);
    }

    [Fact]
    public void EstimatePerTrajectoryOverTheInputIsRefused() =>
        Refused(["estimate", "--in", PathOf("run.csv"), "--per-trajectory", PathOf("run.csv")], "--per-trajectory", "--in", "overwrite");

    [Fact]
    public void EstimateRelativeSpellingOfTheInputIsRefused()
    {
        string relative = Path.Combine(_folder, ".", "..", Path.GetFileName(_folder), "run.csv");
        Refused(["estimate", "--in", PathOf("run.csv"), "--per-trajectory", relative], "--per-trajectory", "--in");
    }

    [Fact]
    public void EstimatePlotThroughASymbolicLinkToTheInputIsRefused()
    {
        File.CreateSymbolicLink(PathOf("figure.png"), PathOf("run.npy"));
        Refused(["estimate", "--in", PathOf("run.npy"), "--plot", PathOf("figure.png")], "--plot", "--in", "resolve to");
    }

    [Fact]
    public void EstimateOutputOverTheInputsSidecarIsRefused() =>
        Refused(["estimate", "--in", PathOf("run.csv"), "--save-model", PathOf("run.csv.json"), "--method", "neural-current"], "sidecar", "--save-model");

    [Fact]
    public void InferPlotOverTheInputIsRefused()
    {
        File.CreateSymbolicLink(PathOf("drift.svg"), PathOf("run.csv"));
        Refused(["infer", "--in", PathOf("run.csv"), "--plot", PathOf("drift.svg")], "--plot", "--in");
    }

    [Fact]
    public void ConvertToAHardLinkOfTheInputIsRefused()
    {
        if (!OperatingSystem.IsLinux()) return;
        // a hard link has its own canonical path: only the (device, inode) pair shows that it is the input
        using (var ln = System.Diagnostics.Process.Start("ln", [PathOf("run.npy"), PathOf("link.npy")]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }
        Refused(["convert", "--in", PathOf("run.npy"), "--out", PathOf("link.npy")], "hard link", "inode");
    }

    [Fact]
    public void MergeOutOverAShardIsRefused() =>
        Refused(["merge", "--out", PathOf("a.npy"), PathOf("a.npy"), PathOf("b.npy")], "--out", "shards");

    [Fact]
    public void SimulateTwoOutputsWithOneNameAreRefused() =>
        Refused(["simulate", "--model", "driven-trap-2d", "--trajectories", "2", "--steps", "4", "--dt", "0.01",
            "--out", PathOf("x.csv"), "--energetics", PathOf("x.csv")], "--energetics", "--out", "same file");

    [Fact]
    public void ProcessSampleBeliefsOverTheTokensAreRefused() =>
        Refused(["process", "sample", "--process", "mess3", "--sequences", "2", "--length", "3", "--out", PathOf("t.npy"), "--beliefs", PathOf("t.npy")],
            "--beliefs", "--out");

    [Fact]
    public void ReportOverItsInputIsRefused() =>
        Refused(["report", "--in", PathOf("report.json"), "--out", PathOf("report.json")], "--out", "--in");

    [Fact]
    public void OptimizePlotOverTheProtocolIsRefused() =>
        Refused(["optimize", "--task", "translate-trap", "--tau", "1", "--iterations", "2", "--trajectories", "16",
            "--out", PathOf("p.json"), "--plot", PathOf("p.json")], "--plot", "--out");

    [Fact]
    public void BeliefsTrainRunFolderOverTheProcessFileIsRefused() =>
        Refused(["beliefs", "train", "--process", PathOf("proc.json"), "--out", PathOf("proc.json"), "--tokens", "64"], "--out", "--process");

    [Fact]
    public void SimulateEnergeticsOverAnotherFilesSidecarIsRefused() =>
        Refused(["simulate", "--model", "driven-trap-2d", "--trajectories", "2", "--steps", "4", "--dt", "0.01",
            "--out", PathOf("y.csv"), "--energetics", PathOf("y.csv.json")], "--energetics", "sidecar");

    [Fact]
    public void DistinctOutputsStillRun()
    {
        var (code, _, error) = Run("estimate", "--in", PathOf("run.csv"), "--per-trajectory", PathOf("per.csv"));
        Assert.True(code == 0, error);
        Assert.True(File.Exists(PathOf("per.csv")));
    }

    [Fact]
    public void IdentityComparesSymbolicAndHardLinks()
    {
        File.CreateSymbolicLink(PathOf("sym.npy"), PathOf("run.npy"));
        var input = FileIdentity.Of(PathOf("run.npy"));
        Assert.True(FileIdentity.Of(PathOf("sym.npy")).SameFileAs(input));
        Assert.False(FileIdentity.Of(PathOf("sym.npy")).IsHardLinkOf(input)); // a symbolic link resolves to the same canonical path
        Assert.False(FileIdentity.Of(PathOf("run.csv")).SameFileAs(input));
        Assert.False(FileIdentity.Of(PathOf("missing.npy")).SameFileAs(input));
        Assert.True(FileIdentity.Of(PathOf("missing.npy")).SameFileAs(FileIdentity.Of(Path.Combine(_folder, "sub", "..", "missing.npy"))));
    }

    /// <summary>
    /// Every string-valued option and argument of every command is classified as a path (input or output) or
    /// as not a path, so a new file option cannot escape the collision check unnoticed.
    /// </summary>
    [Fact]
    public void EveryStringOptionOfEveryCommandIsClassified()
    {
        var unclassified = new List<string>();
        void Walk(Command command, string path)
        {
            foreach (var option in command.Options)
                if ((option.ValueType == typeof(string) || option.ValueType == typeof(string[]))
                    && !FileRoles.Paths.ContainsKey(option.Name) && !FileRoles.NotPaths.Contains(option.Name))
                    unclassified.Add($"{path} {option.Name}");
            foreach (var argument in command.Arguments)
                if ((argument.ValueType == typeof(string) || argument.ValueType == typeof(string[])) && !FileRoles.Paths.ContainsKey(argument.Name))
                    unclassified.Add($"{path} <{argument.Name}>");
            foreach (var sub in command.Subcommands) Walk(sub, path + " " + sub.Name);
        }
        var (console, _, _) = CliConsole.ForTesting();
        Walk(CliApp.BuildRoot(console), "thermolearn");
        Assert.True(unclassified.Count == 0,
            "add these to FileRoles.Paths (files read or written) or FileRoles.NotPaths: " + string.Join(", ", unclassified));
    }
}
