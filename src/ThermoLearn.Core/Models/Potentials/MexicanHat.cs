namespace ThermoLearn.Models.Potentials;

/// <summary>
/// Mexican-hat (ring) potential in d dimensions with depth and radius controls, lambda = (a, r0):
/// V(x; a, r0) = a (|x|^2 - r0^2)^2, minimal on the sphere |x| = r0 with a barrier a r0^4 at the origin.
/// Force -4 a (|x|^2 - r0^2) x; dV/da = (|x|^2 - r0^2)^2, dV/dr0 = -4 a r0 (|x|^2 - r0^2).
/// </summary>
public readonly struct MexicanHat : IPotential
{
    public MexicanHat(int dimension = 2)
    {
        if (dimension < 1) throw new InvalidInputException($"Mexican-hat potential: dimension must be >= 1 (got {dimension}).");
        Dimension = dimension;
    }

    public int Dimension { get; }
    public int ControlCount => 2;

    public double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda)
    {
        double u = SquaredNorm(x) - lambda[1] * lambda[1];
        return lambda[0] * u * u;
    }

    public void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force)
    {
        double g = -4 * lambda[0] * (SquaredNorm(x) - lambda[1] * lambda[1]);
        for (int i = 0; i < x.Length; i++) force[i] = g * x[i];
    }

    public void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative)
    {
        double u = SquaredNorm(x) - lambda[1] * lambda[1];
        derivative[0] = u * u;
        derivative[1] = -4 * lambda[0] * lambda[1] * u;
    }

    private static double SquaredNorm(ReadOnlySpan<double> x)
    {
        double s = 0;
        foreach (double v in x) s += v * v;
        return s;
    }
}
