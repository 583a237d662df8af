using System.Text;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

public sealed class TrajectoryFormatTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-io-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static TrajectoryEnsemble GoldenEnsemble()
    {
        var values = Enumerable.Range(0, 12).Select(i => 0.5 * i - 1.25).ToArray();
        values[3] = 1e-300;
        values[7] = -3.141592653589793;
        return new TrajectoryEnsemble(2, 3, 2, 0.1, values);
    }

    /// <summary>
    /// tests/Golden/traj_2x3x2.npy was written by an independent implementation of numpy's format.py
    /// (_write_array_header: sorted keys, 21-digit growth space, 64-byte alignment). Our writer must produce it
    /// byte for byte, and its layout must be the NPY 1.0 spec: magic, version 1.0, little-endian header length,
    /// a dict literal ending in '\n', data 64-byte aligned, '&lt;f8' C-order values.
    /// </summary>
    [Fact]
    public void NpyMatchesTheGoldenFileByteForByte()
    {
        byte[] golden = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "traj_2x3x2.npy"));
        using var stream = new MemoryStream();
        new NpyFormat().Write(stream, GoldenEnsemble());
        Assert.Equal(golden, stream.ToArray());

        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, golden[..8]);
        int headerLength = golden[8] | golden[9] << 8;
        Assert.Equal(0, (10 + headerLength) % 64);
        string header = Encoding.ASCII.GetString(golden, 10, headerLength);
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 2), }", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(10 + headerLength + 12 * 8, golden.Length);
        Assert.Equal(-3.141592653589793, BitConverter.ToDouble(golden, 10 + headerLength + 7 * 8));
    }

    [Fact]
    public void NpyReadsBackTheGoldenFile()
    {
        string path = Path.Combine(_folder, "golden.npy");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "traj_2x3x2.npy"), path);
        var e = TrajectoryFile.Read(path, dt: 0.1);
        Assert.Equal((2, 3, 2), (e.Trajectories, e.Frames, e.Dimension));
        Assert.Equal(GoldenEnsemble().Data, e.Data);
        Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));   // no sidecar, no dt
    }

    [Fact]
    public void NpyHeaderForOneDimensionalAndLargeShapesFollowsNumpy()
    {
        var header = NpyFormat.Header([5]);
        string text = Encoding.ASCII.GetString(header, 10, header.Length - 10);
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", text);
        Assert.Equal(0, header.Length % 64);
        Assert.Equal(0, NpyFormat.Header([1000000, 1001, 3]).Length % 64);
    }

    [Fact]
    public void CsvIsTheLongFormat()
    {
        string path = Path.Combine(_folder, "long.csv");
        TrajectoryFile.Write(path, new TrajectoryEnsemble(2, 2, 1, 0.5, [1.0, 2.0, 3.0, 4.5]));
        Assert.Equal("traj,t,x0\n0,0,1\n0,0.5,2\n1,0,3\n1,0.5,4.5\n", File.ReadAllText(path));
        File.Delete(TrajectorySidecar.PathFor(path));
        var read = TrajectoryFile.Read(path);
        Assert.Equal(0.5, read.Dt);
        Assert.Equal([1.0, 2.0, 3.0, 4.5], read.Data);
    }

    [Theory]
    [InlineData("bad.csv", "traj,t,x0\n0,0,1\n0,0.5,nan\n", "not a finite number")]
    [InlineData("bad.csv", "a,b,c\n0,0,1\n", "not the long format")]
    [InlineData("bad.csv", "traj,t,x0\n0,0,1\n0,0.5,2\n1,0,3\n", "frames")]
    [InlineData("bad.csv", "traj,t,x0,x1\n0,0,1\n", "columns")]
    [InlineData("bad.csv", "traj,t,x0\n", "no data rows")]
    [InlineData("bad.npy", "not numpy at all", "magic")]
    [InlineData("bad.txt", "1,2,3", "unknown trajectory file extension")]
    [InlineData("empty.npy", "", "empty")]
    public void MalformedFilesAreInvalidInput(string name, string content, string message)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        var e = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path, 0.1));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TruncatedOrWrongTypeNpyIsInvalidInput()
    {
        byte[] golden = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", "traj_2x3x2.npy"));
        string truncated = Path.Combine(_folder, "truncated.npy");
        File.WriteAllBytes(truncated, golden[..^8]);
        Assert.Contains("truncated", Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(truncated, 0.1)).Message);
        string integer = Path.Combine(_folder, "int.npy");
        var changed = (byte[])golden.Clone();
        int at = Encoding.ASCII.GetString(golden, 10, 64).IndexOf("<f8", StringComparison.Ordinal) + 10;
        changed[at + 1] = (byte)'i';
        File.WriteAllBytes(integer, changed);
        Assert.Contains("<i8", Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(integer, 0.1)).Message);
    }

    [Fact]
    public void WritingIntoAMissingFolderIsInvalidInputAndLeavesNothing()
    {
        string path = Path.Combine(_folder, "missing", "x.npy");
        Assert.Throws<InvalidInputException>(() => TrajectoryFile.Write(path, GoldenEnsemble()));
        Assert.False(File.Exists(path));
    }
}
