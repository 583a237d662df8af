using System.Runtime.CompilerServices;
using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;

namespace ThermoLearn.Simulation.Kernels;

/// <summary>Per-run constants of an overdamped lane step, broadcast once: mobility mu, dt and sqrt(2 dt) sqrt(mu T).</summary>
internal readonly struct LaneConstants<TDouble>(TDouble mobility, TDouble dt, TDouble kick, TDouble half)
    where TDouble : unmanaged
{
    public readonly TDouble Mobility = mobility, Dt = dt, Kick = kick, Half = half;
}

/// <summary>
/// One overdamped step of a scheme on one vector of trajectories: x (structure-of-arrays, d vectors) advances from t_n to
/// t_n + dt under lambda_n (and lambda_(n+1) where the scheme looks ahead) with the standard normals z. A struct per scheme,
/// so the kernel is monomorphic.
/// </summary>
internal interface ILaneStep
{
    /// <summary>Scratch vectors the step needs per trajectory vector, in units of d.</summary>
    static abstract int ScratchPerDimension { get; }

    static abstract void Step<TField, TLanes, TDouble, TBits>(in TField field, Span<TDouble> x, ReadOnlySpan<TDouble> z,
        ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext, in LaneConstants<TDouble> c, Span<TDouble> scratch)
        where TField : struct, ILaneForceField
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged;
}

/// <summary><see cref="Schemes.EulerMaruyama"/> on lanes: x += (F mu) dt; x += sqrt(2 D dt) z, in that order.</summary>
internal readonly struct EulerMaruyamaLanes : ILaneStep
{
    public static int ScratchPerDimension => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step<TField, TLanes, TDouble, TBits>(in TField field, Span<TDouble> x, ReadOnlySpan<TDouble> z,
        ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext, in LaneConstants<TDouble> c, Span<TDouble> scratch)
        where TField : struct, ILaneForceField
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        int d = x.Length;
        var f = scratch[..d];
        field.LaneForce<TLanes, TDouble, TBits>(x, lambda, f);
        for (int i = 0; i < d; i++)
        {
            var xi = TLanes.Add(x[i], TLanes.Multiply(TLanes.Multiply(f[i], c.Mobility), c.Dt));
            x[i] = TLanes.Add(xi, TLanes.Multiply(c.Kick, z[i]));
        }
    }
}

/// <summary>
/// <see cref="Schemes.StochasticHeun"/> on lanes: n = sqrt(2 D dt) z, a0 = mu F(x; lambda_n), y = x + a0 dt + n,
/// a1 = mu F(y; lambda_(n+1)), x += (a0 + a1) dt / 2 + n, in the scalar scheme's order.
/// </summary>
internal readonly struct HeunLanes : ILaneStep
{
    public static int ScratchPerDimension => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step<TField, TLanes, TDouble, TBits>(in TField field, Span<TDouble> x, ReadOnlySpan<TDouble> z,
        ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext, in LaneConstants<TDouble> c, Span<TDouble> scratch)
        where TField : struct, ILaneForceField
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        int d = x.Length;
        var a0 = scratch[..d];
        var y = scratch.Slice(d, d);
        var a1 = scratch.Slice(2 * d, d);
        field.LaneForce<TLanes, TDouble, TBits>(x, lambda, a0);
        for (int i = 0; i < d; i++)
        {
            a0[i] = TLanes.Multiply(a0[i], c.Mobility);
            y[i] = TLanes.Add(TLanes.Add(x[i], TLanes.Multiply(a0[i], c.Dt)), TLanes.Multiply(c.Kick, z[i]));
        }
        field.LaneForce<TLanes, TDouble, TBits>(y, lambdaNext, a1);
        for (int i = 0; i < d; i++)
        {
            var drift = TLanes.Multiply(TLanes.Multiply(c.Half, TLanes.Add(a0[i], TLanes.Multiply(a1[i], c.Mobility))), c.Dt);
            x[i] = TLanes.Add(x[i], TLanes.Add(drift, TLanes.Multiply(c.Kick, z[i])));
        }
    }
}
