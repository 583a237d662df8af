using ThermoLearn.Processes;
using ThermoLearn.Processes.Geometry;
using ThermoLearn.Statistics;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Processes.Geometry;

/// <summary>
/// What the factored and joint hypotheses predict, computed from the processes themselves (mixed-state presentations
/// and exact beliefs), before any network is trained: the affine dimension of each factor's belief set, and whether
/// a coupled product's joint belief is still the Kronecker product of its factor beliefs (docs/beliefs.md).
/// </summary>
public class FactoredBeliefGeometryTests(ITestOutputHelper output)
{
    /// <summary>Largest |eta - eta_0 (x) eta_1| over the rows: 0 when the joint belief factorises.</summary>
    /// <summary>Largest |eta - m0 (x) m1| over the presentation's mixed states (m_i the marginals of eta).</summary>
    private static double KroneckerDeviation(MixedStatePresentation msp, IReadOnlyList<int> factorStates)
    {
        double max = 0;
        for (int s = 0; s < msp.StateCount; s++) max = Math.Max(max, KroneckerDeviation(msp.Belief(s), factorStates));
        return max;
    }

    private static double KroneckerDeviation(ReadOnlySpan<double> eta, IReadOnlyList<int> factorStates)
    {
        var product = ProcessComposition.Kronecker(ProcessComposition.MarginalBelief(eta, factorStates, 0), ProcessComposition.MarginalBelief(eta, factorStates, 1));
        double max = 0;
        for (int j = 0; j < product.Length; j++) max = Math.Max(max, Math.Abs(product[j] - eta[j]));
        return max;
    }

    private static double KroneckerDeviation(BeliefDataset data)
    {
        var marginals = FactoredGeometry.Marginals(data.Beliefs, data.FactorStates);
        double max = 0;
        for (int r = 0; r < data.RowCount; r++)
        {
            var product = ProcessComposition.Kronecker(marginals[0].Row(r), marginals[1].Row(r));
            for (int j = 0; j < product.Length; j++) max = Math.Max(max, Math.Abs(product[j] - data.Beliefs[r, j]));
        }
        return max;
    }

    [Fact]
    public void RrxorBeliefsSpanFourDimensions()
    {
        // RRXOR's 36 mixed states (5 recurrent, one-hot) span the whole 4-dimensional simplex of its 5 states: d - 1 = 4,
        // so Mess3 x RRXOR predicts sum_i (d_i - 1) = 2 + 4 = 6 factored dimensions (joint: 3 * 5 - 1 = 14).
        var msp = MixedStatePresentation.Build(StandardProcesses.Rrxor(0.5, 0.5), 12);
        Assert.Equal(36, msp.StateCount);
        var rows = Enumerable.Range(0, msp.StateCount).SelectMany(s => msp.Belief(s).ToArray()).ToArray();
        var uniform = Enumerable.Repeat(1.0, msp.StateCount).ToArray();
        Assert.Equal(4, WeightedPca.Fit(new RowMatrix(msp.StateCount, 5, rows), uniform).Rank());
        // Weighted by prefix probability over the prefixes a model sees (lengths 1..10), the span is still 4-dimensional and
        // no direction is negligible: the smallest of the 4 variances holds 17 % of the total.
        var data = BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(StandardProcesses.Rrxor(0.5, 0.5), 10), 10);
        var spectrum = WeightedPca.Fit(data.Beliefs, data.RowWeights);
        output.WriteLine($"RRXOR belief spectrum (n_ctx 10): {string.Join(", ", spectrum.ExplainedRatio.Select(r => r.ToString("F4")))}");
        Assert.Equal(4, spectrum.Rank());
        Assert.True(spectrum.ExplainedRatio[3] > 0.15, $"4th variance share {spectrum.ExplainedRatio[3]}");
    }

    [Fact]
    public void AnIdealFactoredCodeOfMess3TimesRrxorHasCentroidDimensionSix()
    {
        // The centroid dimension a perfectly trained factored network would show: activations = the concatenated factor
        // beliefs (an isometric linear image), through the same (position, last token) baseline and belief-explained
        // projection as a model's residual stream. 6 = 2 + 4 at 95 % (and 99 %): nothing of RRXOR's 4 dimensions is lost.
        var process = ProcessCatalog.Create("mess3*rrxor", ["x=0.05", "a=0.85"]);
        Assert.Equal(new[] { 3, 5 }, process.FactorStates);
        var data = BeliefDataset.Sample(process, 10, 2000, 3);
        var code = RowMatrix.ConcatenateColumns(FactoredGeometry.Marginals(data.Beliefs, data.FactorStates));
        var dimension = BeliefCentroids.Compute(code, data).Dimension(code, data, replicates: 10, seed: 1).BeliefExplained;
        output.WriteLine($"ideal factored code: d80/90/95/99 {dimension.Pca.For80}/{dimension.Pca.For90}/{dimension.Pca.For95}/{dimension.Pca.For99}, PR {dimension.Pca.ParticipationRatio:F3}");
        Assert.Equal(6, dimension.Pca.For95);
        Assert.Equal(6, dimension.Pca.For99);
    }

    [Fact]
    public void TrueGeometryOfMess3TimesRrxor()
    {
        // The same measure on the true beliefs (TrueBeliefGeometry): the factor beliefs fill their rank bound 2 + 4 = 6 at
        // 95 %, but the next-token laws, all a final layer must carry, span 2 + 1 = 3: RRXOR's law over its two tokens
        // depends on its belief only through P(next = 1) = (b_S + b_0 + b_1) / 2 + b_T.
        var data = BeliefDataset.Sample(ProcessCatalog.Create("mess3*rrxor", ["x=0.05", "a=0.85"]), 10, 2000, 3);
        var truth = TrueBeliefGeometry.Compute(data, replicates: 4, seed: 1);
        output.WriteLine($"factor beliefs {truth.FactorBeliefs.BeliefExplained.Pca.For95}, joint {truth.JointBelief.BeliefExplained.Pca.For95}, next-token laws {truth.NextTokenLaws.BeliefExplained.Pca.For95}");
        Assert.Equal((6, 14, 3), (truth.FactoredRank, truth.JointRank, truth.NextTokenRank));
        Assert.Equal(6, truth.FactorBeliefs.BeliefExplained.Pca.For95);
        Assert.Equal(3, truth.NextTokenLaws.BeliefExplained.Pca.For95);
        // The joint belief's products spread its variance over nearly all of its 14 directions.
        Assert.InRange(truth.JointBelief.BeliefExplained.Pca.For95, 12, 14);
        // The scale-free rank counts every direction of the code: exactly 6 for the factor beliefs, and the joint belief's
        // affine rank for the joint one (13 or 14: the reachable joint beliefs may not fill all 14).
        output.WriteLine($"scale-free rank: factor beliefs {truth.FactorBeliefs.Rank!.Rank} of {truth.FactorBeliefs.Rank.MaxRank}, joint {truth.JointBelief.Rank!.Rank} of {truth.JointBelief.Rank.MaxRank}");
        Assert.Equal(6, truth.FactorBeliefs.Rank!.Rank);
        Assert.InRange(truth.JointBelief.Rank!.Rank, 13, 14);
        // Split: the factor beliefs are all factored part; the joint belief adds its products beyond the 6 factored directions.
        var (factorSplit, jointSplit) = (truth.FactorBeliefs.RankSplit!, truth.JointBelief.RankSplit!);
        output.WriteLine($"split: factor beliefs {factorSplit.Factored.Rank} + {factorSplit.JointExcess.Rank}, joint belief {jointSplit.Factored.Rank} + {jointSplit.JointExcess.Rank} "
            + $"adding {jointSplit.ExcessShare:G4} +- {jointSplit.ExcessShareStandardError:G3}");
        Assert.Equal((6, 0), (factorSplit.Factored.Rank, factorSplit.JointExcess.Rank));
        Assert.Equal(6, jointSplit.Factored.Rank);
        Assert.InRange(jointSplit.JointExcess.Rank, 7, 8);
        // The next-token laws explain all of a code that is their own image, and only part of an ideal factored code,
        // whose RRXOR directions beyond P(next = 1) they do not reach.
        var laws = data.FactorNextTokenLaws();
        Assert.True(BeliefCentroids.Compute(laws, data).ExplainedShare(laws, data) > 1 - 1e-9);
        var code = RowMatrix.ConcatenateColumns(FactoredGeometry.Marginals(data.Beliefs, data.FactorStates));
        double share = BeliefCentroids.Compute(code, data).ExplainedShare(laws, data);
        output.WriteLine($"next-token share of an ideal factored code: {share:F4}");
        Assert.InRange(share, 0.2, 0.8);
        // A single Mess3 (an exact dataset): belief and next-token law are affine images of each other, both 2-dimensional.
        var mess3 = TrueBeliefGeometry.Compute(BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(StandardProcesses.Mess3(0.05, 0.85), 6), 6), replicates: 2, seed: 1);
        Assert.Equal((2, 2, 2), (mess3.FactoredRank, mess3.JointRank, mess3.NextTokenRank));
        Assert.Equal(2, mess3.NextTokenLaws.BeliefExplained.Pca.For95);
    }

    [Fact]
    public void TokenChainCouplingKeepsTheJointBeliefAKroneckerProduct()
    {
        // Chain coupling by the token: T^(t0,t1) = T0[t0] (x) T1^(c(t0))[t1]. For eta = e0 (x) e1,
        // eta T^(t0,t1) = (e0 T0[t0]) (x) (e1 T1^(c(t0))[t1]), and the normaliser factorises too, so the update keeps a
        // Kronecker product; the root is one as well (every Mess3 variant has the same state transitions, so
        // sum_t1 T1^(k)[t1] does not depend on k and pi = pi0 (x) pi1). Factor 1's belief is driven by factor 0's
        // token, which the observer sees: the joint belief is a function of the two factor beliefs, exactly as for an
        // independent product, and a factored representation loses nothing. Checked on every prefix up to length 4.
        var chain = ProcessCatalog.Create("mess3>mess3", ["x=0.05", "0:a=0.85", "1.0:a=0.9", "1.1:a=0.6", "1.2:a=0.3"]);
        var exact = BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(chain, 4), 4);
        Assert.Equal(9 + 81 + 729 + 6561, exact.RowCount);
        Assert.True(KroneckerDeviation(exact) < 1e-12, $"largest deviation {KroneckerDeviation(exact)}");
        // Longer prefixes (length 10, sampled) too.
        Assert.True(KroneckerDeviation(BeliefDataset.Sample(chain, 10, 500, 5)) < 1e-12);
        // And every mixed state of the presentation, to depth 5 and 71,434 states in all: round-off only.
        Assert.True(KroneckerDeviation(MixedStatePresentation.Build(chain, 5, closureBudget: 5000), chain.FactorStates) < 1e-12);
        // Variants that differ in their state dynamics (x) too: what the root needs is that they share the stationary
        // law pi1 (so (pi0 (x) pi1) sum_t T^(t) = pi0 (x) pi1); Mess3's is uniform for every x and a.
        var xChain = ProcessCatalog.Create("mess3>mess3", ["a=0.85", "0:x=0.05", "1.0:x=0.02", "1.1:x=0.15", "1.2:x=0.3"]);
        Assert.True(KroneckerDeviation(MixedStatePresentation.Build(xChain, 5, closureBudget: 5000), xChain.FactorStates) < 1e-12);
        // Noise coupling does break it: (1 - e) T + e/(V S) 1 1^T is no Kronecker product.
        var noisy = ProcessCatalog.Create("mess3*mess3", ["x=0.05", "a=0.85", "noise=0.1"]);
        double noise = KroneckerDeviation(BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(noisy, 4), 4));
        output.WriteLine($"noise 0.1: largest |eta - eta0 (x) eta1| {noise:G4}");
        Assert.True(noise > 0.01, $"noise-coupled deviation {noise}");
    }

    [Fact]
    public void HiddenStateChainCouplingLeavesTheKroneckerProducts()
    {
        // Chain coupling through the hidden state: T^(t0,t1)[(s0,s1),(s0',s1')] = T0[t0][s0,s0'] T1^(c(s0))[t1][s1,s1'].
        // The likelihood of factor 1's token depends on s0, which the observer does not see, so the update of a product
        // belief e0 (x) e1 is sum_s0 e0[s0] (T0[t0] row s0) (x) (e1 T1^(c(s0))[t1]): a sum of products, not one.
        // The root is still a product (every variant keeps Mess3's uniform law), so the coupling shows from the first token.
        var chain = ProcessCatalog.Create("mess3>>mess3", ["x=0.05", "0:a=0.85", "1.0:a=0.9", "1.1:a=0.6", "1.2:a=0.3"]);
        Assert.True(KroneckerDeviation(chain.RootBelief(), chain.FactorStates) < 1e-12);
        double presentation = KroneckerDeviation(MixedStatePresentation.Build(chain, 5, closureBudget: 5000), chain.FactorStates);
        // It does not fade with the context: the mean deviation at the last position of 400 sampled sequences of length
        // 32 (measured 0.0083, its se about 0.0004 over the sequences) against the same at length 4 (0.0099).
        double Mean(int length)
        {
            var d = BeliefDataset.Sample(chain, length, 400, 3);
            var last = Enumerable.Range(0, d.RowCount).Where(r => d.RowPosition[r] == length - 1).ToArray();
            return last.Average(r => KroneckerDeviation(d.RowBelief(r), chain.FactorStates));
        }
        double at4 = Mean(4), at32 = Mean(32);
        output.WriteLine($"state chain: largest |eta - e0 (x) e1| over the presentation (depth 5) {presentation:G4}; mean at the last position, length 4: {at4:G4}, length 32: {at32:G4}");
        Assert.True(presentation > 0.05, $"largest deviation {presentation}");
        Assert.True(at32 > 0.5 * at4 && at32 > 0.004, $"mean deviation {at4} at length 4, {at32} at length 32");
    }
}
