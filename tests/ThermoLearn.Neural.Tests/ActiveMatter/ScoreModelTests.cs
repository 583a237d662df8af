using ThermoLearn.ActiveMatter;
using ThermoLearn.Neural.ActiveMatter;
using ThermoLearn.Neural.Tests.TestData;
using Xunit;

namespace ThermoLearn.Neural.Tests.ActiveMatter;

/// <summary>
/// Saved score networks (<see cref="ScoreModel"/>): the file gives back the same network bit for bit, a network trained on a small
/// trapped non-interacting AOUP system applies unchanged to 4x more particles, and data from another model are refused by name.
/// </summary>
public sealed class ScoreModelTests : IDisposable
{
    private static readonly LocalScoreShape TrapShape = new(Neighbours: 4, Cutoff: 1.0, Hidden: 32, Rounds: 1, RadialBasis: 8);

    // Reference 1 of docs/active-matter.md: v0 = A = gamma = 1, eps = 0.5, k = 0, so sigma = 2 v0^2 gamma / (eps (A + gamma)) = 2 per particle.
    private static readonly ActiveModel Trap = new()
    {
        Particles = 16, A = 1, K = 0, Interaction = PairInteraction.None, V0 = 1, Gamma = 1, Epsilon = 0.5, PackingFraction = 0.1,
    };

    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-score-model-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ScoreFit TrainOnSixteen(out ScoreSettings settings)
    {
        var p = ScoreSnapshots.Parameters(Trap);
        var train = TrappedAoup.Sample(p, 1000, Trap.Particles, seed: 5);
        settings = new ScoreSettings(TrapShape, Steps: 300, ParticlesPerStep: 512, LearningRate: 3e-3, HeldOutFraction: 0.1, Seed: 2);
        return ScoreEntropyProduction.Fit(train, p, settings);
    }

    /// <summary>
    /// Trained at N = 16 (900 snapshots, 300 steps), saved, loaded and applied unchanged to N = 64 particles (4x; 200 fresh
    /// independent snapshots): sigma per particle within 3 of its standard errors of the exact 2. Besides sampling, the estimate
    /// carries the network's learning error -E|s_hat - s|_D^2 (second order, negative), which the standard error does not cover.
    /// Measured with this trained network on 20 other evaluation seeds (100-119): z = (estimate - 2) / stderr has mean -1.12 and
    /// spread 0.63, none beyond 3; as a Gaussian that puts the false-failure rate at a new evaluation seed near 0.2% (for a
    /// calibrated unbiased error it would be 0.27%). The training seed is fixed.
    /// </summary>
    [Fact]
    public void ANetworkTrainedOnSixteenParticlesGivesTheExactRateOnSixtyFour()
    {
        using var fit = TrainOnSixteen(out var settings);
        string path = Path.Combine(_folder, "trap.score");
        ScoreModel.Save(path, fit.Network, ScoreModelInfo.For(Trap, settings, fit.Estimate.TrainingSnapshots));

        var large = Trap with { Particles = 64 };
        var p = ScoreSnapshots.Parameters(large);
        var data = TrappedAoup.Sample(p, 200, large.Particles, seed: 100);
        using var loaded = ScoreModel.Load(path);
        loaded.Info.CheckApplies(large);
        Assert.Equal(16, loaded.Info.Particles);
        var e = ScoreEntropyProduction.Evaluate(loaded.Network, data, p, grid: 16);
        double exact = 2 * TrappedAoup.Exact(p).Sigma;
        Assert.Equal(2.0, exact, 12);
        Assert.Equal(64, e.Particles);
        Assert.Equal(200, e.Snapshots);
        Assert.InRange(e.PerParticle.StandardError, 1e-3, 0.1);
        Assert.InRange(e.PerParticle.Mean, exact - 3 * e.PerParticle.StandardError, exact + 3 * e.PerParticle.StandardError);
    }

    /// <summary>Save then load: the same weights, buffers and shape, so the same numbers bit for bit on the same data.</summary>
    [Fact]
    public void SaveAndLoadGiveTheSameNumbersBitForBit()
    {
        var p = ScoreSnapshots.Parameters(Trap);
        var train = TrappedAoup.Sample(p, 40, Trap.Particles, seed: 5);
        var settings = new ScoreSettings(TrapShape, Steps: 5, ParticlesPerStep: 128, Seed: 3);
        using var fit = ScoreEntropyProduction.Fit(train, p, settings);
        string path = Path.Combine(_folder, "round-trip.score");
        ScoreModel.Save(path, fit.Network, ScoreModelInfo.For(Trap, settings, fit.Estimate.TrainingSnapshots));
        using var loaded = ScoreModel.Load(path);
        Assert.Equal(ScoreModelInfo.For(Trap, settings, fit.Estimate.TrainingSnapshots), loaded.Info);

        var data = TrappedAoup.Sample(p, 12, Trap.Particles, seed: 9);
        var before = ScoreEntropyProduction.Evaluate(fit.Network, data, p, grid: 4);
        var after = ScoreEntropyProduction.Evaluate(loaded.Network, data, p, grid: 4);
        Assert.Equal(ScoreEntropyProduction.Scores(fit.Network, data), ScoreEntropyProduction.Scores(loaded.Network, data));
        Assert.Equal(before.Rate, after.Rate);
        Assert.Equal(before.RateX, after.RateX);
        Assert.Equal(before.PlugIn, after.PlugIn);
        Assert.Equal(before.ParticleRates, after.ParticleRates);
        Assert.Equal(before.ScoreMatchingLoss, after.ScoreMatchingLoss);
        // one file layout for all saved networks: a score network is named as such where a trajectory model is expected
        var wrongKind = Assert.Throws<InvalidInputException>(() => ThermoLearn.Neural.Inference.NeuralModel.Load(path));
        Assert.Contains("holds an active-matter score network", wrongKind.Message);
    }

    [Fact]
    public void DataOfAnotherModelAreRefusedByNameAndNMayDiffer()
    {
        var settings = new ScoreSettings(TrapShape);
        var info = ScoreModelInfo.For(Trap, settings, 10);
        info.CheckApplies(Trap with { Particles = 1024 });
        foreach (var (model, name) in new (ActiveModel, string)[]
        {
            (Trap with { Epsilon = 0.25 }, "eps"), (Trap with { Gamma = 2 }, "gamma"), (Trap with { V0 = 0.5 }, "v0"), (Trap with { A = 2 }, "A"),
            (Trap with { K = 1, Interaction = PairInteraction.Softplus }, "k"), (Trap with { Kind = ActiveModelKind.Abp }, "model"),
        })
        {
            var e = Assert.Throws<InvalidInputException>(() => info.CheckApplies(model));
            Assert.Contains($"trained on {name} = ", e.Message);
        }
        var box = new ActiveModel { Particles = 64, PackingFraction = 0.3, Epsilon = 0.1 };
        var boxInfo = ScoreModelInfo.For(box, ScoreSnapshots.DefaultSettings(box), 10);
        boxInfo.CheckApplies(box with { Particles = 256 });
        Assert.Contains("phi", Assert.Throws<InvalidInputException>(() => boxInfo.CheckApplies(box with { PackingFraction = 0.5 })).Message);
        Assert.Contains("beta", Assert.Throws<InvalidInputException>(() => boxInfo.CheckApplies(box with { Beta = 5 })).Message);

        string notAModel = Path.Combine(_folder, "junk.score");
        File.WriteAllText(notAModel, "not a model");
        Assert.Contains("not a ThermoLearn neural model", Assert.Throws<InvalidInputException>(() => ScoreModel.Load(notAModel)).Message);
    }
}
