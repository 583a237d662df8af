using ThermoLearn.Energetics;
using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using Xunit;

namespace ThermoLearn.Tests.Energetics;

public class EnergeticsTests
{
    /// <summary>
    /// First law Delta V = W - Q on every step of every trajectory. With the midpoint (Stratonovich) heat the
    /// residual is V'''(x_mid) dx^3 / 24 exactly for polynomials up to degree 4: zero for the quadratic models and
    /// b x_mid dx^3 for the double well b (x^2 - 1)^2 + c x. The simulator's totals are the sums of the steps.
    /// </summary>
    [Theory]
    [InlineData("harmonic-trap")]
    [InlineData("driven-trap-2d")]
    [InlineData("bead-spring")]
    [InlineData("breathing-trap")]
    [InlineData("double-well")]
    public void FirstLawClosesOnEveryStep(string name)
    {
        var model = (OverdampedModel)ModelCatalog.Create(name);
        var result = Simulator.Run(model, new SimulationOptions { Trajectories = 8, Steps = 100, Dt = 0.01, Seed = 3 });
        var e = result.Trajectories;
        for (int i = 0; i < e.Trajectories; i++)
        {
            double work = 0, heat = 0, dv = 0;
            for (int f = 0; f + 1 < e.Frames; f++)
            {
                var step = StochasticEnergetics.OverdampedStep(model, e.Frame(i, f), e.Frame(i, f + 1), f * e.Dt, (f + 1) * e.Dt);
                double expected = 0;
                if (model is DoubleWellModel well)
                {
                    double dx = e.Frame(i, f + 1)[0] - e.Frame(i, f)[0], mid = 0.5 * (e.Frame(i, f + 1)[0] + e.Frame(i, f)[0]);
                    expected = well.Barrier * mid * dx * dx * dx;
                }
                Assert.True(Math.Abs(step.DeltaEnergy - (step.Work - step.Heat) - expected) < 1e-12,
                    $"trajectory {i} step {f}: dV = {step.DeltaEnergy}, W - Q = {step.Work - step.Heat}");
                work += step.Work; heat += step.Heat; dv += step.DeltaEnergy;
            }
            Assert.Equal(work, result.Energetics!.Work[i], 10);
            Assert.Equal(heat, result.Energetics.Heat[i], 10);
            Assert.Equal(dv, result.Energetics.DeltaEnergy[i], 10);
        }
    }

    /// <summary>
    /// Harmonic trap translated by 1 over tau = 1 (k = mu = T = 1) from equilibrium: Jarzynski
    /// &lt;exp(-W/T)&gt; = exp(-Delta F/T) = 1, &lt;W&gt; = (v^2/mu)(tau - tau_r (1 - e^{-tau/tau_r})) = e^{-1},
    /// second law &lt;W&gt; &gt;= Delta F = 0, and &lt;Delta s_tot&gt; = int sigma dt. Tolerances: 4 standard errors
    /// (false-failure rate ~ 6e-5 each) plus Heun's discretisation bias at dt = 0.01 (&lt; 1e-3).
    /// </summary>
    [Fact]
    public void JarzynskiAndSecondLawOnHarmonicTrapTranslation()
    {
        var model = new HarmonicTrapModel(k: 1, c0: 0, c1: 1, tau: 1, mu: 1, temperature: 1);
        var result = Simulator.Run(model, new SimulationOptions { Trajectories = 6000, Steps = 100, Dt = 0.01, SaveEvery = 100, Seed = 17, Scheme = "heun" });
        var work = result.Energetics!.Work;
        var jarzynski = MeanEstimate.Of(work, w => Math.Exp(-w));
        Assert.True(Math.Abs(jarzynski.Mean - Math.Exp(-model.FreeEnergyChange)) < 4 * jarzynski.StandardError + 1e-3, $"<exp(-W)> = {jarzynski}");
        var meanWork = MeanEstimate.Of(work);
        Assert.True(Math.Abs(meanWork.Mean - model.MeanWork(1)) < 4 * meanWork.StandardError + 1e-3, $"<W> = {meanWork} vs {model.MeanWork(1)}");
        Assert.Equal(Math.Exp(-1), model.MeanWork(1), 12);
        Assert.True(meanWork.Mean - 4 * meanWork.StandardError > model.FreeEnergyChange, "second law <W> > Delta F");
        var total = result.Energetics.MeanTotalEntropy!.Value;
        Assert.True(Math.Abs(total.Mean - model.TotalEntropyProduction!.Value) < 4 * total.StandardError + 1e-3,
            $"<Delta s_tot> = {total} vs {model.TotalEntropyProduction}");
        // Integral fluctuation theorem <exp(-Delta s_tot)> = 1.
        var ift = MeanEstimate.Of(result.Energetics.TotalEntropy!, s => Math.Exp(-s));
        Assert.True(Math.Abs(ift.Mean - 1) < 4 * ift.StandardError + 1e-3, $"<exp(-Delta s_tot)> = {ift}");
    }

    /// <summary>Breathing trap k: 1 -> 4 over tau = 1: &lt;W&gt; and &lt;Delta s_tot&gt; vs quadrature, Jarzynski vs Delta F = ln(4)/2.</summary>
    [Fact]
    public void BreathingTrapWorkEntropyAndJarzynski()
    {
        var model = new BreathingTrapModel(1, 4, 1, 1, 1);
        var result = Simulator.Run(model, new SimulationOptions { Trajectories = 6000, Steps = 100, Dt = 0.01, SaveEvery = 100, Seed = 23, Scheme = "heun" });
        var energetics = result.Energetics!;
        var meanWork = energetics.MeanWork;
        Assert.True(Math.Abs(meanWork.Mean - model.MeanWork) < 4 * meanWork.StandardError + 2e-3, $"<W> = {meanWork} vs {model.MeanWork}");
        var total = energetics.MeanTotalEntropy!.Value;
        Assert.True(Math.Abs(total.Mean - model.TotalEntropyProduction!.Value) < 4 * total.StandardError + 2e-3,
            $"<Delta s_tot> = {total} vs {model.TotalEntropyProduction}");
        var jarzynski = MeanEstimate.Of(energetics.Work, w => Math.Exp(-w));
        Assert.True(Math.Abs(jarzynski.Mean - Math.Exp(-model.FreeEnergyChange)) < 4 * jarzynski.StandardError + 2e-3, $"<exp(-W)> = {jarzynski}");
        Assert.True(meanWork.Mean > model.FreeEnergyChange);
    }
}
