using FsCheck;
using FsCheck.Fluent;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Processes;
using ThermoLearn.Simulation;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Properties;

/// <summary>
/// FsCheck property tests (issue 15): format round trips for random shapes and values; invariances of the EP
/// estimator that hold exactly in exact arithmetic (so the tolerances are rounding, not statistics); normalisation
/// and stationarity of hidden Markov processes built from random stochastic matrices.
/// </summary>
public sealed class PropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(25);

    /// <summary>Random shape (1-4 trajectories, 1-6 frames, 1-3 coordinates), dt, start time and values of any magnitude.</summary>
    private static Gen<TrajectoryEnsemble> Ensembles(bool finiteOnly) =>
        from n in Gen.Choose(1, 4)
        from f in Gen.Choose(1, 6)
        from d in Gen.Choose(1, 3)
        from exponent in Gen.Choose(-300, 300)
        from seed in Gen.Choose(0, int.MaxValue)
        from dtExponent in Gen.Choose(-6, 3)
        select Make(n, f, d, Math.Pow(10, dtExponent) * 1.2345, seed, exponent, finiteOnly);

    private static TrajectoryEnsemble Make(int n, int f, int d, double dt, int seed, int exponent, bool finiteOnly)
    {
        var random = new Random(seed);
        var data = new double[n * f * d];
        int range = Math.Abs(exponent);   // magnitudes 10^-range .. 10^range
        for (int i = 0; i < data.Length; i++)
            data[i] = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-range, range + 1));
        if (!finiteOnly && data.Length > 2) { data[0] = -0.0; data[1] = double.Epsilon; }
        return new TrajectoryEnsemble(n, f, d, dt, data, new TrajectoryMetadata("driven-trap-2d", null, (ulong)seed), startTime: seed % 7 * 0.5);
    }

    [Theory]
    [InlineData(".npy")]
    [InlineData(".csv")]
    [InlineData(".h5")]
    [InlineData(".parquet")]
    public void EveryFormatRoundTripsRandomShapesAndValuesBitForBit(string extension)
    {
        string folder = Directory.CreateTempSubdirectory("thermolearn-prop-").FullName;
        try
        {
            int k = 0;
            Prop.ForAll(Ensembles(finiteOnly: extension == ".csv").ToArbitrary(), e =>
            {
                string path = Path.Combine(folder, $"p{k++}{extension}");
                TrajectoryFile.Write(path, e);
                var back = TrajectoryFile.Read(path, e.Frames == 1 ? e.Dt : null);
                Assert.Equal((e.Trajectories, e.Frames, e.Dimension), (back.Trajectories, back.Frames, back.Dimension));
                Assert.True(e.Data.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(back.Data.Select(BitConverter.DoubleToInt64Bits)), "values differ");
                Assert.Equal(e.Dt, back.Dt, 1e-12 * e.Dt);
            }).Check(Runs);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    private static readonly Lazy<TrajectoryEnsemble> DrivenTrap = new(() =>
        Simulator.Run(ModelCatalog.Create("driven-trap-2d"), new SimulationOptions { Trajectories = 40, Steps = 400, Dt = 0.01, Seed = 11 }).Trajectories);

    private static double Rate(TrajectoryEnsemble data) =>
        EntropyProductionEstimator.Current(data, new PolynomialBasis(data.Dimension, 2), DiffusionSpec.Estimated).EntropyProduction.Rate;

    private static TrajectoryEnsemble Scaled(TrajectoryEnsemble e, double space, double time) =>
        new(e.Trajectories, e.Frames, e.Dimension, e.Dt * time, e.Data.Select(x => x * space).ToArray(), e.Metadata, e.StartTime * time);

    /// <summary>
    /// sigma = v^T D^-1 v is dimensionless per unit time: x -> c x scales v and D by c and c^2 and leaves sigma as it is; the
    /// poly:2 span is closed under rescaling, so the estimate is invariant up to rounding (relative 1e-7 for c in [1e-3, 1e3]).
    /// </summary>
    [Fact]
    public void EntropyProductionIsUnchangedByRescalingSpace()
    {
        double reference = Rate(DrivenTrap.Value);
        Prop.ForAll(Gen.Choose(-3000, 3000).Select(e => Math.Pow(10, e / 1000.0)).ToArbitrary(), c =>
        {
            double scaled = Rate(Scaled(DrivenTrap.Value, c, 1));
            Assert.True(Math.Abs(scaled - reference) <= 1e-7 * Math.Abs(reference), $"c = {c}: {scaled} vs {reference}");
        }).Check(Runs);
    }

    /// <summary>t -> c t (every frame spacing times c): velocities scale 1/c, D scales 1/c, so the rate sigma scales exactly 1/c.</summary>
    [Fact]
    public void EntropyProductionRateScalesAsOneOverCUnderTimeRescaling()
    {
        double reference = Rate(DrivenTrap.Value);
        Prop.ForAll(Gen.Choose(-3000, 3000).Select(e => Math.Pow(10, e / 1000.0)).ToArbitrary(), c =>
        {
            double scaled = Rate(Scaled(DrivenTrap.Value, 1, c));
            Assert.True(Math.Abs(scaled * c - reference) <= 1e-9 * Math.Abs(reference), $"c = {c}: {scaled} * c vs {reference}");
        }).Check(Runs);
    }

    /// <summary>Random stochastic tensors T[x, i, j] (rows over (x, j) sum to 1): the stationary law is normalised, non-negative and invariant, pi sum_x T[x] = pi.</summary>
    [Fact]
    public void HiddenMarkovProcessesFromRandomStochasticMatricesAreNormalisedAndStationary()
    {
        var gen = from tokens in Gen.Choose(1, 4)
                  from states in Gen.Choose(1, 5)
                  from seed in Gen.Choose(0, int.MaxValue)
                  select (tokens, states, seed);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var (v, s, seed) = c;
            var random = new Random(seed);
            var t = new double[v * s * s];
            for (int i = 0; i < s; i++)
            {
                double sum = 0;
                for (int x = 0; x < v; x++)
                    for (int j = 0; j < s; j++) sum += t[(x * s + i) * s + j] = 0.05 + random.NextDouble();   // all positive: irreducible, one stationary law
                for (int x = 0; x < v; x++)
                    for (int j = 0; j < s; j++) t[(x * s + i) * s + j] /= sum;
            }
            var hmm = new HiddenMarkovProcess("random", v, s, t);
            var pi = hmm.Stationary.ToArray();
            Assert.Equal(1.0, pi.Sum(), 12);
            Assert.All(pi, p => Assert.True(p >= 0));
            for (int j = 0; j < s; j++)
            {
                double next = 0;
                for (int i = 0; i < s; i++)
                    for (int x = 0; x < v; x++) next += pi[i] * hmm[x, i, j];
                Assert.Equal(pi[j], next, 12);
            }
            var law = hmm.NextTokenLaw(hmm.RootBelief());
            Assert.Equal(1.0, law.Sum(), 12);
        }).Check(Runs);
    }

    /// <summary>
    /// Along random words, every belief update of a random HMM stays a probability vector (non-negative, summing to 1) and
    /// the token probabilities P(x | eta) it returns sum to 1 over x: normalisation holds at every step, not only at pi.
    /// </summary>
    [Fact]
    public void BeliefUpdatesAlongRandomWordsStayNormalised()
    {
        var gen = from tokens in Gen.Choose(1, 4)
                  from states in Gen.Choose(1, 5)
                  from length in Gen.Choose(1, 30)
                  from seed in Gen.Choose(0, int.MaxValue)
                  select (tokens, states, length, seed);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var (v, s, length, seed) = c;
            var random = new Random(seed);
            var t = new double[v * s * s];
            for (int i = 0; i < s; i++)
            {
                double sum = 0;
                for (int x = 0; x < v; x++)
                    for (int j = 0; j < s; j++) sum += t[(x * s + i) * s + j] = 0.05 + random.NextDouble();
                for (int x = 0; x < v; x++)
                    for (int j = 0; j < s; j++) t[(x * s + i) * s + j] /= sum;
            }
            var hmm = new HiddenMarkovProcess("random", v, s, t);
            var eta = hmm.RootBelief();
            var next = new double[s];
            for (int k = 0; k < length; k++)
            {
                double total = 0;
                for (int x = 0; x < v; x++) total += hmm.Update(eta, x, next);
                Assert.Equal(1.0, total, 12);
                hmm.Update(eta, random.Next(v), next);   // every token has positive probability here (all entries > 0)
                Assert.Equal(1.0, next.Sum(), 12);
                Assert.All(next, p => Assert.True(p >= 0));
                next.CopyTo(eta, 0);
            }
        }).Check(Runs);
    }
}
