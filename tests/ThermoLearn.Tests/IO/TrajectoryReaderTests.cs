using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

/// <summary>Chunked reading: every format, whole-trajectory chunks and overlapping time blocks, the same values and checks as the whole-file readers.</summary>
public class TrajectoryReaderTests
{
    private static string Folder() => Directory.CreateTempSubdirectory("tl-reader").FullName;

    public static TheoryData<string> Extensions => new() { ".npy", ".h5", ".parquet", ".csv" };

    /// <summary>Reassembles the file from its chunks (owned start frames only, plus each trajectory's last frames).</summary>
    private static double[] Reassemble(TrajectoryReader reader, long maxValues, int overlap, out int chunks)
    {
        var h = reader.Header;
        var all = new double[h.Values];
        var seen = new bool[h.Values];
        var nextOwned = new int[h.Trajectories];
        chunks = 0;
        foreach (var chunk in reader.Chunks(maxValues, overlap))
        {
            chunks++;
            var x = chunk.Data;
            for (int r = 0; r < x.Trajectories; r++)
            {
                Assert.Equal(nextOwned[chunk.FirstTrajectory + r], chunk.OwnedFrom);
                nextOwned[chunk.FirstTrajectory + r] = chunk.OwnedTo;
            }
            Assert.True(x.Data.LongLength <= maxValues);
            // owned start frames tile each trajectory: from the chunk's first frame to the next chunk's (or the end)
            Assert.Equal(chunk.FirstFrame, chunk.OwnedFrom);
            Assert.True(chunk.OwnedTo == h.Frames || chunk.OwnedTo + overlap == chunk.FirstFrame + x.Frames);
            for (int r = 0; r < x.Trajectories; r++)
                for (int f = 0; f < x.Frames; f++)
                    for (int c = 0; c < x.Dimension; c++)
                    {
                        long at = ((long)(chunk.FirstTrajectory + r) * h.Frames + chunk.FirstFrame + f) * h.Dimension + c;
                        double v = x.Data[((long)r * x.Frames + f) * x.Dimension + c];
                        if (seen[at]) Assert.Equal(BitConverter.DoubleToInt64Bits(all[at]), BitConverter.DoubleToInt64Bits(v)); // overlap frames agree
                        all[at] = v;
                        seen[at] = true;
                    }
            Assert.Equal(x.StartTime, h.StartTime + chunk.FirstFrame * h.Dt, 12);
        }
        Assert.All(seen, Assert.True);
        Assert.All(nextOwned, n => Assert.Equal(h.Frames, n)); // every start frame owned once
        return all;
    }

    [Theory]
    [MemberData(nameof(Extensions))]
    public void ChunksOfWholeTrajectoriesAndTimeBlocksHoldTheFilesValues(string extension)
    {
        var ensemble = TestEnsembles.Awkward(trajectories: 5, frames: 23, dim: 2, finite: true);
        string path = Path.Combine(Folder(), "x" + extension);
        TrajectoryFile.Write(path, ensemble);
        var expected = TrajectoryFile.Read(path);
        // whole trajectories, 2 per chunk (3 chunks); time blocks of 7 owned + 2 overlap frames (3 per trajectory: [0, 9), [7, 16), [14, 23))
        foreach (var (maxValues, overlap, chunks) in new (long, int, int)[] { (2 * 23 * 2, 2, 3), (9 * 2, 2, 5 * 3) })
        {
            using var reader = TrajectoryReader.Open(path);
            Assert.Equal((expected.Trajectories, expected.Frames, expected.Dimension, expected.Dt), (reader.Header.Trajectories, reader.Header.Frames, reader.Header.Dimension, reader.Header.Dt));
            var all = Reassemble(reader, maxValues, overlap, out int count);
            Assert.Equal(chunks, count);
            Assert.Equal(expected.Data.Select(BitConverter.DoubleToInt64Bits), all.Select(BitConverter.DoubleToInt64Bits));
        }
        using var whole = TrajectoryReader.Open(path);
        TestEnsembles.AssertIdentical(expected, whole.ReadAll());
    }

    [Fact]
    public void ColumnSelectionKeepsTheChosenCoordinatesInOrder()
    {
        var ensemble = TestEnsembles.Awkward(trajectories: 2, frames: 9, dim: 3, finite: true);
        string path = Path.Combine(Folder(), "x.npy");
        TrajectoryFile.Write(path, ensemble);
        using var reader = TrajectoryReader.Open(path);
        reader.SelectColumns([2, 0]);
        var all = Reassemble(reader, 3 * 3, 1, out _);
        for (int i = 0; i < 2 * 9; i++)
        {
            Assert.Equal(ensemble.Data[i * 3 + 2], all[i * 2]);
            Assert.Equal(ensemble.Data[i * 3], all[i * 2 + 1]);
        }
    }

    [Theory]
    [InlineData(".npy")]
    [InlineData(".h5")]
    [InlineData(".parquet")]
    public void ANonFiniteValueNamesFileTrajectoryFrameAndCoordinate(string extension)
    {
        var ensemble = TestEnsembles.Awkward(trajectories: 4, frames: 10, dim: 2, finite: true);
        ensemble.Data[(2 * 10 + 7) * 2 + 1] = double.NaN;
        string path = Path.Combine(Folder(), "bad" + extension);
        TrajectoryFile.Write(path, ensemble);
        foreach (long maxValues in new long[] { 20, 6 })
        {
            using var reader = TrajectoryReader.Open(path);
            var e = Assert.Throws<InvalidInputException>(() => reader.Chunks(maxValues, 2).Count());
            Assert.Contains(path, e.Message);
            Assert.Contains("trajectory 2, frame 7, coordinate 1", e.Message);
        }
    }

    /// <summary>
    /// The check runs four values at a time and hands the rest to the value-by-value loop: a bad value at any place (in a
    /// group of four, in the tail of a chunk whose length is not a multiple of four) is found and named, the first one first.
    /// </summary>
    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void ANonFiniteValueAnywhereIsNamedByTheVectorCheck(double bad)
    {
        const int trajectories = 3, frames = 5, dim = 3; // 45 values: a tail of one after eleven groups of four
        string folder = Folder();
        for (int at = 0; at < trajectories * frames * dim; at++)
        {
            var ensemble = TestEnsembles.Awkward(trajectories, frames, dim, finite: true);
            ensemble.Data[at] = bad;
            if (at + 5 < ensemble.Data.Length) ensemble.Data[at + 5] = double.NaN; // a later one is not the one named
            string path = Path.Combine(folder, $"bad-{at}.npy");
            TrajectoryFile.Write(path, ensemble);
            using var reader = TrajectoryReader.Open(path);
            var e = Assert.Throws<InvalidInputException>(() => reader.Chunks(trajectories * frames * dim, 0).Count());
            Assert.Contains($"trajectory {at / (frames * dim)}, frame {at % (frames * dim) / dim}, coordinate {at % dim}", e.Message);
        }
    }

    /// <summary>
    /// Whole-trajectory chunks and time blocks are checked piece by piece as they are read (512 kB reads): a bad value in a
    /// later piece, at a piece boundary, or in the frames a time block shares with the next one is still named.
    /// </summary>
    [Theory]
    [InlineData(1, 30_000, 1)]   // value 140,001 of 160,000: the third piece of a whole-trajectory chunk
    [InlineData(0, 32_768, 0)]   // value 65,536: the first value of the second piece
    [InlineData(0, 32_767, 1)]   // value 65,535: the last value of the first piece
    [InlineData(1, 24_832, 0)]   // the first frame after the first time block's owned frames (held by both blocks)
    public void ANonFiniteValueInALaterPieceIsNamed(int trajectory, int frame, int coordinate)
    {
        const int trajectories = 2, frames = 40_000, dim = 2;
        var data = new double[trajectories * frames * dim];
        for (int i = 0; i < data.Length; i++) data[i] = Math.Sin(i);
        data[(trajectory * frames + frame) * dim + coordinate] = double.NaN;
        string path = Path.Combine(Folder(), "late.npy");
        TrajectoryFile.Write(path, new TrajectoryEnsemble(trajectories, frames, dim, 0.1, data));
        // whole trajectories per chunk, then time blocks of 24,832 owned frames ((50,000 / 2 - 2) rounded down to a multiple of 256) overlapping by 2
        foreach (long maxValues in new long[] { 200_000, 50_000 })
        {
            using var reader = TrajectoryReader.Open(path);
            var e = Assert.Throws<InvalidInputException>(() => reader.Chunks(maxValues, 2, 256).Count());
            Assert.Contains($"trajectory {trajectory}, frame {frame}, coordinate {coordinate}", e.Message);
        }
    }

    [Fact]
    public void ACsvValueThatIsNotANumberNamesTheLine()
    {
        string path = Path.Combine(Folder(), "bad.csv");
        File.WriteAllText(path, "traj,t,x0\n0,0,1\n0,0.5,2\n1,0,3\n1,0.5,oops\n");
        using var reader = TrajectoryReader.Open(path);
        var e = Assert.Throws<InvalidInputException>(() => reader.Chunks(2, 0).Count());
        Assert.Contains("line 5", e.Message);
        Assert.Contains("oops", e.Message);
    }

    [Fact]
    public void ATruncatedNpyIsRefusedOnOpening()
    {
        string path = Path.Combine(Folder(), "cut.npy");
        TrajectoryFile.Write(path, TestEnsembles.Awkward(finite: true));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        var e = Assert.Throws<InvalidInputException>(() => TrajectoryReader.Open(path, 0.1));
        Assert.Contains("truncated", e.Message);
    }
}
