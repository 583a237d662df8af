using ThermoLearn.Randomness;
using ThermoLearn.Statistics;

namespace ThermoLearn.Models;

/// <summary>
/// Underdamped driven 2-D trap: F = -k x + eps J x (J the rotation by 90 degrees), mass m, friction gamma,
/// temperature T, simulated from its stationary Gaussian law. The stationary covariance of z = (x, v) solves
/// B C + C B^T = 2 Q with dz = -B z dt + sqrt(2Q) dW, and sigma = &lt;f_nc . v&gt; / T = eps (C_{x1 v2} - C_{x2 v1}) / T;
/// for m = T = 1 this is the closed form 2 eps^2 gamma / (gamma^2 k - eps^2) (0.666667 at k=1, eps=0.5, gamma=1).
/// Stable only when gamma^2 k &gt; m eps^2. (Frishman &amp; Ronceray, PRX 10, 021009 (2020), SFI's underdamped benchmark.)
/// </summary>
public sealed class UnderdampedDrivenTrap : UnderdampedModel
{
    private readonly double _k, _eps;
    private readonly double[,] _covariance, _factor;

    public UnderdampedDrivenTrap(double k = 1, double eps = 0.5, double gamma = 1, double m = 1, double temperature = 1)
        : base("underdamped-driven-trap", new Dictionary<string, string>
            {
                ["k"] = Format(k), ["eps"] = Format(eps), ["gamma"] = Format(gamma), ["m"] = Format(m), ["T"] = Format(temperature),
            }, 2, m, gamma, temperature)
    {
        _k = RequirePositive(Name, "k", k);
        _eps = RequireFinite(Name, "eps", eps);
        if (!(gamma * gamma * k > m * eps * eps))
            throw new InvalidInputException($"{Name}: unstable parameters: the trap needs gamma^2 k > m eps^2 "
                + $"(got gamma^2 k = {gamma * gamma * k:G6}, m eps^2 = {m * eps * eps:G6}).");
        // z = (x1, x2, v1, v2): dz = -B z dt + sqrt(2Q) dW.
        var b = new double[4, 4];
        b[0, 2] = -1; b[1, 3] = -1;
        b[2, 0] = k / m; b[2, 1] = eps / m; b[2, 2] = gamma / m;   // dv1 = (-k x1 - eps x2 - gamma v1)/m
        b[3, 0] = -eps / m; b[3, 1] = k / m; b[3, 3] = gamma / m; // dv2 = (eps x1 - k x2 - gamma v2)/m
        var twoQ = new double[4, 4];
        twoQ[2, 2] = twoQ[3, 3] = 2 * gamma * temperature / (m * m);
        if (!(DenseMatrix.MinEigenvalueRealPart(b) > 0))
            throw new InvalidInputException($"{Name}: the parameters give no stationary state (drift matrix not stable).");
        _covariance = DenseMatrix.SolveLyapunov(b, twoQ);
        _factor = DenseMatrix.TryCholesky(_covariance) ?? throw new InvalidInputException($"{Name}: stationary covariance not positive definite.");
        EntropyProductionRateValue = eps * (_covariance[0, 3] - _covariance[1, 2]) / temperature;
    }

    /// <summary>Stationary covariance of (x1, x2, v1, v2) (a copy).</summary>
    public double[,] StationaryCovariance => (double[,])_covariance.Clone();

    /// <summary>The exact stationary EP rate from the Lyapunov covariance.</summary>
    public double EntropyProductionRateValue { get; }

    /// <summary>The closed form 2 eps^2 gamma / (gamma^2 k - eps^2), valid for m = T = 1.</summary>
    public static double ClosedFormRate(double k, double eps, double gamma) => 2 * eps * eps * gamma / (gamma * gamma * k - eps * eps);

    public override double? EntropyProductionRate(double t) => EntropyProductionRateValue;

    public override double Energy(ReadOnlySpan<double> x, double t) => 0.5 * _k * (x[0] * x[0] + x[1] * x[1]);

    public override void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        force[0] = -_k * x[0];
        force[1] = -_k * x[1];
    }

    public override void AddNonConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        force[0] -= _eps * x[1];
        force[1] += _eps * x[0];
    }

    public override void SampleInitial(ref RandomStream random, Span<double> x, Span<double> v)
    {
        Span<double> z = stackalloc double[4];
        for (int i = 0; i < 4; i++) z[i] = random.NextGaussian();
        Span<double> state = stackalloc double[4];
        for (int i = 0; i < 4; i++)
        {
            double s = 0;
            for (int j = 0; j <= i; j++) s += _factor[i, j] * z[j];
            state[i] = s;
        }
        x[0] = state[0]; x[1] = state[1];
        v[0] = state[2]; v[1] = state[3];
    }
}
