using PureHDF;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

public class Hdf5FormatTests
{
    [Fact]
    public void LayoutIsWhatH5pyReads()
    {
        // Checked with the format's own reader (PureHDF, not ThermoLearn's) and at byte level: the HDF5
        // signature, one float64 dataset of shape (trajectories, frames, dim), its C-ordered little-endian
        // bytes stored as one run (what numpy's '<f8' is), and typed attributes.
        string path = Path.Combine(TestEnsembles.TempFolder(), "layout.h5");
        var e = TestEnsembles.Awkward(4, 6, 2);
        TrajectoryFile.Write(path, e);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        byte[] raw = new byte[e.Data.Length * 8];
        for (int i = 0; i < e.Data.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(i * 8), e.Data[i]);
        Assert.True(bytes.AsSpan().IndexOf(raw) >= 0, "the C-ordered little-endian float64 bytes are not stored as one run");

        using var file = H5File.OpenRead(path);
        var dataset = file.Dataset("trajectories");
        Assert.Equal(H5DataTypeClass.FloatingPoint, dataset.Type.Class);
        Assert.Equal(8, dataset.Type.Size);
        Assert.Equal(new ulong[] { 4, 6, 2 }, dataset.Space.Dimensions);
        Assert.Equal(0.1, dataset.Attribute("dt").Read<double>());
        Assert.Equal(0.25, dataset.Attribute("start_time").Read<double>());
        Assert.Equal("driven-trap-2d", dataset.Attribute("model").Read<string>());
        Assert.Equal(e.Metadata.ParametersJson, dataset.Attribute("parameters").Read<string>());
        Assert.Equal(H5DataTypeClass.FixedPoint, dataset.Attribute("seed").Type.Class);
        Assert.False(dataset.Attribute("seed").Type.FixedPoint.IsSigned);
        Assert.Equal(e.Metadata.Seed, dataset.Attribute("seed").Read<ulong>());
    }

    [Fact]
    public void GoldenFileStillReads()
    {
        // Written once by ThermoLearn (Golden/README.md says how); guards the layout against silent changes.
        var golden = TrajectoryFile.Read(Path.Combine(AppContext.BaseDirectory, "Golden", "trajectories.h5"));
        TestEnsembles.AssertIdentical(TestEnsembles.Awkward(), golden);
    }

    [Fact]
    public void AttributesOnTheRootGroupAndSignedSeedAreRead()
    {
        // h5py users often write f.attrs["dt"] = ... and Python ints become int64.
        string path = Path.Combine(TestEnsembles.TempFolder(), "h5py-style.h5");
        var file = new H5File { ["trajectories"] = new H5Dataset(new double[] { 1, 2, 3, 4 }, fileDims: [1, 4, 1]) };
        file.Attributes["dt"] = 0.5;
        file.Attributes["seed"] = 7L;
        file.Attributes["model"] = "harmonic-trap";
        file.Write(path);
        var e = TrajectoryFile.Read(path);
        Assert.Equal((1, 4, 1), (e.Trajectories, e.Frames, e.Dimension));
        Assert.Equal(0.5, e.Dt);
        Assert.Equal(new TrajectoryMetadata("harmonic-trap", null, 7UL), e.Metadata);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, e.Data);
    }

    [Fact]
    public void MissingDtUsesTheFallbackOrSaysHowToGiveIt()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "nodt.h5");
        new H5File { ["trajectories"] = new H5Dataset(new double[] { 1, 2 }, fileDims: [1, 2, 1]) }.Write(path);
        Assert.Equal(0.01, TrajectoryFile.Read(path, 0.01).Dt);
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("pass it with dt", error.Message);
        Assert.Contains(InputParameter.Dt, error.Parameters);
    }

    [Fact]
    public void MissingDatasetIsNamed()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "other.h5");
        new H5File { ["positions"] = new H5Dataset(new double[] { 1, 2 }, fileDims: [1, 2, 1]) }.Write(path);
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path, 1.0));
        Assert.Contains(path, error.Message);
        Assert.Contains("no dataset '/trajectories'", error.Message);
        Assert.Contains("'positions'", error.Message);
    }

    [Fact]
    public void WrongDtypeIsNamed()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "float32.h5");
        new H5File { ["trajectories"] = new H5Dataset(new float[] { 1, 2 }, fileDims: [1, 2, 1]) }.Write(path);
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path, 1.0));
        Assert.Contains(path, error.Message);
        Assert.Contains("float32", error.Message);
        Assert.Contains("float64", error.Message);
    }

    [Fact]
    public void WrongRankIsNamed()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "rank2.h5");
        new H5File { ["trajectories"] = new H5Dataset(new double[] { 1, 2, 3, 4 }, fileDims: [2, 2]) }.Write(path);
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path, 1.0));
        Assert.Contains("shape (2, 2)", error.Message);
    }
}
