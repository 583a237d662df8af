using ThermoLearn.Statistics;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>
/// Entropy production from the current loss with a linear basis (docs/inference.md, "The losses, once"; Lyu, Ray &amp;
/// Crutchfield 2025). For d(x) = sum theta_{a mu} b_a(x) e_mu the loss L(d) = &lt;d^T D d&gt; - 2 &lt;J_d&gt;/tau is
/// quadratic, minimised by theta = G^-1 J with G = M (x) D, M_ab = &lt;b_a b_b&gt;, J_{a mu} = &lt;J^S_{a mu}&gt;/tau
/// (Stratonovich), so Theta = M^-1 J D^-1 and sigma_hat = -L_min = J^T G^-1 J. Noise in J biases sigma_hat
/// upwards by tr(G^-1 Cov J), at most 2 n d / tau_total (n basis functions, d dimensions) and less when some basis fields are
/// gradients, whose Stratonovich currents are boundary terms; <see cref="EntropyProductionEstimate.Debiased"/> removes the
/// jackknife estimate of the bias (see <see cref="Resampling.Errors"/>). Units: k_B = 1 per unit time of the data.
/// </summary>
public static class EntropyProductionEstimator
{
    /// <summary>The thermodynamic force and EP rate of stationary data (all windows together).</summary>
    public static ThermodynamicForceEstimate Current(TrajectoryEnsemble data, IBasis basis, DiffusionSpec diffusion, ErrorOptions? errors = null)
    {
        errors ??= ErrorOptions.Default;
        var stats = CurrentStatistics.Accumulate(data, basis, null, errors);
        return Current(stats, diffusion, errors);
    }

    /// <summary>The thermodynamic force and EP rate from accumulated statistics.</summary>
    public static ThermodynamicForceEstimate Current(CurrentStatistics stats, DiffusionSpec diffusion, ErrorOptions? errors = null)
    {
        errors ??= ErrorOptions.Default;
        var deconvolution = Deconvolution(stats, diffusion);
        var full = stats.Moments();
        var (fitted, D, _) = diffusion.Prepare(full, deconvolution);
        var (sigma, theta) = Fit(stats, fitted, D, diagnose: true);
        var (se, bias) = Resampling.Errors(stats.Batches, errors, w =>
        {
            var (m, Dw, _) = diffusion.Prepare(stats.Moments(-1, w), deconvolution);
            var (s, t) = Fit(stats, m, Dw, diagnose: false);
            var r = new double[1 + t.Length];
            r[0] = s;
            t.CopyTo(r, 1);
            return r;
        }, [sigma, .. theta]);
        var estimate = new EntropyProductionEstimate(sigma, se[0], sigma - bias[0], "current", stats.BasisName,
            stats.Frames, (long)full.Count, full.ObservedTime, Settings(stats, errors, D, diffusion.Source))
        { Quantity = EstimatedQuantity.ContinuousRate };
        var field = new LinearVectorField(stats.Basis, stats.Options.TimeDegree, stats.WindowEdges[0], stats.WindowEdges[^1], theta, se[1..]);
        return new ThermodynamicForceEstimate(estimate, field);
    }

    /// <summary>
    /// The current estimate with its leading coarse-sampling bias removed. At lag dt the estimator converges
    /// to sigma + c dt + O(dt^2) (for a linear system J(dt) = J + dt (C A^T^2 - A^2 C)/4 + O(dt^2), see docs/inference.md),
    /// so the Richardson combination 2 sigma_hat(dt) - sigma_hat(2 dt) of lags 1 and 2 on the same data cancels c
    /// (<paramref name="order"/> 2: 3 sigma_hat(dt) - 3 sigma_hat(2 dt) + sigma_hat(3 dt) also cancels the dt^2 term).
    /// The standard error comes from resampling both lags jointly over the same batches.
    /// </summary>
    public static EntropyProductionEstimate CoarseSamplingCorrected(TrajectoryEnsemble data, IBasis basis, DiffusionSpec diffusion, ErrorOptions? errors = null,
        int order = 1)
    {
        errors ??= ErrorOptions.Default;
        var correction = CheckCorrection(order, data.Frames);
        var stats = Enumerable.Range(1, correction.Lags).Select(lag => CurrentStatistics.Accumulate(data, basis, new CurrentStatisticsOptions(Lag: lag), errors)).ToArray();
        return CoarseSamplingCorrected(stats, diffusion, errors, order);
    }

    private static CoarseSamplingCorrection CheckCorrection(int order, int frames)
    {
        if (order is < 1 or > 2) throw new InvalidInputException($"The coarse-sampling correction order must be 1 (lags 1, 2) or 2 (lags 1, 2, 3); got {order}.");
        var correction = CoarseSamplingCorrection.FromOrder(order);
        correction.CheckFrames(frames);
        return correction;
    }

    /// <summary><see cref="CoarseSamplingCorrected(TrajectoryEnsemble, IBasis, DiffusionSpec, ErrorOptions?, int)"/> from the statistics of lags 1..order+1 (same batches).</summary>
    public static EntropyProductionEstimate CoarseSamplingCorrected(IReadOnlyList<CurrentStatistics> stats, DiffusionSpec diffusion, ErrorOptions errors, int order)
    {
        var correction = CheckCorrection(order, stats[0].FramesPerTrajectory);
        var deconvolution = Deconvolution(stats[0], diffusion);
        double Combine(double[]? w, bool diagnose) => correction.Combine(lag =>
        {
            var (m, D, _) = diffusion.Prepare(stats[lag - 1].Moments(-1, w), deconvolution);
            return Fit(stats[lag - 1], m, D, diagnose).Sigma;
        });
        var one = stats[0];
        var m1 = one.Moments();
        var D1 = diffusion.Resolve(m1, deconvolution);
        double corrected = Combine(null, true);
        var (se, bias) = Resampling.Errors(one.Batches, errors, w => [Combine(w, false)], [corrected]);
        return new EntropyProductionEstimate(corrected, se[0], corrected - bias[0], correction.Label("current"), one.BasisName,
            one.Frames, (long)m1.Count, m1.ObservedTime, Settings(one, errors, D1, diffusion.Source))
        { Quantity = EstimatedQuantity.ContinuousRate };
    }

    /// <summary>
    /// sigma(t) of non-stationary data on <paramref name="windows"/> equal time windows. <paramref name="joint"/> false:
    /// a separate fit per window with the spatial basis times Legendre polynomials in time of degree
    /// <paramref name="timeDegree"/> local to the window (degree 1 removes the first-order effect of the force changing
    /// within a window). <paramref name="joint"/> true: one fit of d(x, t) over the whole record in the spatial basis times
    /// Legendre polynomials of degree <paramref name="timeDegree"/>, then the plug-in sigma_w = theta^T G_w theta = &lt;d^T D d&gt;_w
    /// = &lt;v^T D^-1 v&gt;_w per window (v = D d). The plug-in pools the whole record: its noise is
    /// that of theta (inverse information of all windows), whereas a window's own current (2 theta . J_w - theta^T G_w theta)
    /// would carry the window's martingale noise, variance 8 sigma_w / tau_w, whatever the fit (docs/inference.md).
    /// <paramref name="correctionOrder"/> 1 or 2 applies the coarse-sampling (Richardson)
    /// correction of <see cref="CoarseSamplingCorrected(TrajectoryEnsemble, IBasis, DiffusionSpec, ErrorOptions?, int)"/> window by window: at dt = 0.01 the breathing trap's windows
    /// otherwise carry O(dt) biases of several standard errors (docs/inference.md).
    /// </summary>
    public static EntropyProductionTimeSeries Windows(TrajectoryEnsemble data, IBasis basis, DiffusionSpec diffusion, int windows,
        int timeDegree = 1, bool joint = false, ErrorOptions? errors = null, int correctionOrder = 0)
    {
        errors ??= ErrorOptions.Default;
        var all = Enumerable.Range(1, CoarseSamplingCorrection.FromOrder(correctionOrder).Lags).Select(lag => CurrentStatistics.Accumulate(data, basis,
            new CurrentStatisticsOptions(Lag: lag, Windows: windows, TimeDegree: timeDegree, TimeLocalToWindow: !joint), errors)).ToArray();
        return Windows(all, diffusion, joint, errors, correctionOrder);
    }

    /// <summary><see cref="Windows(TrajectoryEnsemble, IBasis, DiffusionSpec, int, int, bool, ErrorOptions?, int)"/> from the windowed statistics of lags 1..correctionOrder+1.</summary>
    public static EntropyProductionTimeSeries Windows(IReadOnlyList<CurrentStatistics> all, DiffusionSpec diffusion, bool joint, ErrorOptions errors, int correctionOrder)
    {
        var correction = CoarseSamplingCorrection.FromOrder(correctionOrder);
        int timeDegree = all[0].Options.TimeDegree;
        var stats = all[0];
        var deconvolution = Deconvolution(stats, diffusion);
        var full = stats.Moments();
        var D = diffusion.Resolve(full, deconvolution);
        int n = stats.BasisCount, d = stats.Dimension, w = stats.Windows;

        double[] EvaluateLag(CurrentStatistics st, ReadOnlySpan<double> weights, bool diagnose)
        {
            var (whole, Dm, noise) = diffusion.Prepare(st.Moments(-1, weights), deconvolution);
            var result = new double[w + 1];
            double[]? theta = joint ? Fit(st, whole, Dm, diagnose).Theta : null;
            double total = 0, time = 0;
            for (int k = 0; k < w; k++)
            {
                var mk = st.Moments(k, weights);
                var fitted = DiffusionSpec.Part(mk, noise, deconvolution);
                result[k] = joint ? PlugInRate(fitted, theta!, Dm) : Fit(st, fitted, Dm, diagnose).Sigma;
                total += result[k] * mk.ObservedTime;
                time += mk.ObservedTime;
            }
            result[w] = total / time;
            return result;
        }

        double[] Evaluate(ReadOnlySpan<double> weights, bool diagnose)
        {
            var sum = new double[w + 1];
            for (int l = 0; l < correction.Lags; l++)
            {
                var r = EvaluateLag(all[l], weights, diagnose);
                for (int k = 0; k <= w; k++) sum[k] += correction.Weights[l] * r[k];
            }
            return sum;
        }

        var value = Evaluate(default, true);
        var (se, bias) = Resampling.Errors(stats.Batches, errors, weights => Evaluate(weights, false), value);
        var list = new List<WindowedRate>();
        for (int k = 0; k < w; k++)
            list.Add(new WindowedRate(stats.WindowEdges[k], stats.WindowEdges[k + 1], value[k], se[k], value[k] - bias[k]));
        string method = correction.Label(joint ? "current-joint-time" : "current-windows");
        var overall = new EntropyProductionEstimate(value[w], se[w], value[w] - bias[w], method,
            stats.BasisName, stats.Frames, (long)full.Count, full.ObservedTime, Settings(stats, errors, D, diffusion.Source))
        { Quantity = EstimatedQuantity.ContinuousRate };
        return new EntropyProductionTimeSeries(list, overall, joint ? $"joint (x, t) fit, Legendre time degree {timeDegree}" : $"per-window fits, local Legendre time degree {timeDegree}");
    }

    /// <summary>
    /// Short-time TUR lower bound with the optimal current in the basis: sigma_TUR = max_c 2 &lt;J_c&gt;^2 / (dt Var J_c)
    /// = 2 m^T S^-1 m / dt, with m and S the mean and covariance of the per-transition currents
    /// j = vec((b_s + b_e)/2 dx^T) (Otsubo, Ito, Dechant &amp; Sagawa, PRE 101, 062106 (2020); Manikandan, Gupta &amp;
    /// Krishnamurthy, PRL 124, 120603 (2020)). Needs no diffusion matrix; a lower bound that becomes tight as dt -> 0.
    /// <paramref name="noiseRobust"/>: positions observed with white measurement noise of covariance Sigma inflate S (by
    /// 2 d^T Sigma d per transition for a linear current d^T dy, against a clean variance of order 2 dt d^T D d), so the bound falls
    /// short; Sigma is then estimated from successive increments and its share removed from S (<see cref="MeasurementNoise"/>;
    /// docs/inference.md, "Measurement noise").
    /// </summary>
    public static EntropyProductionEstimate Tur(TrajectoryEnsemble data, IBasis basis, ErrorOptions? errors = null, bool noiseRobust = false)
    {
        errors ??= ErrorOptions.Default;
        return Tur(CurrentStatistics.Accumulate(data, basis, new CurrentStatisticsOptions(CurrentCovariance: true), errors), errors, noiseRobust);
    }

    /// <summary>The TUR bound from statistics accumulated with <see cref="CurrentStatisticsOptions.CurrentCovariance"/>.</summary>
    public static EntropyProductionEstimate Tur(CurrentStatistics stats, ErrorOptions errors, bool noiseRobust = false)
    {
        if (!stats.Options.CurrentCovariance) throw new InvalidInputException("The TUR bound needs statistics accumulated with the current covariance.");
        var full = stats.Moments();
        double sigma = TurRate(stats, full, true, noiseRobust);
        var (se, bias) = Resampling.Errors(stats.Batches, errors, w => [TurRate(stats, stats.Moments(-1, w), false, noiseRobust)], [sigma]);
        return new EntropyProductionEstimate(sigma, se[0], sigma - bias[0], "tur", stats.BasisName,
            stats.Frames, (long)full.Count, full.ObservedTime, Settings(stats, errors, [], noiseRobust ? TurNoiseRobust : "not used"))
        { Quantity = EstimatedQuantity.ContinuousLowerBound };
    }

    /// <summary>The Gaussian deconvolution of the noise-robust variant's polynomial or Fourier basis (<see cref="DiffusionSpec.Prepare"/>), else null.</summary>
    /// <summary>
    /// The measurement noise a noise-robust <paramref name="diffusion"/> removes from the lag-1 moments of <paramref name="stats"/>
    /// (<see cref="DiffusionSpec.Prepare"/>), with standard errors over the same batches and the factor by which its removal
    /// multiplies the basis' highest modes (<see cref="GaussianDeconvolution.Amplification"/>); null for another diffusion.
    /// </summary>
    internal static MeasurementNoiseEstimate? RemovedNoise(CurrentStatistics stats, DiffusionSpec diffusion, ErrorOptions errors)
    {
        if (!diffusion.NoiseRobust) return null;
        var deconvolution = Deconvolution(stats, diffusion);
        var sigma = diffusion.Prepare(stats.Moments(), deconvolution).Sigma!;
        var se = Resampling.StandardErrors(stats.Batches, errors, w => diffusion.Prepare(stats.Moments(-1, w), deconvolution).Sigma!);
        return new MeasurementNoiseEstimate(sigma, se, stats.Dimension) { Amplification = deconvolution?.Amplification(sigma) ?? 1 };
    }

    /// <summary>
    /// The measurement noise the noise-robust TUR bound removes from the currents' variance (the affine sums of
    /// <see cref="MeasurementNoise"/>, so its amplification is 1), with standard errors over the same batches.
    /// </summary>
    internal static MeasurementNoiseEstimate TurRemovedNoise(CurrentStatistics stats, ErrorOptions errors)
    {
        string Name(int a) => LinearVectorField.Describe(stats.Basis, stats.Options.TimeDegree, a);
        var sigma = MeasurementNoise.Remove(stats.Moments(), Name, null).Covariance;
        var se = Resampling.StandardErrors(stats.Batches, errors, w => MeasurementNoise.Remove(stats.Moments(-1, w), Name, null).Covariance);
        return new MeasurementNoiseEstimate(sigma, se, stats.Dimension);
    }

    internal static GaussianDeconvolution? Deconvolution(CurrentStatistics stats, DiffusionSpec diffusion) =>
        diffusion.NoiseRobust ? GaussianDeconvolution.For(stats.Basis, stats.Options.TimeDegree) : null;

    /// <summary>The settings' diffusion source of a noise-robust TUR bound (which uses no diffusion matrix).</summary>
    internal const string TurNoiseRobust = "not used; the currents' variance less the measurement noise of successive increments";

    internal static (double Sigma, double[] Theta) Fit(CurrentStatistics stats, CurrentMoments m, double[] D, bool diagnose)
    {
        int n = m.N, d = m.D;
        var x = DenseMatrix.SolveGram(m.GramMid, n, m.Strat, d, a => LinearVectorField.Describe(stats.Basis, stats.Options.TimeDegree, a),
            "Gram matrix <b b^T> of the basis", diagnose);
        var theta = DenseMatrix.MultiplyRowMajor(x, n, d, DenseMatrix.InverseSpd(D, d, "diffusion matrix"), d);
        return (DenseMatrix.Dot(m.Strat, theta), theta);
    }

    /// <summary>theta^T (M (x) D) theta = &lt;d^T D d&gt; on a subset with theta fixed (the plug-in rate &lt;v^T D^-1 v&gt;, v = D d).</summary>
    internal static double PlugInRate(CurrentMoments m, double[] theta, double[] D)
    {
        int n = m.N, d = m.D;
        var mt = DenseMatrix.MultiplyRowMajor(m.GramMid, n, n, theta, d);   // M Theta
        var mtd = DenseMatrix.MultiplyRowMajor(mt, n, d, D, d);             // M Theta D
        return DenseMatrix.Dot(theta, mtd);
    }

    private static double TurRate(CurrentStatistics stats, CurrentMoments m, bool diagnose, bool noiseRobust)
    {
        if (noiseRobust) m = MeasurementNoise.Remove(m, a => LinearVectorField.Describe(stats.Basis, stats.Options.TimeDegree, a), null).Moments;
        int nd = m.N * m.D;
        var mean = new double[nd];
        for (int i = 0; i < nd; i++) mean[i] = m.Strat[i] * m.Step;
        var cov = (double[])m.CurrentSecondMoment!.Clone();
        for (int p = 0; p < nd; p++)
            for (int q = 0; q < nd; q++) cov[p * nd + q] -= mean[p] * mean[q];
        var y = DenseMatrix.SolveGram(cov, nd, mean, 1,
            p => $"{LinearVectorField.Describe(stats.Basis, stats.Options.TimeDegree, p / m.D)} o dx{p % m.D}", "covariance of the basis currents", diagnose);
        return 2 * DenseMatrix.Dot(mean, y) / m.Step;
    }

    internal static EstimateSettings Settings(CurrentStatistics stats, ErrorOptions errors, double[] D, string source) =>
        new(stats.FrameDt, stats.Options.Lag, errors.Describe(stats.Batches, stats.BatchLayout.Unit), D, source, stats.Options.TimeDegree);
}
