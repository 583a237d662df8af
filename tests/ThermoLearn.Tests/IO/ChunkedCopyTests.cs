using ThermoLearn.Cli;
using ThermoLearn.Cli.Commands;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.IO;

/// <summary>
/// convert and merge copy chunk by chunk (<see cref="TrajectoryFile.Copy"/>): the files hold what a write of the whole
/// ensemble holds (.npy and .csv byte for byte with their sidecars; HDF5 and Parquet, whose chunked layout differs, the same
/// values and metadata bit for bit), while the copy holds at most one chunk, a small part of the file.
/// </summary>
public class ChunkedCopyTests
{
    private static void Bounded(TrajectoryCopyResult copied, long chunk, long values)
    {
        Assert.True(copied.PeakValuesHeld <= chunk, $"held {copied.PeakValuesHeld} values with chunks of {chunk}");
        Assert.True(copied.PeakValuesHeld * 4 < values, $"held {copied.PeakValuesHeld} of {values} values");
    }

    [Fact]
    public void ChunkedCopiesEqualWholeWritesForEveryFormatPair()
    {
        string folder = TestEnsembles.TempFolder();
        var original = TestEnsembles.Awkward(40, 300, 2, finite: true);
        // 1,000 values: blocks of whole trajectories (600 values each); 100: frames of one trajectory
        foreach (long chunk in new[] { 1_000L, 100L })
            foreach (var from in TrajectoryFile.All)
            {
                string source = Path.Combine(folder, $"source-{chunk}-{from.Name}{from.Extensions[0]}");
                TrajectoryFile.Write(source, original);
                foreach (var to in TrajectoryFile.All)
                {
                    string target = Path.Combine(folder, $"{chunk}-{from.Name}-to-{to.Name}{to.Extensions[0]}");
                    string direct = Path.Combine(folder, $"direct-{chunk}-{from.Name}-to-{to.Name}{to.Extensions[0]}");
                    TrajectoryCopyResult copied;
                    using (var reader = TrajectoryFile.OpenReader(source))
                        copied = TrajectoryFile.Copy([reader], reader.Header, target, chunk);
                    Bounded(copied, chunk, original.Data.LongLength);
                    Assert.Equal(DataFingerprint.Of(original.Data), copied.Fingerprint);
                    TrajectoryFile.Write(direct, TrajectoryFile.Read(source));
                    TestEnsembles.AssertIdentical(TrajectoryFile.Read(direct), TrajectoryFile.Read(target));
                    if (to is not ISidecarTrajectoryFormat) continue;
                    Assert.Equal(File.ReadAllBytes(direct), File.ReadAllBytes(target));
                    Assert.Equal(File.ReadAllText(TrajectorySidecar.PathFor(direct)), File.ReadAllText(TrajectorySidecar.PathFor(target)));
                }
            }
    }

    [Fact]
    public void ShardsMergedChunkByChunkEqualTheSingleRunFile()
    {
        string folder = TestEnsembles.TempFolder();
        var run = TestEnsembles.Awkward(30, 200, 2, finite: true);
        var meta = run.Metadata;
        (int First, int Count, string Extension)[] shards = [(17, 13, ".h5"), (0, 10, ".npy"), (10, 7, ".parquet")];
        var files = new List<string>();
        foreach (var (first, count, extension) in shards)
        {
            var part = new TrajectoryEnsemble(count, run.Frames, run.Dimension, run.Dt, run.Data.AsSpan(first * 400, count * 400).ToArray(),
                meta with { FirstTrajectory = first, TotalTrajectories = 30 }, run.StartTime);
            string path = Path.Combine(folder, $"shard-{first}{extension}");
            TrajectoryFile.Write(path, part);
            files.Add(path);
        }
        string single = Path.Combine(folder, "single.npy"), merged = Path.Combine(folder, "merged.npy"), cli = Path.Combine(folder, "cli.npy");
        TrajectoryFile.Write(single, run);
        var readers = files.Select(f => TrajectoryFile.OpenReader(f)).ToList();
        try
        {
            var (ordered, header) = ShardMerge.Plan(readers);
            Assert.Equal(["shard-0.npy", "shard-10.parquet", "shard-17.h5"], ordered.Select(r => Path.GetFileName(r.Header.Path)));
            Bounded(TrajectoryFile.Copy(ordered, header, merged, 700), 700, run.Data.LongLength);
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
        Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(merged));
        Assert.Equal(File.ReadAllText(TrajectorySidecar.PathFor(single)), File.ReadAllText(TrajectorySidecar.PathFor(merged)));
        var (code, _, error) = Run(["merge", "--out", cli, "--chunk-mb", "1", .. files]);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(cli));
    }

    [Fact]
    public void AStaleSidecarIsRefusedWhileCopyingAndNothingIsWritten()
    {
        string folder = TestEnsembles.TempFolder();
        string source = Path.Combine(folder, "a.npy"), target = Path.Combine(folder, "b.h5"), merged = Path.Combine(folder, "m.npy");
        TrajectoryFile.Write(source, TestEnsembles.Awkward(4, 50, 2, finite: true));
        // change one value in place: same shape and size, another fingerprint
        using (var stream = new FileStream(source, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Seek(-8, SeekOrigin.End);
            stream.Write(BitConverter.GetBytes(0.5));
        }
        foreach (var args in new[] { new[] { "convert", "--in", source, "--out", target }, ["merge", "--out", merged, source] })
        {
            var (code, _, error) = Run(args);
            Assert.Equal(CliApp.ExitBadInput, code);
            Assert.Contains("fingerprint", error);
        }
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(merged));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }
}
