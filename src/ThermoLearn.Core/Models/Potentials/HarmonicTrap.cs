using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;
namespace ThermoLearn.Models.Potentials;

/// <summary>
/// Harmonic trap with a moving centre in d dimensions: V(x; c) = k/2 |x - c|^2, controls lambda = c (length d).
/// Force -k (x - c); dV/dc = -k (x - c).
/// </summary>
public readonly struct HarmonicTrap : ILaneDifferentiableField
{
    public HarmonicTrap(double stiffness, int dimension = 1)
    {
        if (!(stiffness > 0) || !double.IsFinite(stiffness))
            throw new InvalidInputException($"harmonic trap: stiffness k must be positive and finite (got {stiffness}).");
        if (dimension < 1) throw new InvalidInputException($"harmonic trap: dimension must be >= 1 (got {dimension}).");
        Stiffness = stiffness;
        Dimension = dimension;
    }

    public double Stiffness { get; }
    public int Dimension { get; }
    public int ControlCount => Dimension;

    public double Energy(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double u = x[i] - lambda[i];
            s += u * u;
        }
        return 0.5 * Stiffness * s;
    }

    public void Force(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> force)
    {
        for (int i = 0; i < x.Length; i++) force[i] = -Stiffness * (x[i] - lambda[i]);
    }

    public void ControlDerivative(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> derivative)
    {
        for (int i = 0; i < x.Length; i++) derivative[i] = -Stiffness * (x[i] - lambda[i]);
    }

    /// <summary>dF_i/dc_j = k delta_ij.</summary>
    public void ForceControlJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian)
    {
        jacobian.Clear();
        for (int i = 0; i < x.Length; i++) jacobian[i * x.Length + i] = Stiffness;
    }

    /// <summary>dF_i/dx_j = -k delta_ij.</summary>
    public void ForceJacobian(ReadOnlySpan<double> x, ReadOnlySpan<double> lambda, Span<double> jacobian)
    {
        jacobian.Clear();
        for (int i = 0; i < x.Length; i++) jacobian[i * x.Length + i] = -Stiffness;
    }

    /// <summary>Lane form of <see cref="Force"/>: (-k)(x_i - c_i).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneForceField.LaneForce<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> force)
    {
        var minusK = TLanes.Create(-Stiffness);
        for (int i = 0; i < x.Length; i++) force[i] = TLanes.Multiply(minusK, TLanes.Subtract(x[i], lambda[i]));
    }

    /// <summary>Lane form of <see cref="Energy"/>: (k / 2) sum_i (x_i - c_i)^2, summed from 0 in coordinate order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneEnergy<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda) =>
        LaneEnergyAt<TLanes, TDouble, TBits>(x, lambda);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private TDouble LaneEnergyAt<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        var s = TLanes.Create(0.0);
        for (int i = 0; i < x.Length; i++)
        {
            var u = TLanes.Subtract(x[i], lambda[i]);
            s = TLanes.Add(s, TLanes.Multiply(u, u));
        }
        return TLanes.Multiply(TLanes.Create(0.5 * Stiffness), s);
    }

    /// <summary>Lane form of <see cref="IPotential.ControlWork"/> (not linear in the centre: two energies).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    TDouble ILaneForceField.LaneControlWork<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) =>
        TLanes.Subtract(LaneEnergyAt<TLanes, TDouble, TBits>(x, lambdaNext), LaneEnergyAt<TLanes, TDouble, TBits>(x, lambda));

    /// <summary>Lane form of <see cref="ControlDerivative"/>: (-k)(x_i - c_i).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneDifferentiableField.LaneControlDerivative<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> derivative)
    {
        var minusK = TLanes.Create(-Stiffness);
        for (int i = 0; i < x.Length; i++) derivative[i] = TLanes.Multiply(minusK, TLanes.Subtract(x[i], lambda[i]));
    }

    /// <summary>Lane form of <see cref="ForceControlJacobian"/>: k on the diagonal.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneDifferentiableField.LaneForceControlJacobian<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> jacobian) => Diagonal<TLanes, TDouble, TBits>(x.Length, Stiffness, jacobian);

    /// <summary>Lane form of <see cref="ForceJacobian"/>: -k on the diagonal.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    void ILaneDifferentiableField.LaneForceJacobian<TLanes, TDouble, TBits>(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, Span<TDouble> jacobian) => Diagonal<TLanes, TDouble, TBits>(x.Length, -Stiffness, jacobian);

    private static void Diagonal<TLanes, TDouble, TBits>(int d, double value, Span<TDouble> matrix)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        var zero = TLanes.Create(0.0);
        var diagonal = TLanes.Create(value);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) matrix[i * d + j] = i == j ? diagonal : zero;
    }
}
