using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Models;
using Xunit;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// estimate --method underdamped on a file read in chunks: the overdamped check's sums and every batch's regression sums are
/// added in the in-memory order, so the estimate is the in-memory one bit for bit, while the reader holds at most two chunks
/// (plus the two frames a centred difference needs), a small part of the file; the positions of an (x, v) file are chosen with
/// the reader's columns as with --columns.
/// </summary>
public class StreamingUnderdampedTests
{
    [Theory]
    [InlineData(120, 400, 7L * 400 * 2)]    // chunks of 7 whole trajectories: groups of trajectories as batches
    [InlineData(3, 30_000, 5_000L)]         // time blocks of one trajectory overlapping by 2 frames: time blocks as batches
    public void StreamedUnderdampedEqualsTheInMemoryOneBitForBitInBoundedMemory(int trajectories, int frames, long chunk)
    {
        var run = InferenceData.Run(new UnderdampedDrivenTrap(), 0.01, 5, trajectories, frames, seed: 1625).Trajectories;
        string path = Path.Combine(Directory.CreateTempSubdirectory("tl-stream-ud").FullName, "ud.npy");
        TrajectoryFile.Write(path, run);
        var positions = InferenceData.Coordinates(run, 2);
        var basis = new PolynomialBasis(2, 1);
        var errors = new ErrorOptions(20);
        var memory = UnderdampedEntropyProduction.Estimate(positions, basis, errors);
        using var reader = TrajectoryReader.Open(path);
        reader.SelectColumns([0, 1]);
        var streamed = UnderdampedEntropyProduction.Estimate(reader, basis, errors, chunk);
        Assert.True(reader.PeakValuesHeld <= 2 * (chunk + 2 * 2), $"held {reader.PeakValuesHeld} values with chunks of {chunk}");
        Assert.True(reader.PeakValuesHeld * 4 < reader.Header.Values, $"held {reader.PeakValuesHeld} of {reader.Header.Values} values");
        Assert.Equal(BitConverter.DoubleToInt64Bits(memory.Rate), BitConverter.DoubleToInt64Bits(streamed.Rate));
        Assert.Equal(BitConverter.DoubleToInt64Bits(memory.StandardError), BitConverter.DoubleToInt64Bits(streamed.StandardError));
        Assert.Equal(memory.Settings.Diffusion, streamed.Settings.Diffusion);
        Assert.Equal(memory.Transitions, streamed.Transitions);
        Assert.Equal(memory.Frames, streamed.Frames);
        Assert.Equal(memory.Settings.Errors, streamed.Settings.Errors);
    }

    /// <summary>Overdamped data streamed are refused after the pass with the in-memory message (the same ratio, bit for bit).</summary>
    [Fact]
    public void StreamedOverdampedDataAreRefusedAsInMemory()
    {
        var data = InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 40, 500, seed: 1626).Trajectories;
        string path = Path.Combine(Directory.CreateTempSubdirectory("tl-stream-ud").FullName, "od.npy");
        TrajectoryFile.Write(path, data);
        var basis = new PolynomialBasis(2, 1);
        var inMemory = Assert.Throws<InvalidInputException>(() => UnderdampedEntropyProduction.Estimate(data, basis));
        using var reader = TrajectoryReader.Open(path);
        var streamed = Assert.Throws<InvalidInputException>(() => UnderdampedEntropyProduction.Estimate(reader, basis, null, 3 * 500 * 2));
        Assert.Contains("look overdamped", streamed.Message);
        Assert.Equal(inMemory.Message, streamed.Message);
    }
}
