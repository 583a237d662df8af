using System.Text.RegularExpressions;
using Parquet;
using Parquet.Schema;
using PureHDF;
using PureHDF.Filters;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

/// <summary>
/// Real corrupt files on the streaming path (a chunked estimate reading them in small chunks): HDF5 as h5py writes it with
/// compression and checksums (chunked, deflate + Fletcher-32) and Parquet with gzip-compressed pages, each cut short in the
/// middle of its data or with one byte flipped inside a compressed chunk or page. The estimate stops with an
/// InvalidInputException naming the file and, where the file's index survives, the trajectory and frame it reached.
/// </summary>
public class CorruptStreamingFileTests
{
    private const int Trajectories = 24, Frames = 400, Dimension = 2;

    private static double[] Values()
    {
        var random = new Random(16);
        var x = new double[Trajectories * Frames * Dimension];
        for (int i = 0; i < x.Length; i++) x[i] = random.NextDouble() - 0.5;
        return x;
    }

    /// <summary>Chunks of one trajectory x 100 frames, deflate and Fletcher-32 (h5py: chunks=(1, 100, 2), compression="gzip", fletcher32=True).</summary>
    private static string WriteHdf5(string folder)
    {
        string path = Path.Combine(folder, "compressed.h5");
        var dataset = new H5Dataset(Values(), chunks: [1, 100, Dimension], fileDims: [Trajectories, Frames, Dimension]);
        dataset.Attributes["dt"] = 0.01;
        new H5File { [Hdf5TrajectoryFormat.DatasetName] = dataset }.Write(path, new H5WriteOptions(Filters: [Fletcher32Filter.Id, DeflateFilter.Id]));
        return path;
    }

    /// <summary>The trajectory table (traj, t, x0, x1) in row groups of 800 rows (2 trajectories), pages gzip-compressed.</summary>
    private static string WriteParquet(string folder)
    {
        string path = Path.Combine(folder, "compressed.parquet");
        WriteParquetAsync(path).GetAwaiter().GetResult();
        return path;
    }

    private static async Task WriteParquetAsync(string path)
    {
        var x = Values();
        var traj = new DataField<int>("traj");
        var time = new DataField<double>("t");
        var x0 = new DataField<double>("x0");
        var x1 = new DataField<double>("x1");
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(traj, time, x0, x1), stream,
            new ParquetOptions { CompressionMethod = CompressionMethod.Gzip });
        writer.CustomMetadata = new Dictionary<string, string> { ["dt"] = "0.01" };
        const int rows = 2 * Frames;
        for (int first = 0; first < Trajectories * Frames; first += rows)
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(traj, (ReadOnlyMemory<int>)Enumerable.Range(first, rows).Select(r => r / Frames).ToArray());
            await group.WriteAsync(time, (ReadOnlyMemory<double>)Enumerable.Range(first, rows).Select(r => r % Frames * 0.01).ToArray());
            await group.WriteAsync(x0, (ReadOnlyMemory<double>)Enumerable.Range(first, rows).Select(r => x[2 * r]).ToArray());
            await group.WriteAsync(x1, (ReadOnlyMemory<double>)Enumerable.Range(first, rows).Select(r => x[2 * r + 1]).ToArray());
        }
    }

    /// <summary>Streams the file through the current statistics in chunks of 2 trajectories.</summary>
    private static void Estimate(string path)
    {
        using var reader = TrajectoryReader.Open(path);
        var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 0, new ErrorOptions(4));
        request.Estimate(request.Accumulate(reader, new PolynomialBasis(Dimension, 1), 2L * Frames * Dimension));
    }

    private static string Corrupt(string path, string name, Action<byte[]> change)
    {
        var bytes = File.ReadAllBytes(path);
        change(bytes);
        string corrupt = Path.Combine(Path.GetDirectoryName(path)!, name + Path.GetExtension(path));
        File.WriteAllBytes(corrupt, bytes);
        return corrupt;
    }

    public static TheoryData<string> Formats => new() { ".h5", ".parquet" };

    [Theory]
    [MemberData(nameof(Formats))]
    public void TheIntactCompressedFilesStreamToTheInMemoryValues(string extension)
    {
        string folder = TestEnsembles.TempFolder();
        string path = extension == ".h5" ? WriteHdf5(folder) : WriteParquet(folder);
        using var reader = TrajectoryReader.Open(path);
        var chunks = reader.Chunks(2L * Frames * Dimension, 0).Select(c => c.Data.Data.ToArray()).SelectMany(v => v).ToArray();
        Assert.Equal(Values(), chunks);
        Estimate(path);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void AFlippedByteInACompressedChunkNamesTheFileTrajectoryAndFrame(string extension)
    {
        string folder = TestEnsembles.TempFolder();
        string path = extension == ".h5" ? WriteHdf5(folder) : WriteParquet(folder);
        // a byte in the middle of the file: inside the compressed data of a chunk (HDF5) or page (Parquet) of a middle trajectory
        string flipped = Corrupt(path, "flipped", b => b[b.Length / 2] ^= 0x5A);
        var e = Assert.Throws<InvalidInputException>(() => Estimate(flipped));
        Assert.Contains(flipped, e.Message);
        var place = Regex.Match(e.Message, @"trajectory (\d+), frame (\d+)");
        Assert.True(place.Success, e.Message);
        Assert.InRange(int.Parse(place.Groups[1].Value), 1, Trajectories - 2);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void AFileCutShortInItsDataNamesTheFile(string extension)
    {
        string folder = TestEnsembles.TempFolder();
        string path = extension == ".h5" ? WriteHdf5(folder) : WriteParquet(folder);
        string cut = Corrupt(path, "cut", _ => { });
        File.WriteAllBytes(cut, File.ReadAllBytes(path).AsSpan(0, (int)(new FileInfo(path).Length * 0.6)).ToArray());
        var e = Assert.Throws<InvalidInputException>(() => Estimate(cut));
        Assert.Contains(cut, e.Message);
        Assert.Matches("truncated|corrupt|ended", e.Message);
    }
}
