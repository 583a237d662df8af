using System.Diagnostics;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Neural.ActiveMatter;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Neural.Tests.ActiveMatter;

/// <summary>
/// Motility-induced phase separation (AOUP, eps = 0, phi = 0.5, softplus repulsion r0 = 1, beta = 7.5, k = 1): the score
/// estimate on held-out snapshots against the sample identity sigma = -k E[sum_i div_i F_i] (Core's
/// <see cref="IdentityEntropyProduction"/>) on the same snapshots.
/// CPU parameters: the paper's persistence length per particle size v0 / (gamma r0) = 250 (v0 = 0.025, gamma = 1e-4) kept,
/// with v0 = 0.25, gamma = 1e-3, dt = 0.1: ten times fewer steps per persistence time (dt is set by the repulsion's stiffness,
/// not by v0).
/// </summary>
public class MipsScoreValidationTests(ITestOutputHelper output)
{
    private static ActiveModel Mips(int n) => new()
    {
        Kind = ActiveModelKind.Aoup, Particles = n, PackingFraction = 0.5, V0 = 0.25, Gamma = 1e-3, Epsilon = 0, K = 1, A = 0,
        Interaction = PairInteraction.Softplus, R0 = 1, Beta = 7.5,
    };

    private static ActiveSnapshots Frames(ActiveSnapshots s, int start, int count)
    {
        int row = s.Particles * s.Columns;
        return new ActiveSnapshots(s.Model, count, s.FrameDt, s.Data.AsSpan(start * row, count * row).ToArray());
    }

    [Fact]
    [Trait("Category", "Validation")]
    public void ScoreMatchesTheIdentityInMips()
    {
        int n = int.Parse(Environment.GetEnvironmentVariable("MIPS_N") ?? "4096");
        int burn = int.Parse(Environment.GetEnvironmentVariable("MIPS_BURN") ?? "100000");
        int frames = int.Parse(Environment.GetEnvironmentVariable("MIPS_FRAMES") ?? "120");
        int every = int.Parse(Environment.GetEnvironmentVariable("MIPS_EVERY") ?? "1000");
        int steps = int.Parse(Environment.GetEnvironmentVariable("MIPS_STEPS") ?? "1500");
        bool force = Environment.GetEnvironmentVariable("MIPS_FORCE") != "0";
        var clock = Stopwatch.StartNew();
        var snapshots = ActiveSimulator.Run(Mips(n), new ActiveRunOptions { Dt = 0.1, BurnInSteps = burn, Frames = frames, SaveEvery = every, Seed = 1 });
        output.WriteLine($"simulated {n} x ({burn} + {frames} x {every}) steps in {clock.Elapsed.TotalSeconds:F0} s");
        var settings = new ScoreSettings(new LocalScoreShape(Neighbours: 12, Cutoff: 4.0, Hidden: 32, Rounds: 2, RadialBasis: 16, ForceInput: force),
            Steps: steps, ParticlesPerStep: 4096, LearningRate: 2e-3, Threads: 2);
        using var fit = ScoreSnapshots.Fit(snapshots, settings);
        var e = fit.Estimate;
        var identity = IdentityEntropyProduction.Estimate(Frames(snapshots, frames - e.Snapshots, e.Snapshots));
        output.WriteLine($"training {fit.Training.Steps} steps: wall {fit.Training.WallSeconds:F0} s, cpu {fit.Training.CpuSeconds:F0} s; loss {string.Join(" ", fit.Training.Loss.Select(l => l.ToString("G4")))}");
        output.WriteLine($"held-out {e.Snapshots} snapshots: score (variational) {e.Rate.Mean:G5} +- {e.Rate.StandardError:G3}, plug-in {e.PlugIn.Mean:G5} +- {e.PlugIn.StandardError:G3}; identity {identity.Rate:G5} +- {identity.StandardError:G3}; ratio {e.Rate.Mean / identity.Rate:F4}");
        Assert.InRange(e.Rate.Mean, 0.95 * identity.Rate, 1.05 * identity.Rate);
    }
}
