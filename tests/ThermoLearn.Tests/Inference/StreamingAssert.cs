using ThermoLearn.IO;
using Xunit;

namespace ThermoLearn.Tests;

/// <summary>The checks of every streaming test: equal bits, and a reader that held at most two chunks. (Linked into both test projects.)</summary>
internal static class StreamingAssert
{
    /// <summary>The streamed value has the in-memory value's bits.</summary>
    public static void Same(double expected, double actual, string what) =>
        Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"{what}: {expected:R} in memory, {actual:R} streamed");

    /// <summary>The reader held at most two chunks of <paramref name="chunk"/> values plus <paramref name="overlap"/> frames each, and under a quarter of the file.</summary>
    public static void Bounded(TrajectoryReader reader, long chunk, int overlap)
    {
        var h = reader.Header;
        Assert.True(reader.PeakValuesHeld <= 2 * (chunk + (long)overlap * h.Dimension), $"held {reader.PeakValuesHeld} values with chunks of {chunk}");
        Assert.True(reader.PeakValuesHeld * 4 < h.Values, $"held {reader.PeakValuesHeld} of the file's {h.Values} values");
    }
}
