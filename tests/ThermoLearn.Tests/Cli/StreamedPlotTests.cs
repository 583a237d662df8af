using ThermoLearn.Cli.Plotting;
using ThermoLearn.IO;
using ThermoLearn.Tests.Inference;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// A field figure needs the data's range only (<see cref="PlotRange"/>), which one pass in chunks gives bit for bit as the
/// data in memory do, so <c>estimate --plot</c> and <c>infer --plot</c> stream: the reader holds two chunks (one read ahead), a small part of the file.
/// </summary>
public class StreamedPlotTests
{
    private static string Folder() => Directory.CreateTempSubdirectory("tl-stream-plot").FullName;

    [Fact]
    public void ARangeReadInChunksEqualsTheInMemoryOneBitForBitInBoundedMemory()
    {
        // many short trajectories (whole-trajectory chunks of 7) and few long ones (time blocks); the sample's stride (5, 3, 3)
        // divides neither the frames per trajectory nor the chunks, so each chunk starts at another phase of it
        foreach (var (trajectories, frames, chunk) in new[] { (2_000, 51, 7L * 51 * 2), (3, 20_000, 1_000L), (7, 9_001, 3_000L) })
        {
            var data = InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, trajectories, frames, seed: 1623).Trajectories;
            string path = Path.Combine(Folder(), "trap.npy");
            TrajectoryFile.Write(path, data);
            var memory = PlotRange.Of(data, 2);
            using var reader = TrajectoryReader.Open(path);
            var streamed = PlotRange.Of(reader, 2, chunk);
            Assert.True(reader.PeakValuesHeld <= 2 * chunk, $"held {reader.PeakValuesHeld} values with chunks of {chunk}");   // one read ahead
            Assert.True(reader.PeakValuesHeld * 4 < reader.Header.Values, $"held {reader.PeakValuesHeld} of {reader.Header.Values} values");
            Assert.Equal(memory.StartTime, streamed.StartTime);
            for (int c = 0; c < 2; c++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(memory.Coordinates[c].Lo), BitConverter.DoubleToInt64Bits(streamed.Coordinates[c].Lo));
                Assert.Equal(BitConverter.DoubleToInt64Bits(memory.Coordinates[c].Hi), BitConverter.DoubleToInt64Bits(streamed.Coordinates[c].Hi));
            }
        }
    }

    /// <summary>
    /// estimate --plot on a 1.6 MB file in chunks of 1 MB draws the figure of the file read as one chunk byte for byte, and
    /// writes the statistics for reduce beside it (a plot no longer needs the data in memory); infer --plot likewise.
    /// </summary>
    [Fact]
    public void EstimateAndInferPlotWhileStreaming()
    {
        string folder = Folder(), file = Path.Combine(folder, "trap.npy");
        TrajectoryFile.Write(file, InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 4, 25_001, seed: 1624).Trajectories);
        string[] common = ["estimate", "--in", file, "--basis", "poly:1", "--batches", "8", "--json"];
        var chunked = Run([.. common, "--chunk-mb", "1", "--plot", Path.Combine(folder, "chunked.png"), "--statistics-out", Path.Combine(folder, "part.stats")]);
        Assert.True(chunked.Code == 0, chunked.Error);
        var whole = Run([.. common, "--plot", Path.Combine(folder, "whole.png")]);
        Assert.True(whole.Code == 0, whole.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "whole.png")), File.ReadAllBytes(Path.Combine(folder, "chunked.png")));
        Assert.True(new FileInfo(Path.Combine(folder, "part.stats")).Length > 0);
        var (a, b) = (System.Text.Json.Nodes.JsonNode.Parse(chunked.Out)!, System.Text.Json.Nodes.JsonNode.Parse(whole.Out)!);
        foreach (string key in new[] { "ep_rate", "stderr", "n_transitions" }) Assert.Equal(b[key]!.ToJsonString(), a[key]!.ToJsonString());

        var inferChunked = Run("infer", "--in", file, "--basis", "poly:1", "--batches", "8", "--chunk-mb", "1", "--plot", Path.Combine(folder, "drift-chunked.png"));
        Assert.True(inferChunked.Code == 0, inferChunked.Error);
        var inferWhole = Run("infer", "--in", file, "--basis", "poly:1", "--batches", "8", "--plot", Path.Combine(folder, "drift-whole.png"));
        Assert.True(inferWhole.Code == 0, inferWhole.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(folder, "drift-whole.png")), File.ReadAllBytes(Path.Combine(folder, "drift-chunked.png")));
    }
}
