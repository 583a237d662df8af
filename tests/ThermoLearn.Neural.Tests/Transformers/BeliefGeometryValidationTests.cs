using ThermoLearn.Neural.Transformers;
using ThermoLearn.Processes.Geometry;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Neural.Tests.Transformers;

/// <summary>
/// The acceptance runs of issue 7 (minutes each; CI skips them): the NeurIPS 2024 Mess3 model trained for five
/// minutes on two cores, and a product of three Mess3 factors. Numbers are recorded in docs/beliefs.md.
/// </summary>
[Trait("Category", "Validation")]
public class BeliefGeometryValidationTests(ITestOutputHelper output)
{
    private (TrainingResult Result, BeliefGeometryReport Report, BeliefDataset Data) TrainAndAnalyse(BeliefTask task, TransformerConfig config, double seconds)
    {
        var process = task.CreateProcess();
        var data = task.CreateDataset(process);
        using var model = TransformerTrainer.CreateModel(config with { Vocabulary = process.Tokens, NCtx = task.NCtx }, task.Seed);
        var options = new TrainingOptions { MaxSeconds = seconds, Seed = task.Seed, Threads = 2, ValidationIntervalSeconds = 30 };
        var result = TransformerTrainer.Train(model, BeliefTask.Batches(process, task.NCtx, task.Seed), data, options);
        var probe = TransformerProbe.Run(model, data, captureResiduals: true);
        var report = BeliefGeometryReport.Compute(probe.Residuals!, data, task.Seed);
        output.WriteLine($"{process.Name}: {result.Tokens:N0} tokens in {result.Seconds:F0} s ({result.TokensPerSecond:N0}/s); val CE {result.FinalValidationLoss:F6}, floor {data.CrossEntropyFloor():F6}");
        foreach (var l in report.Layers.Append(report.Concatenated))
            output.WriteLine($"  layer {l.Layer}: R^2 {l.InSample.RSquared:F4} held-out {l.HeldOut.RSquared:F4} shuffled {l.ShuffledLabels.RSquared:F4} PCA95 {l.Pca.For95}");
        return (result, report, data);
    }

    [Fact]
    public void NeurIpsMess3ReachesTheFloorInFiveMinutes()
    {
        var task = new BeliefTask("mess3", ["x=0.05", "a=0.85"], 10, 4096, 1);
        var (result, report, data) = TrainAndAnalyse(task, new TransformerConfig { Vocabulary = 3 }, 300);
        double floor = data.CrossEntropyFloor();
        Assert.Equal(0.802512, floor, 6);
        Assert.All(result.Log.Where(e => e.ValidationLoss is not null), e => Assert.True(e.ValidationLoss >= floor));
        Assert.InRange(result.FinalValidationLoss - floor, 0, 0.002);
        Assert.True(report.Final.InSample.RSquared >= 0.95, $"final-layer R^2 {report.Final.InSample.RSquared}");
    }

    [Fact]
    public void ThreeMess3FactorsAreRepresentedFactored()
    {
        // Factored prediction sum (3 - 1) = 6 dimensions, joint 3^3 - 1 = 26; factor subspaces nearly orthogonal.
        var task = new BeliefTask("mess3*mess3*mess3", ["x=0.05", "a=0.85"], 8, 4096, 1);
        var (_, report, _) = TrainAndAnalyse(task, new TransformerConfig { Vocabulary = 27, DModel = 64 }, 600);
        var factored = report.FactoredFinal!;
        output.WriteLine($"95% dimension {factored.ObservedDimension95} (factored {factored.FactoredDimension}, joint {factored.JointDimension}); mean overlap {factored.MeanOffDiagonalOverlap:F4}");
        Assert.Equal("factored", factored.CloserTo);
        Assert.True(factored.MeanOffDiagonalOverlap < 0.2, $"mean overlap {factored.MeanOffDiagonalOverlap}");
    }
}
