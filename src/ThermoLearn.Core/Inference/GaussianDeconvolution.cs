using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Inference;

/// <summary>
/// The share of Gaussian measurement noise in the current moments of a basis, removed exactly (docs/inference.md, "Measurement
/// noise"): positions y = x + eta, eta ~ N(0, Sigma) independent across frames and of x. For polynomial bases the share is a
/// finite sum of lower moments (<see cref="PolynomialDeconvolution"/>); for Fourier bases each mode is damped by its own factor
/// exp(-q^T Sigma q / 2) (<see cref="FourierDeconvolution"/>). Other bases (rbf) have none: the affine sums of
/// <see cref="MeasurementNoise"/> stand in.
/// </summary>
internal abstract class GaussianDeconvolution
{
    /// <summary>
    /// Corrected moments whose noise is amplified by more than this factor (<see cref="Amplification"/>) are flagged: their
    /// standard errors grow by it, so the data needed for the same precision grows by its square (9 at 3).
    /// </summary>
    internal const double AmplificationWarning = 3;

    /// <summary>The deconvolution for <paramref name="basis"/> times a Legendre time basis of degree <paramref name="timeDegree"/>, or null when there is none.</summary>
    internal static GaussianDeconvolution? For(IBasis basis, int timeDegree) => basis switch
    {
        PolynomialBasis p => new PolynomialDeconvolution(p, timeDegree),
        FourierBasis f => new FourierDeconvolution(f, timeDegree),
        _ => null,
    };

    /// <summary>
    /// The moments less the share of noise of covariance <paramref name="sigma"/> (row-major d x d): Gram sums, Ito and
    /// Stratonovich currents, second cumulant - Sigma / tau, successive products + Sigma.
    /// </summary>
    internal abstract CurrentMoments Subtract(CurrentMoments m, double[] sigma);

    /// <summary>
    /// The largest factor by which the deconvolution multiplies an observed mean (and its standard error) for noise of covariance
    /// <paramref name="sigma"/>: exp(q^T Sigma q / 2) at the highest wavevector of the Gram for Fourier bases; 1 for polynomial
    /// bases, whose correction subtracts lower moments instead of scaling.
    /// </summary>
    internal virtual double Amplification(double[] sigma) => 1;
}
