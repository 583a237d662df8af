using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// What the active-matter commands report about their own numbers: the blocks an error really came from, which value is set
/// against a reference, verdicts where two numbers agree to rounding, the maps of 3-D data, and the checks of their options.
/// </summary>
public sealed class ActiveMatterReportingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-active-report-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    /// <summary>
    /// Block averaging takes at most one block a snapshot. With 11 snapshots and --blocks 50 the identity's error came from 11
    /// blocks while JSON said "blocks": 50 and nothing was said; the score ignored --blocks (always at most 20). Now "blocks" is the
    /// number used (11, the value BlockStatistics gives for 11 blocks), "blocks_asked" the flag, with a warning on stderr and in JSON;
    /// the score's error follows --blocks; active-sweep reports each row's blocks and warns the same way.
    /// </summary>
    [Fact]
    public void BlocksBeyondTheSnapshotsAreReportedAsUsedWithAWarning()
    {
        string data = PathOf("short.npy");
        var (code, _, error) = Run("simulate", "--model", "aoup", "--set", "n=64", "--set", "phi=0.3", "--set", "v0=1", "--set", "k=1", "--set", "eps=0",
            "--steps", "40", "--dt", "0.01", "--save-every", "4", "--seed", "1", "--out", data);
        Assert.True(code == 0, error);
        double[] series = IdentityEntropyProduction.PerSnapshot(ActiveSnapshotFile.Read(data));
        Assert.Equal(11, series.Length);

        string output;
        (code, output, error) = Run("estimate", "--in", data, "--method", "identity", "--blocks", "50", "--json");
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        Assert.Equal(11, (int)json["blocks"]!);
        Assert.Equal(50, (int)json["blocks_asked"]!);
        Assert.Equal(BlockStatistics.Mean(series, 11).StandardError, (double)json["stderr"]!);
        var warning = json["warnings"]!.AsArray().Single()!;
        Assert.Equal("fewer-blocks", (string)warning["id"]!);
        Assert.Equal(11, (int)warning["blocks"]!);
        Assert.Contains("warning: --blocks 50", error);
        Assert.Contains("from 11 blocks (its 11 snapshots)", error);

        // as many blocks as asked: no warning
        (code, output, error) = Run("estimate", "--in", data, "--method", "identity", "--blocks", "5", "--json");
        Assert.True(code == 0, error);
        json = JsonNode.Parse(output)!;
        Assert.Equal(5, (int)json["blocks"]!);
        Assert.Null(json["warnings"]);
        Assert.DoesNotContain("warning", error);

        // the score: its held-out snapshots (6 of 11) in the blocks asked for, at most one a snapshot
        (code, output, error) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "2", "--seed", "2", "--blocks", "3", "--json");
        Assert.True(code == 0, error);
        json = JsonNode.Parse(output)!;
        Assert.Equal(6, (int)json["n_snapshots"]!);
        Assert.Equal(3, (int)json["blocks"]!);
        Assert.Equal(3, (int)json["identity_blocks"]!);
        Assert.Null(json["warnings"]);
        (code, output, error) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "2", "--seed", "2", "--blocks", "8", "--json");
        Assert.True(code == 0, error);
        json = JsonNode.Parse(output)!;
        Assert.Equal(6, (int)json["blocks"]!);
        Assert.Equal(6, (int)json["identity_blocks"]!);
        Assert.Equal("fewer-blocks", (string)json["warnings"]![0]!["id"]!);

        (code, output, error) = Run("active-sweep", "--in", data, "--method", "identity", "--blocks", "50", "--json");
        Assert.True(code == 0, error);
        json = JsonNode.Parse(output)!;
        Assert.Equal(11, (int)json["rows"]![0]!["blocks"]!);
        Assert.Equal(50, (int)json["blocks_asked"]!);
        Assert.Contains("short.npy, identity: --blocks 50", error);
    }
}
