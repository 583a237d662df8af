using ThermoLearn.Randomness;
using ThermoLearn.Statistics;

namespace ThermoLearn.Models;

/// <summary>
/// Linear (Ornstein-Uhlenbeck) SDE dx = -A x dt + sqrt(2D) dW with A stable (eigenvalues of positive real
/// part) and D symmetric positive definite; simulated from its stationary law N(0, C).
/// Stationary covariance C solves A C + C A^T = 2D; mean local velocity v(x) = -(A - D C^-1) x; exact
/// entropy-production rate sigma = &lt;v^T D^-1 v&gt; = tr(A^T D^-1 A C) - tr(C^-1 D)
/// (e.g. Godreche &amp; Luck, J. Phys. A 52, 035002 (2019), doi:10.1088/1751-8121/aaf190).
/// Energetics: with mobilities mu, the force is F = -M^-1 A x; its symmetric part is the conservative
/// force of V = x^T K x / 2 (K = sym(M^-1 A)) and its antisymmetric part the non-conservative force.
/// The driven 2-D trap and the bead-spring chain are cases (<see cref="DrivenTrap2D"/>, <see cref="BeadSpring"/>).
/// </summary>
public sealed class LinearModel : OverdampedModel, ILinearDynamics
{
    private readonly double[,] _a, _d, _c, _cInverse, _cFactor, _stiffness, _circulation;
    private readonly double _logNormaliser;

    /// <summary>A linear model with drift matrix <paramref name="a"/>, diffusion <paramref name="d"/> and (optional) mobilities.</summary>
    public LinearModel(double[,] a, double[,] d, double[]? mobilities = null, string name = "linear", IReadOnlyDictionary<string, string>? parameters = null)
        : base(name, parameters ?? new Dictionary<string, string> { ["A"] = Format(a), ["D"] = Format(d) },
               mobilities ?? Enumerable.Repeat(1.0, CheckSquare(name, "A", a)).ToArray(), d)
    {
        int n = Dimension;
        if (a.GetLength(0) != n) throw new InvalidInputException($"{name}: A is {a.GetLength(0)} x {a.GetLength(1)} but D is {n} x {n}; they must have the same size.");
        foreach (double v in a)
            if (!double.IsFinite(v)) throw new InvalidInputException($"{name}: A has a non-finite entry ({v}).");
        double minRe = DenseMatrix.MinEigenvalueRealPart(a);
        if (!(minRe > 0))
            throw new InvalidInputException($"{name}: A = {Format(a)} is not stable: an eigenvalue has real part {minRe:G6} <= 0; "
                + "dx = -A x dt needs every eigenvalue of A with positive real part for a stationary state.");
        _a = (double[,])a.Clone();
        _d = (double[,])d.Clone();
        var twoD = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) twoD[i, j] = 2 * d[i, j];
        _c = DenseMatrix.SolveLyapunov(_a, twoD);
        _cInverse = DenseMatrix.Inverse(_c);
        _cFactor = DenseMatrix.TryCholesky(_c) ?? throw new InvalidInputException($"{name}: the stationary covariance is not positive definite.");
        _logNormaliser = -0.5 * (n * Math.Log(2 * Math.PI) + DenseMatrix.LogDeterminant(_c));
        var mob = Mobilities;
        _stiffness = new double[n, n];
        _circulation = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double bij = _a[i, j] / mob[i], bji = _a[j, i] / mob[j];
                _stiffness[i, j] = 0.5 * (bij + bji);
                _circulation[i, j] = 0.5 * (bij - bji);
            }
        EntropyProductionRateValue = ComputeEntropyProduction(_a, _d, _c);
    }

    private static int CheckSquare(string name, string what, double[,] m)
    {
        if (m.GetLength(0) != m.GetLength(1) || m.GetLength(0) == 0)
            throw new InvalidInputException($"{name}: {what} must be a non-empty square matrix (got {m.GetLength(0)} x {m.GetLength(1)}).");
        return m.GetLength(0);
    }

    /// <summary>sigma = tr(A^T D^-1 A C) - tr(C^-1 D) for a stable A and the stationary C.</summary>
    public static double ComputeEntropyProduction(double[,] a, double[,] d, double[,] c)
    {
        var dInv = DenseMatrix.Inverse(d);
        var first = DenseMatrix.Multiply(DenseMatrix.Multiply(DenseMatrix.Transpose(a), dInv), DenseMatrix.Multiply(a, c));
        var second = DenseMatrix.Multiply(DenseMatrix.Inverse(c), d);
        return DenseMatrix.Trace(first) - DenseMatrix.Trace(second);
    }

    /// <summary>
    /// Driven 2-D trap: F = -k x + eps J x (J the rotation by 90 degrees), mobility mu, temperature T;
    /// A = mu (k I - eps J), D = mu T I; sigma = 2 mu eps^2 / k (0.18 at k=1, eps=0.3, mu=1, T=0.5).
    /// </summary>
    public static LinearModel DrivenTrap2D(double k, double eps, double mu, double temperature)
    {
        const string name = "driven-trap-2d";
        RequirePositive(name, "k", k);
        RequireFinite(name, "eps", eps);
        RequirePositive(name, "mu", mu);
        RequirePositive(name, "T", temperature);
        var a = new double[,] { { mu * k, mu * eps }, { -mu * eps, mu * k } };
        var d = new double[,] { { mu * temperature, 0 }, { 0, mu * temperature } };
        return new LinearModel(a, d, new[] { mu, mu }, name, new Dictionary<string, string>
        {
            ["k"] = Format(k), ["eps"] = Format(eps), ["mu"] = Format(mu), ["T"] = Format(temperature),
        });
    }

    /// <summary>
    /// Bead-spring chain: n beads, springs k between neighbours and to two fixed walls, friction gamma,
    /// bead i (0-based) at temperature T_i = th + (tc - th) i / (n - 1). A = K / gamma, D = diag(T_i / gamma).
    /// sigma = 2.025 for n = 2 and 0.629817 for n = 5 (k = gamma = 1, th = 10, tc = 1); the benchmark of
    /// Kim et al. (NEEP), Phys. Rev. Lett. 125, 140604 (2020).
    /// </summary>
    public static LinearModel BeadSpring(int n, double k, double gamma, double th, double tc)
    {
        const string name = "bead-spring";
        if (n < 1 || n > 30) throw new InvalidInputException($"{name}: n must be an integer from 1 to 30 (got {n}).");
        RequirePositive(name, "k", k);
        RequirePositive(name, "gamma", gamma);
        RequirePositive(name, "th", th);
        RequirePositive(name, "tc", tc);
        var a = new double[n, n];
        var d = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            a[i, i] = 2 * k / gamma;
            if (i > 0) a[i, i - 1] = -k / gamma;
            if (i < n - 1) a[i, i + 1] = -k / gamma;
            double temperature = n == 1 ? th : th + (tc - th) * i / (n - 1);
            d[i, i] = temperature / gamma;
        }
        return new LinearModel(a, d, Enumerable.Repeat(1 / gamma, n).ToArray(), name, new Dictionary<string, string>
        {
            ["n"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture), ["k"] = Format(k), ["gamma"] = Format(gamma),
            ["th"] = Format(th), ["tc"] = Format(tc),
        });
    }

    /// <summary>The drift matrix A (a copy).</summary>
    public double[,] A => (double[,])_a.Clone();

    /// <summary>The stationary covariance C (a copy), solution of A C + C A^T = 2D.</summary>
    public double[,] StationaryCovariance => (double[,])_c.Clone();

    /// <summary>The exact stationary EP rate.</summary>
    public double EntropyProductionRateValue { get; }

    public override double? EntropyProductionRate(double t) => EntropyProductionRateValue;

    /// <summary>
    /// EP per unit time of the chain sampled every dt (the stationary Gaussian pair (x_0, x_dt) against its time reverse):
    /// KL = tr(S_r^-1 S_f)/2 - d, S_f = [[C, C Phi^T], [Phi C, C]], S_r = [[C, Phi C], [C Phi^T, C]], Phi = exp(-A dt), divided by dt
    /// (the log-determinants cancel: S_r is S_f with its blocks permuted). Below sigma, tending to it as dt -> 0.
    /// </summary>
    public double SampledChainEntropyProductionRate(double dt)
    {
        if (!(dt > 0) || !double.IsFinite(dt)) throw new InvalidInputException($"{Name}: dt must be positive and finite (got {dt}).");
        int n = Dimension;
        var minusAdt = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) minusAdt[i * n + j] = -_a[i, j] * dt;
        var phi = MatrixExponential.Exp(minusAdt, n);
        var build = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build;
        var c = build.DenseOfArray(_c);
        var phiC = build.Dense(n, n, (i, j) => phi[i * n + j]) * c;
        var forward = build.Dense(2 * n, 2 * n);
        var reverse = build.Dense(2 * n, 2 * n);
        forward.SetSubMatrix(0, 0, c); forward.SetSubMatrix(n, n, c);
        forward.SetSubMatrix(n, 0, phiC); forward.SetSubMatrix(0, n, phiC.Transpose());
        reverse.SetSubMatrix(0, 0, c); reverse.SetSubMatrix(n, n, c);
        reverse.SetSubMatrix(0, n, phiC); reverse.SetSubMatrix(n, 0, phiC.Transpose());
        double kl = 0.5 * reverse.Cholesky().Solve(forward).Trace() - n;
        return kl / dt;
    }

    /// <summary>Mean local velocity v(x) = -(A - D C^-1) x, whose D^-1-weighted square averages to sigma.</summary>
    public void MeanLocalVelocity(ReadOnlySpan<double> x, Span<double> v)
    {
        int n = Dimension;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++)
            {
                double dcInv = 0;
                for (int k = 0; k < n; k++) dcInv += _d[i, k] * _cInverse[k, j];
                s -= (_a[i, j] - dcInv) * x[j];
            }
            v[i] = s;
        }
    }

    public override void Drift(ReadOnlySpan<double> x, double t, Span<double> drift) => MinusProduct(_a, x, drift);

    /// <summary>y = -M x, summed over j in order (the drift -A x and the conservative force -K x).</summary>
    private static void MinusProduct(double[,] m, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = m.GetLength(0);
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) s -= m[i, j] * x[j];
            y[i] = s;
        }
    }

    public override double Energy(ReadOnlySpan<double> x, double t)
    {
        int n = Dimension;
        double e = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) e += x[i] * _stiffness[i, j] * x[j];
        return 0.5 * e;
    }

    public override void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force) => MinusProduct(_stiffness, x, force);

    public override bool HasNonConservativeForce
    {
        get
        {
            foreach (double v in _circulation) if (v != 0) return true;
            return false;
        }
    }

    public override void AddNonConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        int n = Dimension;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++) s -= _circulation[i, j] * x[j];
            force[i] += s;
        }
    }

    public bool IsTimeIndependent => true;

    /// <summary>
    /// Phi = e^(-A dt) and Q = C - Phi C Phi^T (the stationary covariance minus what the step carries over), L its
    /// Cholesky factor; no offset.
    /// </summary>
    /// <exception cref="InvalidInputException">Q is not positive definite in floating point (a dt so small that C - Phi C Phi^T cancels).</exception>
    public GaussianTransition Transition(double t, double dt)
    {
        int n = Dimension;
        var minusADt = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) minusADt[i * n + j] = -_a[i, j] * dt;
        var phiFlat = MatrixExponential.Exp(minusADt, n);
        var phi = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) phi[i, j] = phiFlat[i * n + j];
        var carried = DenseMatrix.Multiply(DenseMatrix.Multiply(phi, _c), DenseMatrix.Transpose(phi));
        var q = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) q[i, j] = _c[i, j] - 0.5 * (carried[i, j] + carried[j, i]);
        var l = DenseMatrix.TryCholesky(q)
            ?? throw InvalidInputException.Naming($"{Name}: the exact step's noise covariance C - e^(-A dt) C e^(-A^T dt) is not positive definite at dt = {dt:G6} ",
                $"(rounding); use a larger {InputParameter.Dt} or {InputParameter.Scheme} heun.");
        var factor = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) factor[i * n + j] = l[i, j];
        return new GaussianTransition(phiFlat, new double[n], factor);
    }

    /// <summary>x(0) ~ N(0, C): the stationary law, so every frame is stationary.</summary>
    public override void SampleInitial(ref RandomStream random, Span<double> x)
    {
        int n = Dimension;
        Span<double> z = n <= 64 ? stackalloc double[n] : new double[n];
        for (int i = 0; i < n; i++) z[i] = random.NextGaussian();
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j <= i; j++) s += _cFactor[i, j] * z[j];
            x[i] = s;
        }
    }

    public override bool HasExactDensity => true;

    public override double? LogDensity(ReadOnlySpan<double> x, double t)
    {
        int n = Dimension;
        double q = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) q += x[i] * _cInverse[i, j] * x[j];
        return _logNormaliser - 0.5 * q;
    }
}
