using ThermoLearn.Processes;
using ThermoLearn.Processes.Geometry;
using Xunit;

namespace ThermoLearn.Tests.Processes.Geometry;

public class BeliefDatasetTests
{
    [Fact]
    public void ExactDatasetIsThePrefixTree()
    {
        var process = StandardProcesses.Mess3(0.15, 0.6);
        var data = BeliefDataset.FromPrefixTree(PrefixTree.Enumerate(process, 10), 10);
        Assert.True(data.Exact);
        Assert.Equal(88_572, data.RowCount);
        // Spec section 4: floor for Mess3(0.15, 0.6) at n_ctx 10 is 1.089171 nats.
        Assert.Equal(1.089171, data.CrossEntropyFloor(), 6);
        // Spec section 3: belief after [0, 1] is (0.315789, 0.513158, 0.171053); rows of length 2 come after the 3 of length 1.
        int row = Enumerable.Range(0, data.RowCount).Single(r => data.RowPosition[r] == 1 && data.RowTokens[r] == 1 && data.RowTokens[data.RowParent[r]] == 0);
        Assert.Equal(0.315789, data.Beliefs[row, 0], 6);
        Assert.Equal(0.513158, data.Beliefs[row, 1], 6);
        Assert.Equal(0.171053, data.Beliefs[row, 2], 6);
        for (int r = 0; r < data.RowCount; r++)
            Assert.Equal(data.RowPosition[r] == 0 ? -1 : data.RowPosition[r] - 1, data.RowParent[r] < 0 ? -1 : data.RowPosition[data.RowParent[r]]);
    }

    [Fact]
    public void SampledDatasetEstimatesTheFloorWithinItsStandardError()
    {
        var process = StandardProcesses.Mess3(0.05, 0.85);
        var data = BeliefDataset.Sample(process, 10, 4000, seed: 3);
        Assert.False(data.Exact);
        Assert.Equal(40_000, data.RowCount);
        // Per-sequence mean entropies are i.i.d.; 4 standard errors: false-failure rate about 6e-5 (fixed seed anyway).
        var perSequence = new double[data.SequenceCount];
        for (int r = 0; r < data.RowCount; r++)
        {
            double h = 0;
            foreach (double p in data.RowNextTokenLaw(r)) if (p > 0) h -= p * Math.Log(p);
            perSequence[data.RowSequence[r]] += h / data.Length;
        }
        double mean = perSequence.Average();
        double se = Math.Sqrt(perSequence.Sum(v => (v - mean) * (v - mean)) / (perSequence.Length - 1) / perSequence.Length);
        Assert.Equal(mean, data.CrossEntropyFloor(), 10);
        Assert.InRange(mean, 0.802512 - 4 * se, 0.802512 + 4 * se);
        Assert.Throws<InvalidInputException>(() => BeliefDataset.Sample(process, 0, 10, 1));
        Assert.Throws<InvalidInputException>(() => BeliefDataset.Sample(process, 10, 1, 1));
    }

    [Theory]
    [InlineData("mess3", 2)]
    [InlineData("mess3*mess3", 8)]
    [InlineData("mess3*mess3*mess3", 26)]
    public void AffineRankOfJointBeliefs(string spec, int rank)
    {
        // Spec section 5: affine rank of joint beliefs: one Mess3 2; Mess3 (x) Mess3 8; three Mess3 26.
        var process = ProcessCatalog.Create(spec, ["x=0.05", "a=0.85"]);
        var data = BeliefDataset.Sample(process, 6, 400, seed: 1);
        Assert.Equal(rank, WeightedPca.Fit(data.Beliefs, data.RowWeights).Rank());
        var marginals = FactoredGeometry.Marginals(data.Beliefs, data.FactorStates);
        Assert.All(marginals, m => Assert.Equal(2, WeightedPca.Fit(m, data.RowWeights).Rank()));
    }
}
