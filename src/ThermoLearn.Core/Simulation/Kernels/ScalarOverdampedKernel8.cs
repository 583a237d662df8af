using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Randomness;

namespace ThermoLearn.Simulation.Kernels;

/// <summary>
/// <see cref="ScalarOverdampedKernel"/> eight trajectories per <see cref="Vector512{T}"/> (used where AVX-512 is
/// hardware-accelerated): the same operations in the same order per lane, with <see cref="GaussianLanes8"/> noise,
/// so its output equals the four-lane kernel's and the generic path's bit for bit (tests compare all three).
/// No allocation per step.
/// </summary>
internal static class ScalarOverdampedKernel8
{
    /// <summary>Groups of eight trajectories advanced together (32 x 8 = 256 trajectories, about 12 KB of state).</summary>
    public const int GroupsPerBlock = 32;

    /// <summary>Per-trajectory sums of one group (heat, delta V, medium entropy; work is zero for a fixed potential).</summary>
    internal struct Sums
    {
        public Vector512<double> Heat, DeltaEnergy, MediumEntropy, Energy;
    }

    /// <summary>
    /// Advances groups firstGroup .. firstGroup + x.Length - 1 (local trajectories 8g .. 8g+7; the last group may have
    /// fewer than eight real lanes, <paramref name="lastLanes"/>) from the initial states in <paramref name="x"/>,
    /// writing frames into <paramref name="data"/> (frame 0 included) and energetics into <paramref name="sums"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TForce>(TForce force, Span<Vector512<double>> x, Span<GaussianLanes8> noise, Span<Sums> sums,
        int firstGroup, int lastLanes, int steps, int saveEvery, int frames, double mobility, double dt, double noiseScale,
        double diffusionInverse, bool energetics, double[] data)
        where TForce : struct, IScalarForce
    {
        var mu = Vector512.Create(mobility);
        var step = Vector512.Create(dt);
        var kick = Vector512.Create(noiseScale);
        var half = Vector512.Create(0.5);
        var dInv = Vector512.Create(diffusionInverse);
        int groups = x.Length;
        for (int g = 0; g < groups; g++)
        {
            Store(x[g], data, firstGroup + g, g == groups - 1 ? lastLanes : 8, frames, 0);
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
                int lanes = g == groups - 1 ? lastLanes : 8;
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
    private static void Account<TForce>(TForce force, ref Sums sums, Vector512<double> previous, Vector512<double> x,
        Vector512<double> mu, Vector512<double> half, Vector512<double> dInv)
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
    public static void Store(Vector512<double> x, double[] data, int group, int lanes, int frames, int frame)
    {
        long offset = (long)8 * group * frames + frame;
        for (int j = 0; j < lanes; j++) data[offset + (long)j * frames] = x.GetElement(j);
    }
}
