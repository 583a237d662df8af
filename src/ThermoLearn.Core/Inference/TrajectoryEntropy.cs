using ThermoLearn.Statistics;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>Per-trajectory total entropy production and the integral fluctuation theorem check.</summary>
/// <param name="TotalEntropy">Delta s_tot of each trajectory (k_B = 1); empty when the values were streamed to a callback instead.</param>
/// <param name="MeanTotalEntropy">&lt;Delta s_tot&gt; over the trajectories.</param>
/// <param name="ExpMinusMean">&lt;exp(-Delta s_tot)&gt;, which the integral fluctuation theorem sets to 1.</param>
/// <param name="ExpMinusStandardError">Its standard error over trajectories.</param>
/// <param name="Force">The learned thermodynamic force d(x, t) (point estimate).</param>
/// <param name="Score">The learned score s(x, t) = grad ln p (point estimate).</param>
/// <param name="Basis">The space-time basis used.</param>
public sealed record TrajectoryEntropyEstimate(IReadOnlyList<double> TotalEntropy, double MeanTotalEntropy, double ExpMinusMean, double ExpMinusStandardError,
    LinearVectorField Force, LinearVectorField Score, string Basis);

/// <summary>
/// Delta s_tot = int d o dx - int d_t ln p dt along each trajectory, from fields learned on the whole ensemble
/// with a joint (x, t) basis: the thermodynamic force d = D^-1 v from the current loss and the score
/// s = grad ln p from the Stratonovich/Ito difference. The continuity equation d_t p = -div(p v) gives
/// -d_t ln p = div v + v . s with v = D d, so no density estimate is needed (docs/inference.md, "The losses, once"; for
/// stationary data the second term vanishes and Delta s_tot = int d o dx). Both integrals use the trapezoid rule. The score's
/// O(dt) bias is removed by Richardson over lags 1 and 2 when there are at least 3 frames.
/// A file larger than memory is read twice in chunks (<see cref="Estimate(Func{TrajectoryReader}, IBasis, DiffusionSpec, int, ErrorOptions, long, Action{int, double})"/>):
/// once for the fields' sums, once for the trajectories' integrals, each trajectory's sum running over its frames in the same
/// order as in memory, so both give the same bits.
/// </summary>
public static class TrajectoryEntropy
{
    public static TrajectoryEntropyEstimate Estimate(TrajectoryEnsemble data, IBasis basis, DiffusionSpec diffusion, int timeDegree, ErrorOptions? errors = null)
    {
        errors ??= ErrorOptions.Default;
        var stats = CurrentStatistics.Accumulate(data, basis, Options(1, timeDegree), errors);
        var two = data.Frames >= 3 ? CurrentStatistics.Accumulate(data, basis, Options(2, timeDegree), errors) : null;
        var fields = new Fields(stats, two, diffusion, basis, timeDegree, data.StartTime);
        var total = new double[data.Trajectories];
        fields.Add(new TrajectoryChunk(data, 0, 0, 0, data.Frames), total);
        var summary = new Summary();
        foreach (double value in total) summary.Add(value);
        return summary.Finish(total, fields, stats.BasisName);
    }

    /// <summary>
    /// The same from a file read twice through <paramref name="open"/> in chunks of at most about <paramref name="chunkValues"/>
    /// values, in memory bounded by the chunk size: each trajectory's Delta s_tot goes to <paramref name="each"/> (file index,
    /// value) in file order as soon as its last frame is read, and the result's <see cref="TrajectoryEntropyEstimate.TotalEntropy"/>
    /// is empty. Bit for bit the values of <see cref="Estimate(TrajectoryEnsemble, IBasis, DiffusionSpec, int, ErrorOptions?)"/>.
    /// </summary>
    public static TrajectoryEntropyEstimate Estimate(Func<TrajectoryReader> open, IBasis basis, DiffusionSpec diffusion, int timeDegree, ErrorOptions errors,
        long chunkValues, Action<int, double> each)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(each);
        Fields fields;
        string basisName;
        using (var reader = open())
        {
            var options = reader.Header.Frames >= 3 ? new[] { Options(1, timeDegree), Options(2, timeDegree) } : [Options(1, timeDegree)];
            var stats = CurrentStatistics.Accumulate(reader, basis, options, errors, chunkValues);
            fields = new Fields(stats[0], stats.Count > 1 ? stats[1] : null, diffusion, basis, timeDegree, reader.Header.StartTime);
            basisName = stats[0].BasisName;
        }
        var summary = new Summary();
        using var second = open();
        int frames = second.Header.Frames;
        var sums = Array.Empty<double>();
        double running = 0; // a trajectory read in time blocks: its sum carries from block to block
        foreach (var chunk in second.Chunks(chunkValues, 1))
        {
            if (chunk.FirstFrame == 0 && chunk.Data.Frames == frames)
            {
                int count = chunk.Data.Trajectories;
                if (sums.Length != count) sums = new double[count];
                else Array.Clear(sums);
                fields.Add(chunk, sums);
                for (int r = 0; r < count; r++)
                {
                    each(chunk.FirstTrajectory + r, sums[r]);
                    summary.Add(sums[r]);
                }
                continue;
            }
            Span<double> one = [running];
            fields.Add(chunk, one);
            running = one[0];
            if (chunk.OwnedTo < frames) continue;
            each(chunk.FirstTrajectory, running);
            summary.Add(running);
            running = 0;
        }
        return summary.Finish([], fields, basisName);
    }

    private static CurrentStatisticsOptions Options(int lag, int timeDegree) => new(Lag: lag, TimeDegree: timeDegree, TimeLocalToWindow: false);

    /// <summary>&lt;Delta s_tot&gt; and &lt;exp(-Delta s_tot)&gt; with its standard error, summed in trajectory order.</summary>
    private sealed class Summary
    {
        private double _sum, _exp, _expSquared;
        private long _count;

        public void Add(double value)
        {
            double e = Math.Exp(-value);
            _sum += value;
            _exp += e;
            _expSquared += e * e;
            _count++;
        }

        public TrajectoryEntropyEstimate Finish(IReadOnlyList<double> total, Fields fields, string basis)
        {
            double mean = _exp / _count;
            double stderr = _count > 1 ? Math.Sqrt(Math.Max(0, (_expSquared / _count - mean * mean) * _count / (_count - 1)) / _count) : double.NaN;
            return new TrajectoryEntropyEstimate(total, _sum / _count, mean, stderr, fields.Force, fields.Score, basis);
        }
    }

    /// <summary>The fitted force, score and velocity fields, and the per-trajectory integrals along them.</summary>
    private sealed class Fields
    {
        private readonly LinearVectorField _velocity;
        private readonly int _dimension;
        private readonly double _startTime;

        public Fields(CurrentStatistics stats, CurrentStatistics? two, DiffusionSpec diffusion, IBasis basis, int timeDegree, double startTime)
        {
            var full = stats.Moments();
            var D = diffusion.Resolve(full, EntropyProductionEstimator.Deconvolution(stats, diffusion));
            int n = stats.BasisCount, d = stats.Dimension, nd = n * d;
            var (_, theta) = EntropyProductionEstimator.Fit(stats, full, D, true);
            // The score from the Stratonovich/Ito difference K = J^S - J^I carries the second cumulant's O(dt) drift bias (for b = x,
            // K is <dx dx^T>/(2 dt) = D + (dt/2) S): on the breathing trap at dt = 0.01 it shifted <Delta s_tot> by -2%. The
            // Richardson combination of lags 1 and 2, 2 s(dt) - s(2 dt), removes the leading term for any model.
            var score = Score(stats, full, D, basis, timeDegree);
            if (two is not null)
            {
                var coarse = Score(two, two.Moments(), D, basis, timeDegree);
                for (int i = 0; i < nd; i++) score[i] = 2 * score[i] - coarse[i];
            }
            double t0 = stats.WindowEdges[0], t1 = stats.WindowEdges[^1];
            Force = new LinearVectorField(basis, timeDegree, t0, t1, theta, null);
            Score = new LinearVectorField(basis, timeDegree, t0, t1, score, null);
            // v = D d: its coefficients are Theta D (D symmetric)
            _velocity = new LinearVectorField(basis, timeDegree, t0, t1, DenseMatrix.MultiplyRowMajor(theta, n, d, D, d), null);
            _dimension = d;
            _startTime = startTime;
        }

        public LinearVectorField Force { get; }
        public LinearVectorField Score { get; }

        /// <summary>
        /// Adds to <paramref name="sums"/>[r] the integrals of the chunk's trajectory r over the transitions whose start frame it
        /// owns, frame after frame (times from the file's start time and frame index, as in memory).
        /// </summary>
        public void Add(TrajectoryChunk chunk, Span<double> sums)
        {
            var data = chunk.Data;
            int d = _dimension, frames = chunk.FirstFrame + data.Frames;
            var force = Force;
            var scoreField = Score;
            var velocity = _velocity;
            double start = _startTime, dt = data.Dt;
            var result = sums.ToArray();
            Parallel.For(0, data.Trajectories, r =>
            {
                Span<double> ds = stackalloc double[d], de = stackalloc double[d], v = stackalloc double[d], s = stackalloc double[d];
                double sum = result[r];
                for (int f = chunk.OwnedFrom; f < chunk.OwnedTo && f + 1 < frames; f++)
                {
                    var xs = data.Frame(r, f - chunk.FirstFrame);
                    var xe = data.Frame(r, f + 1 - chunk.FirstFrame);
                    double tm = start + (f + 0.5) * dt;
                    // Stratonovich in x at the midpoint time, as in the fit (CurrentStatistics)
                    force.Evaluate(xs, tm, ds);
                    force.Evaluate(xe, tm, de);
                    for (int m = 0; m < d; m++) sum += 0.5 * (ds[m] + de[m]) * (xe[m] - xs[m]);
                    // -d_t ln p = div v + v . s, trapezoid in x at the midpoint time
                    double g = 0;
                    for (int end = 0; end < 2; end++)
                    {
                        var x = end == 0 ? xs : xe;
                        velocity.Evaluate(x, tm, v);
                        scoreField.Evaluate(x, tm, s);
                        g += 0.5 * (velocity.Divergence(x, tm) + DenseMatrix.Dot(v, s));
                    }
                    sum += g * dt;
                }
                result[r] = sum;
            });
            result.CopyTo(sums);
        }
    }

    /// <summary>Score coefficients s = -M^-1 (J^S - J^I) D^-1 (score matching through the Stratonovich/Ito difference).</summary>
    private static double[] Score(CurrentStatistics stats, CurrentMoments m, double[] D, IBasis basis, int timeDegree)
    {
        int n = stats.BasisCount, d = stats.Dimension, nd = n * d;
        var k = new double[nd];
        for (int i = 0; i < nd; i++) k[i] = m.Strat[i] - m.Ito[i];
        var mk = DenseMatrix.SolveGram(m.GramMid, n, k, d, a => LinearVectorField.Describe(basis, timeDegree, a), "Gram matrix <b b^T> of the basis", false);
        var score = DenseMatrix.MultiplyRowMajor(mk, n, d, DenseMatrix.InverseSpd(D, d, "diffusion matrix"), d);
        for (int i = 0; i < nd; i++) score[i] = -score[i];
        return score;
    }
}
