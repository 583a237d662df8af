using ThermoLearn.Processes;
using ThermoLearn.Randomness;
using Xunit;

namespace ThermoLearn.Tests.Processes;

public class SamplerTests
{
    [Fact]
    public void SameSeedSameSequencesForAnySplitAndThreadCount()
    {
        var sampler = new ProcessSampler(StandardProcesses.Mess3(0.05, 0.85));
        var all = sampler.Sample(30_000, 11, seed: 42);   // large enough to run in parallel
        var a = sampler.Sample(100, 11, seed: 42);
        var b = sampler.Sample(50, 11, seed: 42, firstSequence: 100);
        Assert.Equal(all.AsSpan(0, 1100).ToArray(), a);
        Assert.Equal(all.AsSpan(1100, 550).ToArray(), b);
        Assert.NotEqual(a, sampler.Sample(100, 11, seed: 43));
    }

    /// <summary>
    /// Word frequencies of length 3 match P(w) (sequences are started from pi, so every window position has the
    /// stationary law). Each of the 27 counts is tested at 4.5 binomial standard errors: false-failure rate
    /// below 27 x 7e-6 = 2e-4 per run (fixed seed, so in practice deterministic).
    /// </summary>
    [Theory]
    [InlineData("mess3_neurips")]
    [InlineData("rrxor")]
    [InlineData("tom_quantum")]
    public void WordFrequenciesMatchExactProbabilities(string name)
    {
        var p = MixedStateTests.Named(name);
        int n = 40_000, length = 3;
        var tokens = new ProcessSampler(p).Sample(n, length, seed: 2024);
        int v = p.Tokens, words = v * v * v;
        var counts = new int[words];
        for (int s = 0; s < n; s++) counts[(tokens[s * 3] * v + tokens[s * 3 + 1]) * v + tokens[s * 3 + 2]]++;
        for (int code = 0; code < words; code++)
        {
            int[] w = [code / (v * v), code / v % v, code % v];
            double q = p.WordProbability(w);
            double se = Math.Sqrt(n * q * (1 - q));
            Assert.True(Math.Abs(counts[code] - n * q) <= 4.5 * se + 1e-9, $"{name} word {string.Join("", w)}: {counts[code]} vs {n * q:F1} +- {se:F1}");
        }
    }

    /// <summary>
    /// The joint belief sampler: x inverted from the cumulative next-token law P(x | eta) with one uniform of
    /// RandomStream.For(seed, n) per token, eta updated on the whole (composite) process.
    /// </summary>
    private static int[] JointBeliefSample(HiddenMarkovProcess p, int sequences, int length, ulong seed)
    {
        var tokens = new int[sequences * length];
        var law = new double[p.Tokens];
        var next = new double[p.States];
        for (int n = 0; n < sequences; n++)
        {
            var rng = RandomStream.For(seed, (ulong)n);
            var eta = p.RootBelief();
            for (int t = 0; t < length; t++)
            {
                p.NextTokenLaw(eta, law);
                double u = rng.NextDouble(), c = 0;
                int x = -1, last = 0;
                for (int y = 0; y < law.Length && x < 0; y++)
                {
                    if (!(law[y] > HiddenMarkovProcess.ZeroProbability)) continue;
                    last = y;
                    c += law[y];
                    if (u < c) x = y;
                }
                tokens[n * length + t] = x < 0 ? last : x;
                p.Update(eta, tokens[n * length + t], next);
                (eta, next) = (next, eta);
            }
        }
        return tokens;
    }

    /// <summary>
    /// An independent product with a GHMM factor is sampled factor by factor (the uniform's remainder passed on in radix
    /// order): the same law as the joint belief sampler, and the same tokens unless a uniform falls within round-off of
    /// a cumulative boundary (about 1e-16 per token, so none expected in 30,000 tokens).
    /// </summary>
    [Theory]
    [InlineData("mess3*tom_quantum", 2000)]
    [InlineData("mess3*mess3*mess3*tom_quantum*tom_quantum", 300)]
    [InlineData("tom_quantum*mess3", 2000)]
    public void GhmmProductSampledByFactorsMatchesTheJointBeliefSampler(string spec, int sequences)
    {
        var p = ProcessCatalog.Create(spec);
        Assert.True(p.IsGeneralized && p.IndependentFactors.Count > 1);
        var factorwise = new ProcessSampler(p).Sample(sequences, 11, seed: 9);
        Assert.Equal(JointBeliefSample(p, sequences, 11, seed: 9), factorwise);
    }

    [Fact]
    public void TokensStayInRangeAndImpossibleTransitionsNeverOccur()
    {
        var p = StandardProcesses.Rrxor();
        var tokens = new ProcessSampler(p).Sample(2000, 12, seed: 5);
        var beliefs = p.BeliefsAlong(tokens, 2000, 12); // throws if any sampled sequence had probability 0
        Assert.Equal(2000 * 12 * 5, beliefs.Length);
    }
}
