using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using ThermoLearn.Statistics;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Control;

/// <summary>
/// Heavy acceptance run for erase (several minutes on 2 cores), kept out of the fast suite. At each of five
/// durations the protocol is optimised (alpha = 8, 6 knots, 60 iterations, batches up to 4,000 paths, seed 1, as
/// the CLI does) and then re-measured on 8 fresh, independent batches of 5,000 paths. The finite-time bound
/// Delta F_neq + gamma W_2^2 / tau is a plug-in estimate (histogram entropy, empirical W_2), so its standard error
/// is taken from the spread of the 8 batch values; W and the bound are compared with the combined standard error:
/// W - bound &gt; 3 sigma at every tau (one-sided, false-failure rate ~1e-3 per tau if the margin were zero, far less
/// at the measured margins). At tau = 40 the task itself is checked: error &lt;= 2 % and &lt;W&gt; &lt;= 1.3 ln 2, both with
/// 3 standard errors to spare.
/// </summary>
public class EraseValidationTests(ITestOutputHelper output)
{
    private const int Batches = 8, BatchSize = 5000;

    internal sealed record Row(double Tau, MeanEstimate Work, MeanEstimate Error, MeanEstimate Bound, MeanEstimate Landauer, MeanEstimate Wasserstein);

    internal static Row OptimiseAndMeasure(double tau, ulong seed = 1)
    {
        var task = new EraseTask(tau);
        var family = task.KnotFamily(task.DefaultKnots);
        var options = new OptimizerOptions
        {
            Alpha = task.DefaultAlpha, Iterations = 60, InitialTrajectories = 500, MaxTrajectories = 4000,
            LearningRate = task.DefaultLearningRate, Seed = seed,
        };
        var result = ProtocolOptimizer.Run(task, family, task.InitialGuess(family), options);
        var work = new double[Batches];
        var error = new double[Batches];
        var bound = new double[Batches];
        var landauer = new double[Batches];
        var w2 = new double[Batches];
        ulong evaluation = ProtocolOptimizer.EvaluationSeed(seed);
        for (int b = 0; b < Batches; b++)
        {
            var m = task.Measure(result.Protocol, task.DefaultAlpha, evaluation + (ulong)b, BatchSize);
            (work[b], error[b]) = (m.Work.Mean, m.Error.Mean);
            bound[b] = m.References.FiniteTimeBound!.Value;
            landauer[b] = m.References.LandauerBound!.Value;
            w2[b] = m.References.Wasserstein2!.Value;
        }
        return new Row(tau, MeanEstimate.Of(work), MeanEstimate.Of(error), MeanEstimate.Of(bound), MeanEstimate.Of(landauer), MeanEstimate.Of(w2));
    }

    [Fact]
    [Trait("Category", "Validation")]
    public void EraseReachesTheTargetAtTau40AndStaysAboveTheFiniteTimeBoundAtFiveTaus()
    {
        var rows = new List<Row>();
        foreach (double tau in new[] { 2.5, 5, 10, 20, 40 })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var r = OptimiseAndMeasure(tau);
            rows.Add(r);
            output.WriteLine($"tau {r.Tau}: W = {r.Work.Mean:F4} +- {r.Work.StandardError:F4}, error = {100 * r.Error.Mean:F2} % +- {100 * r.Error.StandardError:F2} %, "
                + $"finite-time bound = {r.Bound.Mean:F4} +- {r.Bound.StandardError:F4}, Landauer = {r.Landauer.Mean:F4}, W_2 = {r.Wasserstein.Mean:F4}, "
                + $"margin = {(r.Work.Mean - r.Bound.Mean) / Combined(r):F1} sigma ({clock.Elapsed.TotalSeconds:F0} s)");
        }
        foreach (var r in rows)
            Assert.True(r.Work.Mean - r.Bound.Mean > 3 * Combined(r), $"tau {r.Tau}: W = {r.Work.Mean} is not above the finite-time bound {r.Bound.Mean} beyond 3 sigma ({Combined(r)})");
        var last = rows[^1];
        Assert.True(last.Error.Mean + 3 * last.Error.StandardError <= 0.02, $"tau 40: error {last.Error.Mean} +- {last.Error.StandardError}");
        Assert.True(last.Work.Mean + 3 * last.Work.StandardError <= 1.3 * Math.Log(2), $"tau 40: W = {last.Work.Mean} +- {last.Work.StandardError} vs 1.3 ln 2");
    }

    private static double Combined(Row r) => Math.Sqrt(r.Work.StandardError * r.Work.StandardError + r.Bound.StandardError * r.Bound.StandardError);
}
