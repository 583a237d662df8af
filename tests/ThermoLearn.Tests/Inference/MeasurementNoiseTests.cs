using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.Inference;

// Noise-robust inference (docs/inference.md, "Measurement noise"): the continuous process sampled exactly at the frame times
// (scheme exact), plus independent Gaussian noise of std s on every coordinate of every frame. Statistical checks at
// z = StatisticalTolerance.Z(0.0027, checks): 0.27% false failures per test for calibrated errors (Bonferroni). Fixed seeds.
public class MeasurementNoiseTests
{
    /// <summary>The driven trap (k = 1, eps = 0.3, D = 0.5) sampled every <paramref name="dt"/>, with noise of std <paramref name="s"/> added.</summary>
    internal static TrajectoryEnsemble NoisyTrap(LinearModel model, double s, int trajectories, int frames, ulong seed, double dt = 0.01)
    {
        var clean = Simulator.Run(model, new SimulationOptions
        {
            Trajectories = trajectories,
            Steps = frames - 1,
            Dt = dt,
            Seed = seed,
            Scheme = "exact",
            ComputeEnergetics = false,
        }).Trajectories;
        return WithNoise(clean, s, seed + 1);
    }

    /// <summary><paramref name="clean"/> with independent Gaussian noise of std <paramref name="s"/> on every coordinate of every frame.</summary>
    internal static TrajectoryEnsemble WithNoise(TrajectoryEnsemble clean, double s, ulong seed)
    {
        var noisy = (double[])clean.Data.Clone();
        var random = RandomStream.For(seed, 0);
        for (int i = 0; i < noisy.Length; i++) noisy[i] += s * random.NextGaussian();
        return new TrajectoryEnsemble(clean.Trajectories, clean.Frames, clean.Dimension, clean.Dt, noisy);
    }

    /// <summary>
    /// The robust fit took only D from successive increments and corrected it with the drift term of the noisy moments: the
    /// Ito current's noise, -Sigma/dt, made the drift coefficient -(k C + Sigma/dt)/(C + Sigma) (-1.49 for -1 at s = 0.05) and
    /// the drift term 3 dt/2 S off by about 3 k Sigma (1 + Sigma/(2 k C dt)), so D was 0.06 (15 stderr) high at s = 0.1 on
    /// 4e5 transitions of the 1-D trap; on these data (16 seeds) D was 2.5 (s = 0.05) and 11 (s = 0.1) stderr high, drift and
    /// score 11 and 22 stderr off. The moments without the noise's share give drift, D, score, mean local velocity and the
    /// noise covariance s^2 I within their errors (16 seeds of this setting: z means within 0.7, spreads 0.6-1.3).
    /// </summary>
    [Theory]
    [InlineData(0.05, 401UL)]
    [InlineData(0.1, 402UL)]
    public void NoiseRobustInferenceRecoversTheDrivenTrapUnderMeasurementNoise(double s, ulong seed)
    {
        var model = InferenceData.DrivenTrap();
        var data = NoisyTrap(model, s, 20, 10_000, seed);
        var result = DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true);
        double[,] a = model.A, c = model.StationaryCovariance;
        double dd = 0.5;
        double z = StatisticalTolerance.Z(0.0027, checks: 4 + 4 + 4 + 4 + 4);
        void Near(double exact, double value, double se, string what) =>
            Assert.True(Math.Abs(value - exact) < z * se, $"{what}: {value} +- {se}, exact {exact} (z = {(value - exact) / se:F2})");
        var noise = result.MeasurementNoise!;
        for (int m = 0; m < 2; m++)
            for (int q = 0; q < 2; q++)
            {
                int i = m * 2 + q;
                Near(m == q ? dd : 0, result.Diffusion.Matrix[i], result.Diffusion.StandardErrors[i], $"D[{m},{q}]");
                Near(m == q ? s * s : 0, noise.Covariance[i], noise.StandardErrors[i], $"Sigma[{m},{q}]");
            }
        // functions 1, x0, x1; coefficient [a * 2 + mu]: drift -A, score -C^-1 (C = 0.5 I), v = -(A - D C^-1)
        for (int j = 0; j < 2; j++)
            for (int mu = 0; mu < 2; mu++)
            {
                int i = (1 + j) * 2 + mu;
                double score = mu == j ? -1 / c[0, 0] : 0;
                Near(-a[mu, j], result.Drift.Coefficients[i], result.Drift.StandardErrors![i], $"drift x{j} -> {mu}");
                Near(score, result.Score.Coefficients[i], result.Score.StandardErrors![i], $"score x{j} -> {mu}");
                Near(-a[mu, j] - dd * score, result.MeanLocalVelocity.Coefficients[i], result.MeanLocalVelocity.StandardErrors![i], $"v x{j} -> {mu}");
            }
    }

    /// <summary>
    /// The tilted ring dx = (f - V0 sin x) dt + sqrt(2) dW (f = 1, V0 = 1.5, D = 1, period 2 pi), frames every 0.05 of the continuous
    /// process (20 Heun steps per frame, after 10 time units from a uniform start), with noise of std <paramref name="s"/> added.
    /// Its stationary EP rate is f v / T with the mean velocity v = 0.5579107189411427; the current estimator with fourier:1 converges
    /// to its projection on the basis, <see cref="RingFourierOneBound"/>.
    /// </summary>
    internal static TrajectoryEnsemble NoisyRing(double s, int trajectories, int frames, ulong seed)
    {
        const double f = 1, v0 = 1.5, dt = 0.05;
        const int substeps = 20;
        double h = dt / substeps, amplitude = Math.Sqrt(2 * h);
        var data = new double[trajectories * frames];
        for (int r = 0; r < trajectories; r++)
        {
            var random = RandomStream.For(seed, (ulong)r);
            double x = 2 * Math.PI * random.NextDouble();
            void Step()
            {
                double w = amplitude * random.NextGaussian(), drift = f - v0 * Math.Sin(x), predicted = x + drift * h + w;
                x += 0.5 * (drift + f - v0 * Math.Sin(predicted)) * h + w;
            }
            for (int k = 0; k < 200 * substeps; k++) Step();
            for (int t = 0; t < frames; t++)
            {
                data[r * frames + t] = x;
                for (int k = 0; k < substeps; k++) Step();
            }
        }
        return WithNoise(new TrajectoryEnsemble(trajectories, frames, 1, dt, data), s, seed + 1);
    }

    /// <summary>
    /// The current estimator's limit on the ring with fourier:1, a lower bound on its EP rate f v / T (0.5579107): in 1-D the
    /// Stratonovich currents of the modes are j int b_a dx, v for the constant and 0 for the others, and the Gram is D &lt;b b^T&gt;
    /// under the stationary law, so the bound is v^2 [&lt;b b^T&gt;^-1]_00 / D; it takes 1/p(x), not the drift, to span the
    /// thermodynamic force v / (D p), and fourier:1 does not (fourier:2 gives 0.5571223, fourier:4 0.5579057). Computed by
    /// <see cref="RingBound"/> (0.5408768334 by scipy quad as well).
    /// </summary>
    internal static readonly double RingFourierOneBound = RingBound(1.0, 1.5, 1.0);

    /// <summary>
    /// v^2 [&lt;b b^T&gt;^-1]_00 / D for b = (1, cos x, sin x) on the ring dx = (f - v0 sin x) dt + sqrt(2 D) dW. The stationary law
    /// (Stratonovich's) is p(x) proportional to q(x) = int_x^(x + 2 pi) exp((U(y) - U(x))/D) dy, U = -v0 cos x - f x, whose current
    /// F q - D q' is D (1 - exp(-2 pi f / D)) at every x; so with Z = int_0^(2 pi) q the mean velocity is
    /// v = 2 pi D (1 - exp(-2 pi f / D)) / Z. The inner integrals by Simpson's rule on 2,000 intervals (relative error below 1e-12
    /// for this smooth integrand), the period by the trapezoid on 4,000 points (spectrally exact for a smooth periodic integrand).
    /// </summary>
    internal static double RingBound(double f, double v0, double d)
    {
        double U(double x) => -v0 * Math.Cos(x) - f * x;
        const int points = 4_000, intervals = 2_000;
        double h = 2 * Math.PI / points, step = 2 * Math.PI / intervals, z = 0;
        var moments = new double[9];
        for (int i = 0; i < points; i++)
        {
            double x = i * h, q = 0;
            for (int k = 0; k <= intervals; k++)
                q += (k == 0 || k == intervals ? 1 : k % 2 == 1 ? 4 : 2) * Math.Exp((U(x + k * step) - U(x)) / d);
            q *= step / 3;
            double[] b = [1, Math.Cos(x), Math.Sin(x)];
            z += q * h;
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++) moments[r * 3 + c] += q * h * b[r] * b[c];
        }
        for (int i = 0; i < 9; i++) moments[i] /= z;
        double v = 2 * Math.PI * d * (1 - Math.Exp(-2 * Math.PI * f / d)) / z;
        return v * v * DenseMatrix.InverseSpd(moments, 3, "ring Gram")[0] / d;
    }

    /// <summary>
    /// The tilted ring with noise of std 0.6 (about a tenth of the period), fourier:1: the affine correction took the noise's share
    /// of cos x and sin x for G Sigma G^T with the mean gradient, and over 16 seeds of this setting the drift's constant, cos and sin
    /// coefficients came out at z -8.70 / +2.80 / +7.61 (spread 1.43 / 0.85 / 0.99; on this seed -8.56 / +3.60 / +5.07). The Gaussian
    /// deconvolution scales each mode by exp(k^2 Sigma / 2) and removes the Stein term of the Ito currents (FourierDeconvolution):
    /// z +0.31 / -0.42 / +0.12 (spread 1.32 / 1.45 / 0.92) over the same seeds, and spread 1.01 / 0.86 / 1.03 (mean z^2 1.01 / 0.76 /
    /// 1.07) over 64 others: the standard errors are calibrated, each jackknife replicate re-estimating Sigma (docs/inference.md) (here +0.51 / -0.15 / -0.96; D +1.98 against +1.89
    /// before, Sigma -1.39 against -1.35); the price is standard errors about three times
    /// larger (0.020 -> 0.058 for the constant), and the reported amplification is exp(2 Sigma), the factor of the Gram's
    /// second harmonic.
    /// </summary>
    [Fact]
    public void NoiseRobustInferenceDeconvolvesAFourierBasis()
    {
        const double s = 0.6;
        var result = DynamicsEstimator.Infer(NoisyRing(s, 20, 10_001, 2501), new FourierBasis(1, 1), noiseRobust: true);
        double z = StatisticalTolerance.Z(0.0027, checks: 5);
        void Near(double exact, double value, double se, string what) =>
            Assert.True(Math.Abs(value - exact) < z * se, $"{what}: {value} +- {se}, exact {exact} (z = {(value - exact) / se:F2})");
        var drift = result.Drift;
        Near(1, drift.Coefficients[0], drift.StandardErrors![0], "drift 1");
        Near(0, drift.Coefficients[1], drift.StandardErrors![1], "drift cos x");
        Near(-1.5, drift.Coefficients[2], drift.StandardErrors![2], "drift sin x");
        Near(1, result.Diffusion.Matrix[0], result.Diffusion.StandardErrors[0], "D");
        var noise = result.MeasurementNoise!;
        Near(s * s, noise.Covariance[0], noise.StandardErrors[0], "Sigma");
        Assert.Equal(Math.Exp(2 * noise.Covariance[0]), noise.Amplification, 12);
    }

    /// <summary>
    /// estimate --diffusion auto-robust with fourier:1 fitted the force on the noisy moments with the noise-free D: on the ring at
    /// s = 0.6 the rate came out low against the basis' bound, z -2.09 (spread 0.86) over 16 seeds of 20 trajectories, +0.13 (0.76)
    /// with the deconvolved moments; here 120 trajectories (the Richardson remainder at frames 0.05 apart below the stderr):
    /// 0.4688 +- 0.0138 (z -5.20) before, 0.5554 +- 0.0174 (z +0.83) now. Against the bound at z = StatisticalTolerance.Z(0.0027, 1).
    /// </summary>
    [Fact]
    public void NoiseRobustEntropyProductionOfARingFitsTheFourierForceWithoutTheNoise()
    {
        var estimate = EntropyProductionEstimator.CoarseSamplingCorrected(NoisyRing(0.6, 120, 10_001, 2511), new FourierBasis(1, 1), DiffusionSpec.EstimatedNoiseRobust);
        Assert.True(Math.Abs(estimate.Rate - RingFourierOneBound) < StatisticalTolerance.Z(0.0027, checks: 1) * estimate.StandardError,
            $"{estimate.Rate} +- {estimate.StandardError}, exact {RingFourierOneBound} (z = {(estimate.Rate - RingFourierOneBound) / estimate.StandardError:F2})");
    }

    /// <summary>
    /// The basis check of a noise-robust Fourier estimate deconvolves the richer basis with the estimate's Sigma, and its top modes
    /// grow by exp(q^T Sigma q / 2): fourier:4 on the ring at s = 0.6, exp(64 Sigma / 2) = 1e5, loses the Gram's positive
    /// definiteness (sin 4x: mean square 0.5 observed, about -40 without the noise). The fit reported it as "basis function
    /// sin(4*2pi*x0/L) is zero on all the data"; the check now says that the noise is as large as the spread in that basis.
    /// </summary>
    [Fact]
    public void BasisCheckNamesTheNoiseWhenTheRicherFourierBasisCannotBeDeconvolved()
    {
        var data = NoisyRing(0.6, 10, 4_001, 2531);
        IReadOnlyList<CurrentStatistics> Lags(IBasis basis) =>
            [.. Enumerable.Range(1, 2).Select(lag => CurrentStatistics.Accumulate(data, basis, new CurrentStatisticsOptions(Lag: lag)))];
        var error = Assert.Throws<InvalidInputException>(() => BasisConvergence.Check(Lags(new FourierBasis(1, 2)), Lags(new FourierBasis(1, 4)),
            DiffusionSpec.EstimatedNoiseRobust, ErrorOptions.Default, 1));
        Assert.Contains("without the noise's share the Gram matrix <b b^T> is not positive definite", error.Message);
    }

    /// <summary>
    /// The Fourier deconvolution pinned in 2-D with a full noise covariance, fourier:2 of period 3 times a Legendre time basis of
    /// degree 1: a law of four transitions (start x, increment dx, time u), the noisy moments by quadrature over eta = L z
    /// (trapezoid in z, step 0.2 to |z| = 9: exact to rounding for these entire integrands): Gram at start points and trapezoid,
    /// Ito currents E[b(x + eta_s)(dx + eta_e - eta_s)] and Stratonovich currents deconvolve to those of the noise-free transitions.
    /// </summary>
    [Fact]
    public void MomentsOfAFourierBasisDeconvolveToTheNoiseFreeMoments()
    {
        const double tau = 0.02;
        double[] sigma = [0.04, -0.015, -0.015, 0.03];
        var basis = new FourierBasis(2, 2, 3);
        int spatial = basis.Count, t = 2, n = spatial * t, d = 2;
        (double[] X, double[] Dx, double U, double W)[] law =
        [
            ([0.3, -0.7], [0.05, 0.02], -0.6, 0.2), ([1.1, 0.4], [-0.03, 0.06], 0.1, 0.3),
            ([2.2, 2.9], [0.01, -0.04], 0.5, 0.25), ([-0.8, 1.7], [0.07, 0.01], 0.9, 0.25),
        ];
        var b = new double[spatial];
        double[] Features(double x0, double x1, double u)
        {
            basis.Evaluate([x0, x1], b);
            var f = new double[n];
            for (int i = 0; i < spatial; i++) { f[i * t] = b[i]; f[i * t + 1] = b[i] * u; }
            return f;
        }
        double l00 = Math.Sqrt(sigma[0]), l10 = sigma[2] / l00, l11 = Math.Sqrt(sigma[3] - l10 * l10);
        var nodes = Enumerable.Range(-45, 91).Select(i => 0.2 * i).ToArray();
        var weights = nodes.Select(z => 0.2 * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI)).ToArray();
        double[] gramStart = new double[n * n], gramMid = new double[n * n], ito = new double[n * d], strat = new double[n * d];
        double[] cleanStart = new double[n * n], cleanMid = new double[n * n], cleanIto = new double[n * d], cleanStrat = new double[n * d];
        foreach (var (x, dx, u, w) in law)
        {
            double[] start = Features(x[0], x[1], u), end = Features(x[0] + dx[0], x[1] + dx[1], u);
            for (int a = 0; a < n; a++)
            {
                for (int c = 0; c < n; c++)
                {
                    cleanStart[a * n + c] += w * start[a] * start[c];
                    cleanMid[a * n + c] += w * 0.5 * (start[a] * start[c] + end[a] * end[c]);
                }
                for (int i = 0; i < d; i++)
                {
                    cleanIto[a * d + i] += w * start[a] * dx[i] / tau;
                    cleanStrat[a * d + i] += w * 0.5 * (start[a] + end[a]) * dx[i] / tau;
                }
            }
            for (int p = 0; p < nodes.Length; p++)
                for (int q = 0; q < nodes.Length; q++)
                {
                    double weight = w * weights[p] * weights[q];
                    double[] eta = [l00 * nodes[p], l10 * nodes[p] + l11 * nodes[q]];
                    double[] ys = Features(x[0] + eta[0], x[1] + eta[1], u), ye = Features(x[0] + dx[0] + eta[0], x[1] + dx[1] + eta[1], u);
                    for (int a = 0; a < n; a++)
                    {
                        for (int c = 0; c < n; c++)
                        {
                            gramStart[a * n + c] += weight * ys[a] * ys[c];
                            gramMid[a * n + c] += weight * 0.5 * (ys[a] * ys[c] + ye[a] * ye[c]);
                        }
                        // eta is the start frame's noise in b(y_s) (entering dy with -) and the end frame's in b(y_e) (with +)
                        for (int i = 0; i < d; i++)
                        {
                            ito[a * d + i] += weight * ys[a] * (dx[i] - eta[i]) / tau;
                            strat[a * d + i] += weight * 0.5 * (ys[a] * (dx[i] - eta[i]) + ye[a] * (dx[i] + eta[i])) / tau;
                        }
                    }
                }
        }
        var layout = new CurrentStatistics.Layout(n, d, false);
        var sums = new double[layout.Length];
        sums[0] = 1;
        for (int a = 0; a < n; a++)
        {
            for (int c = 0; c <= a; c++)
            {
                sums[layout.GramStart + a * n + c] = gramStart[a * n + c];
                sums[layout.GramMid + a * n + c] = gramMid[a * n + c];
            }
            for (int i = 0; i < d; i++)
            {
                sums[layout.Ito + a * d + i] = ito[a * d + i] * tau;
                sums[layout.Strat + a * d + i] = strat[a * d + i] * tau;
            }
        }
        for (int i = 0; i < d; i++) sums[layout.Increment + i * d + i] = 1;
        sums[layout.SuccessiveCount] = 1;
        var clean = GaussianDeconvolution.For(basis, 1)!.Subtract(new CurrentMoments(sums, layout, tau, tau), sigma);
        static void Same(double[] expected, double[] actual, string what)
        {
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-11 * scale, $"{what}[{i}]: {actual[i]} against {expected[i]}");
        }
        Same(cleanStart, clean.GramStart, "Gram (start)");
        Same(cleanMid, clean.GramMid, "Gram (trapezoid)");
        Same(cleanIto, clean.Ito, "Ito currents");
        Same(cleanStrat, clean.Strat, "Stratonovich currents");
        Assert.Equal(1 / (2 * tau) - sigma[0] / tau, clean.SecondCumulant[0], 10);
    }

    /// <summary>
    /// The short-time TUR bound 2 m^T S^-1 m / dt of the driven trap (poly:1: the basis spans the thermodynamic force) from noisy
    /// positions: the noise leaves the mean current m alone and adds 2 d^T Sigma d per transition to the variance of a linear
    /// current d^T dy (a clean variance of order 2 dt d^T D d = 0.01 |d|^2 here), plus terms in G Sigma G^T for the basis' own
    /// noise, so the bound falls towards the exact large-data limit of the noisy currents (<see cref="CoarseSamplingAnalysisTests.TurLimit"/>
    /// with s^2 added to the positions' covariance), far below the clean one. With the noise's share, told from successive
    /// increments, removed from S (<see cref="MeasurementNoise"/>), the bound is the clean limit's within its standard error.
    /// Without the correction the second check fails (the third assertion says by how much).
    /// </summary>
    [Theory]
    [InlineData(0.05, 421UL)]
    [InlineData(0.1, 422UL)]
    public void NoiseRobustTurBoundRemovesTheMeasurementNoiseFromTheCurrentsVariance(double s, ulong seed)
    {
        var model = InferenceData.DrivenTrap();
        var data = NoisyTrap(model, s, 20, 50_000, seed);
        var basis = new PolynomialBasis(2, 1);
        var plain = EntropyProductionEstimator.Tur(data, basis);
        var robust = EntropyProductionEstimator.Tur(data, basis, noiseRobust: true);
        double clean = CoarseSamplingAnalysisTests.TurLimit(model, 0.01), noisy = CoarseSamplingAnalysisTests.TurLimit(model, 0.01, s * s);
        double z = StatisticalTolerance.Z(0.0027, checks: 2);
        Assert.True(Math.Abs(plain.Rate - noisy) < z * plain.StandardError,
            $"plain TUR {plain.Rate} +- {plain.StandardError} against the noisy currents' limit {noisy} (z = {(plain.Rate - noisy) / plain.StandardError:F2})");
        Assert.True(Math.Abs(robust.Rate - clean) < z * robust.StandardError,
            $"noise-robust TUR {robust.Rate} +- {robust.StandardError} against the clean limit {clean} (z = {(robust.Rate - clean) / robust.StandardError:F2})");
        Assert.True(clean - plain.Rate > z * robust.StandardError,
            $"the plain bound {plain.Rate} should be biased below the clean limit {clean} by more than the check's tolerance {z * robust.StandardError}");
        Assert.Equal("not used; the currents' variance less the measurement noise of successive increments", robust.Settings.DiffusionSource);
    }

    /// <summary>
    /// Positions that are white noise alone (std 0.1, no motion): the robust fit read them as D = 1.50 +- 0.01 and a drift of -100 x,
    /// exit 0; once the noise's share is removed nothing is left, and it says so.
    /// </summary>
    [Fact]
    public void PureMeasurementNoiseIsRefusedNotReadAsMotion()
    {
        var random = RandomStream.For(405, 0);
        var values = new double[20 * 5_000 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = 0.1 * random.NextGaussian();
        var data = new TrajectoryEnsemble(20, 5_000, 2, 0.01, values);
        var error = Assert.Throws<InvalidInputException>(() => DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true));
        Assert.Contains("measurement noise estimated from successive increments", error.Message);
        Assert.Contains("variance 0.01", error.Message);
    }

    /// <summary>The noise is told from successive increments; with two frames per trajectory there are none, and the fit said "got [NaN]".</summary>
    [Fact]
    public void NoiseRobustInferenceWithoutSuccessiveIncrementsSaysWhy()
    {
        var data = NoisyTrap(InferenceData.DrivenTrap(), 0.05, 400, 2, 403);
        // without the coarse-sampling correction, whose lag 2 needs three frames as well and says so first
        var error = Assert.Throws<InvalidInputException>(() => DynamicsEstimator.Infer(data, new PolynomialBasis(2, 1), noiseRobust: true,
            correction: CoarseSamplingCorrection.None));
        Assert.Contains("successive increments", error.Message);
        Assert.Contains("three frames", error.Message);
    }

    /// <summary>
    /// Double well V = (x^2 - 1)^2 / 2 (drift and score 2 x - 2 x^3, D = 1), poly:3, 20 x 20,001 frames every 0.01 of the continuous
    /// process (Heun at 0.002) plus noise of std 0.1. The affine correction took the noise's share of x^2 and x^3 for G Sigma G^T with
    /// the mean gradient: over 15 seeds the x and x^3 drift coefficients came out 1.790 / -1.826, z -3.8 / +5.4 (docs/inference.md);
    /// on this seed drift z -5.1 / +6.2 against the Richardson limit, score z -4.9 / +5.9. The Gaussian deconvolution of the moments (GaussianDeconvolution) removes the share
    /// exactly: drift against its Richardson limit (by quadrature, CoarseSampledDynamicsTests), score against 2 x - 2 x^3, D and
    /// Sigma within their errors (here z -1.6 / +1.2 and -1.5 / +1.0).
    /// </summary>
    [Fact]
    public void NoiseRobustInferenceDeconvolvesAPolynomialBasis()
    {
        const double s = 0.1;
        var clean = InferenceData.Run(new DoubleWellModel(b: 0.5), 0.01, 5, 20, 20_001, seed: 2413).Trajectories;
        var result = DynamicsEstimator.Infer(WithNoise(clean, s, 2414), new PolynomialBasis(1, 3), noiseRobust: true);
        var limit = CoarseSampledDynamicsTests.DoubleWellRichardsonLimit(0.01);
        double z = StatisticalTolerance.Z(0.0027, checks: 6);
        void Near(double exact, double value, double se, string what) =>
            Assert.True(Math.Abs(value - exact) < z * se, $"{what}: {value} +- {se}, exact {exact} (z = {(value - exact) / se:F2})");
        var drift = result.Drift;
        var score = result.Score;
        Near(limit[1], drift.Coefficients[1], drift.StandardErrors![1], "drift x");
        Near(limit[3], drift.Coefficients[3], drift.StandardErrors![3], "drift x^3");
        Near(2, score.Coefficients[1], score.StandardErrors![1], "score x");
        Near(-2, score.Coefficients[3], score.StandardErrors![3], "score x^3");
        Near(1, result.Diffusion.Matrix[0], result.Diffusion.StandardErrors[0], "D");
        Near(s * s, result.MeasurementNoise!.Covariance[0], result.MeasurementNoise.StandardErrors[0], "Sigma");
    }

    /// <summary>
    /// For poly:1 the deconvolution is the affine correction, sum for sum: Gram + G Sigma G^T, Ito - G Sigma / tau and the
    /// Stratonovich currents unchanged but for (E[x_e] - E[x_s]) Sigma / (2 tau) (here G is exact, there estimated as K C^-1,
    /// which is exact for an affine basis), at lag 1 and lag 2.
    /// </summary>
    [Fact]
    public void PolynomialDeconvolutionOfAnAffineBasisIsTheAffineCorrection()
    {
        var data = NoisyTrap(InferenceData.DrivenTrap(), 0.05, 4, 2_000, 421);
        var basis = new PolynomialBasis(2, 1);
        var deconvolution = GaussianDeconvolution.For(basis, 0)!;
        var one = CurrentStatistics.Accumulate(data, basis).Moments();
        var (affine, sigma) = MeasurementNoise.Remove(one, a => basis.Describe(a), null);
        var (exact, sigmaExact) = MeasurementNoise.Remove(one, a => basis.Describe(a), deconvolution);
        var two = CurrentStatistics.Accumulate(data, basis, new CurrentStatisticsOptions(Lag: 2)).Moments();
        var affineTwo = MeasurementNoise.Remove(two, sigma, null);
        var exactTwo = MeasurementNoise.Remove(two, sigma, deconvolution);
        static void Same(double[] expected, double[] actual, string what)
        {
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-9 * scale, $"{what}[{i}]: {actual[i]} against {expected[i]}");
        }
        Same(sigma, sigmaExact, "Sigma");
        foreach (var (a, e, lag) in new[] { (affine, exact, 1), (affineTwo, exactTwo, 2) })
        {
            Same(a.GramStart, e.GramStart, $"lag {lag} Gram (start)");
            Same(a.GramMid, e.GramMid, $"lag {lag} Gram (trapezoid)");
            Same(a.Ito, e.Ito, $"lag {lag} Ito currents");
            Same(a.Strat, e.Strat, $"lag {lag} Stratonovich currents");
            Same(a.SecondCumulant, e.SecondCumulant, $"lag {lag} second cumulant");
        }
    }

    /// <summary>
    /// The Gram deconvolution in 2-D with a full noise covariance, pinned: x ~ N(0, C), y = x + eta ~ N(0, C + Sigma); the Gram
    /// matrix of poly:3 under y (every moment of degree &lt;= 6, by a Gauss-Hermite rule exact for them) deconvolves to that under x.
    /// </summary>
    [Fact]
    public void GramOfGaussianPositionsDeconvolvesToTheNoiseFreeGram()
    {
        double[] c = [1.0, 0.3, 0.3, 0.5], sigma = [0.04, -0.01, -0.01, 0.02];
        var basis = new PolynomialBasis(2, 3);
        int n = basis.Count, d = 2;
        double[] Gram(double[] v)
        {
            // y = L z, z standard normal, V = L L^T; 5-point probabilists' Gauss-Hermite per coordinate (exact to degree 9)
            double l00 = Math.Sqrt(v[0]), l10 = v[2] / l00, l11 = Math.Sqrt(v[3] - l10 * l10);
            double r = Math.Sqrt(10);
            double[] nodes = [0, Math.Sqrt(5 - r), -Math.Sqrt(5 - r), Math.Sqrt(5 + r), -Math.Sqrt(5 + r)];
            var weights = nodes.Select(x => 120.0 / (25 * Math.Pow(x * x * x * x - 6 * x * x + 3, 2))).ToArray();
            var g = new double[n * n];
            var b = new double[n];
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 5; j++)
                {
                    basis.Evaluate([l00 * nodes[i], l10 * nodes[i] + l11 * nodes[j]], b);
                    for (int a = 0; a < n; a++)
                        for (int e = 0; e < n; e++) g[a * n + e] += weights[i] * weights[j] * b[a] * b[e];
                }
            return g;
        }
        var observed = Gram([c[0] + sigma[0], c[1] + sigma[1], c[2] + sigma[2], c[3] + sigma[3]]);
        var expected = Gram(c);
        var layout = new CurrentStatistics.Layout(n, d, false);
        var sums = new double[layout.Length];
        sums[0] = 1;
        for (int a = 0; a < n; a++)
            for (int e = 0; e <= a; e++)
            {
                sums[layout.GramStart + a * n + e] = observed[a * n + e];
                sums[layout.GramMid + a * n + e] = observed[a * n + e];
            }
        for (int i = 0; i < d; i++) sums[layout.Increment + i * d + i] = 1;
        sums[layout.SuccessiveCount] = 1;
        var moments = new CurrentMoments(sums, layout, 0.01, 0.01);
        var clean = GaussianDeconvolution.For(basis, 0)!.Subtract(moments, sigma);
        for (int i = 0; i < n * n; i++)
        {
            Assert.Equal(expected[i], clean.GramStart[i], 1e-12);
            Assert.Equal(expected[i], clean.GramMid[i], 1e-12);
        }
        Assert.Equal(0.5 / 0.01 - sigma[0] / 0.01, clean.SecondCumulant[0], 1e-10);
    }

    /// <summary>
    /// estimate --diffusion auto-robust fitted the force on the noisy moments with the noise-free D: for poly:1 the Gram carries
    /// + Sigma, so the rate came out low by about C/(C + Sigma) (C = 0.5 the stationary variance): 7.4% at s = 0.2 (driven trap
    /// frames every 0.1, 12 seeds paired with the noise-free data: -7.7% +- 0.9% for poly:1 and poly:2) and 15% at s = 0.3 here
    /// (poly:1: 0.152 +- 0.005, z -6.1). With a polynomial basis the fit takes the deconvolved moments (-0.5% +- 1.0% on the same
    /// 12 seeds; here z -0.1 for both). Frames every 0.05 (the Richardson remainder under 1%), 100 x 40,000 frames: stderr about
    /// 3%; the Richardson-corrected rate against the exact 2 mu eps^2 / k = 0.18 at z = StatisticalTolerance.Z(0.0027, 2).
    /// </summary>
    [Fact]
    public void NoiseRobustEntropyProductionFitsTheForceWithoutTheNoise()
    {
        var data = NoisyTrap(InferenceData.DrivenTrap(), 0.3, 100, 40_000, 431, dt: 0.05);
        double z = StatisticalTolerance.Z(0.0027, checks: 2);
        foreach (int degree in new[] { 1, 2 })
        {
            var estimate = EntropyProductionEstimator.CoarseSamplingCorrected(data, new PolynomialBasis(2, degree), DiffusionSpec.EstimatedNoiseRobust);
            Assert.True(Math.Abs(estimate.Rate - 0.18) < z * estimate.StandardError,
                $"poly:{degree}: {estimate.Rate} +- {estimate.StandardError}, exact 0.18 (z = {(estimate.Rate - 0.18) / estimate.StandardError:F2})");
        }
    }
}
