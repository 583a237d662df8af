namespace ThermoLearn.Models;

/// <summary>
/// The exact one-step law of a linear SDE dx = (-A(t) x + b(t)) dt + sqrt(2D) dW over [t, t + dt]: Gaussian,
/// x(t + dt) = Phi x(t) + Offset + L z with z ~ N(0, I), where Phi = T exp(-int A), Offset the propagated forcing and
/// L L^T the covariance Q the noise builds up over the step (for constant A: Q = C - e^(-A dt) C e^(-A^T dt), C the
/// stationary covariance). Matrices are d x d row-major.
/// </summary>
public sealed record GaussianTransition(double[] Phi, double[] Offset, double[] Factor)
{
    /// <summary>Dimension d.</summary>
    public int Dimension => Offset.Length;

    /// <summary>x_out = Phi x + Offset + Factor z (x_out must not overlap x).</summary>
    public void Apply(ReadOnlySpan<double> x, ReadOnlySpan<double> z, Span<double> result)
    {
        int d = Offset.Length;
        for (int i = 0; i < d; i++)
        {
            double s = Offset[i];
            for (int j = 0; j < d; j++) s += Phi[i * d + j] * x[j];
            for (int j = 0; j <= i; j++) s += Factor[i * d + j] * z[j];
            result[i] = s;
        }
    }
}

/// <summary>
/// A linear model whose transition over any step is known exactly (<see cref="GaussianTransition"/>): the
/// <c>exact</c> scheme samples it, so the data carry no integrator bias at any dt. Linear, bead-spring and the
/// driven 2-D trap (closed form), the translated harmonic trap (closed form) and the breathing trap (variance ODE).
/// </summary>
public interface ILinearDynamics
{
    /// <summary>True when the transition depends on dt only (then one is computed per run, not one per step).</summary>
    bool IsTimeIndependent { get; }

    /// <summary>The exact law of x(t + dt) given x(t).</summary>
    GaussianTransition Transition(double t, double dt);
}
