using ThermoLearn.Statistics;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>
/// Force (drift) and diffusion inference, score and mean local velocity from the same current statistics
/// (docs/inference.md, "The losses, once"):
/// <list type="bullet">
/// <item>drift mu F: the Ito loss &lt;d^T D^-1 d&gt; - 2 &lt;d^T D^-1 dx&gt;_Ito / dt is minimised by Phi = M_I^-1 J^I
/// (D cancels), M_I = &lt;b b^T&gt; at start points (Frishman &amp; Ronceray, PRX 10, 021009 (2020));</item>
/// <item>diffusion: D = &lt;dx dx^T&gt;/(2 dt), or the successive-increment variant robust to measurement noise (<see cref="DiffusionSpec"/>);</item>
/// <item>score s = grad ln p: score matching &lt;s^T D s&gt; + 2 &lt;div(D s)&gt; with &lt;div(D b_a e_mu)&gt; = (J^S - J^I)_{a mu} / tau,
/// so Phi_s = -M^-1 (J^S - J^I) D^-1 needs no derivative of the basis;</item>
/// <item>mean local velocity v = mu F - D s, Phi_v = Phi_drift - Phi_s D.</item>
/// </list>
/// Coefficients are per basis function and coordinate; standard errors by batch resampling.
/// </summary>
public static class DynamicsEstimator
{
    public static DynamicsEstimate Infer(TrajectoryEnsemble data, IBasis basis, bool noiseRobustDiffusion = false, ErrorOptions? errors = null)
    {
        errors ??= ErrorOptions.Default;
        return Infer(CurrentStatistics.Accumulate(data, basis, null, errors), basis, noiseRobustDiffusion, errors);
    }

    /// <summary>
    /// The same from a file read in chunks of at most about <paramref name="chunkValues"/> values (memory bounded by the chunk
    /// size): every quantity is a function of the current statistics, which the chunked accumulation gives bit for bit as in
    /// memory, so the estimate is the in-memory one bit for bit.
    /// </summary>
    public static DynamicsEstimate Infer(TrajectoryReader reader, IBasis basis, bool noiseRobustDiffusion, ErrorOptions errors, long chunkValues) =>
        Infer(CurrentStatistics.Accumulate(reader, basis, [CurrentStatisticsOptions.Default], errors, chunkValues)[0], basis, noiseRobustDiffusion, errors);

    /// <summary>The same from current statistics already accumulated with <paramref name="basis"/> (lag 1, one window).</summary>
    public static DynamicsEstimate Infer(CurrentStatistics stats, IBasis basis, bool noiseRobustDiffusion, ErrorOptions errors)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var spec = noiseRobustDiffusion ? DiffusionSpec.EstimatedNoiseRobust : DiffusionSpec.Estimated;
        int n = stats.BasisCount, d = stats.Dimension, nd = n * d;

        double[] Evaluate(CurrentMoments m, bool diagnose)
        {
            string Name(int a) => basis.Describe(a);
            // the drift's Gram first: the diffusion's drift correction solves the same matrix, but without naming the collinear functions
            var drift = DenseMatrix.SolveGram(m.GramStart, n, m.Ito, d, Name, "Gram matrix <b b^T> of the basis", diagnose);
            var D = spec.Resolve(m);
            var k = new double[nd];
            for (int i = 0; i < nd; i++) k[i] = m.Strat[i] - m.Ito[i];
            var mk = DenseMatrix.SolveGram(m.GramMid, n, k, d, Name, "Gram matrix <b b^T> of the basis", false);
            var score = DenseMatrix.MultiplyRowMajor(mk, n, d, DenseMatrix.InverseSpd(D, d, "estimated diffusion matrix"), d);
            for (int i = 0; i < nd; i++) score[i] = -score[i];
            var sd = DenseMatrix.MultiplyRowMajor(score, n, d, D, d);
            var r = new double[3 * nd + d * d];
            drift.CopyTo(r, 0);
            score.CopyTo(r, nd);
            for (int i = 0; i < nd; i++) r[2 * nd + i] = drift[i] - sd[i];
            D.CopyTo(r, 3 * nd);
            return r;
        }

        var full = stats.Moments();
        if (full.Count < n)
            throw new InvalidInputException($"{full.Count} transition{(full.Count == 1 ? "" : "s")} cannot fit the {n} functions of the basis {basis.Name} per coordinate: "
                + "the drift needs at least as many transitions as basis functions, and many more for its standard errors; use more frames or a smaller basis.");
        var value = Evaluate(full, true);
        var se = Resampling.StandardErrors(stats.Batches, errors, w => Evaluate(stats.Moments(-1, w), false));
        LinearVectorField Field(int offset) => new(basis, 0, stats.WindowEdges[0], stats.WindowEdges[^1], value[offset..(offset + nd)], se[offset..(offset + nd)]);
        var diffusion = new DiffusionEstimate(value[(3 * nd)..], se[(3 * nd)..], spec.Source, d);
        return new DynamicsEstimate(Field(0), diffusion, Field(nd), Field(2 * nd), stats.Frames, (long)full.Count,
            EntropyProductionEstimator.Settings(stats, errors, value[(3 * nd)..], spec.Source));
    }
}
