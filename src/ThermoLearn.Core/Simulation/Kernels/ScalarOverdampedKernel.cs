using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Randomness;

namespace ThermoLearn.Simulation.Kernels;

/// <summary>A time-independent 1-D conservative force evaluated on four or eight trajectories at once (and its potential),
/// with the same operations per lane at both widths.</summary>
internal interface IScalarForce
{
    Vector256<double> Force(Vector256<double> x);
    Vector256<double> Energy(Vector256<double> x);
    Vector512<double> Force(Vector512<double> x);
    Vector512<double> Energy(Vector512<double> x);
}

/// <summary>F = -4 b x (x^2 - 1) - c, written with the same operation order as <see cref="Models.Potentials.DoubleWell.ForceAt"/>
/// so the vector kernel reproduces the generic path bit for bit.</summary>
internal readonly struct DoubleWellForce(double b, double c) : IScalarForce
{
    private readonly Vector256<double> _minus4b = Vector256.Create(-4 * b), _b = Vector256.Create(b), _c = Vector256.Create(c);
    private readonly Vector512<double> _minus4bWide = Vector512.Create(-4 * b), _bWide = Vector512.Create(b), _cWide = Vector512.Create(c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<double> Force(Vector256<double> x) => _minus4b * x * (x * x - Vector256<double>.One) - _c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<double> Energy(Vector256<double> x)
    {
        var u = x * x - Vector256<double>.One;
        return _b * u * u + _c * x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<double> Force(Vector512<double> x) => _minus4bWide * x * (x * x - Vector512<double>.One) - _cWide;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<double> Energy(Vector512<double> x)
    {
        var u = x * x - Vector512<double>.One;
        return _bWide * u * u + _cWide * x;
    }
}

/// <summary>
/// Euler-Maruyama for 1-D overdamped models with a time-independent conservative force, four trajectories per
/// <see cref="Vector256{T}"/>: x += (mu F(x)) dt; x += (sqrt(2 dt) sqrt(D)) z, the same operations in the same
/// order as <see cref="Schemes.EulerMaruyama"/> with the same lane noise (<see cref="GaussianLanes"/>), so its
/// output equals the generic path's bit for bit. A block of groups advances step by step with its state in L1;
/// the groups' update chains are independent, so their latencies overlap. No allocation per step.
/// </summary>
internal static class ScalarOverdampedKernel
{
    /// <summary>Groups of four trajectories advanced together (64 x 4 = 256 trajectories, about 12 KB of state).</summary>
    public const int GroupsPerBlock = 64;

    /// <summary>Per-trajectory sums of one group (heat, delta V, medium entropy; work is zero for a fixed potential).</summary>
    internal struct Sums
    {
        public Vector256<double> Heat, DeltaEnergy, MediumEntropy, Energy;
    }

    /// <summary>
    /// Advances groups firstGroup .. firstGroup + x.Length - 1 (local trajectories 4g .. 4g+3; the last group may have
    /// fewer than four real lanes, <paramref name="lastLanes"/>) from the initial states in <paramref name="x"/>,
    /// writing frames into <paramref name="data"/> (frame 0 included) and energetics into <paramref name="sums"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TForce>(TForce force, Span<Vector256<double>> x, Span<GaussianLanes> noise, Span<Sums> sums,
        int firstGroup, int lastLanes, int steps, int saveEvery, int frames, double mobility, double dt, double noiseScale,
        double diffusionInverse, bool energetics, double[] data)
        where TForce : struct, IScalarForce
    {
        var mu = Vector256.Create(mobility);
        var step = Vector256.Create(dt);
        var kick = Vector256.Create(noiseScale);
        var half = Vector256.Create(0.5);
        var dInv = Vector256.Create(diffusionInverse);
        int groups = x.Length;
        for (int g = 0; g < groups; g++)
        {
            Store(x[g], data, firstGroup + g, g == groups - 1 ? lastLanes : 4, frames, 0);
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
                int lanes = g == groups - 1 ? lastLanes : 4;
                var previous = xg;
                xg += force.Force(xg) * mu * step;
                xg += kick * z1;
                if (energetics) Account(force, ref sums[g], previous, xg, mu, half, dInv);
                if (saveFirst) Store(xg, data, firstGroup + g, lanes, frames, (s + 1) / saveEvery);
                if (second)
                {
                    previous = xg;
                    xg += force.Force(xg) * mu * step;
                    xg += kick * z2;
                    if (energetics) Account(force, ref sums[g], previous, xg, mu, half, dInv);
                    if (saveSecond) Store(xg, data, firstGroup + g, lanes, frames, (s + 2) / saveEvery);
                }
                x[g] = xg;
            }
        }
    }

    /// <summary>Heat F(x_mid) dx, medium entropy D^-1 mu F(x_mid) dx and Delta V of one step, as <see cref="Energetics.StochasticEnergetics"/> computes them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Account<TForce>(TForce force, ref Sums sums, Vector256<double> previous, Vector256<double> x,
        Vector256<double> mu, Vector256<double> half, Vector256<double> dInv)
        where TForce : struct, IScalarForce
    {
        var mid = half * (previous + x);
        var dx = x - previous;
        var f = force.Force(mid);
        sums.Heat += f * dx;
        sums.MediumEntropy += dInv * (f * mu) * dx;
        var next = force.Energy(x);
        sums.DeltaEnergy += next - sums.Energy;   // per step, as the generic path sums it
        sums.Energy = next;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<double> x, double[] data, int group, int lanes, int frames, int frame)
    {
        long offset = (long)4 * group * frames + frame;
        for (int j = 0; j < lanes; j++) data[offset + (long)j * frames] = x.GetElement(j);
    }
}
