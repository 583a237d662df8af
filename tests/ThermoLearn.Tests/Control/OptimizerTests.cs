using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using Xunit;

namespace ThermoLearn.Tests.Control;

public class OptimizerTests
{
    /// <summary>
    /// A short run from the straight line moves every knot towards lambda*(t) = (1 + t)/3 and lowers the exact
    /// mean work below W_lin = 0.3679 (checked with the closed form, so no sampling tolerance is involved).
    /// </summary>
    [Fact]
    public void AdamOnLikelihoodRatioGradientsApproachesTheSchmiedlSeifertOptimum()
    {
        var task = new TranslateTrapTask(tau: 1, steps: 100);
        var family = task.KnotFamily(4);
        var options = new OptimizerOptions { Iterations = 40, InitialTrajectories = 1000, MaxTrajectories = 2000, LearningRate = 0.02, Seed = 7 };
        var result = ProtocolOptimizer.Run(task, family, new double[4], options);
        var theta = result.Protocol.Parameters.ToArray();
        double[] optimum = [1.0 / 3, 1.0 / 9, -1.0 / 9, -1.0 / 3];
        var knots = new double[4];
        for (int j = 0; j < 4; j++)
        {
            knots[j] = family.KnotTime(j) + theta[j];
            Assert.True(Math.Abs(theta[j] - optimum[j]) < Math.Abs(optimum[j]), $"knot {j}: {theta[j]} did not move towards {optimum[j]}");
        }
        double work = HarmonicTranslation.MeanWork(knots, 0, 1, 1, 1, 1);
        Assert.True(work < 0.36, $"exact <W> of the result {work}");
        Assert.Equal(40, result.Log.Count);
        Assert.All(result.Log, step => Assert.True(double.IsFinite(step.GradientNorm)));
    }

    [Fact]
    public void ProjectionKeepsKnotsInsideTheControlBox()
    {
        var task = new EraseTask(tau: 1, steps: 50);
        var family = task.KnotFamily(3);
        var theta = new double[9];
        theta[0] = -100;   // b far below its lower bound
        theta[5] = 100;    // c far above
        task.Project(family, theta);
        Assert.Equal(task.LowerBounds[0], task.Start[0] + theta[0], 12);
        Assert.Equal(task.UpperBounds[1], task.End[1] + theta[5], 12);
    }
}
