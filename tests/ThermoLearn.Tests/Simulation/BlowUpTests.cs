using ThermoLearn.Models;
using ThermoLearn.Simulation;
using Xunit;

namespace ThermoLearn.Tests.Simulation;

/// <summary>
/// Blow-up is caught while the run runs (<see cref="BlowUpWatch"/>), not only in the saved frames afterwards: the run
/// stops at the first check that sees a non-finite or runaway state, and the verdict (trajectory, coordinate, window
/// of steps) is the same for any thread count, lane width and engine path.
/// </summary>
public class BlowUpTests
{
    private sealed class Recorder : IProgress<double>
    {
        public readonly List<double> Reports = [];
        public void Report(double value) { lock (Reports) Reports.Add(value); }
    }

    private static string Failure(StochasticModel model, SimulationOptions options, IProgress<double>? progress = null) =>
        Assert.Throws<InvalidInputException>(() => Simulator.Run(model, options, progress)).Message;

    /// <summary>
    /// Double well V = (x^2 - 1)^2 at x0 = -1: curvature 8 at the minima, so Euler-Maruyama is stable there for dt &lt; 2 / 8
    /// = 0.25. At dt = 0.2 and T = 0.1 the noise now and then throws a trajectory over the barrier region far enough that
    /// the quartic force overshoots and the state runs away, at a step that depends on the trajectory's noise: a
    /// scattered blow-up, found by one trajectory among thousands (1932 with this seed).
    /// </summary>
    [Fact]
    public void TheVerdictIsTheSameForEveryThreadCountLaneWidthAndEnginePath()
    {
        var model = ModelCatalog.Create("double-well", new Dictionary<string, string> { ["T"] = "0.1" });
        var options = new SimulationOptions { Trajectories = 3000, Steps = 3000, Dt = 0.2, SaveEvery = 3000, Seed = 0 };
        string reference = Failure(model, options with { MaxDegreeOfParallelism = 1 });
        Assert.Contains("blew up (euler-maruyama): trajectory ", reference);
        Assert.Contains("between steps ", reference);
        Assert.Contains("the stability limit estimated at the initial states is dt < 2 / 8 = 0.25", reference);
        Assert.Contains("nothing was written", reference);
        Assert.Equal(reference, Failure(model, options));
        Assert.Equal(reference, Failure(model, options with { Engine = SimulationEngine.FourLanes }));
        Assert.Equal(reference, Failure(model, options with { Engine = SimulationEngine.PerTrajectoryLoop, MaxDegreeOfParallelism = 2 }));
        // the same trajectory, found in a shard that holds it, under its global index
        string shard = Failure(model, options with { Shard = Shard.Parse("2/3") });
        Assert.Equal(reference[..reference.IndexOf(" between")], shard[..shard.IndexOf(" between")]);
    }

    [Fact]
    public void ARunThatBlowsUpStopsThereInsteadOfRunningToTheEnd()
    {
        // 100,000 steps of 4,096 trajectories would take minutes; every block stops at its first check (step 16), so no
        // block reports completion and the call returns in milliseconds.
        var model = ModelCatalog.Create("double-well", new Dictionary<string, string>());
        var progress = new Recorder();
        var started = System.Diagnostics.Stopwatch.StartNew();
        string message = Failure(model, new SimulationOptions { Trajectories = 4096, Steps = 100_000, Dt = 1e3, SaveEvery = 100_000, Seed = 1 }, progress);
        Assert.Contains("trajectory 0, coordinate 0 became ", message);
        Assert.Contains("between steps 1 and 16 (t = 1000 to 16000", message);
        Assert.Empty(progress.Reports);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"took {started.Elapsed}");
    }

    [Fact]
    public void AnUnderdampedRunIsWatchedToo()
    {
        // BAOAB needs dt < 2 / omega with omega = sqrt(k / m) = 1 (the drive adds a little)
        var model = ModelCatalog.Create("underdamped-driven-trap", new Dictionary<string, string>());
        string message = Failure(model, new SimulationOptions { Trajectories = 10, Steps = 100_000, Dt = 50, SaveEvery = 100_000, Seed = 2 });
        Assert.Contains("blew up (baoab): trajectory ", message);
        Assert.Contains("between steps 1 and 16", message);
        Assert.Contains("past the scheme's stability limit dt < 2 / omega", message);
    }

    [Fact]
    public void TheLastCheckIsAtTheLastStepWhenTheStepsAreNotAMultipleOfTheCheckInterval()
    {
        // 5 steps: the only check is after step 5, the window is steps 1 to 5
        var model = ModelCatalog.Create("double-well", new Dictionary<string, string>());
        string message = Failure(model, new SimulationOptions { Trajectories = 3, Steps = 5, Dt = 1e3, Seed = 3 });
        Assert.Contains("between steps 1 and 5 ", message);
    }

    [Fact]
    public void TheRunawayBoundIsPerTrajectory()
    {
        Assert.Equal(SimulationHealth.RunawayFactor, SimulationHealth.RunawayBound([0.5, -0.2]));
        Assert.Equal(3 * SimulationHealth.RunawayFactor, SimulationHealth.RunawayBound([0.5, -3]));
        Assert.Equal(-1, BlowUpWatch.FirstBad([1e7, -2], 1e8));
        Assert.Equal(1, BlowUpWatch.FirstBad([1, double.NaN], 1e8));
        Assert.Equal(0, BlowUpWatch.FirstBad([-2e8, 0], 1e8));
    }
}
