using ThermoLearn.Statistics;

namespace ThermoLearn.Inference;

/// <summary>
/// Removes the share of white measurement noise from the current moments (docs/inference.md, "Measurement noise").
/// Positions observed as y_f = x_f + eta_f, eta independent across frames and of x, mean 0, covariance Sigma. For a basis
/// affine in x, b(y) = b(x) + G eta with the basis' constant Jacobian G (n x d), the noise enters the moments of the
/// observed transitions exactly as (tau: time per transition)
/// <list type="bullet">
/// <item>Gram sums: &lt;b b^T&gt;_y = &lt;b b^T&gt;_x + G Sigma G^T (at start points and at both ends);</item>
/// <item>Ito currents: J^I_y = J^I_x - G Sigma / tau (the start point's noise is in b(y_s) and, with the opposite sign, in dy);</item>
/// <item>Stratonovich currents: J^S_y = J^S_x (the noise of the midpoint (eta_s + eta_e)/2 is uncorrelated with eta_e - eta_s);</item>
/// <item>second cumulant: &lt;dy dy^T&gt;/(2 tau) = &lt;dx dx^T&gt;/(2 tau) + Sigma / tau;</item>
/// <item>successive products: &lt;dy_f dy_{f+1}^T&gt; = &lt;dx_f dx_{f+1}^T&gt; - Sigma, and &lt;dx_f dx_{f+1}^T&gt; (symmetrised)
/// = tau^2 S + O(tau^3) with S = &lt;m m^T + D (grad m)^T + (grad m) D&gt; for the drift m (Ito-Taylor);</item>
/// <item>the currents' second moment &lt;j j^T&gt; (TUR) gains 2 &lt;B B^T&gt; (x) Sigma and terms in G Sigma G^T (<see cref="CurrentSecondMoment"/>).</item>
/// </list>
/// Both unknowns come from the same sums: Sigma = tau^2 S - &lt;dy_f dy_{f+1}^T&gt; (Vestergaard, Blainey &amp; Flyvbjerg,
/// PRE 89, 022726 (2014), with the drift's share), and G = K C^-1 from K = J^S - J^I = G &lt;dy dy^T&gt;/(2 tau) = G C, which
/// holds sum for sum for an affine basis, noise or not. S is the drift-corrected diffusion's own term, estimated from the
/// corrected moments, and enters Sigma multiplied by tau^2: <see cref="Passes"/> fixed-point passes, each shrinking the
/// error by a factor of order tau |grad m|. The plain estimators on the corrected moments give the drift, the diffusion
/// (= (&lt;dy dy^T&gt; + 2 &lt;dy_f dy_{f+1}^T&gt;)/(2 tau) - (3 tau / 2) S), the score and the mean local velocity without
/// the noise, to the same O(tau) as on clean data. For a polynomial or Fourier basis and Gaussian noise the share of every
/// moment is known exactly from Sigma, whatever the degree or the harmonics (<see cref="GaussianDeconvolution"/>), and replaces
/// the affine sums above (to which it reduces for poly:1). For other bases (rbf) the noise's share is a smoothing of the basis by the noise's law
/// at the scale of Sigma, which these moments do not determine: the affine sums are used with G = K C^-1, the mean gradient,
/// and an O(Sigma) bias remains in the drift and score coefficients of non-affine functions (the diffusion's only through
/// tau S, so O(tau Sigma)).
/// </summary>
internal static class MeasurementNoise
{
    /// <summary>Passes of the fixed point Sigma = tau^2 S(Sigma) - &lt;dy_f dy_{f+1}^T&gt; (the first with S = 0).</summary>
    internal const int Passes = 3;

    /// <summary>
    /// The moments without the measurement noise's share, and the noise covariance Sigma (row-major d x d) they imply:
    /// by <paramref name="deconvolution"/> for a polynomial or Fourier basis, else (null) by the affine sums.
    /// <paramref name="name"/> names the basis functions in the error raised when the noise is too large for the data.
    /// </summary>
    internal static (CurrentMoments Moments, double[] Covariance) Remove(CurrentMoments m, Func<int, string> name, GaussianDeconvolution? deconvolution)
    {
        int n = m.N, d = m.D;
        double tau = m.Step;
        if (!(m.SuccessiveCount > 0))
            throw new InvalidInputException("The measurement noise is estimated from successive increments, and these data have none: trajectories need at least "
                + "three frames (two successive transitions) each; use the plain diffusion estimate, or longer trajectories.");
        var jacobian = deconvolution is null ? Jacobian(m) : null;
        var s = new double[d * d];
        var sigma = new double[d * d];
        CurrentMoments corrected = m;
        for (int pass = 0; pass < Passes; pass++)
        {
            for (int i = 0; i < d * d; i++) sigma[i] = tau * tau * s[i] - m.Successive[i];
            corrected = deconvolution?.Subtract(m, sigma) ?? Subtract(m, jacobian!, sigma);
            RequirePositiveDefinite(corrected.GramStart, m.GramStart, n, sigma, d, name);
            s = DiffusionSpec.DriftTerm(corrected);
        }
        if (DenseMatrix.TryCholesky(DenseMatrix.FromRowMajor(corrected.SecondCumulant, d, "corrected second cumulant")) is null)
            throw new InvalidInputException($"The measurement noise estimated from successive increments (variance {Variances(sigma, d)} per coordinate) accounts for "
                + $"all the variance of the increments (<dx dx^T>/(2 dt) = {Variances(m.SecondCumulant, d)} on the diagonal, {Variances(corrected.SecondCumulant, d)} "
                + "without the noise): these data show no diffusion beyond the noise; use more frames, or check that the positions move between frames.");
        return (corrected, sigma);
    }

    /// <summary>
    /// Moments of the same data at another lag (the coarse-sampling correction's lag 2) or of a part of them (a time window)
    /// without the share of noise of a known covariance <paramref name="sigma"/> (from the lag-1 moments of all the data,
    /// <see cref="Remove(CurrentMoments, Func{int, string}, GaussianDeconvolution?)"/>): the sums above hold at any time per
    /// transition tau, the start and end frames' noise being independent.
    /// </summary>
    internal static CurrentMoments Remove(CurrentMoments m, double[] sigma, GaussianDeconvolution? deconvolution) =>
        deconvolution?.Subtract(m, sigma) ?? Subtract(m, Jacobian(m), sigma);

    /// <summary>G = K C^-1, the basis' Jacobian, from K = J^S - J^I = G &lt;dy dy^T&gt;/(2 tau) (n x d, row-major).</summary>
    private static double[] Jacobian(CurrentMoments m)
    {
        int n = m.N, d = m.D;
        var k = new double[n * d];
        for (int i = 0; i < n * d; i++) k[i] = m.Strat[i] - m.Ito[i];
        return DenseMatrix.MultiplyRowMajor(k, n, d, DenseMatrix.InverseSpd(m.SecondCumulant, d, "second cumulant <dx dx^T>/(2 dt) of the data"), d);
    }

    /// <summary>The moments less the share of noise Sigma: Gram sums - G Sigma G^T, Ito currents + G Sigma / tau, second cumulant - Sigma / tau, successive products + Sigma.</summary>
    private static CurrentMoments Subtract(CurrentMoments m, double[] jacobian, double[] sigma)
    {
        int n = m.N, d = m.D;
        double tau = m.Step;
        var gs = DenseMatrix.MultiplyRowMajor(jacobian, n, d, sigma, d);
        var share = DenseMatrix.MultiplyRowMajor(gs, n, d, Transpose(jacobian, n, d), n);
        var gramStart = new double[n * n];
        var gramMid = new double[n * n];
        for (int i = 0; i < n * n; i++)
        {
            gramStart[i] = m.GramStart[i] - share[i];
            gramMid[i] = m.GramMid[i] - share[i];
        }
        var ito = new double[n * d];
        for (int i = 0; i < n * d; i++) ito[i] = m.Ito[i] + gs[i] / tau;
        return WithNoiseFreeIncrements(m, sigma, gramStart, gramMid, m.Strat, ito,
            m.CurrentSecondMoment is null ? null : CurrentSecondMoment(m, jacobian, sigma, share));
    }

    /// <summary>
    /// The moments with the given noise-free Gram sums and currents, and the increments' own moments less the noise's share, the
    /// same for every basis: second cumulant - Sigma / tau, successive products + Sigma.
    /// </summary>
    internal static CurrentMoments WithNoiseFreeIncrements(CurrentMoments m, double[] sigma, double[] gramStart, double[] gramMid, double[] strat,
        double[] ito, double[]? currentSecondMoment)
    {
        int d = m.D;
        double tau = m.Step;
        var second = new double[d * d];
        var successive = new double[d * d];
        for (int i = 0; i < d * d; i++)
        {
            second[i] = m.SecondCumulant[i] - sigma[i] / tau;
            successive[i] = m.Successive[i] + sigma[i];
        }
        return m.With(gramStart, gramMid, strat, ito, second, successive, currentSecondMoment);
    }

    /// <summary>
    /// &lt;j j^T&gt; less the noise's share, for j = vec(B dy^T), B = (b(y_s) + b(y_e))/2 (the TUR's currents). With y = x + eta,
    /// B_y = B_x + G eta_bar and dy = dx + delta, where eta_bar = (eta_s + eta_e)/2 (covariance Sigma/2) and delta = eta_e - eta_s
    /// (covariance 2 Sigma) are uncorrelated, and independent for Gaussian noise; the terms odd in the noise vanish, so
    /// <list type="bullet">
    /// <item>&lt;j j^T&gt;_y = &lt;j j^T&gt;_x + 2 &lt;B_x B_x^T&gt; (x) Sigma + (G Sigma G^T / 2) (x) &lt;dx dx^T&gt; + G Sigma G^T (x) Sigma,</item>
    /// </list>
    /// ((x): Kronecker product over (basis, coordinate) pairs). In observed moments, &lt;B_y B_y^T&gt; = &lt;B_x B_x^T&gt; + G Sigma G^T / 2
    /// = GramMid_y - G &lt;dy dy^T&gt; G^T / 4 (b_e - b_s = G dy for an affine basis) and &lt;dy dy^T&gt; = &lt;dx dx^T&gt; + 2 Sigma, so the share is
    /// 2 M (x) Sigma + (G Sigma G^T / 2) (x) &lt;dy dy^T&gt; - G Sigma G^T (x) Sigma with M = GramMid_y - G &lt;dy dy^T&gt; G^T / 4. For a linear
    /// current d^T dy (B constant, G = 0) it is the familiar 2 d^T Sigma d per transition. The mean &lt;j&gt; (the Stratonovich current)
    /// keeps no share. Exact for an affine basis and Gaussian noise; beyond, the leading term 2 &lt;B B^T&gt; (x) Sigma stands and the
    /// others take the mean Jacobian G.
    /// </summary>
    private static double[] CurrentSecondMoment(CurrentMoments m, double[] jacobian, double[] sigma, double[] gsg)
    {
        int n = m.N, d = m.D, nd = n * d;
        var increments = new double[d * d];   // <dy dy^T>
        for (int i = 0; i < d * d; i++) increments[i] = 2 * m.Step * m.SecondCumulant[i];
        var gc = DenseMatrix.MultiplyRowMajor(jacobian, n, d, increments, d);
        var gcg = DenseMatrix.MultiplyRowMajor(gc, n, d, Transpose(jacobian, n, d), n);
        var result = (double[])m.CurrentSecondMoment!.Clone();
        for (int a = 0; a < n; a++)
            for (int c = 0; c < n; c++)
            {
                double mid = m.GramMid[a * n + c] - gcg[a * n + c] / 4, g = gsg[a * n + c];
                for (int mu = 0; mu < d; mu++)
                    for (int nu = 0; nu < d; nu++)
                    {
                        double s = sigma[mu * d + nu];
                        result[(a * d + mu) * nd + c * d + nu] -= 2 * mid * s + g / 2 * increments[mu * d + nu] - g * s;
                    }
            }
        return result;
    }

    /// <summary>
    /// Refuses moments whose Gram matrix is no longer positive definite without the noise's share (<paramref name="corrected"/> from
    /// <paramref name="observed"/> by <see cref="Remove(CurrentMoments, double[], GaussianDeconvolution?)"/>), naming the function
    /// whose mean square is most the noise's: a richer basis than the one Sigma came from can lose it (the basis check; a Fourier
    /// basis' top modes are scaled by exp(q^T Sigma q / 2)), which the fit would otherwise report as a function zero on the data.
    /// </summary>
    internal static void RequireDeconvolved(CurrentMoments corrected, CurrentMoments observed, double[] sigma, Func<int, string> name) =>
        RequirePositiveDefinite(corrected.GramStart, observed.GramStart, observed.N, sigma, observed.D, name);

    private static void RequirePositiveDefinite(double[] gram, double[] observed, int n, double[] sigma, int d, Func<int, string> name)
    {
        var scale = new double[n];
        for (int a = 0; a < n; a++) scale[a] = gram[a * n + a] > 0 ? 1 / Math.Sqrt(gram[a * n + a]) : double.NaN;
        var normal = new double[n, n];
        for (int a = 0; a < n; a++)
            for (int c = 0; c < n; c++) normal[a, c] = gram[a * n + c] * scale[a] * scale[c];
        if (scale.All(double.IsFinite) && DenseMatrix.TryCholesky(normal) is not null) return;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        // the function whose mean square is most the noise's
        int worst = Enumerable.Range(0, n).MinBy(a => gram[a * n + a] / observed[a * n + a]);
        throw new InvalidInputException($"The measurement noise estimated from successive increments (variance {Variances(sigma, d)} per coordinate) is as large as the spread "
            + $"of the data in the basis: without the noise's share the Gram matrix <b b^T> is not positive definite (basis function {name(worst)}: mean square "
            + $"{observed[worst * n + worst].ToString("G3", culture)} observed, {gram[worst * n + worst].ToString("G3", culture)} without the noise). The drift cannot be "
            + "told from the noise on these data; use a smaller basis, or data whose spread is well above the noise.");
    }

    /// <summary>The diagonal of a d x d matrix, for messages.</summary>
    private static string Variances(double[] matrix, int d) =>
        string.Join(", ", Enumerable.Range(0, d).Select(i => matrix[i * d + i].ToString("G3", System.Globalization.CultureInfo.InvariantCulture)));

    private static double[] Transpose(double[] a, int rows, int columns)
    {
        var t = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) t[j * rows + i] = a[i * columns + j];
        return t;
    }
}
