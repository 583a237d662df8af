using ThermoLearn.Processes;
using Xunit;
using static ThermoLearn.Tests.Processes.ProcessDefinitionTests;

namespace ThermoLearn.Tests.Processes;

/// <summary>Spec section 3: mixed-state presentations, belief paths, word probabilities.</summary>
public class MixedStateTests
{
    private const double Derived = 1e-6;

    [Fact]
    public void RrxorPresentationCounts()
    {
        var msp = MixedStatePresentation.Build(StandardProcesses.Rrxor(), 12);
        Assert.True(msp.IsFinite);
        Assert.Equal(36, msp.StateCount);
        Assert.Equal(5, msp.RecurrentStates);
        Assert.Equal([1L, 2, 4, 8, 16, 28, 52, 92, 148, 260, 436, 676, 1156], msp.WordCounts);
        Assert.Equal([1, 2, 4, 8, 12, 17, 17], msp.DistinctPerDepth.Take(7));
        Assert.All(msp.DistinctPerDepth.Skip(6), d => Assert.Equal(17, d));
        Assert.Equal([1, 3, 7, 15, 27, 34, 36], msp.CumulativeDistinct.Take(7));
        Assert.Equal(1723, MixedStatePresentation.Build(StandardProcesses.Rrxor(), 11).TreeNodes);
    }

    [Fact]
    public void Z1RPresentationCounts()
    {
        var msp = MixedStatePresentation.Build(StandardProcesses.Z1R(), 10);
        Assert.True(msp.IsFinite);
        Assert.Equal(7, msp.StateCount);
        Assert.Equal(3, msp.RecurrentStates);
        Assert.Equal([2L, 4, 6, 8, 10, 12, 16, 20, 24, 32], msp.WordCounts.Skip(1));
    }

    [Fact]
    public void Mess3HasThreeToTheLDistinctBeliefsPerDepth()
    {
        var msp = MixedStatePresentation.Build(StandardProcesses.Mess3(0.15, 0.6), 9, closureBudget: 1000);
        Assert.False(msp.IsFinite);
        Assert.Null(msp.RecurrentStates);
        Assert.Null(msp.StatisticalComplexity);
        for (int l = 0; l <= 9; l++) Assert.Equal((int)Math.Pow(3, l), msp.DistinctPerDepth[l]);
    }

    [Theory]
    [InlineData(1e-9, 10)]
    [InlineData(1e-6, 6)]
    [InlineData(1e-4, 6)]
    public void BeliefsMergedOnlyByTheGridDoNotMakeAFinitePresentation(double tolerance, int depth)
    {
        // Mess3(0.3, 0.2) contracts its beliefs below the grid within ten tokens, so the set "closed" with 160 (1e-4) to
        // tens of thousands (1e-9) of states and tolerance-dependent C_mu (3.17, 7.30 bits) reported as exact; at 1e-9 the
        // dense stationary law of the would-be causal states ran for hours.
        var process = StandardProcesses.Mess3(0.3, 0.2);
        var msp = MixedStatePresentation.Build(process, depth, tolerance);
        Assert.False(msp.IsFinite);
        Assert.Null(msp.StatisticalComplexity);
        Assert.Null(msp.RecurrentStates);
        var measures = InformationMeasures.Compute(process, 12, tolerance);
        Assert.False(measures.IsExact);
        Assert.Null(measures.StatisticalComplexity);
    }

    [Fact]
    [Trait("Category", "Validation")]
    public void Mess3HasThreeToTheLDistinctBeliefsThroughDepth11()
    {
        var msp = MixedStatePresentation.Build(StandardProcesses.Mess3(0.15, 0.6), 11, closureBudget: 0);
        for (int l = 0; l <= 11; l++) Assert.Equal((int)Math.Pow(3, l), msp.DistinctPerDepth[l]);
    }

    [Fact]
    public void Z1RBeliefPaths()
    {
        var z = StandardProcesses.Z1R();
        AssertVector([1.0 / 3, 2.0 / 3, 0], z.BeliefAfter([0]));
        AssertVector([1.0 / 3, 0, 2.0 / 3], z.BeliefAfter([1]));
        AssertVector([0.5, 0.5, 0], z.BeliefAfter([1, 0]));
        // Every other positive-probability word of length 2..6 ends in a one-hot belief.
        var tree = PrefixTree.Enumerate(z, 6);
        for (int d = 2; d <= 6; d++)
        {
            var level = tree.Level(d);
            var words = level.TokenMatrix();
            for (int k = 0; k < level.Count; k++)
            {
                if (d == 2 && words[k * 2] == 1 && words[k * 2 + 1] == 0) continue;
                var eta = level.Beliefs.AsSpan(k * 3, 3).ToArray();
                Assert.Equal(1.0, eta.Max(), Exact);
                Assert.Equal(1, eta.Count(e => e > Exact));
            }
        }
    }

    [Fact]
    public void RrxorBeliefPath()
    {
        var r = StandardProcesses.Rrxor();
        int[] word = [0, 1, 0, 1, 1, 1];
        double[][] expected =
        [
            [1.0 / 3, 1.0 / 3, 0, 1.0 / 6, 1.0 / 6],
            [1.0 / 3, 0, 1.0 / 3, 1.0 / 3, 0],
            [0, 0.5, 0, 0.5, 0],
            [2.0 / 3, 0, 0, 1.0 / 3, 0],
            [0.5, 0, 0.5, 0, 0],
            [0, 0, 0.5, 0, 0.5],
        ];
        for (int l = 1; l <= word.Length; l++) AssertVector(expected[l - 1], r.BeliefAfter(word.AsSpan(0, l)));
    }

    [Fact]
    public void Mess3BeliefPaths()
    {
        foreach (var (x, a) in new[] { (0.15, 0.6), (0.05, 0.85) })
        {
            var m = StandardProcesses.Mess3(x, a);
            for (int k = 0; k < 3; k++)
            {
                var expected = Enumerable.Repeat((1 - a) / 2, 3).ToArray();
                expected[k] = a;
                AssertVector(expected, m.BeliefAfter([k]));
            }
        }
        var m1 = StandardProcesses.Mess3(0.15, 0.6);
        AssertVector([0.734694, 0.132653, 0.132653], m1.BeliefAfter([0, 0]), Derived);
        AssertVector([0.315789, 0.513158, 0.171053], m1.BeliefAfter([0, 1]), Derived);
        AssertVector([0.492042, 0.290451, 0.217507], m1.BeliefAfter([2, 1, 0]), Derived);
        AssertVector([0.974673, 0.012664, 0.012664], StandardProcesses.Mess3(0.05, 0.85).BeliefAfter([0, 0]), Derived);
    }

    [Fact]
    public void TomQuantumBeliefs()
    {
        var q = StandardProcesses.TomQuantum(1, 4.3);
        AssertVector([0.25, 0.25, 0.25, 0.25], q.NextTokenLaw(q.Stationary));
        AssertVector([1.0 / 3, 0, 0.147084], q.BeliefAfter([0]), Derived);
        var tree = PrefixTree.Enumerate(q, 7);
        for (int d = 1; d <= 7; d++)
        {
            var level = tree.Level(d);
            for (int k = 0; k < level.Count; k++)
            {
                var eta = level.Beliefs.AsSpan(k * 3, 3);
                Assert.Equal(1.0 / 3, eta[0], Exact);
                Assert.True(Math.Sqrt(eta[1] * eta[1] + eta[2] * eta[2]) <= 1.0 / 3 + Exact);
            }
        }
    }

    [Fact]
    public void WordProbabilities()
    {
        Assert.Equal(1.0 / 12, StandardProcesses.Z1R().WordProbability([1, 0, 0, 1, 1, 0]), Exact);
        var m1 = StandardProcesses.Mess3(0.15, 0.6);
        Assert.Equal(0.130667, m1.WordProbability([0, 0]), Derived);
        Assert.Equal(0.030160, m1.WordProbability([0, 1, 2]), Derived);
        var m2 = StandardProcesses.Mess3(0.05, 0.85);
        Assert.Equal(0.224562, m2.WordProbability([0, 0]), Derived);
        Assert.Equal(0.008060, m2.WordProbability([0, 1, 2]), Derived);
        Assert.Equal(1.0, m2.WordProbability([]), Exact);
    }

    public static TheoryData<string> AllProcesses() => new() { "mess3", "mess3_neurips", "rrxor", "z1r", "tom_quantum", "product", "noisy", "chain" };

    internal static HiddenMarkovProcess Named(string name) => name switch
    {
        "mess3" => StandardProcesses.Mess3(0.15, 0.6),
        "mess3_neurips" => StandardProcesses.Mess3(0.05, 0.85),
        "rrxor" => StandardProcesses.Rrxor(),
        "z1r" => StandardProcesses.Z1R(),
        "tom_quantum" => StandardProcesses.TomQuantum(1, 4.3),
        "product" => ProcessComposition.Product(StandardProcesses.Z1R(), StandardProcesses.TomQuantum(1, 4.3)),
        "noisy" => ProcessComposition.WithNoise(ProcessComposition.Product(StandardProcesses.Rrxor(), StandardProcesses.Z1R()), 0.05),
        "chain" => ProcessComposition.Chain([[StandardProcesses.Z1R()], [StandardProcesses.Mess3(0.05, 0.85), StandardProcesses.Mess3(0.15, 0.6)]]),
        _ => throw new ArgumentException(name),
    };

    /// <summary>All V^L words (impossible ones included) for L = 1..8 sum to 1, by direct products of matrices.</summary>
    [Theory]
    [MemberData(nameof(AllProcesses))]
    public void WordProbabilitiesOfEachLengthSumToOne(string name)
    {
        var p = Named(name);
        int maxLength = (int)Math.Min(8, Math.Floor(Math.Log(70_000) / Math.Log(p.Tokens)));
        var word = new int[8];
        for (int l = 1; l <= maxLength; l++)
        {
            long count = (long)Math.Pow(p.Tokens, l);
            double sum = 0;
            for (long code = 0; code < count; code++)
            {
                long rest = code;
                for (int k = l - 1; k >= 0; k--) { word[k] = (int)(rest % p.Tokens); rest /= p.Tokens; }
                sum += p.WordProbability(word.AsSpan(0, l));
            }
            Assert.Equal(1.0, sum, 1e-12);
        }
        // The prefix tree reaches length 8 for all of them; each level sums to 1 as well.
        var tree = PrefixTree.Enumerate(p, name is "product" or "noisy" or "chain" ? 4 : 8);
        for (int d = 0; d <= tree.MaxDepth; d++) Assert.Equal(1.0, tree.Level(d).Probability.Sum(), 1e-12);
    }

    [Fact]
    public void JointBeliefsOfAProductAreKroneckerProductsOfFactorBeliefs()
    {
        var f0 = StandardProcesses.Mess3(0.05, 0.85);
        var f1 = StandardProcesses.TomQuantum(1, 4.3);
        var f2 = StandardProcesses.Rrxor();
        var p = ProcessComposition.Product(f0, f1, f2);
        var rng = new Random(7);
        for (int trial = 0; trial < 50; trial++)
        {
            int length = 1 + trial % 6;
            var w0 = new int[length];
            var w1 = new int[length];
            var w2 = new int[length];
            var joint = new int[length];
            for (int t = 0; t < length; t++)
            {
                w0[t] = rng.Next(3); w1[t] = rng.Next(4);
                // RRXOR words must have positive probability: extend by a possible token.
                var law = f2.NextTokenLaw(t == 0 ? f2.RootBelief() : f2.BeliefAfter(w2.AsSpan(0, t)));
                w2[t] = law[0] > 0 && (law[1] == 0 || rng.Next(2) == 0) ? 0 : 1;
                joint[t] = (w0[t] * 4 + w1[t]) * 2 + w2[t];
            }
            var expected = ProcessComposition.Kronecker(ProcessComposition.Kronecker(f0.BeliefAfter(w0), f1.BeliefAfter(w1)), f2.BeliefAfter(w2));
            var actual = p.BeliefAfter(joint);
            AssertVector(expected, actual);
            // Each factor's marginal contracts the others with their tau vectors (TomQuantum's is (3,0,0), not ones).
            AssertVector(f0.BeliefAfter(w0), ProcessComposition.MarginalBelief(actual, p.FactorStates, 0, p.FactorTaus), 1e-12);
            AssertVector(f1.BeliefAfter(w1), ProcessComposition.MarginalBelief(actual, p.FactorStates, 1, p.FactorTaus), 1e-12);
            AssertVector(f2.BeliefAfter(w2), ProcessComposition.MarginalBelief(actual, p.FactorStates, 2, p.FactorTaus), 1e-12);
            Assert.Equal(f0.WordProbability(w0) * f1.WordProbability(w1) * f2.WordProbability(w2), p.WordProbability(joint), 1e-15);
        }
    }

    /// <summary>
    /// A GHMM factor's beliefs are normalised by eta . tau, not by their sum: contracting TomQuantum's index by a plain
    /// sum (the HMM rule) rescales the other factor's marginal by sum(eta_TQ) / (eta_TQ . tau), which moves with the word.
    /// </summary>
    [Fact]
    public void MarginalOfProductWithGhmmFactorContractsWithTau()
    {
        var f0 = StandardProcesses.Mess3(0.05, 0.85);
        var f1 = StandardProcesses.TomQuantum(1, 4.3);
        var p = ProcessComposition.Product(f0, f1);
        Assert.Equal(2, p.FactorTaus.Count);
        AssertVector([1, 1, 1], p.FactorTaus[0], 0);
        AssertVector(f1.Tau.ToArray(), p.FactorTaus[1], 0);
        int[] w0 = [0, 2, 1], w1 = [2, 3, 0];
        int[] joint = [w0[0] * 4 + w1[0], w0[1] * 4 + w1[1], w0[2] * 4 + w1[2]];
        var eta = p.BeliefAfter(joint);
        var contracted = ProcessComposition.MarginalBelief(eta, p.FactorStates, 0, p.FactorTaus);
        AssertVector(f0.BeliefAfter(w0), contracted, 1e-12);
        var summed = ProcessComposition.MarginalBelief(eta, p.FactorStates, 0);
        double scale = f1.BeliefAfter(w1).Sum() / f1.Normaliser(f1.BeliefAfter(w1));
        AssertVector(f0.BeliefAfter(w0).Select(v => v * scale).ToArray(), summed, 1e-12);
        Assert.True(Math.Abs(scale - 1) > 1e-3, $"the word should move sum(eta_TQ) away from eta_TQ . tau (scale {scale}).");
    }

    /// <summary>Affine rank of the joint beliefs: one Mess3 2; Mess3 x Mess3 8; three Mess3 26 (spec section 5).</summary>
    [Theory]
    [InlineData(1, 4, 2)]
    [InlineData(2, 3, 8)]
    [InlineData(3, 2, 26)]
    public void AffineRankOfJointBeliefs(int factors, int depth, int rank)
    {
        var m = StandardProcesses.Mess3(0.05, 0.85);
        var p = ProcessComposition.Product(Enumerable.Repeat(m, factors).ToArray());
        var tree = PrefixTree.Enumerate(p, depth);
        var rows = new List<double[]>();
        for (int d = 0; d <= depth; d++)
        {
            var level = tree.Level(d);
            for (int k = 0; k < level.Count; k++) rows.Add(level.Beliefs.AsSpan(k * p.States, p.States).ToArray());
        }
        Assert.Equal(rank, AffineRank(rows));
    }

    internal static int AffineRank(List<double[]> points)
    {
        int n = points.Count, dim = points[0].Length;
        var mean = new double[dim];
        foreach (var p in points) for (int i = 0; i < dim; i++) mean[i] += p[i] / n;
        var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, dim, (r, c) => points[r][c] - mean[c]);
        var s = a.Svd(false).S;
        return s.Count(v => v > 1e-9 * s[0]);
    }
}
