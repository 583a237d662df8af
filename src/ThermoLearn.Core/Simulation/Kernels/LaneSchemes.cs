using System.Runtime.CompilerServices;
using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;

namespace ThermoLearn.Simulation.Kernels;

/// <summary>
/// Per-run constants of a lane step, broadcast once: the force response (the mobility mu, velocity per unit force, for an
/// overdamped step; 1/m, acceleration per unit force, for an underdamped one), dt, the noise amplitude
/// per normal (sqrt(2 dt) sqrt(mu T), or sqrt(2 gamma T dt) / m), 1/2, and the velocity damping 1 - gamma dt / m.
/// </summary>
internal readonly struct LaneConstants<TDouble>(TDouble forceResponse, TDouble dt, TDouble kick, TDouble half, TDouble damping)
    where TDouble : unmanaged
{
    public readonly TDouble ForceResponse = forceResponse, Dt = dt, Kick = kick, Half = half, Damping = damping;
}

/// <summary>
/// One step of a scheme on one vector of trajectories: the state (structure-of-arrays, StatePerDimension x d vectors:
/// x, then v for an underdamped step) advances from t_n to t_n + dt under lambda_n (and lambda_(n+1) where the scheme
/// looks ahead) with d standard normals z. A struct per scheme, so the kernel is monomorphic.
/// </summary>
internal interface ILaneStep
{
    /// <summary>State vectors per coordinate: 1 (x) overdamped, 2 (x, v) underdamped.</summary>
    static abstract int StatePerDimension { get; }

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
    public static int StatePerDimension => 1;
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
            var xi = TLanes.Add(x[i], TLanes.Multiply(TLanes.Multiply(f[i], c.ForceResponse), c.Dt));
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
    public static int StatePerDimension => 1;
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
            a0[i] = TLanes.Multiply(a0[i], c.ForceResponse);
            y[i] = TLanes.Add(TLanes.Add(x[i], TLanes.Multiply(a0[i], c.Dt)), TLanes.Multiply(c.Kick, z[i]));
        }
        field.LaneForce<TLanes, TDouble, TBits>(y, lambdaNext, a1);
        for (int i = 0; i < d; i++)
        {
            var drift = TLanes.Multiply(TLanes.Multiply(c.Half, TLanes.Add(a0[i], TLanes.Multiply(a1[i], c.ForceResponse))), c.Dt);
            x[i] = TLanes.Add(x[i], TLanes.Add(drift, TLanes.Multiply(c.Kick, z[i])));
        }
    }
}

/// <summary>
/// Semi-implicit (symplectic) Euler-Maruyama for underdamped Langevin dynamics m dv = (F - gamma v) dt + sqrt(2 gamma T) dW,
/// velocity first: v_(n+1) = (1 - gamma dt / m) v_n + (F(x_n; lambda_n) / m) dt + (sqrt(2 gamma T dt) / m) z, then
/// x_(n+1) = x_n + dt v_(n+1). Weak order 1. The state is (x, v): x in state[0, d), v in state[d, 2d). Used by the control
/// gradients, whose likelihood-ratio score is the Gaussian transition density of the velocity update
/// (<see cref="Control.PathKernel"/>); simulations of underdamped models use BAOAB.
/// </summary>
internal readonly struct SemiImplicitEulerLanes : ILaneStep
{
    public static int StatePerDimension => 2;
    public static int ScratchPerDimension => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step<TField, TLanes, TDouble, TBits>(in TField field, Span<TDouble> x, ReadOnlySpan<TDouble> z,
        ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext, in LaneConstants<TDouble> c, Span<TDouble> scratch)
        where TField : struct, ILaneForceField
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        int d = x.Length / 2;
        var f = scratch[..d];
        field.LaneForce<TLanes, TDouble, TBits>(x[..d], lambda, f);
        for (int i = 0; i < d; i++)
        {
            var v = TLanes.Add(TLanes.Add(TLanes.Multiply(c.Damping, x[d + i]), TLanes.Multiply(TLanes.Multiply(f[i], c.ForceResponse), c.Dt)),
                TLanes.Multiply(c.Kick, z[i]));
            x[d + i] = v;
            x[i] = TLanes.Add(x[i], TLanes.Multiply(c.Dt, v));
        }
    }
}
