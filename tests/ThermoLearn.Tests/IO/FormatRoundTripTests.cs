using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

/// <summary>
/// The contract every trajectory format keeps, checked once for all of them: what is written reads back bit for bit
/// (values, dt, start time and metadata, or its absence), a shard keeps its global first index and run size, the write
/// leaves no temporary file, and a truncated or corrupted file is bad input naming the file. Format-specific behaviour
/// (the NPY header, the CSV long layout, what h5py and pandas see, golden files) stays in each format's own test class.
/// </summary>
public class FormatRoundTripTests
{
    /// <summary>Every registered format, by a file name with its extension (.hdf5 is HDF5's second extension).</summary>
    public static TheoryData<string> Formats => new() { "a.npy", "a.csv", "a.h5", "a.hdf5", "a.parquet" };

    /// <summary>Formats that store IEEE-754 bits (binary), which must also keep infinities and NaN payloads.</summary>
    private static bool KeepsNonFinite(string file) => file.EndsWith(".h5") || file.EndsWith(".hdf5") || file.EndsWith(".parquet");

    private static readonly TrajectoryMetadata Shard =
        new("driven-trap-2d", "{\"k\":1}", 42, FirstTrajectory: 5, TotalTrajectories: 10);

    public static TheoryData<string, string> FormatsAndCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string file in Formats)
            foreach (string kind in new[] { "metadata", "no-metadata", "shard" })
                data.Add(file, kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(FormatsAndCases))]
    public void RoundTripIsBitExact(string file, string kind)
    {
        string folder = TestEnsembles.TempFolder();
        string path = Path.Combine(folder, file);
        bool finite = !KeepsNonFinite(file);
        var original = kind switch
        {
            "metadata" => TestEnsembles.Awkward(finite: finite),
            "no-metadata" => TestEnsembles.Awkward(2, 1, 3, TrajectoryMetadata.None, finite: finite),
            "shard" => TestEnsembles.Awkward(3, 4, 2, Shard, finite: finite),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        TrajectoryFile.Write(path, original);
        TestEnsembles.AssertIdentical(original, TrajectoryFile.Read(path, original.Dt));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    /// <summary>The binary containers, whose readers must turn a damaged file into a message naming it and the format.</summary>
    public static TheoryData<string, string, double> Truncations => new()
    {
        { "whole.h5", "HDF5", 0.5 }, { "whole.h5", "HDF5", 0.9 }, { "whole.h5", "HDF5", 0.999 },
        { "whole.parquet", "Parquet", 0.3 }, { "whole.parquet", "Parquet", 0.7 }, { "whole.parquet", "Parquet", 0.99 },
    };

    [Theory]
    [MemberData(nameof(Truncations))]
    public void TruncatedFileIsBadInputNamingTheFile(string file, string format, double keep)
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), file);
        TrajectoryFile.Write(path, TestEnsembles.Awkward(20, 50, 2));
        string cut = TestEnsembles.Truncated(path, keep);
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(cut));
        Assert.Contains(cut, error.Message);
        Assert.Contains(format, error.Message);
    }

    /// <summary>Overwrites the first bytes (the signature) and a run further in (HDF5: superblock; Parquet: near the footer).</summary>
    [Theory]
    [InlineData("whole.h5")]
    [InlineData("whole.parquet")]
    public void CorruptFileIsBadInputNamingTheFile(string file)
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), file);
        TrajectoryFile.Write(path, TestEnsembles.Awkward(20, 50, 2));
        int length = (int)new FileInfo(path).Length;
        var runs = file.EndsWith(".h5") ? new[] { (0, 4), (8, 40) } : new[] { (0, 4), (length - 200, 150) };
        foreach (var (start, count) in runs)
        {
            string bad = TestEnsembles.Corrupted(path, start, count);
            var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(bad));
            Assert.Contains(bad, error.Message);
        }
    }
}
