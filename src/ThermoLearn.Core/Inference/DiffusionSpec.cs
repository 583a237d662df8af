using ThermoLearn.Statistics;

namespace ThermoLearn.Inference;

/// <summary>
/// Which diffusion matrix D the EP estimators use: a known one, or one estimated from the same data by
/// the second cumulant D = &lt;dx dx^T&gt;/(2 dt), or by its variant robust to white measurement noise, the second cumulant
/// less the noise covariance Sigma that the successive increments give (docs/inference.md, "Measurement noise"); both drift-corrected.
/// Noise of covariance Sigma adds 2 Sigma to &lt;dx dx^T&gt; and -Sigma to &lt;dx_f dx_{f+1}^T&gt;, so the robust value is
/// (&lt;dx dx^T&gt; + &lt;dx_f dx_{f+1}^T&gt; + &lt;dx_{f+1} dx_f^T&gt;)/(2 dt) less its drift term (Vestergaard, Blainey &amp;
/// Flyvbjerg, PRE 89, 022726 (2014)), with the drift term estimated from moments without the noise.
/// </summary>
public sealed record DiffusionSpec
{
    private DiffusionSpec(double[]? matrix, bool noiseRobust)
    {
        Matrix = matrix;
        NoiseRobust = noiseRobust;
    }

    /// <summary>The given matrix (row-major), or null when estimated.</summary>
    public double[]? Matrix { get; }
    public bool NoiseRobust { get; }

    public static DiffusionSpec Estimated { get; } = new(null, false);
    public static DiffusionSpec EstimatedNoiseRobust { get; } = new(null, true);

    /// <summary>A known isotropic D = value * identity in d dimensions.</summary>
    public static DiffusionSpec Isotropic(double value, int dimension)
    {
        if (!(value > 0) || !double.IsFinite(value)) throw new InvalidInputException($"The diffusion coefficient must be a positive finite number (got {value}).");
        var m = new double[dimension * dimension];
        for (int i = 0; i < dimension; i++) m[i * dimension + i] = value;
        return new DiffusionSpec(m, false);
    }

    /// <summary>A known diffusion matrix (row-major d x d, symmetric positive definite).</summary>
    public static DiffusionSpec Given(double[] matrix, int dimension)
    {
        if (matrix.Length != dimension * dimension)
            throw new InvalidInputException($"A diffusion matrix for {dimension}-dimensional data needs {dimension * dimension} entries (got {matrix.Length}).");
        double scale = 0;
        foreach (double v in matrix)
        {
            if (!double.IsFinite(v)) throw new InvalidInputException($"The diffusion matrix has the entry {v}; every entry must be a finite number.");
            scale = Math.Max(scale, Math.Abs(v));
        }
        for (int i = 0; i < dimension; i++)
            for (int j = i + 1; j < dimension; j++)
                if (Math.Abs(matrix[i * dimension + j] - matrix[j * dimension + i]) > 1e-12 * scale)
                    throw new InvalidInputException($"The diffusion matrix is not symmetric: D[{i},{j}] = {matrix[i * dimension + j]} but D[{j},{i}] = {matrix[j * dimension + i]}; "
                        + "a diffusion matrix is symmetric positive definite (D = <dx dx^T> / 2 dt).");
        DenseMatrix.InverseSpd(matrix, dimension, "diffusion matrix");
        return new DiffusionSpec((double[])matrix.Clone(), false);
    }

    internal string Source => Matrix is not null ? "given"
        : NoiseRobust ? "second cumulant less the measurement noise of successive increments, drift-corrected" : "second cumulant, drift-corrected";

    /// <summary>
    /// D from the moments (or the given matrix); the noise-robust variant removes the measurement noise's share from the
    /// moments first (<see cref="MeasurementNoise"/>). The raw second cumulant has an O(dt) drift bias: by the Ito-Taylor
    /// expansion &lt;dx dx^T&gt;/(2 dt) = D + (dt/2) S + O(dt^2) (<see cref="DriftTerm"/>), and the bias is subtracted
    /// (docs/inference.md).
    /// </summary>
    internal double[] Resolve(CurrentMoments m, GaussianDeconvolution? deconvolution) => Prepare(m, deconvolution).D;

    /// <summary>
    /// D as <see cref="Resolve"/>, the moments the force fit takes, and the noise covariance Sigma (noise-robust variant only,
    /// else null). The noise-robust variant fits the force on the moments without the noise's share where that share is known
    /// exactly, for a polynomial or Fourier basis (<paramref name="deconvolution"/>, <see cref="GaussianDeconvolution"/>); for other
    /// bases (rbf) the fit keeps the observed moments (their correction is exact only for affine functions) and D alone is noise-free.
    /// </summary>
    internal (CurrentMoments Moments, double[] D, double[]? Sigma) Prepare(CurrentMoments m, GaussianDeconvolution? deconvolution)
    {
        if (Matrix is not null) return (m, Matrix, null);
        if (!NoiseRobust) return (m, DriftCorrected(m), null);
        var (clean, sigma) = MeasurementNoise.Remove(m, a => "number " + a.ToString(System.Globalization.CultureInfo.InvariantCulture), deconvolution);
        return (deconvolution is null ? m : clean, DriftCorrected(clean), sigma);
    }

    /// <summary>
    /// Moments of a part of the data (a time window) for the force fit, without the share of the noise Sigma that
    /// <see cref="Prepare"/> found on all of them when the fit takes noise-free moments (polynomial and Fourier bases), else as they are.
    /// </summary>
    internal static CurrentMoments Part(CurrentMoments part, double[]? sigma, GaussianDeconvolution? deconvolution) =>
        sigma is null || deconvolution is null ? part : MeasurementNoise.Remove(part, sigma, deconvolution);

    /// <summary>D = &lt;dx dx^T&gt;/(2 dt) - (dt/2) S of moments taken as they are.</summary>
    internal static double[] DriftCorrected(CurrentMoments m)
    {
        int d = m.D;
        var s = DriftTerm(m);
        var r = new double[d * d];
        for (int i = 0; i < d * d; i++) r[i] = m.SecondCumulant[i] - m.Step / 2 * s[i];
        return r;
    }

    /// <summary>
    /// S = &lt;m m^T + D (grad m)^T + (grad m) D&gt; for the drift m, the O(dt) term of &lt;dx dx^T&gt;/(2 dt), from the
    /// moments: m = Phi^T b with Phi = M_I^-1 J^I (the Ito fit) and &lt;D grad b_a&gt; = J^S - J^I (the score identity), so
    /// S = Phi^T M_I Phi + K^T Phi + Phi^T K with K = J^S - J^I.
    /// </summary>
    internal static double[] DriftTerm(CurrentMoments m)
    {
        int d = m.D, n = m.N;
        var phi = DenseMatrix.SolveGram(m.GramStart, n, m.Ito, d, a => a.ToString(System.Globalization.CultureInfo.InvariantCulture), "Gram matrix of the diffusion fit's basis", false);
        var k = new double[n * d];
        for (int i = 0; i < n * d; i++) k[i] = m.Strat[i] - m.Ito[i];
        var mphi = DenseMatrix.MultiplyRowMajor(m.GramStart, n, n, phi, d);
        var r = new double[d * d];
        for (int mu = 0; mu < d; mu++)
            for (int rho = 0; rho < d; rho++)
            {
                double s = 0;
                for (int a = 0; a < n; a++)
                    s += phi[a * d + mu] * mphi[a * d + rho] + k[a * d + mu] * phi[a * d + rho] + phi[a * d + mu] * k[a * d + rho];
                r[mu * d + rho] = s;
            }
        return r;
    }
}
