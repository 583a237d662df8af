using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Control;

/// <summary>
/// The time step of the control tasks (docs/control.md, "Accuracy of the step"): measurements are extrapolated to dt -> 0
/// from chains at dt/2 and dt/4 coupled to one Brownian path, the coupling itself, and the underdamped flip's step
/// (semi-implicit Euler's stability limit with friction, defaults that scale with m / gamma and sqrt(m / V'')).
/// </summary>
public class StepAccuracyTests(ITestOutputHelper output)
{
    /// <summary>Evaluate-protocol's default number of trajectories: its standard error is what a bias must stay well under.</summary>
    private const int DefaultTrajectories = 100_000;

    private static readonly InitialStateSampler AtOrigin = static (ref RandomStream _, Span<double> x, Span<double> v) => { x.Clear(); v.Clear(); };

    /// <summary>
    /// Free diffusion (a force of 1e-12 at most): Euler-Maruyama is exact along a Brownian path, so a run of N steps whose
    /// normals are those of a run of r N steps summed in groups of r (LaneRun.NoiseSubsteps)
    /// must end where the fine run ends, path by path, in one and two dimensions (the draw order of the pairs of normals
    /// differs with the dimension).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ACoupledCoarseChainFollowsTheFineChainsBrownianPath(int dimension)
    {
        var potential = new HarmonicTrap(1e-12, dimension);
        var dynamics = new LangevinDynamics(1, 1);
        var centre = new double[dimension];
        var hold = new TabulatedProtocol([0.0, 1.0], [centre, centre]);
        PathSample Run(int steps, int substeps) => PathKernel.Run(potential, dynamics, DiscreteProtocol.From(hold, steps), AtOrigin,
            static (_, _) => 0, seed: 17, trajectories: 200, gradients: false, noiseSubsteps: substeps);
        var fine = Run(96, 1);
        var half = Run(48, 2);
        var quarter = Run(24, 4);
        double spread = 0;
        for (int i = 0; i < fine.End.Length; i++)
        {
            Assert.Equal(fine.End[i], half.End[i], 9);
            Assert.Equal(fine.End[i], quarter.End[i], 9);
            spread += fine.End[i] * fine.End[i];
        }
        // the paths did move (unit diffusion for tau = 1: <x^2> = 2 per coordinate)
        Assert.InRange(spread / fine.End.Length, 1, 4);
        // a run of its own streams (no coupling) ends elsewhere
        Assert.NotEqual(fine.End[0], Run(48, 1).End[0], 6);
    }

    /// <summary>
    /// erase at its default steps, at a parameter set the other tests do not use (tau = 12, b0 = 6, gamma = 1.5, T = 1.2:
    /// dt = 0.01, mu V'' dt = 0.32 in the wells, as at the defaults b0 = 4, gamma = 1), textbook protocol. The measurement
    /// (2 W(dt/4) - W(dt/2)) is compared path by path with the converged value 2 W(dt/16) - W(dt/8) of chains coupled to the
    /// same Brownian path, so the comparison's own noise is small. Requirement: the bias is within one standard error of the
    /// measurement at evaluate-protocol's default 100,000 paths, give or take 4 standard errors of the bias estimate (which
    /// makes a false failure a 4-sigma event). Measured (40,000 paths): the measurement's bias +0.0013 +- 0.0016 against
    /// that standard error 0.0047 (work), -0.0005 +- 0.0004 (error); the chain at dt alone, what Measure reported before,
    /// is off by -0.030 +- 0.002 (6.5 standard errors) and +0.0018 +- 0.0004 in the error, and fails the same check.
    /// </summary>
    [Fact]
    public void EraseMeasurementAtDefaultStepsIsWithinAStandardErrorOfTheConvergedValue()
    {
        var task = new EraseTask(tau: 12, barrier: 6, gamma: 1.5, temperature: 1.2);
        Assert.Equal(1200, task.Steps);
        var family = task.KnotFamily(task.DefaultKnots);
        var protocol = family.WithParameters(task.InitialGuess(family));
        const int paths = 20_000;
        const ulong seed = 77;
        // chains at dt, dt/2, dt/4 (the measurement) and dt/8 (with dt/4, the reference), all on the Brownian path of the dt/8 run
        var (atStep, half, quarter) = task.MeasurementChains(protocol, seed, paths, -1, noiseSubsteps: 2);
        var eighth = task.Simulate(DiscreteProtocol.From(protocol, 8 * task.Steps), seed, paths, false, -1);

        var measured = new double[paths];
        var chain = new double[paths];
        var measuredError = new double[paths];
        var chainError = new double[paths];
        var work = new double[paths];
        var error = new double[paths];
        for (int i = 0; i < paths; i++)
        {
            double reference = 2 * eighth.Work[i] - quarter.Work[i], referenceError = 2 * eighth.Error[i] - quarter.Error[i];
            work[i] = 2 * quarter.Work[i] - half.Work[i];
            error[i] = 2 * quarter.Error[i] - half.Error[i];
            measured[i] = work[i] - reference;
            chain[i] = atStep.Work[i] - reference;
            measuredError[i] = error[i] - referenceError;
            chainError[i] = atStep.Error[i] - referenceError;
        }
        // Measure reports exactly this extrapolation of these chains (here on the public path's own streams, few paths)
        var (a, b, c) = task.MeasurementChains(protocol, 5, 64, -1);
        var published = task.Measure(protocol, task.DefaultAlpha, 5, 64);
        Assert.Equal(GradientEstimators.Extrapolate(c, b, task.DefaultAlpha, 5).Work.Mean, published.Work.Mean, 12);
        Assert.Equal(GradientEstimators.Measure(a, task.DefaultAlpha, 5).Work.Mean, published.AtStep.Work.Mean, 12);

        double workSe = MeanEstimate.Of(work).StandardError * Math.Sqrt((double)paths / DefaultTrajectories);
        double errorSe = MeanEstimate.Of(error).StandardError * Math.Sqrt((double)paths / DefaultTrajectories);
        var bias = MeanEstimate.Of(measured);
        var oldBias = MeanEstimate.Of(chain);
        var errorBias = MeanEstimate.Of(measuredError);
        var oldErrorBias = MeanEstimate.Of(chainError);
        output.WriteLine($"work: measurement's bias {bias.Mean:F5} +- {bias.StandardError:F5}, chain at dt {oldBias.Mean:F5} +- {oldBias.StandardError:F5}; standard error at {DefaultTrajectories} paths {workSe:F5}");
        output.WriteLine($"error: measurement's bias {errorBias.Mean:F5} +- {errorBias.StandardError:F5}, chain at dt {oldErrorBias.Mean:F5} +- {oldErrorBias.StandardError:F5}; standard error at {DefaultTrajectories} paths {errorSe:F5}");
        Assert.True(Math.Abs(bias.Mean) < workSe + 4 * bias.StandardError, $"work bias {bias.Mean} +- {bias.StandardError} vs standard error {workSe}");
        Assert.True(Math.Abs(errorBias.Mean) < errorSe + 4 * errorBias.StandardError, $"error bias {errorBias.Mean} +- {errorBias.StandardError} vs standard error {errorSe}");
        // the check has the power to see the step: the chain at dt alone fails it
        Assert.False(Math.Abs(oldBias.Mean) < workSe + 4 * oldBias.StandardError, $"chain at dt: {oldBias.Mean} +- {oldBias.StandardError}");
    }

    /// <summary>
    /// translate-trap at a coarse step (k = 20, 200 steps, k dt / gamma = 0.1: the chain's &lt;W&gt; of lambda* is 4.6 % under
    /// W*): the measurement estimates the exact extrapolation 2 W(dt/4) - W(dt/2) of the chain (within 0.1 % of W*) and
    /// its AtStep the chain itself, each within 4 standard errors, and the coupled estimate of the chain's bias (-0.0933 +- 0.0002
/// measured) is the exact -0.0932 within 4 of its standard errors.
    /// </summary>
    [Fact]
    public void TrapMeasurementEstimatesTheExtrapolatedChainAndReportsTheChainAtItsStep()
    {
        var task = new TranslateTrapTask(tau: 1, k: 20, gamma: 1, lambdaFinal: 1.5, steps: 200);
        double wStar = task.OptimalWork, chain = task.OptimalWorkAtStep, extrapolated = task.OptimalWorkExtrapolated;
        Assert.InRange(chain / wStar, 0.94, 0.97);
        Assert.InRange(extrapolated / wStar, 0.999, 1.001);
        var m = task.Measure(task.OptimalProtocol, 0, seed: 31, trajectories: 20_000);
        output.WriteLine($"W* = {wStar:F5}, chain {chain:F5}, extrapolated {extrapolated:F5}; measured {m.Work.Mean:F5} +- {m.Work.StandardError:F5}, at dt {m.AtStep.Work.Mean:F5} +- {m.AtStep.Work.StandardError:F5}, bias {m.AtStep.WorkBias.Mean:F5} +- {m.AtStep.WorkBias.StandardError:F5}");
        Assert.True(Math.Abs(m.Work.Mean - extrapolated) < 4 * m.Work.StandardError);
        Assert.True(Math.Abs(m.AtStep.Work.Mean - chain) < 4 * m.AtStep.Work.StandardError);
        Assert.True(Math.Abs(m.AtStep.WorkBias.Mean - (chain - extrapolated)) < 4 * m.AtStep.WorkBias.StandardError);
        Assert.True(Math.Abs(m.AtStep.WorkBias.Mean) > 100 * m.AtStep.WorkBias.StandardError);
        Assert.Equal(200, m.AtStep.Steps);
    }

    /// <summary>
    /// Semi-implicit Euler in a harmonic well with friction is stable iff omega^2 dt^2 + 2 (gamma / m) dt &lt; 4
    /// (<see cref="SimulationHealth.SemiImplicitMaxDt"/>): the limit the control module reports must be where the paths
    /// stop blowing up, with friction dominating (gamma / m = 100, omega = 5: dt &lt; 0.01995, not 2 / omega = 0.4) and with
    /// both terms alike (gamma / m = omega = 10: 0.1236). At 0.95 of the limit 2,000 steps stay bounded; at 1.05 the largest
    /// eigenvalue of the step map has modulus 1.10 (1.23), so the paths pass 1e8 x their scale within ~220 (~100) steps.
    /// </summary>
    [Theory]
    [InlineData(100.0, 1.0, 25.0)]
    [InlineData(0.5, 0.05, 5.0)]
    public void TheUnderdampedStabilityLimitIncludesFrictionAndIsWhereThePathsBlowUp(double gamma, double mass, double k)
    {
        var potential = new HarmonicTrap(k);
        var dynamics = new LangevinDynamics(gamma, 1, mass);
        InitialStateSampler initial = (ref RandomStream r, Span<double> x, Span<double> v) =>
        {
            x[0] = Math.Sqrt(1 / k) * r.NextGaussian();
            v[0] = Math.Sqrt(1 / mass) * r.NextGaussian();
        };
        var limit = SimulationHealth.ControlLimit(potential, dynamics, [0.0], 1, initial)!;
        double g = gamma / mass, omega = Math.Sqrt(k / mass);
        Assert.Equal(omega, limit.Rate, 6);
        Assert.Equal(4 / (g + Math.Sqrt(g * g + 4 * omega * omega)), limit.MaxDt, 6);
        const int steps = 2000;
        PathSample Run(double dt)
        {
            var hold = new TabulatedProtocol([0.0, steps * dt], [[0.0], [0.0]]);
            return PathKernel.Run(potential, dynamics, DiscreteProtocol.From(hold, steps), initial, static (_, _) => 0, seed: 3, trajectories: 64, gradients: false);
        }
        var inside = Run(0.95 * limit.MaxDt);
        Assert.All(inside.End, x => Assert.True(Math.Abs(x) < 100, $"x = {x} at 0.95 of the limit"));
        var e = Assert.Throws<InvalidInputException>(() => Run(1.05 * limit.MaxDt));
        Assert.Contains("blew up (semi-implicit euler)", e.Message);
        Assert.Contains("gamma/m", e.Message);
    }

    /// <summary>
    /// The underdamped flip's default step is 1/16 of the stability limit for the stiffest potential of its control box
    /// (V'' = 39.5 b0 at |x| &lt;= 1.5), with both the mass and the friction in it, and at least 1,000 steps: 1,000 as before at
    /// b0 = 4, m = 1, gamma = 0.2, tau = 1; a light, strongly damped particle (m = 0.002, gamma = 1.2, tau = 4) used to get
    /// 1,000 steps, gamma dt / m = 2.4, on which every path blew up; such a step is now refused with its numbers, and the
    /// default (22,756 steps) runs. A heavy particle gets no more steps than before.
    /// </summary>
    [Fact]
    public void FlipDefaultStepsScaleWithMassAndFrictionAndAnUnstableStepIsRefused()
    {
        Assert.Equal(1000, new FlipTask(1).Steps);
        Assert.Equal(1000, ((FlipTask)TaskCatalog.Create("flip-underdamped", 1)).Steps);
        Assert.Equal(1000, new FlipTask(10, gamma: 0.05, mass: 25).Steps);
        foreach (var (tau, barrier, gamma, mass) in new[] { (1.0, 4.0, 0.2, 1.0), (4.0, 4.0, 1.2, 0.002), (20.0, 4.0, 1.0, 0.01), (5.0, 4.0, 0.01, 0.001), (3.0, 8.0, 0.5, 0.3), (50.0, 2.0, 0.1, 4.0) })
        {
            var task = new FlipTask(tau, barrier, gamma, mass);
            double box = SimulationHealth.SemiImplicitMaxDt((23 * 1.5 * barrier + 5 * barrier) / mass, gamma / mass);
            Assert.True(task.Dt <= box / 16 * (1 + 1e-12), $"tau = {tau}, b0 = {barrier}, gamma = {gamma}, m = {mass}: dt = {task.Dt} vs limit {box}");
            Assert.True(task.Steps == 1000 || task.Dt > box / 16 * (1 - 1e-3), $"more steps than needed: {task.Steps}");
            Assert.True(gamma * task.Dt / mass <= 0.125 + 1e-12);
        }

        var refused = Assert.Throws<InvalidInputException>(() => new FlipTask(4, gamma: 1.2, mass: 0.002, steps: 1000));
        Assert.Contains("gamma dt / m = 2.4 >= 2", refused.Message);
        Assert.Contains("Use steps >= 1201", refused.Message);
        Assert.Contains("the default for these settings is 22756", refused.Message);

        var light = new FlipTask(4, gamma: 1.2, mass: 0.002);
        Assert.Equal(22_756, light.Steps);
        var m = light.Measure(light.LinearRamp(), light.DefaultAlpha, seed: 8, trajectories: 64);
        Assert.True(double.IsFinite(m.Work.Mean) && double.IsFinite(m.AtStep.Work.Mean));
        // the overdamped flip scales like erase with the mobility: 1,000 steps at gamma = 0.2, tau = 1 as before
        Assert.Equal(1000, new FlipTask(1, overdamped: true).Steps);
        Assert.Equal(5000, new FlipTask(10, overdamped: true).Steps);
    }
}
