using ThermoLearn.Inference;
using ThermoLearn.Models;
using ThermoLearn.Neural.Inference;
using ThermoLearn.Neural.Training;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Neural.Tests.Inference;

/// <summary>
/// Per-trajectory Delta s_tot from neural fields d(x, t) and s(x, t) on the default breathing trap (k 1 -> 4 over
/// tau = 1, total EP 0.23734), small enough for the fast suite: 400 trajectories of 101 frames (dt = 0.01).
/// Tolerances are 3 standard errors over trajectories (false-failure rate 0.27% per check at a new seed; seeds fixed).
/// The large run is in <see cref="NeuralNonStationaryValidationTests"/>.
/// </summary>
public class NeuralTrajectoryEntropyTests
{
    internal static TrajectoryEnsemble Breathing(int trajectories, double dt, ulong seed, out BreathingTrapModel model, int substeps = 10)
    {
        model = (BreathingTrapModel)ModelCatalog.Create("breathing-trap");
        int steps = (int)Math.Round(model.Duration!.Value / dt);
        return Simulator.Run(model, new SimulationOptions
        {
            Trajectories = trajectories, Steps = steps * substeps, Dt = dt / substeps, SaveEvery = substeps, Scheme = "heun", Seed = seed, ComputeEnergetics = false,
        }).Trajectories;
    }

    [Fact]
    public void FluctuationTheoremAndMeanHoldOutOfSample()
    {
        var data = Breathing(400, 0.01, 21, out var model);
        var e = NeuralTrajectoryEntropy.Estimate(data, new NeuralTrajectoryEntropySettings
        {
            Training = new TrainingOptions { Epochs = 8, Hidden = 16, BatchSize = 1024, Seed = 2, Threads = 1 },
            Diffusion = DiffusionSpec.Isotropic(1, 1),
        });
        Assert.Equal(400, e.TotalEntropy.Count);
        Assert.InRange(e.ExpMinus.Mean, 1 - 3 * e.ExpMinus.StandardError, 1 + 3 * e.ExpMinus.StandardError);
        double exact = model.TotalEntropyProduction!.Value;
        Assert.InRange(e.MeanTotal.Mean, exact - 3 * e.MeanTotal.StandardError, exact + 3 * e.MeanTotal.StandardError);
        Assert.Equal(2, e.ForceCurves.Count);
        Assert.Equal(2, e.ScoreCurves.Count);
    }

    [Fact]
    public void SameSeedGivesTheSameTrajectoryEntropies()
    {
        var data = Breathing(40, 0.05, 3, out _);
        var settings = new NeuralTrajectoryEntropySettings
        {
            Training = new TrainingOptions { Epochs = 2, Hidden = 8, BatchSize = 256, Seed = 4, Threads = 1 },
            Diffusion = DiffusionSpec.Isotropic(1, 1),
        };
        var a = NeuralTrajectoryEntropy.Estimate(data, settings);
        var b = NeuralTrajectoryEntropy.Estimate(data, settings);
        Assert.Equal(a.TotalEntropy, b.TotalEntropy);
        Assert.Equal(a.CurrentTerm, b.CurrentTerm);
    }

    [Fact]
    public void TooFewTrajectoriesAreRejected()
    {
        var data = Breathing(20, 0.05, 3, out _);
        var e = Assert.Throws<InvalidInputException>(() => NeuralTrajectoryEntropy.Estimate(data, new NeuralTrajectoryEntropySettings()));
        Assert.Contains("at least 40 trajectories", e.Message);
    }
}
