using ThermoLearn.Models;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using Xunit;

namespace ThermoLearn.Tests.Models;

public class MarkovModelTests
{
    [Theory]
    [InlineData(0.5, 0.016376)]
    [InlineData(1.0, 0.062364)]
    [InlineData(1.5, 0.130566)]
    [InlineData(2.0, 0.213069)]
    public void FlashingRatchetPinsTheSpecValues(double v, double expected)
    {
        Assert.Equal(expected, DiscreteMarkovChain.FlashingRatchet(v).EntropyProductionPerStep, 6);
    }

    [Fact]
    public void DrivenRingHasTheSchnakenbergRate()
    {
        // Uniform ring with clockwise rate a and anticlockwise b: p uniform, sigma = (a - b) ln(a / b).
        var ring = new MarkovJumpProcess(new double[,] { { 0, 2, 1 }, { 1, 0, 2 }, { 2, 1, 0 } });
        Assert.All(ring.StationaryDistribution, p => Assert.Equal(1.0 / 3, p, 12));
        Assert.Equal((2 - 1) * Math.Log(2), ring.EntropyProductionRateValue, 12);
        // Detailed balance gives zero.
        var balanced = new MarkovJumpProcess(new double[,] { { 0, 1, 2 }, { 2, 0, 4 }, { 1, 1, 0 } });
        Assert.Equal(0, balanced.EntropyProductionRateValue, 12);
    }

    [Fact]
    public void TransitionMatrixIsTheExponentialOfTheGenerator()
    {
        // Two states with rates a (0 -> 1) and b (1 -> 0): P_01(t) = a/(a+b) (1 - e^{-(a+b) t}).
        var mjp = new MarkovJumpProcess(new double[,] { { 0, 3 }, { 1.5, 0 } });
        var p = mjp.TransitionMatrix(0.7);
        Assert.Equal(3 / 4.5 * -double.ExpM1(-4.5 * 0.7), p[0, 1], 12);
        Assert.Equal(1, p[1, 0] + p[1, 1], 12);
    }

    /// <summary>Occupation of a 3-state ring from Gillespie and fixed-step sampling vs the stationary law (4 stderr).</summary>
    [Fact]
    public void SamplersReproduceTheStationaryLaw()
    {
        var mjp = new MarkovJumpProcess(new double[,] { { 0, 2, 0.5 }, { 1, 0, 3 }, { 0.7, 1, 0 } });
        var p = mjp.StationaryDistribution;
        var ensemble = mjp.SampleFixedStep(new SimulationOptions { Trajectories = 2000, Steps = 20, Dt = 0.5, SaveEvery = 20, Seed = 4 });
        var gillespieFinal = Enumerable.Range(0, 2000).Select(i => mjp.Gillespie(4, i, 10.0)).Select(path => path.States[^1]).ToArray();
        for (int s = 0; s < 3; s++)
        {
            var fixedStep = MeanEstimate.Of(Enumerable.Range(0, 2000).Select(i => ensemble.Frame(i, 1)[0] == s ? 1.0 : 0.0));
            Assert.True(Math.Abs(fixedStep.Mean - p[s]) < 4 * fixedStep.StandardError, $"fixed step state {s}: {fixedStep} vs {p[s]}");
            var gillespie = MeanEstimate.Of(gillespieFinal.Select(x => x == s ? 1.0 : 0.0));
            Assert.True(Math.Abs(gillespie.Mean - p[s]) < 4 * gillespie.StandardError, $"Gillespie state {s}: {gillespie} vs {p[s]}");
        }
    }

    /// <summary>Ratchet EP per step estimated from sampled transition counts (plug-in) vs exact, 1e6 transitions.</summary>
    [Fact]
    public void RatchetSamplesCarryTheExactEntropyProduction()
    {
        var chain = DiscreteMarkovChain.FlashingRatchet(2);
        var e = chain.Sample(new SimulationOptions { Trajectories = 100, Steps = 10000, Dt = 1, Seed = 8 });
        var counts = new double[6, 6];
        for (int i = 0; i < e.Trajectories; i++)
            for (int f = 0; f + 1 < e.Frames; f++) counts[(int)e.Frame(i, f)[0], (int)e.Frame(i, f + 1)[0]]++;
        double total = e.Transitions, sigma = 0;
        for (int a = 0; a < 6; a++)
            for (int b = 0; b < 6; b++)
                if (counts[a, b] > 0) sigma += counts[a, b] / total * Math.Log(counts[a, b] / counts[b, a]);
        // The plug-in estimate's spread at 1e6 transitions is ~ sqrt(2 sigma / n) ~ 7e-4; allow 5e-3.
        Assert.Equal(chain.EntropyProductionPerStep, sigma, 0.005);
        Assert.Equal(e.Data, chain.Sample(new SimulationOptions { Trajectories = 100, Steps = 10000, Dt = 1, Seed = 8, MaxDegreeOfParallelism = 1 }).Data);
    }

    [Fact]
    public void BadRateMatricesAreInvalidInput()
    {
        Assert.Throws<InvalidInputException>(() => new MarkovJumpProcess(new double[,] { { 0, 1 }, { 0, 0 } }));
        Assert.Throws<InvalidInputException>(() => new MarkovJumpProcess(new double[,] { { 0, -1 }, { 1, 0 } }));
        Assert.Throws<InvalidInputException>(() => new DiscreteMarkovChain(new double[,] { { 0.5, 0.6 }, { 0.5, 0.5 } }));
    }
}
