using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

/// <summary>Small ensembles whose values exercise every bit pattern a format could lose.</summary>
internal static class TestEnsembles
{
    /// <summary>
    /// 3 trajectories x 5 frames x 2 coordinates: pseudo-random doubles plus -0.0, the smallest subnormal,
    /// the largest double, infinities and a NaN with a payload, which a text or lossy format would change.
    /// dt = 0.1 and start 0.25 are not exact in binary, so any decimal round trip would show.
    /// With <c>finite</c>, the infinities and the NaN are left out (for formats that take finite data only, e.g. .npy).
    /// </summary>
    public static TrajectoryEnsemble Awkward(int trajectories = 3, int frames = 5, int dim = 2, TrajectoryMetadata? metadata = null, bool finite = false)
    {
        var data = new double[trajectories * frames * dim];
        var random = new Random(12345);
        for (int i = 0; i < data.Length; i++) data[i] = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300));
        double[] special = finite
            ? [-0.0, double.Epsilon, double.MaxValue, -double.MaxValue, 1.0 / 3.0]
            : [-0.0, double.Epsilon, double.MaxValue, double.PositiveInfinity, double.NegativeInfinity,
                BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_1234), 1.0 / 3.0];
        for (int i = 0; i < special.Length && i < data.Length; i++) data[i * 2 % data.Length] = special[i];
        return new TrajectoryEnsemble(trajectories, frames, dim, 0.1, data,
            metadata ?? new TrajectoryMetadata("driven-trap-2d", "{\"k\":1,\"eps\":0.3,\"mu\":1,\"T\":0.5}", 18446744073709551557UL),
            startTime: 0.25);
    }

    /// <summary>Asserts equal shape, dt, start time, metadata and bit-identical data.</summary>
    public static void AssertIdentical(TrajectoryEnsemble expected, TrajectoryEnsemble actual)
    {
        Assert.Equal(expected.Trajectories, actual.Trajectories);
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Dimension, actual.Dimension);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Dt), BitConverter.DoubleToInt64Bits(actual.Dt));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.StartTime), BitConverter.DoubleToInt64Bits(actual.StartTime));
        Assert.Equal(expected.Metadata, actual.Metadata);
        Assert.Equal(expected.Data.Length, actual.Data.Length);
        for (int i = 0; i < expected.Data.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected.Data[i]) == BitConverter.DoubleToInt64Bits(actual.Data[i]),
                $"value {i}: expected {expected.Data[i]} got {actual.Data[i]}");
    }

    /// <summary>A fresh empty folder under the temp path.</summary>
    public static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "thermolearn-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Writes a copy of <paramref name="path"/> cut to <paramref name="keep"/> of its length.</summary>
    public static string Truncated(string path, double keep)
    {
        byte[] bytes = File.ReadAllBytes(path);
        string cut = Path.Combine(Path.GetDirectoryName(path)!, "truncated" + Path.GetExtension(path));
        File.WriteAllBytes(cut, bytes.AsSpan(0, (int)(bytes.Length * keep)).ToArray());
        return cut;
    }

    /// <summary>Writes a copy of <paramref name="path"/> with a run of bytes in the middle overwritten.</summary>
    public static string Corrupted(string path, int start, int length)
    {
        byte[] bytes = File.ReadAllBytes(path);
        for (int i = start; i < start + length && i < bytes.Length; i++) bytes[i] = 0xA5;
        string bad = Path.Combine(Path.GetDirectoryName(path)!, "corrupt" + Path.GetExtension(path));
        File.WriteAllBytes(bad, bytes);
        return bad;
    }
}
