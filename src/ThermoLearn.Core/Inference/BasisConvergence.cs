using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Inference;

/// <summary>
/// The basis check of <see cref="BasisConvergence.Check"/>: the same estimate in a richer basis on the same data, and what it gains.
/// </summary>
/// <param name="Basis">The estimate's basis, e.g. "poly:3".</param>
/// <param name="RicherBasis">The richer basis, e.g. "poly:5".</param>
/// <param name="RicherRate">The richer basis's rate (same method and coarse-sampling correction as the estimate).</param>
/// <param name="RicherStandardError">Its standard error.</param>
/// <param name="RicherDebiased">Its debiased value.</param>
/// <param name="Gain">Debiased richer rate less the debiased rate of the estimate's basis (same diffusion matrix for both).</param>
/// <param name="GainStandardError">Standard error of <paramref name="Gain"/>, resampled over the same batches as both rates (much smaller than
/// either rate's: both carry the same martingale noise of the currents).</param>
/// <param name="EstimateStandardError">The estimate's own standard error, the yardstick of <see cref="Short"/>.</param>
public sealed record BasisCheck(string Basis, string RicherBasis, double RicherRate, double RicherStandardError, double RicherDebiased,
    double Gain, double GainStandardError, double EstimateStandardError)
{
    /// <summary>The gain in its own standard errors (how sure it is not noise).</summary>
    public double GainZ => Gain / GainStandardError;

    /// <summary>The gain in standard errors of the estimate (how much it matters against the error bar).</summary>
    public double GainInEstimateErrors => Gain / EstimateStandardError;

    /// <summary>
    /// True when the richer basis is higher beyond doubt (<see cref="GainZ"/> above <see cref="BasisConvergence.SignificantGain"/>) and by
    /// more than the estimate's error bar (<see cref="GainInEstimateErrors"/> above <see cref="BasisConvergence.MaterialGain"/>): the
    /// estimate's basis does not span the thermodynamic force, and the estimate falls short of sigma by at least the gain.
    /// </summary>
    public bool Short => GainZ > BasisConvergence.SignificantGain && GainInEstimateErrors > BasisConvergence.MaterialGain;
}

/// <summary>
/// A model-free check that the basis spans the thermodynamic force. With a finite basis the current estimator's large-data
/// limit (dt -> 0) is sigma_B = max over fields d in the span of 2 &lt;J_d&gt;/tau - &lt;d^T D d&gt; = &lt;(P F)^T D (P F)&gt;, P the
/// projection (in the metric D and the stationary law) of the thermodynamic force F = D^-1 v onto the span: a variational lower
/// bound on sigma = &lt;F^T D F&gt;, equal only when F lies in the span, and its error bar says nothing of the remainder
/// &lt;((1 - P) F)^T D (1 - P) F&gt;. Mexican-hat swirl (exact 2.797): poly:3 gives 1.96 +- 0.06, poly:5 2.08, poly:7 2.45, rbf:12 2.70
/// (docs/inference.md, "Is the basis rich enough?"). The check refits in a richer basis on the same data and reports the debiased
/// gain with its standard error from the same batches; a gain that is both significant and larger than the estimate's error bar
/// (<see cref="BasisCheck.Short"/>) shows the basis short of the force. A gain of zero does not show the converse: the richer basis
/// may miss the same part of the force.
/// </summary>
public static class BasisConvergence
{
    /// <summary>
    /// A gain is taken as real above this many of its own standard errors. On data whose force lies in both bases (driven trap
    /// poly:1 and poly:2, bead-spring poly:1, 100 or 40 seeds each; the double well at equilibrium, poly:3) the gain's z-scores had
    /// means -0.26 to 0.04 and spreads 0.6-0.94, none above 1.72 in 280 runs (docs/inference.md, "Is the basis rich enough?").
    /// </summary>
    public const double SignificantGain = 3;

    /// <summary>
    /// A gain matters above this many standard errors of the estimate: a bias of half the error bar already takes the coverage of the
    /// 1.96-stderr interval from 95% to 92%, and the gain is only the part of the basis bias that the richer basis recovers.
    /// </summary>
    public const double MaterialGain = 0.5;

    /// <summary>Steps of the basis family that the check's basis adds: two, so that a force of definite parity (an odd field such
    /// as a swirl in poly, whose even degrees add nothing) still meets new functions of its own kind.</summary>
    public const int Steps = 2;

    /// <summary>The check's basis is skipped by default above this many functions (its Gram matrix costs the square per transition).</summary>
    public const int DefaultMaximumFunctions = 200;

    /// <summary>
    /// The next richer basis of the same family, <see cref="Steps"/> steps up, and its number of functions: poly:N -> poly:N+2,
    /// fourier:K[:L] -> fourier:K+2[:L], rbf:M -> rbf:M+2; null when the family has no richer member (poly:11 and poly:12, fourier
    /// beyond 64 harmonics, rbf beyond 4096 centres).
    /// </summary>
    public static (string Spec, double Functions)? Richer(IBasis basis)
    {
        ArgumentNullException.ThrowIfNull(basis);
        int d = basis.Dimension;
        switch (basis)
        {
            case PolynomialBasis p when p.Degree + Steps <= 12:
            {
                double count = 1;
                for (int k = 1; k <= p.Degree + Steps; k++) count = count * (d + k) / k;
                return ($"poly:{p.Degree + Steps}", Math.Round(count));
            }
            case FourierBasis f when f.Harmonics + Steps <= 64:
                return (Math.Abs(f.Period - 2 * Math.PI) < 1e-12 ? $"fourier:{f.Harmonics + Steps}"
                    : $"fourier:{f.Harmonics + Steps}:{f.Period.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", 1 + 2.0 * (f.Harmonics + Steps) * d);
            case RadialBasis r when Math.Pow(r.PerDimension + Steps, d) <= 4096:
                return ($"rbf:{r.PerDimension + Steps}", 1 + Math.Pow(r.PerDimension + Steps, d));
            default:
                return null;
        }
    }

    /// <summary>
    /// The current estimate of <paramref name="estimate"/>'s statistics refitted with the richer basis's statistics (the same data,
    /// lags 1..order+1 each, over the same batches), and the debiased gain: both bases use the diffusion matrix resolved from the
    /// estimate's own moments, so that the gain is the basis's alone.
    /// </summary>
    public static BasisCheck Check(IReadOnlyList<CurrentStatistics> estimate, IReadOnlyList<CurrentStatistics> richer, DiffusionSpec diffusion,
        ErrorOptions errors, int order)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(richer);
        ArgumentNullException.ThrowIfNull(diffusion);
        ArgumentNullException.ThrowIfNull(errors);
        var correction = CoarseSamplingCorrection.FromOrder(order);
        if (estimate.Count != correction.Lags || richer.Count != correction.Lags)
            throw new InvalidInputException($"The basis check needs the statistics of lags 1..{correction.Lags} for both bases (got {estimate.Count} and {richer.Count}).");
        for (int l = 0; l < correction.Lags; l++)
            if (!estimate[l].BatchLayout.Batches.SequenceEqual(richer[l].BatchLayout.Batches) || estimate[l].Options != richer[l].Options)
                throw new InvalidInputException("The basis check needs both bases' statistics from the same data, batches and options.");

        // noise-robust, polynomial and Fourier bases: both fits on moments without the noise's share, of the Sigma the estimate's moments give
        var deconvolution = EntropyProductionEstimator.Deconvolution(estimate[0], diffusion);
        var richerDeconvolution = EntropyProductionEstimator.Deconvolution(richer[0], diffusion);
        double[] Evaluate(double[]? w, bool diagnose)
        {
            double base0 = 0, rich = 0;
            for (int l = 0; l < correction.Lags; l++)
            {
                var (mb, D, noise) = diffusion.Prepare(estimate[l].Moments(-1, w), deconvolution);
                var observed = richer[l].Moments(-1, w);
                var mr = DiffusionSpec.Part(observed, noise, richerDeconvolution);
                if (diagnose && noise is not null && richerDeconvolution is not null)
                    MeasurementNoise.RequireDeconvolved(mr, observed, noise, a => richer[l].Basis.Describe(a / (richer[l].Options.TimeDegree + 1)));
                double weight = correction.Weights[l];
                base0 += weight * EntropyProductionEstimator.Fit(estimate[l], mb, D, false).Sigma;
                rich += weight * EntropyProductionEstimator.Fit(richer[l], mr, D, diagnose).Sigma;
            }
            return [base0, rich, rich - base0];
        }

        var value = Evaluate(null, true);
        var (se, bias) = Resampling.Errors(estimate[0].Batches, errors, w => Evaluate(w, false), value);
        return new BasisCheck(estimate[0].BasisName, richer[0].BasisName, value[1], se[1], value[1] - bias[1], value[2] - bias[2], se[2], se[0]);
    }
}
