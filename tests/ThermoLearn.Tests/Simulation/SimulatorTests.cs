using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using Xunit;

namespace ThermoLearn.Tests.Simulation;

public class SimulatorTests
{
    /// <summary>
    /// Stationary covariance of the driven 2-D trap vs the Lyapunov solution, from the last frame of 4,000
    /// independent stationary trajectories. Tolerance per entry: z standard errors of the product mean, z for a
    /// family-wise false-failure rate of 1e-4 over the 4 entries (z = 4.17), plus the scheme's bias bound:
    /// Heun's (a dt)^2 |C| (weak order 2, <see cref="StatisticalTolerance.SecondOrderBias"/>; 1.1e-4 relative here),
    /// Euler-Maruyama's exact first-order a dt / 2 on top of it.
    /// </summary>
    [Theory]
    [InlineData("heun")]
    [InlineData("euler-maruyama")]
    public void StationaryCovarianceMatchesLyapunov(string scheme)
    {
        var model = LinearModel.DrivenTrap2D(1, 0.3, 1, 0.5);
        var result = Simulator.Run(model, new SimulationOptions { Trajectories = 4000, Steps = 100, Dt = 0.01, SaveEvery = 100, Seed = 7, Scheme = scheme });
        var c = model.StationaryCovariance;
        var e = result.Trajectories;
        // Euler-Maruyama's stationary variance is D / (a (1 - a dt / 2)): relative bias a dt / 2 = 0.005.
        double rate = StatisticalTolerance.LargestRate(model.A), dt = 0.01, scale = c[0, 0];
        double bias = StatisticalTolerance.SecondOrderBias(rate, dt, scale) + (scheme == "heun" ? 0 : rate * dt / 2 * scale);
        double z = StatisticalTolerance.Z(1e-4, checks: 4);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                var products = new double[e.Trajectories];
                for (int n = 0; n < e.Trajectories; n++) products[n] = e.Frame(n, 1)[i] * e.Frame(n, 1)[j];
                var estimate = MeanEstimate.Of(products);
                Assert.True(Math.Abs(estimate.Mean - c[i, j]) < z * estimate.StandardError + bias,
                    $"C[{i},{j}]: simulated {estimate} vs Lyapunov {c[i, j]}");
            }
    }

    /// <summary>
    /// In the steady state the mean medium entropy (and total entropy, with the exact density) per unit time is
    /// the EP rate: bead-spring n = 2 (sigma = 2.025) over t = 1. Tolerance: z standard errors, z for a family-wise
    /// false-failure rate of 1e-4 over the 2 checks (z = 4.06), plus Heun's bias bound (a dt)^2 sigma t with a = 3 the
    /// chain's fastest rate (2.3e-4 relative at dt = 0.005; the medium entropy of a linear force is exact along each step).
    /// </summary>
    [Fact]
    public void MediumEntropyRateEqualsExactEntropyProduction()
    {
        var model = LinearModel.BeadSpring(2, 1, 1, 10, 1);
        var result = Simulator.Run(model, new SimulationOptions { Trajectories = 2000, Steps = 200, Dt = 0.005, SaveEvery = 200, Seed = 11, Scheme = "heun" });
        double t = 1.0;
        var medium = MeanEstimate.Of(result.Energetics!.MediumEntropy);
        var total = MeanEstimate.Of(result.Energetics.TotalEntropy!);
        double exact = model.EntropyProductionRateValue * t;
        double z = StatisticalTolerance.Z(1e-4, checks: 2), bias = StatisticalTolerance.SecondOrderBias(StatisticalTolerance.LargestRate(model.A), 0.005, exact);
        Assert.True(Math.Abs(medium.Mean - exact) < z * medium.StandardError + bias, $"medium entropy {medium} vs {exact}");
        Assert.True(Math.Abs(total.Mean - exact) < z * total.StandardError + bias, $"total entropy {total} vs {exact}");
    }

    [Fact]
    public void OutputIsIdenticalForOneAndTwoThreadsAndForShards()
    {
        var model = LinearModel.DrivenTrap2D(1, 0.3, 1, 0.5);
        var options = new SimulationOptions { Trajectories = 13, Steps = 50, Dt = 0.01, SaveEvery = 5, Seed = 99 };
        var one = Simulator.Run(model, options with { MaxDegreeOfParallelism = 1 });
        var two = Simulator.Run(model, options with { MaxDegreeOfParallelism = 2 });
        Assert.Equal(one.Trajectories.Data, two.Trajectories.Data);
        Assert.Equal(one.Energetics!.Work, two.Energetics!.Work);
        Assert.Equal(one.Energetics.Heat, two.Energetics.Heat);

        var first = Simulator.Run(model, options with { Shard = new Shard(1, 2) });
        var second = Simulator.Run(model, options with { Shard = new Shard(2, 2) });
        Assert.Equal(0, first.FirstTrajectory);
        Assert.Equal(6, second.FirstTrajectory);
        Assert.Equal(13, second.Trajectories.Metadata.TotalTrajectories);
        Assert.Equal(one.Trajectories.Data, first.Trajectories.Data.Concat(second.Trajectories.Data).ToArray());
        Assert.Equal(one.Energetics.MediumEntropy, first.Energetics!.MediumEntropy.Concat(second.Energetics!.MediumEntropy).ToArray());

        var third = Simulator.Run(model, options with { Shard = new Shard(3, 5) });
        var (start, count) = new Shard(3, 5).Range(13);
        Assert.Equal(one.Trajectories.Data.AsSpan((int)start * 11 * 2, count * 11 * 2).ToArray(), third.Trajectories.Data);
    }

    [Fact]
    public void DifferentSeedsGiveDifferentTrajectories()
    {
        var model = new DoubleWellModel();
        var a = Simulator.Run(model, new SimulationOptions { Trajectories = 4, Steps = 10, Dt = 0.01, Seed = 1 });
        var b = Simulator.Run(model, new SimulationOptions { Trajectories = 4, Steps = 10, Dt = 0.01, Seed = 2 });
        Assert.NotEqual(a.Trajectories.Data, b.Trajectories.Data);
        Assert.Equal(-1.0, a.Trajectories.Frame(3, 0)[0]);
    }

    [Fact]
    public void UnderdampedTrapKeepsItsStationaryCovariance()
    {
        // BAOAB from the exact stationary law: after t = 2 the covariance of (x, v) must still be the Lyapunov one, and the
        // mean heat rate 2 sigma. Tolerance: z standard errors, z for a family-wise false-failure rate of 1e-4 over the 5
        // checks (z = 4.26), plus BAOAB's weak-order-2 bias bound (omega dt)^2 |value| with omega = max(sqrt(k/m), gamma/m)
        // = 1, the fastest rate of the trap (1e-4 relative at dt = 0.01).
        var model = new UnderdampedDrivenTrap(1, 0.5, 1, 1, 1);
        var result = Simulator.Run(model, new SimulationOptions { Trajectories = 4000, Steps = 200, Dt = 0.01, SaveEvery = 200, Seed = 5 });
        Assert.Equal("baoab", result.Scheme);
        var c = model.StationaryCovariance;
        var e = result.Trajectories;
        Assert.Equal(4, e.Dimension);
        double z = StatisticalTolerance.Z(1e-4, checks: 5);
        for (int i = 0; i < 4; i++)
        {
            var squares = new double[e.Trajectories];
            for (int n = 0; n < e.Trajectories; n++) squares[n] = e.Frame(n, 1)[i] * e.Frame(n, 1)[i];
            var estimate = MeanEstimate.Of(squares);
            Assert.True(Math.Abs(estimate.Mean - c[i, i]) < z * estimate.StandardError + StatisticalTolerance.SecondOrderBias(1, 0.01, c[i, i]),
                $"C[{i},{i}]: {estimate} vs {c[i, i]}");
        }
        // Steady state: mean heat per unit time = sigma T (all the non-conservative work is dissipated).
        var heat = MeanEstimate.Of(result.Energetics!.Heat);
        double heatRate = 2 * model.EntropyProductionRateValue;
        Assert.True(Math.Abs(heat.Mean - heatRate) < z * heat.StandardError + StatisticalTolerance.SecondOrderBias(1, 0.01, heatRate), $"heat {heat} vs {heatRate}");
    }

    [Theory]
    [InlineData(0, 10, 0.01, 1, "trajectories")]
    [InlineData(10, 0, 0.01, 1, "steps")]
    [InlineData(10, 10, 0.0, 1, "dt")]
    [InlineData(10, 10, double.NaN, 1, "dt")]
    [InlineData(10, 10, 0.01, 3, "multiple of save-every")]
    public void BadOptionsAreInvalidInput(int trajectories, int steps, double dt, int saveEvery, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => Simulator.Run(new DoubleWellModel(),
            new SimulationOptions { Trajectories = trajectories, Steps = steps, Dt = dt, SaveEvery = saveEvery }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void UnknownOrMismatchedSchemeIsInvalidInput()
    {
        Assert.Throws<InvalidInputException>(() => Simulator.Run(new DoubleWellModel(), new SimulationOptions { Scheme = "rk45" }));
        Assert.Throws<InvalidInputException>(() => Simulator.Run(new DoubleWellModel(), new SimulationOptions { Scheme = "baoab" }));
        Assert.Throws<InvalidInputException>(() => Simulator.Run(new UnderdampedDrivenTrap(), new SimulationOptions { Scheme = "heun" }));
        Assert.Throws<InvalidInputException>(() => Shard.Parse("3/2"));
        Assert.Throws<InvalidInputException>(() => Simulator.Run(new DoubleWellModel(), new SimulationOptions { Trajectories = 1, Shard = new Shard(1, 2) }));
    }
}

public class VectorKernelTests
{
    /// <summary>
    /// The double-well vector kernels (eight lanes where AVX-512 is accelerated, four lanes) must reproduce the
    /// generic per-trajectory loop bit for bit, frames and energetics, with partial groups and blocks (13, 301, 530).
    /// </summary>
    [Theory]
    [InlineData(13, 101, 1)]
    [InlineData(301, 40, 8)]
    [InlineData(530, 7, 7)]
    public void DoubleWellKernelEqualsTheGenericPath(int trajectories, int steps, int saveEvery)
    {
        var model = new ThermoLearn.Models.DoubleWellModel(b: 1.3, c: 0.2, mu: 0.8, temperature: 0.7, x0: -0.9);
        var options = new SimulationOptions { Trajectories = trajectories, Steps = steps, Dt = 0.01, SaveEvery = saveEvery, Seed = 12 };
        var fast = Simulator.Run(model, options);
        var narrow = Simulator.Run(model, options with { Engine = SimulationEngine.FourLanes });
        var generic = Simulator.Run(model, options with { Engine = SimulationEngine.PerTrajectoryLoop });
        foreach (var kernel in new[] { fast, narrow })
        {
            Assert.Equal(generic.Trajectories.Data, kernel.Trajectories.Data);
            Assert.Equal(generic.Energetics!.Heat, kernel.Energetics!.Heat);
            Assert.Equal(generic.Energetics.MediumEntropy, kernel.Energetics.MediumEntropy);
            Assert.Equal(generic.Energetics.DeltaEnergy, kernel.Energetics.DeltaEnergy);
            Assert.Equal(generic.Energetics.Work, kernel.Energetics.Work);
        }
        var shard = Simulator.Run(model, options with { Shard = new Shard(2, 3) });
        var (first, count) = new Shard(2, 3).Range(trajectories);
        int frames = steps / saveEvery + 1;
        Assert.Equal(fast.Trajectories.Data.AsSpan((int)first * frames, count * frames).ToArray(), shard.Trajectories.Data);
    }

    /// <summary>
    /// The lane engine on every potential model and lane scheme equals the per-trajectory loop bit for bit (frames, work,
    /// heat, energy change, medium and system entropy) at either vector width: static (double well, Euler and Heun) and
    /// protocol-driven (translated trap and breathing trap, Euler; the protocol ends mid-run so the table holds both parts).
    /// </summary>
    [Theory]
    [InlineData("double-well", "heun")]
    [InlineData("harmonic-trap", "euler-maruyama")]
    [InlineData("breathing-trap", "euler-maruyama")]
    public void LaneEngineEqualsThePerTrajectoryLoop(string name, string scheme)
    {
        StochasticModel model = name switch
        {
            "double-well" => new DoubleWellModel(b: 1.3, c: 0.2, mu: 0.8, temperature: 0.7, x0: -0.9),
            "harmonic-trap" => new HarmonicTrapModel(k: 2, c0: 0, c1: 1.5, tau: 0.5, mu: 0.9, temperature: 0.6),
            _ => new BreathingTrapModel(k0: 1, k1: 3, tau: 0.5, mu: 1.1, temperature: 0.8),
        };
        var options = new SimulationOptions { Trajectories = 37, Steps = 80, Dt = 0.01, SaveEvery = 4, Seed = 5, Scheme = scheme };
        var generic = Simulator.Run(model, options with { Engine = SimulationEngine.PerTrajectoryLoop });
        foreach (var lanes in new[] { Simulator.Run(model, options), Simulator.Run(model, options with { Engine = SimulationEngine.FourLanes }) })
        {
            Assert.Equal(generic.Trajectories.Data, lanes.Trajectories.Data);
            Assert.Equal(generic.Energetics!.Work, lanes.Energetics!.Work);
            Assert.Equal(generic.Energetics.Heat, lanes.Energetics.Heat);
            Assert.Equal(generic.Energetics.DeltaEnergy, lanes.Energetics.DeltaEnergy);
            Assert.Equal(generic.Energetics.MediumEntropy, lanes.Energetics.MediumEntropy);
            Assert.Equal(generic.Energetics.SystemEntropy, lanes.Energetics.SystemEntropy);
        }
        var energetics = generic.Energetics!;
        if (name != "double-well") Assert.Contains(energetics.Work, w => w != 0);
        // the first law per trajectory, to rounding: Delta V = W - Q
        for (int i = 0; i < options.Trajectories; i++)
            Assert.Equal(energetics.DeltaEnergy[i], energetics.Work[i] - energetics.Heat[i], 10);
    }
}
