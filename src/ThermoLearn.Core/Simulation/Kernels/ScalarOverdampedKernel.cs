using System.Runtime.CompilerServices;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;

namespace ThermoLearn.Simulation.Kernels;

/// <summary>A time-independent 1-D conservative force evaluated on one vector of trajectories at once (and its potential).</summary>
internal interface IScalarForce<TDouble>
    where TDouble : unmanaged
{
    TDouble Force(TDouble x);
    TDouble Energy(TDouble x);
}

/// <summary>F = -4 b x (x^2 - 1) - c, written with the same operation order as <see cref="Models.Potentials.DoubleWell.ForceAt"/>
/// so the vector kernel reproduces the generic path bit for bit; V = b (x^2 - 1)^2 + c x.</summary>
internal readonly struct DoubleWellForce<TLanes, TDouble, TBits>(double b, double c) : IScalarForce<TDouble>
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    private readonly TDouble _minus4b = TLanes.Create(-4 * b), _b = TLanes.Create(b), _c = TLanes.Create(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TDouble Force(TDouble x) =>
        TLanes.Subtract(TLanes.Multiply(TLanes.Multiply(_minus4b, x), TLanes.Subtract(TLanes.Multiply(x, x), TLanes.Create(1.0))), _c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TDouble Energy(TDouble x)
    {
        var u = TLanes.Subtract(TLanes.Multiply(x, x), TLanes.Create(1.0));
        return TLanes.Add(TLanes.Multiply(TLanes.Multiply(_b, u), u), TLanes.Multiply(_c, x));
    }
}

/// <summary>
/// Euler-Maruyama for 1-D overdamped models with a time-independent conservative force, one trajectory per SIMD lane
/// (four with <see cref="Lanes256"/>, eight with <see cref="Lanes512"/> where AVX-512 is hardware-accelerated):
/// x += (mu F(x)) dt; x += (sqrt(2 dt) sqrt(D)) z, the same operations in the same order as <see cref="Schemes.EulerMaruyama"/>
/// with the same lane noise (<see cref="GaussianLanes{TLanes, TDouble, TBits}"/>), so its output equals the generic
/// path's bit for bit at either width (tests compare all three). A block of groups advances step by step with its state
/// in L1; the groups' update chains are independent, so their latencies overlap. No allocation per step.
/// </summary>
internal static class ScalarOverdampedKernel<TLanes, TDouble, TBits>
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    /// <summary>Groups of Count trajectories advanced together (256 trajectories, about 12 KB of state, at either width).</summary>
    public static int GroupsPerBlock => 256 / TLanes.Count;

    /// <summary>Per-trajectory sums of one group (heat, delta V, medium entropy; work is zero for a fixed potential).</summary>
    internal struct Sums
    {
        public TDouble Heat, DeltaEnergy, MediumEntropy, Energy;
    }

    /// <summary>
    /// Advances groups firstGroup .. firstGroup + x.Length - 1 (local trajectories Count g .. Count g + Count - 1; the
    /// last group may have fewer real lanes, <paramref name="lastLanes"/>) from the initial states in <paramref name="x"/>,
    /// writing frames into <paramref name="data"/> (frame 0 included) and energetics into <paramref name="sums"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TForce>(TForce force, Span<TDouble> x, Span<GaussianLanes<TLanes, TDouble, TBits>> noise, Span<Sums> sums,
        int firstGroup, int lastLanes, int steps, int saveEvery, int frames, double mobility, double dt, double noiseScale,
        double diffusionInverse, bool energetics, double[] data)
        where TForce : struct, IScalarForce<TDouble>
    {
        int width = TLanes.Count;
        var mu = TLanes.Create(mobility);
        var step = TLanes.Create(dt);
        var kick = TLanes.Create(noiseScale);
        var half = TLanes.Create(0.5);
        var dInv = TLanes.Create(diffusionInverse);
        int groups = x.Length;
        for (int g = 0; g < groups; g++)
        {
            Store(x[g], data, firstGroup + g, g == groups - 1 ? lastLanes : width, frames, 0);
            if (energetics) sums[g] = new Sums { Energy = force.Energy(x[g]) };
        }
        for (int s = 0; s < steps; s += 2)
        {
            bool second = s + 1 < steps;
            bool saveFirst = (s + 1) % saveEvery == 0, saveSecond = second && (s + 2) % saveEvery == 0;
            for (int g = 0; g < groups; g++)
            {
                noise[g].NextPair(out var z1, out var z2);
                var xg = x[g];
                int lanes = g == groups - 1 ? lastLanes : width;
                var previous = xg;
                xg = TLanes.Add(xg, TLanes.Multiply(TLanes.Multiply(force.Force(xg), mu), step));   // x += (F mu) dt
                xg = TLanes.Add(xg, TLanes.Multiply(kick, z1));                                      // x += sqrt(2 D dt) z
                if (energetics) Account(force, ref sums[g], previous, xg, mu, half, dInv);
                if (saveFirst) Store(xg, data, firstGroup + g, lanes, frames, (s + 1) / saveEvery);
                if (second)
                {
                    previous = xg;
                    xg = TLanes.Add(xg, TLanes.Multiply(TLanes.Multiply(force.Force(xg), mu), step));
                    xg = TLanes.Add(xg, TLanes.Multiply(kick, z2));
                    if (energetics) Account(force, ref sums[g], previous, xg, mu, half, dInv);
                    if (saveSecond) Store(xg, data, firstGroup + g, lanes, frames, (s + 2) / saveEvery);
                }
                x[g] = xg;
            }
        }
    }

    /// <summary>Heat F(x_mid) dx, medium entropy D^-1 mu F(x_mid) dx and Delta V of one step, as <see cref="Energetics.StochasticEnergetics"/> computes them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Account<TForce>(TForce force, ref Sums sums, TDouble previous, TDouble x, TDouble mu, TDouble half, TDouble dInv)
        where TForce : struct, IScalarForce<TDouble>
    {
        var mid = TLanes.Multiply(half, TLanes.Add(previous, x));
        var dx = TLanes.Subtract(x, previous);
        var f = force.Force(mid);
        sums.Heat = TLanes.Add(sums.Heat, TLanes.Multiply(f, dx));
        sums.MediumEntropy = TLanes.Add(sums.MediumEntropy, TLanes.Multiply(TLanes.Multiply(dInv, TLanes.Multiply(f, mu)), dx));
        var next = force.Energy(x);
        sums.DeltaEnergy = TLanes.Add(sums.DeltaEnergy, TLanes.Subtract(next, sums.Energy));   // per step, as the generic path sums it
        sums.Energy = next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(TDouble x, double[] data, int group, int lanes, int frames, int frame)
    {
        long offset = (long)TLanes.Count * group * frames + frame;
        for (int j = 0; j < lanes; j++) data[offset + (long)j * frames] = TLanes.GetElement(x, j);
    }
}
