using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Control;

/// <summary>
/// Heavy acceptance run (minutes on 2 cores), kept out of the fast suite: optimise translate-trap
/// (k = gamma = lambda_f = tau = 1, 4 knots) and re-measure on a fresh seed with 200,000 paths
/// (stderr ~0.0018, so the 2 % band of 0.0067 is ~3.7 stderr: false-failure rate ~1e-4).
/// </summary>
public class ControlValidationTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Validation")]
    public void TranslateTrapReachesTheSchmiedlSeifertOptimum()
    {
        var task = new TranslateTrapTask(tau: 1);
        var family = task.KnotFamily(4);
        var options = new OptimizerOptions { Iterations = 150, InitialTrajectories = 1000, MaxTrajectories = 8000, LearningRate = task.DefaultLearningRate, Seed = 1 };
        var result = ProtocolOptimizer.Run(task, family, new double[4], options);
        var measured = task.Measure(result.Protocol, 0, seed: 2024, trajectories: 200_000);
        var ramp = task.Measure(task.LinearRamp(), 0, seed: 2024, trajectories: 200_000);
        double optimum = task.OptimalWork;
        output.WriteLine($"optimised: W = {measured.Work.Mean:F5} +- {measured.Work.StandardError:F5} against W* = {optimum:F5}: "
            + $"{measured.Work.Mean - optimum:+0.00000;-0.00000} ({(measured.Work.Mean - optimum) / measured.Work.StandardError:+0.00;-0.00} sigma); "
            + $"chain at dt ({task.Steps} steps) {measured.AtStep.Work.Mean:F5}, step bias {measured.AtStep.WorkBias.Mean:+0.00000;-0.00000} +- {measured.AtStep.WorkBias.StandardError:F5}");
        output.WriteLine($"linear ramp, same paths: W = {ramp.Work.Mean:F5} +- {ramp.Work.StandardError:F5} against W_lin = {task.LinearRampWork:F5}: "
            + $"{(ramp.Work.Mean - task.LinearRampWork) / ramp.Work.StandardError:+0.00;-0.00} sigma");
        for (int j = 0; j < 4; j++)
        {
            double t = family.KnotTime(j), knot = t + result.Protocol.Parameters[j];
            output.WriteLine($"knot {j} at t = {t:F4}: {knot:F4} against (1 + t)/3 = {(1 + t) / 3:F4} ({knot - (1 + t) / 3:+0.0000;-0.0000})");
        }
        Assert.True(Math.Abs(measured.Work.Mean - 1.0 / 3) < 0.02 / 3, $"W = {measured.Work.Mean}");
        Assert.True(measured.Work.Mean + 3 * measured.Work.StandardError < task.LinearRampWork);
        for (int j = 0; j < 4; j++)
        {
            double t = family.KnotTime(j), knot = t + result.Protocol.Parameters[j];
            Assert.True(Math.Abs(knot - (1 + t) / 3) < 0.05, $"knot {j} at t = {t}: {knot} vs {(1 + t) / 3}");
        }
    }
}
