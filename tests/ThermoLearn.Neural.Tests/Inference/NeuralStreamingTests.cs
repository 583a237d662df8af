using ThermoLearn.Inference;
using ThermoLearn.IO;
using ThermoLearn.Neural.Inference;
using ThermoLearn.Neural.Tests.TestData;
using ThermoLearn.Neural.Training;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.StreamingAssert;

namespace ThermoLearn.Neural.Tests.Inference;

/// <summary>
/// The neural estimators on a file read in chunks (data larger than memory): every pass (moments, each epoch, validation,
/// held-out scores) reads the file sequentially, and the blocks the training shuffles within and the evaluation sums over
/// are cut from the transitions in file order, not from the chunks. So the streamed fit, its training curves, standard error
/// and sigma(t), and a loaded model's evaluation equal the in-memory ones bit for bit, while no reader holds more than two
/// chunks (plus a time block's overlap), a small part of the file.
/// </summary>
public class NeuralStreamingTests
{
    private static void SameEstimate(EntropyProductionEstimate expected, EntropyProductionEstimate actual, string what)
    {
        Same(expected.Rate, actual.Rate, what + " rate");
        Same(expected.StandardError, actual.StandardError, what + " stderr");
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.Transitions, actual.Transitions);
        Assert.Equal(expected.Frames, actual.Frames);
        Assert.Equal(expected.Settings.Errors, actual.Settings.Errors);
        Assert.Equal(expected.Settings.Diffusion, actual.Settings.Diffusion);
    }

    /// <summary>Opens <paramref name="path"/> and remembers every reader, to check what each one held.</summary>
    private sealed class Opened(string path)
    {
        public List<TrajectoryReader> Readers { get; } = [];

        public TrajectoryReader Open()
        {
            var reader = TrajectoryReader.Open(path);
            Readers.Add(reader);
            return reader;
        }

        public void AssertBounded(long chunk, int overlap)
        {
            Assert.NotEmpty(Readers);
            foreach (var reader in Readers) Bounded(reader, chunk, overlap);
        }
    }

    public static TheoryData<int, int, long, string> Cases => new()
    {
        // 60 trajectories x 400 frames in chunks of 3 whole trajectories; shuffle blocks of 5,000 transitions straddle chunks
        { 60, 400, 3 * 400 * 2, NeuralMethods.Current },
        { 60, 400, 3 * 400 * 2, NeuralMethods.Neep },
        // 3 trajectories x 8,000 frames (14 segments each) in time blocks of 1,500 values that overlap by the largest lag
        { 3, 8_000, 1_500, NeuralMethods.Current },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void StreamedFitAndEvaluationEqualTheInMemoryOnesBitForBit(int trajectories, int frames, long chunk, string method)
    {
        var data = OverdampedData.DrivenTrap(trajectories, frames, 0.01, seed: 17);
        string path = Path.Combine(Directory.CreateTempSubdirectory("tl-neural-stream").FullName, "trap.npy");
        TrajectoryFile.Write(path, data);
        bool current = method == NeuralMethods.Current;
        var settings = new NeuralEstimatorSettings
        {
            Method = method,
            Training = NeuralCurrentEstimatorTests.Fast with { Epochs = 3, BatchSize = 512, ShuffleBlock = 5_000 },
            // the diffusion estimated from the data (a streamed pass of its own), a correction over lags 1-3 and sigma(t) on 3 windows
            Correction = current ? 2 : 0,
            Windows = current ? 3 : 0,
            TimeInput = current,
        };
        using var memory = NeuralEntropyProductionEstimator.Fit(data, settings);
        var opened = new Opened(path);
        using var streamed = NeuralEntropyProductionEstimator.Fit(opened.Open, chunk, settings);
        opened.AssertBounded(chunk, current ? 3 : 1);
        SameEstimate(memory.Estimate, streamed.Estimate, "fit");
        for (int k = 0; k < memory.Curves.Count; k++)
        {
            Assert.Equal(memory.Curves[k].TrainLoss, streamed.Curves[k].TrainLoss);
            Assert.Equal(memory.Curves[k].ValidationLoss, streamed.Curves[k].ValidationLoss);
            Assert.Equal(memory.Curves[k].BestEpoch, streamed.Curves[k].BestEpoch);
        }
        Assert.Equal(memory.TimeSeries is null, streamed.TimeSeries is null);
        if (memory.TimeSeries is { } series)
            for (int w = 0; w < series.Windows.Count; w++)
            {
                Same(series.Windows[w].Rate, streamed.TimeSeries!.Windows[w].Rate, $"window {w}");
                Same(series.Windows[w].StandardError, streamed.TimeSeries.Windows[w].StandardError, $"window {w} stderr");
            }

        var (evaluated, _) = NeuralEntropyProductionEstimator.Evaluate(memory.Model, data, settings.Windows, settings.Correction);
        var reopened = new Opened(path);
        var (streamedEvaluation, _) = NeuralEntropyProductionEstimator.Evaluate(memory.Model, reopened.Open, chunk, settings.Windows, settings.Correction);
        reopened.AssertBounded(chunk, current ? 3 : 1);
        SameEstimate(evaluated, streamedEvaluation, "loaded model");
    }

    /// <summary>A non-finite value met while streaming names the file, trajectory and frame, as the in-memory check does.</summary>
    [Fact]
    public void ANonFiniteValueInAStreamedFileNamesTrajectoryAndFrame()
    {
        var data = OverdampedData.DrivenTrap(50, 200, 0.01, seed: 18);
        data.Data[(37L * 200 + 151) * 2 + 1] = double.NaN;
        string path = Path.Combine(Directory.CreateTempSubdirectory("tl-neural-stream").FullName, "nan.npy");
        TrajectoryFile.Write(path, data);
        var settings = new NeuralEstimatorSettings { Training = NeuralCurrentEstimatorTests.Fast with { Epochs = 1 }, Diffusion = DiffusionSpec.Isotropic(0.5, 2) };
        var e = Assert.Throws<InvalidInputException>(() => NeuralEntropyProductionEstimator.Fit(() => TrajectoryReader.Open(path), 4 * 200 * 2, settings));
        Assert.Contains("nan.npy", e.Message);
        Assert.Contains("trajectory 37", e.Message);
        Assert.Contains("frame 151", e.Message);
    }
}
