using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// Chunked (streamed) statistics against the in-memory estimators, and statistics files of shards reduced against the
/// single-process estimate: the sums are added in the same order, so the estimates agree bit for bit.
/// </summary>
public class StreamingStatisticsTests
{
    private static string Folder() => Directory.CreateTempSubdirectory("tl-stream").FullName;

    private static void Same(EntropyProductionEstimate expected, EntropyProductionEstimate actual)
    {
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Rate), BitConverter.DoubleToInt64Bits(actual.Rate));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.StandardError), BitConverter.DoubleToInt64Bits(actual.StandardError));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Debiased), BitConverter.DoubleToInt64Bits(actual.Debiased));
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Transitions, actual.Transitions);
        Assert.Equal(expected.Settings.Errors, actual.Settings.Errors);
        Assert.Equal(expected.Settings.Diffusion, actual.Settings.Diffusion);
    }

    private static CurrentEstimateResult Streamed(string path, CurrentEstimateRequest request, IBasis basis, long chunkValues, bool runLayout = false,
        int maxDegreeOfParallelism = -1)
    {
        using var reader = TrajectoryReader.Open(path);
        return request.Estimate(request.Accumulate(reader, basis, chunkValues, runLayout, maxDegreeOfParallelism));
    }

    [Fact]
    public void StreamedCurrentTurAndCorrectionEqualTheInMemoryEstimatesBitForBit()
    {
        // many short trajectories (whole-trajectory batches) and 3 long ones (time-block batches), each read in chunks
        // smaller than a batch and, for the long ones, in overlapping time blocks
        // (577 values per coordinate = 571 owned + 6 overlap frames for lags 1-3: the last block of 4000 = 7 * 571 + 3 frames
        // ends at the last frame while owning more start frames than its stride)
        foreach (var (trajectories, frames, chunk) in new[] { (120, 60, 7L * 60 * 2), (3, 4000, 577L * 2) })
        {
            var data = InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, trajectories, frames, seed: 301).Trajectories;
            string path = Path.Combine(Folder(), "trap.npy");
            TrajectoryFile.Write(path, data);
            var basis = BasisSpec.Parse("poly:2", data);
            var errors = new ErrorOptions(20);
            var current = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 2, errors);
            var streamed = Streamed(path, current, basis, chunk);
            Same(EntropyProductionEstimator.CoarseSamplingCorrected(data, basis, DiffusionSpec.Estimated, errors, 2), streamed.Estimate);
            Same(EntropyProductionEstimator.Current(data, basis, DiffusionSpec.Estimated, errors).EntropyProduction, streamed.Uncorrected!);
            var tur = new CurrentEstimateRequest("tur", DiffusionSpec.Estimated, 1, 0, false, 0, errors);
            Same(EntropyProductionEstimator.Tur(data, basis, errors), Streamed(path, tur, basis, chunk).Estimate);
            var robust = tur with { NoiseRobust = true };
            Same(EntropyProductionEstimator.Tur(data, basis, errors, noiseRobust: true), Streamed(path, robust, basis, chunk).Estimate);
        }
    }

    /// <summary>A reader whose decoder fails at a given value, as a decoder does on a corrupt page or chunk.</summary>
    private sealed class FailingReader : TrajectoryReader
    {
        private readonly long _failAt;
        private long _position;

        public FailingReader(long failAt)
        {
            _failAt = failAt;
            SetHeader(new TrajectoryHeader("broken.h5", 4, 50, 2, 0.01, 0, ThermoLearn.Trajectories.TrajectoryMetadata.None));
        }

        protected override int ReadValues(Span<double> destination)
        {
            int n = (int)Math.Min(destination.Length, 10);
            if (_position + n > _failAt) throw new InvalidDataException("Block type 3 is invalid");
            destination[..n].Fill(0.5);
            _position += n;
            return n;
        }
    }

    [Fact]
    public void ADecoderFailingMidFileNamesTheFileAndPlace()
    {
        // value 250 = trajectory 2, frame 25 of 50 frames x 2 coordinates; streaming and whole-file reads both say so
        using var reader = new FailingReader(255);
        var basis = new PolynomialBasis(2, 1);
        var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 0, new ErrorOptions(4));
        var e = Assert.Throws<InvalidInputException>(() => request.Accumulate(reader, basis, 60));
        Assert.Contains("broken.h5: the file cannot be read at trajectory 2, frame 25 (Block type 3 is invalid)", e.Message);
        using var whole = new FailingReader(255);
        Assert.Contains("trajectory 2, frame 25", Assert.Throws<InvalidInputException>(() => whole.ReadAll()).Message);
    }

    [Fact]
    public void BasisColumnsAreThePointwiseValuesBitForBit()
    {
        // the statistics evaluate bases column by column (vectorised); every value must be Evaluate's
        var random = new Random(5);
        foreach (var basis in new IBasis[] { new PolynomialBasis(1, 4), new PolynomialBasis(2, 2), new PolynomialBasis(3, 3), BasisSpec.Parse("fourier:2", 2, () => (new[] { -2.0, -2 }, new[] { 2.0, 2 })) })
        {
            int points = 37, d = basis.Dimension, n = basis.Count;
            var x = Enumerable.Range(0, points * d).Select(_ => 4 * random.NextDouble() - 2).ToArray();
            var columns = new double[n * (points + 3)];
            basis.EvaluateColumns(x, points, columns, points + 3);
            var row = new double[n];
            for (int i = 0; i < points; i++)
            {
                basis.Evaluate(x.AsSpan(i * d, d), row);
                for (int a = 0; a < n; a++) Assert.Equal(BitConverter.DoubleToInt64Bits(row[a]), BitConverter.DoubleToInt64Bits(columns[a * (points + 3) + i]));
            }
        }
    }

    [Fact]
    public void StatisticsDoNotDependOnTheThreadCountOrTheChunkSize()
    {
        // segments of at most CurrentStatistics.SegmentFrames start frames are the unit of parallel work; their partial sums
        // are added in file order, so one thread, all threads and any chunking give the same bits (here: time-dependent
        // fields in 3 windows, whose edges cut segments, and the TUR's current covariance)
        var data = InferenceData.Run(new BreathingTrapModel(), 0.02, 2, 3, 1500, seed: 304).Trajectories;
        string path = Path.Combine(Folder(), "breathing.npy");
        TrajectoryFile.Write(path, data);
        var basis = BasisSpec.Parse("poly:2", data);
        var errors = new ErrorOptions(12);
        var windows = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 3, 2, false, 1, errors);
        var tur = new CurrentEstimateRequest("tur", DiffusionSpec.Estimated, 1, 0, false, 0, errors);
        foreach (var request in new[] { windows, tur })
        {
            var all = request.Estimate(request.StatisticsOptions().Select(o => CurrentStatistics.Accumulate(data, basis, o, errors)).ToArray());
            var one = request.Estimate(request.StatisticsOptions().Select(o => CurrentStatistics.Accumulate(data, basis, o, errors, maxDegreeOfParallelism: 1)).ToArray());
            Same(all.Estimate, one.Estimate);
            // time blocks of 256 and 512 owned frames (with the overlap of 2 lags)
            foreach (long chunk in new[] { 100L, 600L * 2 })
            {
                var streamed = Streamed(path, request, basis, chunk, maxDegreeOfParallelism: 1);
                Same(all.Estimate, streamed.Estimate);
                if (all.TimeSeries is { } series)
                    for (int k = 0; k < 3; k++)
                        Assert.Equal(BitConverter.DoubleToInt64Bits(series.Windows[k].Rate), BitConverter.DoubleToInt64Bits(streamed.TimeSeries!.Windows[k].Rate));
            }
        }
    }

    [Fact]
    public void StreamedSigmaOfTimeEqualsTheInMemoryOneBitForBit()
    {
        var data = InferenceData.Run(new BreathingTrapModel(), 0.02, 2, 400, 51, seed: 302).Trajectories;
        string path = Path.Combine(Folder(), "breathing.h5");
        TrajectoryFile.Write(path, data);
        var basis = BasisSpec.Parse("poly:1", data);
        var errors = new ErrorOptions(10, Bootstrap: 20, Seed: 3);
        foreach (bool joint in new[] { false, true })
        {
            var request = new CurrentEstimateRequest("current", DiffusionSpec.Isotropic(1, 1), 4, joint ? 3 : 1, joint, 1, errors);
            var expected = EntropyProductionEstimator.Windows(data, basis, DiffusionSpec.Isotropic(1, 1), 4, joint ? 3 : 1, joint, errors, 1);
            var streamed = Streamed(path, request, basis, 9L * 51).TimeSeries!;
            Same(expected.Overall, streamed.Overall);
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Windows[k].Rate), BitConverter.DoubleToInt64Bits(streamed.Windows[k].Rate));
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Windows[k].StandardError), BitConverter.DoubleToInt64Bits(streamed.Windows[k].StandardError));
            }
        }
    }

    private static (TrajectoryEnsemble Whole, string[] Parts) Shards(string folder, int count, int trajectories = 100)
    {
        var model = InferenceData.DrivenTrap();
        SimulationOptions Options(Shard shard) => new() { Trajectories = trajectories, Steps = 80, Dt = 0.01, SaveEvery = 2, Seed = 303, Scheme = "heun", ComputeEnergetics = false, Shard = shard };
        var whole = Simulator.Run(model, Options(Shard.Whole)).Trajectories;
        var parts = new string[count];
        for (int k = 1; k <= count; k++)
        {
            parts[k - 1] = Path.Combine(folder, $"shard-{k}.npy");
            TrajectoryFile.Write(parts[k - 1], Simulator.Run(model, Options(new Shard(k, count))).Trajectories);
        }
        return (whole, parts);
    }

    private static StatisticsPart Map(string path, CurrentEstimateRequest request, string folder)
    {
        using var reader = TrajectoryReader.Open(path);
        var basis = BasisSpec.Parse("poly:2", 2, () => throw new InvalidOperationException());
        var part = new StatisticsPart(request, request.Accumulate(reader, basis, 1 << 12, runLayout: true), path, reader.Header.Metadata);
        string stats = Path.Combine(folder, Path.GetFileNameWithoutExtension(path) + ".stats");
        StatisticsFile.Write(stats, part);
        return StatisticsFile.Read(stats);
    }

    [Fact]
    public void ShardsReducedEqualTheSingleProcessEstimateBitForBit()
    {
        string folder = Folder();
        var (whole, parts) = Shards(folder, 5);
        var errors = new ErrorOptions(50);
        var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 1, errors);
        var expected = EntropyProductionEstimator.CoarseSamplingCorrected(whole, BasisSpec.Parse("poly:2", whole), DiffusionSpec.Estimated, errors, 1);
        // given out of order: the reduction sorts shards by their first trajectory
        var mapped = parts.Reverse().Select(p => Map(p, request, folder)).ToArray();
        var (r, stats, metadata) = StatisticsFile.Reduce(mapped);
        Same(expected, r.Estimate(stats).Estimate);
        Assert.Equal("driven-trap-2d", metadata.Model);
        // the TUR's measurement-noise correction travels in the files' header
        var tur = new CurrentEstimateRequest("tur", DiffusionSpec.Estimated, 1, 0, false, 0, errors, NoiseRobust: true);
        var (rt, turStats, _) = StatisticsFile.Reduce(parts.Select(p => Map(p, tur, folder)).ToArray());
        Assert.True(rt.NoiseRobust);
        Same(EntropyProductionEstimator.Tur(whole, BasisSpec.Parse("poly:2", whole), errors, noiseRobust: true), rt.Estimate(turStats).Estimate);

        // batches as parts: 5 batches, the same point estimate up to the order of summation
        var (_, byPart, _) = StatisticsFile.Reduce(mapped, ReduceBatches.Parts);
        var shardsAsBatches = r.Estimate(byPart).Estimate;
        Assert.Equal("jackknife over 5 parts (statistics files)", shardsAsBatches.Settings.Errors);
        Assert.Equal(expected.Rate, shardsAsBatches.Rate, 1e-12);
    }

    [Fact]
    public void ShardsThatSplitABatchReduceWithinRoundingOfTheSingleProcess()
    {
        // 100 trajectories in 3 shards (33, 33, 34) and 50 batches of 2: batches 16 and 33 straddle two shards, whose partial sums
        // are then added (one extra rounding each, relative 1e-16 of a batch's sums)
        string folder = Folder();
        var (whole, parts) = Shards(folder, 3);
        var errors = new ErrorOptions(50);
        var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 0, errors);
        var expected = EntropyProductionEstimator.Current(whole, BasisSpec.Parse("poly:2", whole), DiffusionSpec.Estimated, errors).EntropyProduction;
        var (r, stats, _) = StatisticsFile.Reduce(parts.Select(p => Map(p, request, folder)).ToArray());
        var reduced = r.Estimate(stats).Estimate;
        Assert.Equal(expected.Rate, reduced.Rate, Math.Abs(expected.Rate) * 1e-12);
        Assert.Equal(expected.StandardError, reduced.StandardError, expected.StandardError * 1e-10);
        Assert.Equal(expected.Settings.Errors, reduced.Settings.Errors);
    }

    [Fact]
    public void MismatchedOrIncompletePartsAreRefusedWithTheDifferenceNamed()
    {
        string folder = Folder();
        var (_, parts) = Shards(folder, 2, trajectories: 20);
        var a = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 1, new ErrorOptions(10));
        var b = a with { CorrectionOrder = 0 };
        var e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Reduce([Map(parts[0], a, folder), Map(parts[1], b, folder)]));
        Assert.Contains("correction order", e.Message);
        var tur = new CurrentEstimateRequest("tur", DiffusionSpec.Estimated, 1, 0, false, 0, new ErrorOptions(10));
        e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Reduce([Map(parts[0], tur, folder), Map(parts[1], tur with { NoiseRobust = true }, folder)]));
        Assert.Contains("measurement-noise correction", e.Message);
        var c = a with { Diffusion = DiffusionSpec.Isotropic(0.5, 2) };
        e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Reduce([Map(parts[0], a, folder), Map(parts[1], c, folder)]));
        Assert.Contains("diffusion", e.Message);
        e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Reduce([Map(parts[1], a, folder)]));
        Assert.Contains("shard", e.Message);
        e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Reduce([Map(parts[0], a, folder), Map(parts[0], a, folder), Map(parts[1], a, folder)]));
        Assert.Contains("overlap", e.Message);
        string bad = Path.Combine(folder, "bad.stats");
        File.WriteAllText(bad, "hello\n");
        e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Read(bad));
        Assert.Contains("not a ThermoLearn statistics file", e.Message);
        var bytes = File.ReadAllBytes(Path.Combine(folder, "shard-1.stats"));
        File.WriteAllBytes(bad, bytes[..^16]);
        e = Assert.Throws<InvalidInputException>(() => StatisticsFile.Read(bad));
        Assert.Contains("truncated", e.Message);
    }
}
