using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.IO;
using ThermoLearn.Tests.IO;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

public class ConvertCommandTests
{
    [Fact]
    public void EveryFormatPairKeepsDataBitForBitAndWhatMetadataTheTargetHolds()
    {
        // Each registered format (.npy, .csv, .h5, .parquet once all are in) to each other. Metadata must survive
        // exactly as far as the target's own round trip keeps it; HDF5 and Parquet keep all of it.
        string folder = TestEnsembles.TempFolder();
        var original = TestEnsembles.Awkward(3, 4, 2, finite: true);
        var formats = TrajectoryFile.All;
        Assert.Contains(formats, f => f.Name == "hdf5");
        Assert.Contains(formats, f => f.Name == "parquet");
        Assert.True(formats.Count >= 4, "npy, csv, hdf5 and parquet are registered");
        foreach (var from in formats)
        {
            string source = Path.Combine(folder, "source-" + from.Name + from.Extensions[0]);
            TrajectoryFile.Write(source, original);
            var sourceBack = TrajectoryFile.Read(source, original.Dt);
            foreach (var to in formats)
            {
                string target = Path.Combine(folder, $"{from.Name}-to-{to.Name}{to.Extensions[0]}");
                var (code, stdout, stderr) = Run("convert", "--in", source, "--out", target, "--dt", "0.1", "--json");
                Assert.True(code == 0, $"{from.Name} -> {to.Name}: {stderr}");
                var converted = TrajectoryFile.Read(target, original.Dt);
                string direct = Path.Combine(folder, $"direct-{from.Name}-{to.Name}{to.Extensions[0]}");
                TrajectoryFile.Write(direct, sourceBack);
                TestEnsembles.AssertIdentical(TrajectoryFile.Read(direct, original.Dt), converted);
                var json = JsonNode.Parse(stdout)!.AsObject();
                Assert.Equal(to.Name, (string?)json["output_format"]);
                Assert.Equal(3, (int?)json["trajectories"]);
            }
        }
    }

    [Fact]
    public void Hdf5AndParquetChainKeepsEverything()
    {
        string folder = TestEnsembles.TempFolder();
        var original = TestEnsembles.Awkward(5, 9, 3);
        string a = Path.Combine(folder, "a.h5"), b = Path.Combine(folder, "b.parquet"), c = Path.Combine(folder, "c.hdf5");
        TrajectoryFile.Write(a, original);
        Assert.Equal(0, Run("convert", "--in", a, "--out", b).Code);
        var (code, _, error) = Run("convert", "--in", b, "--out", c);
        Assert.Equal(0, code);
        Assert.DoesNotContain("note:", error);
        TestEnsembles.AssertIdentical(original, TrajectoryFile.Read(c));
    }

    [Fact]
    public void CorruptInputIsExit2AndLeavesNoOutput()
    {
        string folder = TestEnsembles.TempFolder();
        string whole = Path.Combine(folder, "whole.h5");
        TrajectoryFile.Write(whole, TestEnsembles.Awkward(10, 40, 2));
        string cut = TestEnsembles.Truncated(whole, 0.6);
        string target = Path.Combine(folder, "out.parquet");
        var (code, stdout, error) = Run("convert", "--in", cut, "--out", target);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", stdout);
        Assert.Contains(cut, error);
        Assert.False(File.Exists(target));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Theory]
    [InlineData("a.h5")]
    [InlineData("a.parquet")]
    public void NonFiniteValuesToCsvAreExit2AndLeaveNoOutput(string sourceName)
    {
        // The CSV reader takes finite numbers only, so the read-back check fails on the written file: it must go, sidecar too.
        string folder = TestEnsembles.TempFolder();
        string source = Path.Combine(folder, sourceName), target = Path.Combine(folder, "out.csv");
        TrajectoryFile.Write(source, TestEnsembles.Awkward(3, 4, 2));
        var (code, stdout, error) = Run("convert", "--in", source, "--out", target);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", stdout);
        Assert.Contains("is not a finite number", error);
        Assert.Contains("it was removed", error);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(TrajectorySidecar.PathFor(target)));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp*"));
    }

    [Theory]
    [InlineData("out.txt", "unknown trajectory file extension")]
    [InlineData("same", "would overwrite the input --in")]
    public void BadTargetsAreExit2(string target, string message)
    {
        string folder = TestEnsembles.TempFolder();
        string source = Path.Combine(folder, "a.h5");
        TrajectoryFile.Write(source, TestEnsembles.Awkward());
        var (code, _, error) = Run("convert", "--in", source, "--out", target == "same" ? source : Path.Combine(folder, target));
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void MissingInputIsExit2()
    {
        string folder = TestEnsembles.TempFolder();
        var (code, _, error) = Run("convert", "--in", Path.Combine(folder, "none.h5"), "--out", Path.Combine(folder, "x.parquet"));
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("file not found", error);
    }
}
