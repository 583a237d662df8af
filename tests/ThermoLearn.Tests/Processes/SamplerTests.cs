using ThermoLearn.Processes;
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

    [Fact]
    public void TokensStayInRangeAndImpossibleTransitionsNeverOccur()
    {
        var p = StandardProcesses.Rrxor();
        var tokens = new ProcessSampler(p).Sample(2000, 12, seed: 5);
        var beliefs = p.BeliefsAlong(tokens, 2000, 12); // throws if any sampled sequence had probability 0
        Assert.Equal(2000 * 12 * 5, beliefs.Length);
    }
}
