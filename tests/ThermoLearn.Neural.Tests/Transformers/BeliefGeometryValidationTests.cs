using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Neural.Transformers;
using ThermoLearn.Processes.Geometry;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Neural.Tests.Transformers;

/// <summary>
/// The acceptance runs of issues 7 and 19 (CI skips them): the NeurIPS 2024 Mess3 model trained for five minutes, and
/// factored versus joint on products and coupled products, decided on the belief-conditioned centroids' rank split.
/// Token budgets (not seconds), so a run is the same on any machine: the products train for 3,000,320 tokens with
/// Adam 3e-3, 200,000 tokens of warm-up and a cosine to 1e-5 at batch 128 on one torch thread (about 30-60 CPU-s each
/// on this machine), and are analysed at 0.3 M, 1 M and 3 M tokens (about 25-60 CPU-s per checkpoint with 2
/// bootstrap replicates, the dimension's errors being supporting only). Numbers are recorded in docs/beliefs.md.
/// </summary>
[Trait("Category", "Validation")]
public class BeliefGeometryValidationTests(ITestOutputHelper output)
{
    /// <summary>One analysed checkpoint: its token count, report and final-layer activations (rows = the dataset's prefixes).</summary>
    private sealed record Checkpoint(long Tokens, BeliefGeometryReport Report, Matrix<double> Final);

    /// <summary>Trains, analysing the model at every checkpoint; returns the reports in token order (the last at the end of training).</summary>
    private (TrainingResult Result, List<Checkpoint> Reports, BeliefDataset Data) TrainAndAnalyse(BeliefTask task,
        TransformerConfig config, TransformerTrainingOptions options)
    {
        var process = task.CreateProcess();
        var data = task.CreateDataset(process);
        using var model = TransformerTrainer.CreateModel(config with { Vocabulary = process.Tokens, NCtx = task.NCtx }, task.Seed);
        var reports = new List<Checkpoint>();
        Checkpoint Analyse(long tokens, BeliefTransformer m)
        {
            var residuals = TransformerProbe.Run(m, data, captureResiduals: true).Residuals!;
            return new Checkpoint(tokens, BeliefGeometryReport.Compute(residuals, data, task.Seed, bootstrap: 2), residuals[^1]);
        }
        var result = TransformerTrainer.Train(model, BeliefTask.Batches(process, task.NCtx, task.Seed), data, options with { Seed = task.Seed },
            (tokens, m) =>
            {
                reports.Add(Analyse(tokens, m));
                return $"checkpoint {tokens}";
            });
        if (reports.Count == 0 || reports[^1].Tokens != result.Tokens) reports.Add(Analyse(result.Tokens, model));
        output.WriteLine($"{process.Name}: {result.Tokens:N0} tokens in {result.Seconds:F0} s ({result.TokensPerSecond:N0}/s); val CE {result.FinalValidationLoss:F6}, floor {data.CrossEntropyFloor():F6}");
        foreach (var (tokens, report, _) in reports)
        {
            var d = report.Centroids.BeliefExplained;
            output.WriteLine($"  {tokens,10:N0} tokens: R^2 {report.Final.InSample.RSquared:F4}; centroid dimension {d.Pca.For95} +- {d.For95StandardError:F2} (PR {d.Pca.ParticipationRatio:F2}); "
                + (report.Comparison is { } c ? $"jointness {c.Jointness:F3} +- {c.JointnessStandardError:F3}; {c.Reason}" : ""));
        }
        return (result, reports, data);
    }

    /// <summary>The products' recipe (session 10): Adam 3e-3, warm-up 200,000 tokens, cosine to 1e-5, batch 128, one torch thread.</summary>
    private static TransformerTrainingOptions Schedule(long tokens) => new()
    {
        Optimizer = TransformerOptimizer.Adam, LearningRate = 3e-3, FinalLearningRate = 1e-5, WarmupTokens = 200_000, BatchSize = 128, MaxTokens = tokens,
        Threads = 1, ValidationIntervalSeconds = 1e9, CheckpointTokens = [tokens / 10, tokens / 3],
    };

    private const long Budget = 3_000_000;

    /// <summary>Three Mess3(0.05, 0.85) factors (vocabulary 27), n_ctx 10, default model, the products' recipe.</summary>
    private (List<Checkpoint> Reports, BeliefDataset Data) ThreeMess3(long tokens, params string[] coupling)
    {
        var (_, reports, data) = TrainAndAnalyse(new BeliefTask("mess3*mess3*mess3", ["x=0.05", "a=0.85", .. coupling], 10, 4096, 1), new TransformerConfig { Vocabulary = 27 }, Schedule(tokens));
        return (reports, data);
    }

    /// <summary>
    /// Factored verdict, with the rank split's factored part within 1 of sum_i (d_i - 1), and, where <paramref name="learned"/>, every factor decodable from the final layer (R^2 at least 0.9).
    /// </summary>
    private void AssertFactored(BeliefGeometryReport report, bool learned = true)
    {
        var comparison = report.Comparison!;
        Assert.True(comparison.Verdict == "factored", comparison.Reason);
        output.WriteLine($"factored part {comparison.Split.Factored.Rank} of {comparison.FactoredPrediction}; joint excess {comparison.Split.JointExcess.Rank} adding {comparison.Split.ExcessShare:G3} +- {comparison.Split.ExcessShareStandardError:G2}");
        Assert.True(comparison.FactoredPartWithinOne, $"factored part {comparison.Split.Factored.Rank}, prediction {comparison.FactoredPrediction}");
        if (learned) Assert.All(report.FactoredFinal!.Factors, f => Assert.True(f.RSquared >= 0.9, $"factor {f.Factor} R^2 {f.RSquared}"));
    }

    /// <summary>
    /// The margin's change from the first checkpoint to the end of training (a contrast fixed before the run, not the
    /// smallest margin picked afterwards), with its paired bootstrap standard error over the validation sequences.
    /// </summary>
    private MarginChange MarginOverTraining(List<Checkpoint> reports, BeliefDataset data)
    {
        var change = BeliefModelComparison.CompareChange(reports[0].Final, reports[^1].Final, data, replicates: 30, seed: 1);
        output.WriteLine($"margin {change.Before:F5} at {reports[0].Tokens:N0} tokens -> {change.After:F5} at {reports[^1].Tokens:N0}: change {change.Change:F5} +- {change.StandardError:F5} "
            + $"(paired bootstrap, {change.Replicates} replicates over {change.Units} sequences; z {change.Z:F1})");
        return change;
    }

    /// <summary>
    /// Coupling moves the representation towards joint over training, on two measures with thresholds set by their
    /// own standard errors: (1) the margin R^2_joint - R^2_factored grows from the first checkpoint to the end by more
    /// than 3 paired bootstrap standard errors; (2) the excess share of the rank split grows by more than 3 combined
    /// fold standard errors sqrt(se_first^2 + se_last^2) (unpaired: the two share the validation sequences and folds,
    /// whose positive covariance makes this error an upper bound). One-sided z 3: a representation that does not move
    /// passes each check with probability at most 0.13 % (Gaussian estimates). Only the validation sequences' sampling
    /// is in these errors, not the training seed's.
    /// </summary>
    private void AssertMovesTowardsJoint(List<Checkpoint> reports, BeliefDataset data)
    {
        var change = MarginOverTraining(reports, data);
        Assert.True(change.Change > 3 * change.StandardError, $"margin change {change.Change:F5} +- {change.StandardError:F5}");
        var first = reports[0].Report.Comparison!.Split;
        var last = reports[^1].Report.Comparison!.Split;
        double se = Math.Sqrt(first.ExcessShareStandardError * first.ExcessShareStandardError + last.ExcessShareStandardError * last.ExcessShareStandardError);
        Assert.True(last.ExcessShare - first.ExcessShare > 3 * se,
            $"excess share {first.ExcessShare:G4} +- {first.ExcessShareStandardError:G2} -> {last.ExcessShare:G4} +- {last.ExcessShareStandardError:G2}");
    }

    [Fact]
    public void NeurIpsMess3ReachesTheFloorInFiveMinutes()
    {
        var task = new BeliefTask("mess3", ["x=0.05", "a=0.85"], 10, 4096, 1);
        var (result, reports, data) = TrainAndAnalyse(task, new TransformerConfig { Vocabulary = 3 },
            new TransformerTrainingOptions { MaxSeconds = 300, Threads = 2, ValidationIntervalSeconds = 30 });
        double floor = data.CrossEntropyFloor();
        Assert.Equal(0.802512, floor, 6);
        Assert.All(result.Log.Where(e => e.ValidationLoss is not null), e => Assert.True(e.ValidationLoss >= floor));
        Assert.InRange(result.FinalValidationLoss - floor, 0, 0.002);
        Assert.True(reports[^1].Report.Final.InSample.RSquared >= 0.95, $"final-layer R^2 {reports[^1].Report.Final.InSample.RSquared}");
        // One Mess3: the belief-linked centroids live in its 2-dimensional simplex.
        Assert.InRange(reports[^1].Report.Centroids.BeliefExplained.Pca.For95, 1, 3);
    }

    [Fact]
    public void IssueCaseMess3TimesMess3IsFactored()
    {
        // The issue's process (mess3*mess3, x = 0.08, a = 0.8, seed 4) on the products' recipe.
        var (_, reports, _) = TrainAndAnalyse(new BeliefTask("mess3*mess3", ["x=0.08", "a=0.8"], 10, 4096, 4), new TransformerConfig { Vocabulary = 9 }, Schedule(Budget));
        AssertFactored(reports[^1].Report);
    }

    [Fact]
    public void ThreeMess3FactorsAreRepresentedFactored()
    {
        var (reports, _) = ThreeMess3(Budget);
        AssertFactored(reports[^1].Report);
        Assert.True(reports[^1].Report.FactoredFinal!.MeanOffDiagonalOverlap < 0.2, $"mean overlap {reports[^1].Report.FactoredFinal!.MeanOffDiagonalOverlap}");
    }

    /// <summary>RRXOR's belief need not be decodable from the final layer (its next-token law is one direction of four), so only the verdict and the factored part are asserted.</summary>
    [Fact]
    public void Mess3TimesRrxorIsFactored()
    {
        var (_, reports, _) = TrainAndAnalyse(new BeliefTask("mess3*rrxor", ["x=0.05", "a=0.85"], 10, 4096, 1), new TransformerConfig { Vocabulary = 6 }, Schedule(Budget));
        AssertFactored(reports[^1].Report, learned: false);
    }

    [Fact]
    public void NoiseCouplingMovesTowardsJoint()
    {
        // Mixing the product with uniform noise (e = 0.1) couples the factors: the joint belief no longer factorises.
        var (reports, data) = ThreeMess3(Budget, "noise=0.1");
        AssertMovesTowardsJoint(reports, data);
    }

    /// <summary>
    /// Chain coupling by the token (factor 1's emission sharpness a chosen by factor 0's token: 0.9, 0.6, 0.3) keeps
    /// the joint belief the Kronecker product of the factor beliefs exactly (derivation and check:
    /// FactoredBeliefGeometryTests.TokenChainCouplingKeepsTheJointBeliefAKroneckerProduct), so it predicts what an
    /// independent product does: a factored verdict with the factored part within 1 of 2 + 2 = 4, and no move towards
    /// joint: the margin's change over training not above 0 by 3 paired bootstrap standard errors (one-sided false
    /// failure 0.13 % when the true change is at most 0).
    /// </summary>
    [Fact]
    public void TokenChainCouplingStaysFactored()
    {
        var (_, reports, data) = TrainAndAnalyse(new BeliefTask("mess3>mess3", ["x=0.05", "0:a=0.85", "1.0:a=0.9", "1.1:a=0.6", "1.2:a=0.3"], 10, 4096, 1),
            new TransformerConfig { Vocabulary = 9 }, Schedule(Budget));
        AssertFactored(reports[^1].Report);
        var change = MarginOverTraining(reports, data);
        Assert.True(change.Change <= 3 * change.StandardError, $"margin change {change.Change:F5} +- {change.StandardError:F5}");
    }

    /// <summary>
    /// Chain coupling through the hidden state (factor 1's a chosen by factor 0's *state*: 0.9, 0.6, 0.3): the joint belief
    /// is no Kronecker product of the factor beliefs (FactoredBeliefGeometryTests.HiddenStateChainCouplingLeavesTheKroneckerProducts),
    /// so this is the chain coupling under which the representation can move towards joint; measured with the CLI on
    /// the same recipe and seed (docs/beliefs.md): excess share 0.036 -> 0.041 -> 0.046 (fold se 0.001), verdict factored
    /// throughout (split jointness 0.10 -> 0.13).
    /// </summary>
    [Fact]
    public void HiddenStateChainCouplingMovesTowardsJoint()
    {
        var (_, reports, data) = TrainAndAnalyse(new BeliefTask("mess3>>mess3", ["x=0.05", "0:a=0.85", "1.0:a=0.9", "1.1:a=0.6", "1.2:a=0.3"], 10, 4096, 1),
            new TransformerConfig { Vocabulary = 9 }, Schedule(Budget));
        AssertMovesTowardsJoint(reports, data);
    }
}
