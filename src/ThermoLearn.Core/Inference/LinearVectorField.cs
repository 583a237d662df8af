using ThermoLearn.Inference.Bases;

namespace ThermoLearn.Inference;

/// <summary>
/// A vector field expanded in a basis: v_mu(x, t) = sum_{s,k} Coefficients[(s (K+1) + k) d + mu] b_s(x) P_k(u(t)),
/// with Legendre polynomials P_k of u = 2 (t - TimeStart)/(TimeEnd - TimeStart) - 1 (K = TimeDegree; K = 0: no time dependence).
/// The result of every linear-basis estimator (thermodynamic force, drift, score, mean local velocity),
/// with the standard error of each coefficient.
/// </summary>
public sealed class LinearVectorField
{
    public LinearVectorField(IBasis basis, int timeDegree, double timeStart, double timeEnd, double[] coefficients, double[]? standardErrors)
    {
        Basis = basis;
        TimeDegree = timeDegree;
        TimeStart = timeStart;
        TimeEnd = timeEnd;
        int expected = basis.Count * (timeDegree + 1) * basis.Dimension;
        if (coefficients.Length != expected || (standardErrors is not null && standardErrors.Length != expected))
            throw new ArgumentException($"expected {expected} coefficients and standard errors");
        Coefficients = coefficients;
        StandardErrors = standardErrors;
    }

    public IBasis Basis { get; }
    public int TimeDegree { get; }
    public double TimeStart { get; }
    public double TimeEnd { get; }
    public int Dimension => Basis.Dimension;

    /// <summary>Coefficients [function][mu], row-major; function index s * (K + 1) + k.</summary>
    public IReadOnlyList<double> Coefficients { get; }
    /// <summary>Standard error of each coefficient, or null where the field is used as a point estimate only.</summary>
    public IReadOnlyList<double>? StandardErrors { get; }

    /// <summary>Name of function a of the space-time basis, e.g. "x0*P1(t)".</summary>
    public string Describe(int a) => Describe(Basis, TimeDegree, a);

    internal static string Describe(IBasis basis, int timeDegree, int a) =>
        timeDegree == 0 ? basis.Describe(a) : $"{basis.Describe(a / (timeDegree + 1))}*P{a % (timeDegree + 1)}(t)";

    /// <summary>Writes v(x, t) into <paramref name="value"/> (length d).</summary>
    public void Evaluate(ReadOnlySpan<double> x, double t, Span<double> value)
    {
        int d = Dimension, ns = Basis.Count, kt = TimeDegree + 1;
        Span<double> b = ns <= 512 ? stackalloc double[ns] : new double[ns];
        Span<double> c = stackalloc double[kt];
        Basis.Evaluate(x, b);
        LegendreTimeBasis.Evaluate(t, TimeStart, TimeEnd, TimeDegree, c);
        value[..d].Clear();
        var coefficients = (double[])Coefficients;
        for (int s = 0; s < ns; s++)
            for (int k = 0; k < kt; k++)
            {
                double w = b[s] * c[k];
                int row = (s * kt + k) * d;
                for (int m = 0; m < d; m++) value[m] += w * coefficients[row + m];
            }
    }

    /// <summary>div v(x, t) = sum_mu d v_mu / d x_mu.</summary>
    public double Divergence(ReadOnlySpan<double> x, double t)
    {
        int d = Dimension, ns = Basis.Count, kt = TimeDegree + 1;
        Span<double> g = ns * d <= 1024 ? stackalloc double[ns * d] : new double[ns * d];
        Span<double> c = stackalloc double[kt];
        Basis.EvaluateGradient(x, g);
        LegendreTimeBasis.Evaluate(t, TimeStart, TimeEnd, TimeDegree, c);
        var coefficients = (double[])Coefficients;
        double sum = 0;
        for (int s = 0; s < ns; s++)
            for (int k = 0; k < kt; k++)
            {
                int row = (s * kt + k) * d;
                for (int m = 0; m < d; m++) sum += g[s * d + m] * c[k] * coefficients[row + m];
            }
        return sum;
    }
}
