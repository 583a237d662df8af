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
/// Coefficients are per basis function and coordinate; standard errors by batch resampling. With
/// <c>noiseRobust</c>, the share of white measurement noise on the positions is removed from the moments first (docs/inference.md,
/// "Measurement noise": exact for Gaussian noise with a polynomial or Fourier basis, by deconvolution; an O(Sigma) bias left in the
/// coefficients of non-affine functions of rbf bases),
/// so all four fields are estimated without it, and its covariance Sigma is reported (<see cref="DynamicsEstimate.MeasurementNoise"/>).
/// Sigma comes from the lag-1 moments (successive increments); the lag-2 moments of the coarse-sampling correction lose the share
/// of the same Sigma.
/// <para>
/// Coarse sampling: at frame spacing dt the Ito fit gives the lag-dt drift (E[x(t + dt) | x(t)] - x(t))/dt, which differs from the
/// continuous-time drift by O(dt) (linear model: (exp(-A dt) - 1)/dt = -A + A^2 dt/2 + O(dt^2)); the score's Stratonovich/Ito
/// difference carries the second cumulant's O(dt) term. With <see cref="CoarseSamplingCorrection.Richardson"/> (the default) the
/// drift and the score are fitted at lags 1 and 2 on the same data and combined, 2 f(dt) - f(2 dt), which cancels the O(dt) term
/// for any model. The score of both lags is divided by the same D, the lag-1 one (for a linear model the combined score is then exact
/// in the large-data limit). D: its drift correction (<see cref="DiffusionSpec"/>) already cancels its O(dt) term at each lag, so
/// D(dt) = D + c dt^2 + O(dt^3), and the combination of the same two lags that cancels c is (4 D(dt) - D(2 dt))/3 (2 D(dt) - D(2 dt)
/// would double c). v = mu F - D s from the combined fields with the D the score was divided by, so that D cancels from v
/// (Phi_v = Phi + M^-1 (J^S - J^I), the currents alone): with the reported D the O(dt^2) terms of drift and D, which cancel in v
/// (exactly for a reversible linear model), would not. Standard errors resample both lags over the same batches
/// (docs/inference.md, "Coarse sampling: drift, diffusion and score").
/// </para>
/// </summary>
public static class DynamicsEstimator
{
    /// <summary>The corrections inference offers: none (the lag-dt fields) and first order (lags 1 and 2; the default).</summary>
    public static IReadOnlyList<CoarseSamplingCorrection> Corrections { get; } = [CoarseSamplingCorrection.None, CoarseSamplingCorrection.Richardson];

    /// <summary>The default correction: <see cref="CoarseSamplingCorrection.Richardson"/>.</summary>
    public static CoarseSamplingCorrection DefaultCorrection => CoarseSamplingCorrection.Richardson;

    public static DynamicsEstimate Infer(TrajectoryEnsemble data, IBasis basis, bool noiseRobust = false, ErrorOptions? errors = null,
        CoarseSamplingCorrection? correction = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        errors ??= ErrorOptions.Default;
        var options = StatisticsOptions(correction ??= DefaultCorrection, data.Frames);
        return Infer(options.Select(o => CurrentStatistics.Accumulate(data, basis, o, errors)).ToArray(), basis, noiseRobust, errors, correction);
    }

    /// <summary>
    /// The same from a file read in chunks of at most about <paramref name="chunkValues"/> values (memory bounded by the chunk
    /// size): every quantity is a function of the current statistics, which the chunked accumulation gives bit for bit as in
    /// memory, so the estimate is the in-memory one bit for bit.
    /// </summary>
    public static DynamicsEstimate Infer(TrajectoryReader reader, IBasis basis, bool noiseRobust, ErrorOptions errors, long chunkValues,
        CoarseSamplingCorrection? correction = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var options = StatisticsOptions(correction ??= DefaultCorrection, reader.Header.Frames);
        return Infer(CurrentStatistics.Accumulate(reader, basis, options, errors, chunkValues), basis, noiseRobust, errors, correction);
    }

    /// <summary>
    /// The statistics <paramref name="correction"/> needs, one set per lag 1..<see cref="CoarseSamplingCorrection.Lags"/>; throws
    /// when it is not one of <see cref="Corrections"/> or when trajectories of <paramref name="frames"/> frames are too short for it.
    /// </summary>
    public static IReadOnlyList<CurrentStatisticsOptions> StatisticsOptions(CoarseSamplingCorrection correction, int frames)
    {
        ArgumentNullException.ThrowIfNull(correction);
        if (!Corrections.Contains(correction))
            throw new InvalidInputException($"drift, score and diffusion inference has the first-order coarse-sampling correction only (lags 1 and 2), not '{correction.Name}': "
                + $"use {string.Join(" or ", Corrections.Select(c => c.Name))}.");
        correction.CheckFrames(frames);
        return [.. Enumerable.Range(1, correction.Lags).Select(lag => new CurrentStatisticsOptions(Lag: lag))];
    }

    /// <summary>
    /// The same from current statistics already accumulated with <paramref name="basis"/> for <paramref name="correction"/>
    /// (<see cref="StatisticsOptions"/>: lags 1..Lags, one window, over the same batches).
    /// </summary>
    public static DynamicsEstimate Infer(IReadOnlyList<CurrentStatistics> stats, IBasis basis, bool noiseRobust, ErrorOptions errors,
        CoarseSamplingCorrection correction)
    {
        ArgumentNullException.ThrowIfNull(stats);
        ArgumentNullException.ThrowIfNull(correction);
        if (stats.Count != correction.Lags || stats.Select((s, i) => s.Options.Lag != i + 1 || s.Options.Windows != 1 || s.Options.TimeDegree != 0).Any(bad => bad))
            throw new ArgumentException($"the {correction.Name} correction needs the statistics of lags 1..{correction.Lags}, one window each.", nameof(stats));
        var spec = noiseRobust ? DiffusionSpec.EstimatedNoiseRobust : DiffusionSpec.Estimated;
        var one = stats[0];
        int n = one.BasisCount, d = one.Dimension, nd = n * d, dd = d * d;
        bool corrected = correction.Order > 0;
        var deconvolution = spec.NoiseRobust ? GaussianDeconvolution.For(basis, 0) : null;

        // layout of the value vector: the reported drift, score, v and D; with a correction also the lag-1 drift, score, v and D,
        // the size of the reported drift and of its correction (norms in the metric <F^T D^-1 F>)
        int uncorrectedAt = 3 * nd + dd, normsAt = 2 * uncorrectedAt, length = corrected ? normsAt + 2 : uncorrectedAt;

        double[] Evaluate(double[]? w, bool diagnose)
        {
            string Name(int a) => basis.Describe(a);
            var moments = stats.Select(st => st.Moments(-1, w)).ToArray();
            // robust: every field from the moments without the measurement noise's share, Sigma (from lag 1) reported beside them
            double[] sigma = [];
            if (spec.NoiseRobust)
            {
                (moments[0], sigma) = MeasurementNoise.Remove(moments[0], Name, deconvolution);
                for (int l = 1; l < moments.Length; l++) moments[l] = MeasurementNoise.Remove(moments[l], sigma, deconvolution);
            }
            var m1 = moments[0];
            // the drift's Gram first: the diffusion's drift correction solves the same matrix, but without naming the collinear functions
            var drift1 = DenseMatrix.SolveGram(m1.GramStart, n, m1.Ito, d, Name, "Gram matrix <b b^T> of the basis", diagnose);
            var D = DiffusionSpec.DriftCorrected(m1);
            var inverseD = DenseMatrix.InverseSpd(D, d, "estimated diffusion matrix");
            (double[] Drift, double[] Score) Fields(CurrentMoments m, int lag)
            {
                var drift = lag == 1 ? drift1 : DenseMatrix.SolveGram(m.GramStart, n, m.Ito, d, Name, $"Gram matrix <b b^T> of the basis at lag {lag}", diagnose);
                var k = new double[nd];
                for (int i = 0; i < nd; i++) k[i] = m.Strat[i] - m.Ito[i];
                var mk = DenseMatrix.SolveGram(m.GramMid, n, k, d, Name, "Gram matrix <b b^T> of the basis", false);
                var score = DenseMatrix.MultiplyRowMajor(mk, n, d, inverseD, d);
                for (int i = 0; i < nd; i++) score[i] = -score[i];
                return (drift, score);
            }
            // v = mu F - D s with the D the score was divided by, which cancels: Phi_v = Phi + M^-1 (J^S - J^I), a function of the currents alone
            void Velocity(double[] drift, double[] score, Span<double> v)
            {
                var sd = DenseMatrix.MultiplyRowMajor(score, n, d, D, d);
                for (int i = 0; i < nd; i++) v[i] = drift[i] - sd[i];
            }
            var lags = new (double[] Drift, double[] Score)[correction.Lags];
            for (int l = 0; l < lags.Length; l++) lags[l] = Fields(moments[l], l + 1);
            var r = new double[length + sigma.Length];
            for (int i = 0; i < nd; i++)
            {
                r[i] = correction.Combine(lag => lags[lag - 1].Drift[i]);
                r[nd + i] = correction.Combine(lag => lags[lag - 1].Score[i]);
            }
            var reported = D;
            if (corrected)
            {
                var twice = DiffusionSpec.DriftCorrected(moments[1]);
                reported = new double[dd];
                for (int i = 0; i < dd; i++) reported[i] = (4 * D[i] - twice[i]) / 3;
            }
            Velocity(r[..nd], r[nd..(2 * nd)], r.AsSpan(2 * nd, nd));
            reported.CopyTo(r, 3 * nd);
            if (corrected)
            {
                lags[0].Drift.CopyTo(r, uncorrectedAt);
                lags[0].Score.CopyTo(r, uncorrectedAt + nd);
                Velocity(lags[0].Drift, lags[0].Score, r.AsSpan(uncorrectedAt + 2 * nd, nd));
                D.CopyTo(r, uncorrectedAt + 3 * nd);
                var change = new double[nd];
                for (int i = 0; i < nd; i++) change[i] = r[i] - lags[0].Drift[i];
                r[normsAt] = NoiseNorm(r[..nd], m1.GramStart, inverseD, n, d);
                r[normsAt + 1] = NoiseNorm(change, m1.GramStart, inverseD, n, d);
            }
            sigma.CopyTo(r, length);
            return r;
        }

        var full = one.Moments();
        if (full.Count < n)
            throw new InvalidInputException($"{full.Count} transition{(full.Count == 1 ? "" : "s")} cannot fit the {n} functions of the basis {basis.Name} per coordinate: "
                + "the drift needs at least as many transitions as basis functions, and many more for its standard errors; use more frames or a smaller basis.");
        for (int l = 1; l < stats.Count; l++)
        {
            double count = stats[l].Moments().Count;
            if (count < n)
                throw new InvalidInputException($"{count} transition{(count == 1 ? "" : "s")} at lag {l + 1} cannot fit the {n} functions of the basis {basis.Name} per coordinate: "
                    + $"the {correction.Name} coarse-sampling correction fits the drift at lags 1 to {correction.Lags}; use more frames per trajectory, a smaller basis, or no correction.");
        }
        var value = Evaluate(null, true);
        var se = Resampling.StandardErrors(one.Batches, errors, w => Evaluate(w, false));
        LinearVectorField Field(int offset) => new(basis, 0, one.WindowEdges[0], one.WindowEdges[^1], value[offset..(offset + nd)], se[offset..(offset + nd)]);
        DiffusionEstimate Diffusion(int offset, string method) => new(value[offset..(offset + dd)], se[offset..(offset + dd)], method, d);
        var diffusion = Diffusion(3 * nd, corrected ? spec.Source + ", lags 1 and 2" : spec.Source);
        return new DynamicsEstimate(Field(0), diffusion, Field(nd), Field(2 * nd), one.Frames, (long)full.Count,
            EntropyProductionEstimator.Settings(one, errors, value[(3 * nd)..(3 * nd + dd)], spec.Source))
        {
            Correction = correction,
            Uncorrected = corrected
                ? new DynamicsFields(Field(uncorrectedAt), Field(uncorrectedAt + nd), Field(uncorrectedAt + 2 * nd), Diffusion(uncorrectedAt + 3 * nd, spec.Source))
                : null,
            DriftCorrection = corrected ? new CorrectionSize(value[normsAt], se[normsAt], value[normsAt + 1]) : null,
            MeasurementNoise = spec.NoiseRobust
                ? new MeasurementNoiseEstimate(value[length..], se[length..], d) { Amplification = deconvolution?.Amplification(value[length..]) ?? 1 }
                : null,
        };
    }

    /// <summary>The size of a field in the metric of the noise, sqrt(&lt;F^T D^-1 F&gt;) over the start points: sqrt(tr(Phi^T M Phi D^-1)).</summary>
    private static double NoiseNorm(double[] phi, double[] gram, double[] inverseD, int n, int d)
    {
        var mphi = DenseMatrix.MultiplyRowMajor(gram, n, n, phi, d);
        var mphiDinv = DenseMatrix.MultiplyRowMajor(mphi, n, d, inverseD, d);
        double s = 0;
        for (int i = 0; i < n * d; i++) s += phi[i] * mphiDinv[i];
        return Math.Sqrt(Math.Max(s, 0));
    }
}
