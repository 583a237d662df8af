using ThermoLearn.Processes;
using Xunit;

namespace ThermoLearn.Tests.Processes;

/// <summary>Spec section 2: the exact definitions, stationary laws and tau.</summary>
public class ProcessDefinitionTests
{
    internal const double Exact = 1e-12;

    internal static void AssertVector(double[] expected, ReadOnlySpan<double> actual, double tolerance = Exact)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance);
    }

    [Fact]
    public void Mess3MatricesMatchTheSpec()
    {
        AssertVector([0.42, 0.03, 0.03, 0.09, 0.14, 0.03, 0.09, 0.03, 0.14], StandardProcesses.Mess3(0.15, 0.6).Matrix(0));
        AssertVector([0.765, 0.00375, 0.00375, 0.0425, 0.0675, 0.00375, 0.0425, 0.00375, 0.0675], StandardProcesses.Mess3(0.05, 0.85).Matrix(0));
        // The general formula T[k][i][j] = (j==i ? 1-2x : x) (k==j ? a : (1-a)/2) for every entry.
        var m = StandardProcesses.Mess3(0.05, 0.85);
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    Assert.Equal((j == i ? 0.9 : 0.05) * (k == j ? 0.85 : 0.075), m[k, i, j], Exact);
        AssertVector([1.0 / 3, 1.0 / 3, 1.0 / 3], m.Stationary);
        AssertVector([1.0, 1.0, 1.0], m.Tau);
        Assert.False(m.IsGeneralized);
    }

    [Fact]
    public void RrxorAndZ1RMatricesAndStationaryLaws()
    {
        var r = StandardProcesses.Rrxor();
        var expected = new double[2 * 25];
        void Set(int x, int i, int j, double v) => expected[(x * 5 + i) * 5 + j] = v;
        Set(0, 0, 1, 0.5); Set(1, 0, 2, 0.5); Set(0, 1, 4, 0.5); Set(1, 1, 3, 0.5);
        Set(0, 2, 3, 0.5); Set(1, 2, 4, 0.5); Set(1, 3, 0, 1); Set(0, 4, 0, 1);
        AssertVector(expected, r.Transitions);
        AssertVector([2.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6], r.Stationary);

        var z = StandardProcesses.Z1R();
        var ez = new double[18];
        ez[(0 * 3 + 0) * 3 + 1] = 1; ez[(1 * 3 + 1) * 3 + 2] = 1; ez[(0 * 3 + 2) * 3 + 0] = 0.5; ez[(1 * 3 + 2) * 3 + 0] = 0.5;
        AssertVector(ez, z.Transitions);
        AssertVector([1.0 / 3, 1.0 / 3, 1.0 / 3], z.Stationary);
    }

    [Fact]
    public void TomQuantumIsAGeneralisedHmmWithTheSpecEigenvectors()
    {
        double a = 1, b = 4.3;
        var q = StandardProcesses.TomQuantum(a, b);
        Assert.True(q.IsGeneralized);
        double g2 = 1 / (4 * (a * a + b * b)), c = 0.25, m = (a * a - b * b) * g2, o = 2 * a * b * g2;
        AssertVector([c, 0, o, 0, m, 0, o, 0, c], q.Matrix(0));
        AssertVector([c, 0, -o, 0, m, 0, -o, 0, c], q.Matrix(1));
        AssertVector([c, o, 0, o, c, 0, 0, 0, m], q.Matrix(2));
        AssertVector([c, -o, 0, -o, c, 0, 0, 0, m], q.Matrix(3));
        var sum = new double[9];
        for (int x = 0; x < 4; x++) for (int k = 0; k < 9; k++) sum[k] += q.Matrix(x)[k];
        double r = a * a / (a * a + b * b);
        AssertVector([1, 0, 0, 0, r, 0, 0, 0, r], sum);
        AssertVector([3, 0, 0], q.Tau);
        AssertVector([1, 0, 0], q.Stationary);
    }

    [Fact]
    public void ImpossibleParametersAreRejectedWithTheirName()
    {
        var e = Assert.Throws<InvalidInputException>(() => StandardProcesses.Mess3(0.6, 0.5));
        Assert.Contains("x = 0.6", e.Message);
        Assert.Contains("a = 1.5", Assert.Throws<InvalidInputException>(() => StandardProcesses.Mess3(0.1, 1.5)).Message);
        Assert.Contains("p1", Assert.Throws<InvalidInputException>(() => StandardProcesses.Rrxor(double.NaN, 0.5)).Message);
        Assert.Contains("p = -0.1", Assert.Throws<InvalidInputException>(() => StandardProcesses.Z1R(-0.1)).Message);
        Assert.Throws<InvalidInputException>(() => StandardProcesses.TomQuantum(0, 0));
    }

    [Fact]
    public void Mess3WithAHiddenChainThatNeverMovesIsRefusedWithTheRange()
    {
        // x = 0: the hidden chain is the identity (reducible); it used to pass the range check and fail later on
        // "no unique stationary law".
        var e = Assert.Throws<InvalidInputException>(() => StandardProcesses.Mess3(0, 0.6));
        Assert.Contains("parameter x = 0 must be in (0, 0.5]", e.Message);
        Assert.Contains("reducible", e.Message);
        Assert.Contains("x = -0.1 must be in (0, 0.5]", Assert.Throws<InvalidInputException>(() => StandardProcesses.Mess3(-0.1, 0.6)).Message);
        // Every x > 0 has the uniform stationary law of its doubly stochastic chain, to rounding, however small the gap 3x
        // (the solved null vector was off by 8e-10 at x = 1e-8 and refused below x ~ 3e-9).
        foreach (double x in new[] { 1e-12, 1e-8, 1e-5, 0.15, 0.5 })
            foreach (double a in new[] { 0.0, 0.6, 1.0 })
            {
                var p = StandardProcesses.Mess3(x, a);
                AssertVector([1.0 / 3, 1.0 / 3, 1.0 / 3], p.Stationary);
                Assert.Equal(1, p.WordProbability([0]) + p.WordProbability([1]) + p.WordProbability([2]), Exact);
            }
    }

    [Fact]
    public void ProductIsTheKroneckerProductInRadixOrder()
    {
        var f0 = StandardProcesses.Z1R();
        var f1 = StandardProcesses.Mess3(0.05, 0.85);
        var p = ProcessComposition.Product(f0, f1);
        Assert.Equal(6, p.Tokens);
        Assert.Equal(9, p.States);
        Assert.Equal([2, 3], p.FactorTokens);
        Assert.Equal([3, 3], p.FactorStates);
        for (int t0 = 0; t0 < 2; t0++)
            for (int t1 = 0; t1 < 3; t1++)
                for (int i0 = 0; i0 < 3; i0++)
                    for (int i1 = 0; i1 < 3; i1++)
                        for (int j0 = 0; j0 < 3; j0++)
                            for (int j1 = 0; j1 < 3; j1++)
                                Assert.Equal(f0[t0, i0, j0] * f1[t1, i1, j1], p[t0 * 3 + t1, i0 * 3 + i1, j0 * 3 + j1], Exact);
        AssertVector(ProcessComposition.Kronecker(f0.Stationary, f1.Stationary), p.Stationary);
    }

    [Fact]
    public void NoiseCouplingMixesWithTheUniformTensorAndStaysAnHmm()
    {
        var m = StandardProcesses.Mess3(0.05, 0.85);
        var product = ProcessComposition.Product(m, m);
        double e = 0.1;
        var noisy = ProcessComposition.WithNoise(product, e);
        Assert.False(noisy.IsGeneralized);
        for (int k = 0; k < noisy.Transitions.Length; k++)
            Assert.Equal((1 - e) * product.Transitions[k] + e / (9.0 * 9.0), noisy.Transitions[k], Exact);
        // Still normalised: each state's outgoing mass is 1 (checked by construction), and pi is invariant.
        AssertVector(Enumerable.Repeat(1.0 / 9, 9).ToArray(), noisy.Stationary);
        Assert.Throws<InvalidInputException>(() => ProcessComposition.WithNoise(product, 1.5));
    }

    [Fact]
    public void ChainCouplingChoosesTheVariantFromTheParentToken()
    {
        var parent = StandardProcesses.Z1R();
        HiddenMarkovProcess[] variants = [StandardProcesses.Mess3(0.05, 0.85), StandardProcesses.Mess3(0.15, 0.6)];
        var chain = ProcessComposition.Chain([[parent], variants]);
        Assert.Equal(6, chain.Tokens);
        AssertTwoFactorChain(chain, parent, (t0, i0) => variants[t0]);
        // The factor-1 token law depends on the factor-0 token: after composite token 0 (factor 1 saw token 0),
        // P(t1 = 0 | t0) differs between t0 = 0 (variant a = 0.85) and t0 = 1 (variant a = 0.6).
        var law = chain.NextTokenLaw(chain.BeliefAfter([0]));
        Assert.NotEqual(law[0] / (law[0] + law[1] + law[2]), law[3] / (law[3] + law[4] + law[5]), 6);
        // Explicit control map with a wrong variant index.
        Assert.Contains("variant 5", Assert.Throws<InvalidInputException>(() => ProcessComposition.Chain([[parent], variants], [null, [0, 5]])).Message);
        Assert.Contains("one per token", Assert.Throws<InvalidInputException>(() => ProcessComposition.Chain([[parent], [variants[0]]])).Message);
    }

    /// <summary>
    /// A chain of a 2-token, 3-state parent and 3-token, 3-state variants: every entry of the composite tensor is
    /// T0[t0][i0, j0] * T1^(variant(t0, i0))[t1][i1, j1], in the radix layout (factor 0 most significant).
    /// </summary>
    private static void AssertTwoFactorChain(HiddenMarkovProcess chain, HiddenMarkovProcess parent, Func<int, int, HiddenMarkovProcess> variant)
    {
        for (int t0 = 0; t0 < 2; t0++)
            for (int t1 = 0; t1 < 3; t1++)
                for (int i0 = 0; i0 < 3; i0++)
                    for (int i1 = 0; i1 < 3; i1++)
                        for (int j0 = 0; j0 < 3; j0++)
                            for (int j1 = 0; j1 < 3; j1++)
                                Assert.Equal(parent[t0, i0, j0] * variant(t0, i0)[t1, i1, j1], chain[t0 * 3 + t1, i0 * 3 + i1, j0 * 3 + j1], Exact);
    }

    [Fact]
    public void StateChainCouplingChoosesTheVariantFromTheParentState()
    {
        // Factor 1's variant is chosen by the state factor 0 is in at the start of the step (Z1R: 3 states), not by its token.
        var parent = StandardProcesses.Z1R();
        HiddenMarkovProcess[] variants = [StandardProcesses.Mess3(0.05, 0.85), StandardProcesses.Mess3(0.15, 0.6), StandardProcesses.Mess3(0.3, 0.2)];
        var chain = ProcessComposition.StateChain([[parent], variants]);
        Assert.Equal((6, 9), (chain.Tokens, chain.States));
        AssertTwoFactorChain(chain, parent, (t0, i0) => variants[i0]);
        Assert.Equal([3, 3], chain.FactorStates);
        Assert.Contains("variant 5", Assert.Throws<InvalidInputException>(() => ProcessComposition.StateChain([[parent], variants], [null, [0, 5, 1]])).Message);
        Assert.Contains("one per state", Assert.Throws<InvalidInputException>(() => ProcessComposition.StateChain([[parent], variants[..2]])).Message);
        Assert.Contains("generalised", Assert.Throws<InvalidInputException>(() =>
            ProcessComposition.StateChain([[StandardProcesses.Mess3()], [StandardProcesses.TomQuantum(), StandardProcesses.TomQuantum(), StandardProcesses.TomQuantum()]])).Message);
    }

    [Fact]
    public void StationaryLawIsInvariantForEveryBuiltInProcess()
    {
        foreach (var p in new[] { StandardProcesses.Mess3(), StandardProcesses.Rrxor(0.3, 0.8), StandardProcesses.Z1R(0.2), StandardProcesses.TomQuantum(0.7, 2.1) })
        {
            var image = new double[p.States];
            for (int x = 0; x < p.Tokens; x++)
                for (int i = 0; i < p.States; i++)
                    for (int j = 0; j < p.States; j++) image[j] += p.Stationary[i] * p[x, i, j];
            AssertVector(p.Stationary.ToArray(), image);
            Assert.Equal(1.0, p.Stationary.ToArray().Sum(), Exact);
            Assert.Equal(p.States, p.Tau.ToArray().Sum(), Exact);
        }
    }
}
