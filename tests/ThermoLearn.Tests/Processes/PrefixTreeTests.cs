using ThermoLearn.Processes;
using Xunit;
using static ThermoLearn.Tests.Processes.ProcessDefinitionTests;

namespace ThermoLearn.Tests.Processes;

public class PrefixTreeTests
{
    [Fact]
    public void Mess3TreeHasEveryWordWithItsExactProbabilityBeliefAndLaw()
    {
        var p = StandardProcesses.Mess3(0.05, 0.85);
        var tree = PrefixTree.Enumerate(p, 10);
        Assert.Equal(88573, tree.NodeCount);
        Assert.Equal(59049, tree.Level(10).Count);
        var level = tree.Level(5);
        var words = level.TokenMatrix();
        for (int k = 0; k < level.Count; k += 7)
        {
            var w = words.AsSpan(k * 5, 5);
            // Lexicographic order: word k is k written in base 3.
            int code = 0;
            foreach (int t in w) code = code * 3 + t;
            Assert.Equal(k, code);
            Assert.Equal(p.WordProbability(w), level.Probability[k], 1e-15);
            AssertVector(p.BeliefAfter(w), level.Beliefs.AsSpan(k * 3, 3));
            AssertVector(p.NextTokenLaw(p.BeliefAfter(w)), level.NextTokenLaw.AsSpan(k * 3, 3));
        }
    }

    [Fact]
    public void PrunedTreeOfRrxorKeepsOnlyPossibleWords()
    {
        var p = StandardProcesses.Rrxor();
        var tree = PrefixTree.Enumerate(p, 12);
        long[] expected = [1, 2, 4, 8, 16, 28, 52, 92, 148, 260, 436, 676, 1156];
        for (int d = 0; d <= 12; d++) Assert.Equal(expected[d], tree.Level(d).Count);
        Assert.All(tree.Level(12).Probability, q => Assert.True(q > 0));
    }

    [Fact]
    public void AncestorsAndFirstExtensionsIndexTheRightWords()
    {
        var tree = PrefixTree.Enumerate(StandardProcesses.Rrxor(), 6);
        var top = tree.Level(6);
        var words = top.TokenMatrix();
        var anc = top.AncestorIndices(3);
        var w3 = tree.Level(3).TokenMatrix();
        for (int k = 0; k < top.Count; k++)
            Assert.Equal(w3.AsSpan(anc[k] * 3, 3).ToArray(), words.AsSpan(k * 6, 3).ToArray());
        var first = tree.FirstExtension(3, 6);
        for (int k = 0; k < first.Length; k++)
        {
            Assert.Equal(k, anc[first[k]]);
            Assert.True(first[k] == 0 || anc[first[k] - 1] != k);
        }
    }

    [Fact]
    public void CrossEntropyOfTheTrueLawIsTheFloorAndAnyOtherModelIsAbove()
    {
        var p = StandardProcesses.Mess3(0.05, 0.85);
        var tree = PrefixTree.Enumerate(p, 6);
        float[] TrueLog(int d) => tree.Level(d).NextTokenLaw.Select(q => (float)Math.Log(q)).ToArray();
        Assert.Equal(tree.CrossEntropyFloor(6), tree.CrossEntropy(6, TrueLog), 1e-6);
        float[] Uniform(int d) => Enumerable.Repeat((float)-Math.Log(3), tree.Level(d).Count * 3).ToArray();
        Assert.Equal(Math.Log(3), tree.CrossEntropy(6, Uniform), 1e-6);
        Assert.True(tree.CrossEntropy(6, Uniform) > tree.CrossEntropyFloor(6));
    }

    [Fact]
    public void TooLargeTreesAreRefused()
    {
        var e = Assert.Throws<InvalidInputException>(() => PrefixTree.Enumerate(StandardProcesses.Mess3(), 20, maxNodes: 100_000));
        Assert.Contains("limit", e.Message);
    }
}
