using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Inference;

/// <summary>
/// The share of Gaussian measurement noise in the moments of a Fourier basis, removed exactly (docs/inference.md, "Measurement
/// noise", "Fourier bases"). Positions y = x + eta, eta ~ N(0, Sigma) independent across frames and of x. Every function of
/// the basis is a mode cos(q.x) or sin(q.x) (q = w k e_j, w = 2 pi / L), and E[exp(i q.eta)] = exp(-q^T Sigma q / 2), so
/// <code>
///   E[cos(q.y)] = g(q)^-1 E[cos(q.x)],   E[sin(q.y)] = g(q)^-1 E[sin(q.x)],   g(q) = exp(q^T Sigma q / 2).
/// </code>
/// Gram: a product of two modes A = q_a.x, B = q_b.x is a pair of modes at q_a + q_b and q_a - q_b, and the four products of a
/// pair of harmonics give both exactly, sample by sample: cos(A + B) = cc - ss, cos(A - B) = cc + ss, sin(A + B) = sc + cs,
/// sin(A - B) = sc - cs (cc = cos A cos B, sc = sin A cos B, ...). Each is scaled by its own g, and the products are
/// recombined: the Gram sums hold every mode the Gram needs, no other per-frame sums are needed.
/// Currents, with dy = dx + eta_e - eta_s, eta_s independent of x_s and dx, and Stein's lemma
/// E[f(x + eta) eta] = Sigma E[grad f(x + eta)]:
/// <code>
///   E[b(y_s) dy_i] = g^-1 (E[b(x_s) dx_i] - (Sigma E[grad b(x_s)])_i),   E[b(y_e) dy_i] = g^-1 (E[b(x_e) dx_i] + (Sigma E[grad b(x_e)])_i),
/// </code>
/// with grad cos(q.x) = -q sin(q.x), grad sin(q.x) = q cos(q.x) and E[grad b(x)] = g E[grad b(y)] read off the Gram's row of the
/// constant. Hence J^I_x = g (J^I_y + (Sigma q)_i E_y[b'(y_s)] / tau) and J^S_x = g (J^S_y - (Sigma q)_i (E_y[b'(y_mid)] -
/// E_y[b'(y_s)]) / tau) with b' = -sin for cos and cos for sin (the trapezoid mean of both ends; zero for stationary data). A
/// Legendre time basis multiplies functions by c_k(t) of the exact time, which the noise leaves alone: each pair of time
/// functions is deconvolved alike.
/// The factors grow as exp(w^2 k^2 Sigma / 2) with the harmonic k, up to 2K in the Gram: the corrected moments' noise grows by
/// the same factor (<see cref="Amplification"/>).
/// </summary>
internal sealed class FourierDeconvolution : GaussianDeconvolution
{
    private readonly int _d, _harmonics, _times, _n;
    private readonly double _wave;

    internal FourierDeconvolution(FourierBasis basis, int timeDegree)
    {
        _d = basis.Dimension;
        _harmonics = basis.Harmonics;
        _wave = 2 * Math.PI / basis.Period;
        _times = timeDegree + 1;
        _n = basis.Count * _times;
    }

    /// <summary>Slots (coordinate j, harmonic k) in the basis' order: functions 1 + 2 s (cos) and 2 + 2 s (sin) of slot s = j K + k - 1.</summary>
    private int Slots => _d * _harmonics;

    private int Coordinate(int slot) => slot / _harmonics;

    private double Wavenumber(int slot) => _wave * (slot % _harmonics + 1);

    /// <summary>q^T Sigma q / 2 for q = sign_a q_a + sign_b q_b (either may be 0: a slot of -1).</summary>
    private double HalfQuadratic(double[] sigma, int a, double sa, int b, double sb)
    {
        double qa = a < 0 ? 0 : sa * Wavenumber(a), qb = b < 0 ? 0 : sb * Wavenumber(b);
        int ja = a < 0 ? 0 : Coordinate(a), jb = b < 0 ? 0 : Coordinate(b);
        return 0.5 * (qa * qa * sigma[ja * _d + ja] + qb * qb * sigma[jb * _d + jb] + 2 * qa * qb * sigma[ja * _d + jb]);
    }

    internal override double Amplification(double[] sigma)
    {
        double top = 0;
        for (int a = 0; a < Slots; a++)
            for (int b = a; b < Slots; b++)
                top = Math.Max(top, Math.Max(HalfQuadratic(sigma, a, 1, b, 1), HalfQuadratic(sigma, a, 1, b, -1)));
        return Math.Exp(top);
    }

    internal override CurrentMoments Subtract(CurrentMoments m, double[] sigma)
    {
        int d = _d, n = _n;
        if (m.N != n || m.D != d) throw new ArgumentException($"moments of {m.N} functions in {m.D} dimensions for a deconvolution of {n} in {d}", nameof(m));
        double tau = m.Step;
        var gramStart = Gram(m.GramStart, sigma);
        var gramMid = Gram(m.GramMid, sigma);
        var ito = Currents(m.Ito, m.GramStart, null, sigma, 1 / tau);
        var strat = Currents(m.Strat, m.GramMid, m.GramStart, sigma, -1 / tau);
        // the TUR's current second moment is kept: it takes the affine sums (MeasurementNoise.Remove without a deconvolution)
        return MeasurementNoise.WithNoiseFreeIncrements(m, sigma, gramStart, gramMid, strat, ito, m.CurrentSecondMoment);
    }

    /// <summary>The Gram matrix of x from that of y; index i * (K + 1) + k for spatial function i and time function k.</summary>
    private double[] Gram(double[] observed, double[] sigma)
    {
        int n = _n, t = _times, slots = Slots;
        var gram = (double[])observed.Clone();
        int Index(int function, int time) => function * t + time;
        for (int k = 0; k < t; k++)
            for (int l = 0; l < t; l++)
            {
                // the constant times a mode: that mode's factor (the constant with itself is left as it is)
                for (int s = 0; s < slots; s++)
                {
                    double g = Math.Exp(HalfQuadratic(sigma, s, 1, -1, 0));
                    for (int r = 1; r <= 2; r++)
                    {
                        gram[Index(1 + 2 * s + r - 1, k) * n + Index(0, l)] *= g;
                        gram[Index(0, k) * n + Index(1 + 2 * s + r - 1, l)] *= g;
                    }
                }
                for (int a = 0; a < slots; a++)
                    for (int b = 0; b < slots; b++)
                    {
                        double plus = Math.Exp(HalfQuadratic(sigma, a, 1, b, 1)), minus = Math.Exp(HalfQuadratic(sigma, a, 1, b, -1));
                        int ca = Index(1 + 2 * a, k), sa = Index(2 + 2 * a, k), cb = Index(1 + 2 * b, l), sb = Index(2 + 2 * b, l);
                        double cc = observed[ca * n + cb], ss = observed[sa * n + sb], sc = observed[sa * n + cb], cs = observed[ca * n + sb];
                        // the four modes cos/sin(A +- B), each without its damping
                        double cosPlus = plus * (cc - ss), cosMinus = minus * (cc + ss), sinPlus = plus * (sc + cs), sinMinus = minus * (sc - cs);
                        gram[ca * n + cb] = (cosMinus + cosPlus) / 2;
                        gram[sa * n + sb] = (cosMinus - cosPlus) / 2;
                        gram[sa * n + cb] = (sinPlus + sinMinus) / 2;
                        gram[ca * n + sb] = (sinPlus - sinMinus) / 2;
                    }
            }
        return gram;
    }

    /// <summary>
    /// Currents of x from those of y: J_x = g (J_y + scale (Sigma q)_i mu[b']), mu[b'] = E_y[b'(y) c_k] from the constant's
    /// column of <paramref name="gram"/> (less that of <paramref name="less"/> when given), b' = -sin for cos, cos for sin.
    /// </summary>
    private double[] Currents(double[] observed, double[] gram, double[]? less, double[] sigma, double scale)
    {
        int d = _d, t = _times, n = _n;
        var result = (double[])observed.Clone();
        double Mean(int function, int k)
        {
            int at = (function * t + k) * n;
            return gram[at] - (less is null ? 0 : less[at]);
        }
        for (int s = 0; s < Slots; s++)
        {
            double g = Math.Exp(HalfQuadratic(sigma, s, 1, -1, 0)), q = Wavenumber(s);
            int j = Coordinate(s), cos = 1 + 2 * s, sin = 2 + 2 * s;
            for (int k = 0; k < t; k++)
                for (int i = 0; i < d; i++)
                {
                    double sq = sigma[i * d + j] * q;
                    result[(cos * t + k) * d + i] = g * (observed[(cos * t + k) * d + i] - scale * sq * Mean(sin, k));
                    result[(sin * t + k) * d + i] = g * (observed[(sin * t + k) * d + i] + scale * sq * Mean(cos, k));
                }
        }
        return result;
    }
}
