using ThermoLearn.Randomness;
using ThermoLearn.Statistics;

namespace ThermoLearn.Models;

/// <summary>
/// An overdamped Langevin model (Sekimoto, "Stochastic Energetics", Springer 2010):
/// dx = mu F(x,t) dt + sqrt(2D) dW, with F = -grad V(x; lambda(t)) + f_nc(x,t), a diagonal mobility
/// mu and a constant positive-definite diffusion matrix D (one bath: D = mu T; several baths:
/// D = diag(mu_i T_i)). The energetics use V, the conservative and non-conservative forces and D:
/// heat Q = int F o dx, medium entropy int (D^-1 mu F) o dx (= Q / T for one bath).
/// </summary>
public abstract class OverdampedModel : StochasticModel
{
    private readonly double[] _mobilities;
    private readonly double[,] _diffusion;
    private readonly double[,] _diffusionInverse;
    private readonly double[] _noiseFactor; // Cholesky L of D, row-major lower triangle
    private readonly bool _diagonalNoise;

    protected OverdampedModel(string name, IReadOnlyDictionary<string, string> parameters, double[] mobilities, double[,] diffusion)
        : base(name, parameters)
    {
        int d = mobilities.Length;
        if (diffusion.GetLength(0) != d || diffusion.GetLength(1) != d)
            throw new InvalidInputException($"{name}: D must be {d} x {d} to match the dimension (got {diffusion.GetLength(0)} x {diffusion.GetLength(1)}).");
        foreach (double m in mobilities)
            if (!(m > 0) || !double.IsFinite(m)) throw new InvalidInputException($"{name}: mobilities must be positive and finite (got {m}).");
        foreach (double v in diffusion)
            if (!double.IsFinite(v)) throw new InvalidInputException($"{name}: D has a non-finite entry ({v}).");
        if (!DenseMatrix.IsSymmetric(diffusion))
            throw new InvalidInputException($"{name}: the diffusion matrix D must be symmetric (got {Format(diffusion)}).");
        var l = DenseMatrix.TryCholesky(diffusion)
            ?? throw new InvalidInputException($"{name}: the diffusion matrix D must be positive definite (got {Format(diffusion)}); its Cholesky factorisation fails.");
        _mobilities = (double[])mobilities.Clone();
        _diffusion = (double[,])diffusion.Clone();
        _diffusionInverse = DenseMatrix.Inverse(diffusion);
        _noiseFactor = new double[d * d];
        _diagonalNoise = true;
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++)
            {
                _noiseFactor[i * d + j] = l[i, j];
                if (i != j && l[i, j] != 0) _diagonalNoise = false;
            }
        Dimension = d;
    }

    /// <summary>Dimension d of x.</summary>
    public int Dimension { get; }

    public override int StateDimension => Dimension;

    /// <summary>The diagonal of the mobility, mu_i (velocity per unit force), one per coordinate.</summary>
    public ReadOnlySpan<double> Mobilities => _mobilities;

    /// <summary>The diffusion matrix D (a copy).</summary>
    public double[,] Diffusion => (double[,])_diffusion.Clone();

    /// <summary>V(x; lambda(t)).</summary>
    public abstract double Energy(ReadOnlySpan<double> x, double t);

    /// <summary>The work of the control change from t0 to t1 at fixed x, V(x; lambda(t1)) - V(x; lambda(t0)).</summary>
    public virtual double ControlWork(ReadOnlySpan<double> x, double t0, double t1) => t1 == t0 ? 0 : Energy(x, t1) - Energy(x, t0);

    /// <summary>Writes -grad_x V(x; lambda(t)).</summary>
    public abstract void ConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force);

    /// <summary>Adds the non-conservative force f_nc(x, t) to <paramref name="force"/> (nothing by default).</summary>
    public virtual void AddNonConservativeForce(ReadOnlySpan<double> x, double t, Span<double> force) { }

    /// <summary>True when f_nc is not identically zero.</summary>
    public virtual bool HasNonConservativeForce => false;

    /// <summary>Writes the total force F = -grad V + f_nc.</summary>
    public void Force(ReadOnlySpan<double> x, double t, Span<double> force)
    {
        ConservativeForce(x, t, force);
        AddNonConservativeForce(x, t, force);
    }

    /// <summary>Writes the drift a(x, t) = mu F(x, t).</summary>
    public virtual void Drift(ReadOnlySpan<double> x, double t, Span<double> drift)
    {
        Force(x, t, drift);
        for (int i = 0; i < drift.Length; i++) drift[i] *= _mobilities[i];
    }

    /// <summary>Adds scale * L z to x, where L L^T = D (so scale = sqrt(2 dt) gives the noise sqrt(2D) dW).</summary>
    public void AddNoise(Span<double> x, ReadOnlySpan<double> z, double scale)
    {
        int d = Dimension;
        if (_diagonalNoise)
        {
            for (int i = 0; i < d; i++) x[i] += scale * _noiseFactor[i * d + i] * z[i];
            return;
        }
        for (int i = 0; i < d; i++)
        {
            double s = 0;
            for (int j = 0; j <= i; j++) s += _noiseFactor[i * d + j] * z[j];
            x[i] += scale * s;
        }
    }

    /// <summary>The medium-entropy integrand: writes D^-1 a(x,t) (for one bath, F / T).</summary>
    public void EntropyForce(ReadOnlySpan<double> x, double t, Span<double> result)
    {
        int d = Dimension;
        Span<double> drift = d <= 64 ? stackalloc double[d] : new double[d];
        Drift(x, t, drift);
        for (int i = 0; i < d; i++)
        {
            double s = 0;
            for (int j = 0; j < d; j++) s += _diffusionInverse[i, j] * drift[j];
            result[i] = s;
        }
    }

    /// <summary>The temperature T when one bath drives every coordinate (D = mu T), so the medium entropy is Q / T; null otherwise.</summary>
    public virtual double? BathTemperature => null;

    /// <summary>Draws x(0) from the model's initial distribution using <paramref name="random"/>.</summary>
    public abstract void SampleInitial(ref RandomStream random, Span<double> x);

    /// <summary>ln p(x, t) of the exact ensemble density, or null when unknown (then Delta s_sys is not reported).</summary>
    public virtual double? LogDensity(ReadOnlySpan<double> x, double t) => null;

    /// <summary>True when <see cref="LogDensity"/> is known.</summary>
    public virtual bool HasExactDensity => false;
}
