using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.StreamingAssert;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// The estimators beyond the current statistics read in chunks: the jump counts and the per-trajectory Delta s_tot give the
/// in-memory results bit for bit, and the reader never holds more than two chunks (plus the overlap of a time block),
/// a small part of the test file.
/// </summary>
public class StreamingEstimatorsTests
{
    private static string Folder() => Directory.CreateTempSubdirectory("tl-stream-est").FullName;

    private static void SameEstimate(EntropyProductionEstimate? expected, EntropyProductionEstimate? actual, string what)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is null) return;
        Same(expected.Rate, actual!.Rate, what + " rate");
        Same(expected.StandardError, actual.StandardError, what + " stderr");
        Same(expected.Debiased, actual.Debiased, what + " debiased");
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Transitions, actual.Transitions);
        Assert.Equal(expected.Settings.Errors, actual.Settings.Errors);
    }

    [Fact]
    public void StreamedJumpAnalysisEqualsTheInMemoryOneBitForBitInBoundedMemory()
    {
        var model = new MarkovJumpProcess(JumpContinuousTimeTests.IssueRates);
        // many short trajectories (whole-trajectory chunks and batches) and 3 long ones (time blocks overlapping by the 3 lags;
        // 50 batches over 3 trajectories: time-block batches that straddle chunks)
        foreach (var (trajectories, steps, chunk) in new[] { (400, 199, 7L * 200), (3, 20_000, 1_000L) })
        {
            var data = model.SampleFixedStep(new SimulationOptions { Trajectories = trajectories, Steps = steps, Dt = 0.01, Seed = 1616 });
            string path = Path.Combine(Folder(), "jumps.npy");
            TrajectoryFile.Write(path, data);
            var errors = new ErrorOptions(50);
            var memory = JumpEntropyProduction.Analyse(data, errors);
            using var reader = TrajectoryReader.Open(path);
            var streamed = JumpEntropyProduction.Analyse(reader, errors, chunk);
            Bounded(reader, chunk, 3);
            SameEstimate(memory.Continuous, streamed.Continuous, "continuous");
            SameEstimate(memory.SampledChain, streamed.SampledChain, "sampled chain");
            SameEstimate(memory.Richardson, streamed.Richardson, "richardson");
            Assert.Equal(memory.Labels, streamed.Labels);
            Assert.NotNull(memory.Generator);
            for (int i = 0; i < memory.Labels.Count; i++)
                for (int j = 0; j < memory.Labels.Count; j++) Same(memory.Generator![i, j], streamed.Generator![i, j], $"Q[{i},{j}]");
            Assert.Equal(memory.Note, streamed.Note);
        }
    }

    [Fact]
    public void ANonIntegerLabelInAStreamedFileNamesTheFileTrajectoryAndFrame()
    {
        var values = new double[3 * 40];
        for (int i = 0; i < values.Length; i++) values[i] = i % 2;
        values[2 * 40 + 17] = 0.5;
        string path = Path.Combine(Folder(), "labels.npy");
        TrajectoryFile.Write(path, new TrajectoryEnsemble(3, 40, 1, 0.1, values));
        using var reader = TrajectoryReader.Open(path);
        var e = Assert.Throws<InvalidInputException>(() => JumpEntropyProduction.Analyse(reader, new ErrorOptions(4), 50));
        Assert.Contains($"{path}: Jump-process data must hold integer state labels; value 0.5 at trajectory 2, frame 17", e.Message);
    }

    [Fact]
    public void StreamedPerTrajectoryEntropyEqualsTheInMemoryValuesBitForBitInBoundedMemory()
    {
        // the breathing trap (non-stationary): many trajectories in whole-trajectory chunks, and a few long ones in time blocks
        foreach (var (trajectories, frames, chunk) in new[] { (600, 41, 9L * 41), (3, 3_000, 400L) })
        {
            var data = InferenceData.Run(new BreathingTrapModel(), 0.01, 2, trajectories, frames, seed: 1617).Trajectories;
            string path = Path.Combine(Folder(), "breathing.npy");
            TrajectoryFile.Write(path, data);
            var basis = new PolynomialBasis(1, 2);
            var errors = new ErrorOptions(20);
            var memory = TrajectoryEntropy.Estimate(data, basis, DiffusionSpec.Estimated, 4, errors);
            var readers = new List<TrajectoryReader>();
            var streamedValues = new List<(int Index, double Value)>();
            var streamed = TrajectoryEntropy.Estimate(() =>
            {
                var r = TrajectoryReader.Open(path);
                readers.Add(r);
                return r;
            }, basis, DiffusionSpec.Estimated, 4, errors, chunk, (i, v) => streamedValues.Add((i, v)));
            Assert.Equal(2, readers.Count);
            foreach (var r in readers) Bounded(r, chunk, 4);
            Assert.Empty(streamed.TotalEntropy);
            Assert.Equal(Enumerable.Range(0, trajectories), streamedValues.Select(p => p.Index));
            for (int i = 0; i < trajectories; i++) Same(memory.TotalEntropy[i], streamedValues[i].Value, $"Delta s_tot of trajectory {i}");
            Same(memory.MeanTotalEntropy, streamed.MeanTotalEntropy, "<Delta s_tot>");
            Same(memory.ExpMinusMean, streamed.ExpMinusMean, "<exp(-Delta s_tot)>");
            Same(memory.ExpMinusStandardError, streamed.ExpMinusStandardError, "its stderr");
        }
    }

    [Fact]
    public void StreamedInferenceEqualsTheInMemoryOneBitForBitInBoundedMemory()
    {
        // many short trajectories in whole-trajectory chunks, and 3 long ones in time blocks (lag 1: 2 frames of overlap)
        foreach (var (trajectories, frames, chunk) in new[] { (300, 50, 7L * 50 * 2), (3, 6_000, 1_000L) })
        {
            var data = InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, trajectories, frames, seed: 1621).Trajectories;
            string path = Path.Combine(Folder(), "trap.npy");
            TrajectoryFile.Write(path, data);
            var basis = new PolynomialBasis(2, 2);
            var errors = new ErrorOptions(20);
            foreach (bool robust in new[] { false, true })
            {
                var memory = DynamicsEstimator.Infer(data, basis, robust, errors);
                using var reader = TrajectoryReader.Open(path);
                var streamed = DynamicsEstimator.Infer(reader, basis, robust, errors, chunk);
                Bounded(reader, chunk, 2);
                foreach (var (a, b, what) in new[] { (memory.Drift, streamed.Drift, "drift"), (memory.Score, streamed.Score, "score"), (memory.MeanLocalVelocity, streamed.MeanLocalVelocity, "velocity") })
                    for (int i = 0; i < a.Coefficients.Count; i++)
                    {
                        Same(a.Coefficients[i], b.Coefficients[i], $"{what} {i}");
                        Same(a.StandardErrors![i], b.StandardErrors![i], $"{what} stderr {i}");
                    }
                for (int i = 0; i < memory.Diffusion.Matrix.Count; i++)
                {
                    Same(memory.Diffusion.Matrix[i], streamed.Diffusion.Matrix[i], $"D {i}");
                    Same(memory.Diffusion.StandardErrors[i], streamed.Diffusion.StandardErrors[i], $"D stderr {i}");
                }
                Assert.Equal(memory.Transitions, streamed.Transitions);
                Assert.Equal(memory.Settings.Errors, streamed.Settings.Errors);
            }
        }
    }

    [Fact]
    public void StreamedCurrentStatisticsHoldAtMostTwoChunks()
    {
        var data = InferenceData.Run(InferenceData.DrivenTrap(), 0.01, 1, 2, 20_000, seed: 1618).Trajectories;
        string path = Path.Combine(Folder(), "trap.npy");
        TrajectoryFile.Write(path, data);
        var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 2, new ErrorOptions(20));
        using var reader = TrajectoryReader.Open(path);
        request.Accumulate(reader, new PolynomialBasis(2, 2), 2_000);
        // lags 1-3 overlap by 6 frames; a time block owns a multiple of the 256-frame segments
        Bounded(reader, 2_000, 6);
    }
}
