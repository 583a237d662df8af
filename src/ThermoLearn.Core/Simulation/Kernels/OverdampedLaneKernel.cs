using System.Runtime.CompilerServices;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;

namespace ThermoLearn.Simulation.Kernels;

/// <summary>What one block of the lane kernel needs besides its state: the run's shape, the control table and constants.</summary>
internal sealed class LaneRun
{
    public required int Steps { get; init; }
    public required int SaveEvery { get; init; }
    public required int Frames { get; init; }

    /// <summary>Coordinates d of the force field (the state holds <see cref="ILaneStep.StatePerDimension"/> x d numbers per trajectory).</summary>
    public required int Dimension { get; init; }

    /// <summary>lambda_n for n = 0 .. Steps, row-major (ControlCount each); one row when the potential is static.</summary>
    public required double[] Controls { get; init; }
    public required int ControlCount { get; init; }
    public bool Static => Controls.Length == ControlCount;

    /// <summary>The step's constants (force response: the mobility mu, or 1/m for underdamped steps; dt; noise amplitude; damping).</summary>
    public required double ForceResponse { get; init; }
    public required double Dt { get; init; }

    /// <summary>sqrt(2 dt) sqrt(mu T) (overdamped) or sqrt(2 gamma T dt) / m (underdamped): the noise amplitude per normal.</summary>
    public required double Kick { get; init; }

    /// <summary>1 - gamma dt / m of the underdamped velocity update (unused by overdamped steps).</summary>
    public double Damping { get; init; } = 1;

    /// <summary>Frames of the whole run (trajectory-major, <see cref="Frames"/> frames of the state each).</summary>
    public required double[] Data { get; init; }

    /// <summary>The run's blow-up watch: states checked every <see cref="BlowUpWatch.CheckEvery"/> steps (none for the control
    /// kernel, whose estimators refuse non-finite sums).</summary>
    public BlowUpWatch? Watch { get; init; }

    /// <summary>
    /// Fine steps per step whose standard normals make each step's normal, 1 (each step its own normals) or an even r: step n
    /// takes z = (z_(r n) + ... + z_(r n + r - 1)) / sqrt(r) from the normals the same streams give a run of r x Steps steps of
    /// Dt / r. Both runs then follow the same Brownian path, so the coarse chain is coupled to the fine one (the control's
    /// Richardson extrapolation, docs/control.md "Accuracy of the step"); Dt and Kick are the coarse step's.
    /// </summary>
    public int NoiseSubsteps { get; init; } = 1;
}

/// <summary>
/// What the lane kernel accumulates along each path besides the frames (the fused energetics, the control gradients'
/// work, score and dW/dtheta), one struct per kind so the kernel stays monomorphic. <see cref="Begin"/> sees each group's
/// initial state at lambda_0; <see cref="Step"/> sees each step n (state before and after, the step's standard normals,
/// lambda_n and lambda_(n+1)).
/// </summary>
internal interface ILaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneForceField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    /// <summary>Whether <see cref="Step"/> reads the state before the step (the kernel copies it only then).</summary>
    bool NeedsPrevious { get; }

    void Begin(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda);

    /// <summary>Sees the state x_n just before step n, with lambda_n and lambda_(n+1) (so no copy of x_n need be kept).</summary>
    void Prepare(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext);

    void Step(in TField field, int group, int step, ReadOnlySpan<TDouble> previous, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> z,
        ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext);
}

/// <summary>
/// An observer that runs group by group through chunks of <see cref="OverdampedLaneKernel{TLanes, TDouble, TBits}.ChunkSteps"/>
/// steps (<see cref="OverdampedLaneKernel{TLanes, TDouble, TBits}.RunChunkedBlock"/>): after each group's steps
/// firstStep .. endStep - 1 of a chunk, <see cref="EndChunk"/> folds what it kept per step into the group's sums.
/// </summary>
internal interface IChunkedLaneObserver<TField, TLanes, TDouble, TBits> : ILaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneForceField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    void EndChunk(int group, int firstStep, int endStep);
}

/// <summary>Frames only.</summary>
internal struct NoObserver<TField, TLanes, TDouble, TBits> : ILaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneForceField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    public readonly bool NeedsPrevious => false;

    public readonly void Begin(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda) { }

    public readonly void Prepare(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) { }

    public readonly void Step(in TField field, int group, int step, ReadOnlySpan<TDouble> previous, ReadOnlySpan<TDouble> state,
        ReadOnlySpan<TDouble> z, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) { }
}

/// <summary>Per-lane sums of one group: the work, V(x_0; lambda_0), and at the end the energy change.</summary>
internal struct EnergeticsSums<TDouble> where TDouble : unmanaged
{
    public TDouble Work, InitialEnergy, DeltaEnergy;
}

/// <summary>
/// Fused energetics (Sekimoto, one bath at temperature T; <see cref="Energetics.StochasticEnergetics"/>): per step only the
/// work of the control change at fixed x_n, W_n = V(x_n; lambda_(n+1)) - V(x_n; lambda_n) (<see cref="ILaneForceField.LaneControlWork"/>:
/// one energy-like evaluation for a potential linear in its controls, nothing for a static one), evaluated where the step's
/// force at x_n is; the energy change telescopes, Delta V = V(x_N; lambda_N) - V(x_0; lambda_0) (<see cref="Finish"/>), and
/// the heat is W - Delta V (the sum of the steps' V(x_n; lambda_(n+1)) - V(x_(n+1); lambda_(n+1))). The simulator's
/// per-trajectory loop computes the same numbers in the same order; the caller turns the heat into medium entropy Q / T.
/// </summary>
internal struct FusedEnergetics<TField, TLanes, TDouble, TBits>(EnergeticsSums<TDouble>[] sums, bool isStatic)
    : ILaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneForceField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    public readonly EnergeticsSums<TDouble>[] Sums = sums;

    public readonly bool NeedsPrevious => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Begin(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda) =>
        Sums[group] = new EnergeticsSums<TDouble> { InitialEnergy = field.LaneEnergy<TLanes, TDouble, TBits>(state, lambda) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Prepare(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext)
    {
        if (isStatic) return;
        ref var sum = ref Sums[group];
        sum.Work = TLanes.Add(sum.Work, field.LaneControlWork<TLanes, TDouble, TBits>(state, lambda, lambdaNext));
    }

    public readonly void Step(in TField field, int group, int step, ReadOnlySpan<TDouble> previous, ReadOnlySpan<TDouble> state,
        ReadOnlySpan<TDouble> z, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) { }

    /// <summary>Delta V = V(x_N; lambda_N) - V(x_0; lambda_0) of one group, from its final state.</summary>
    public readonly void Finish(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambdaLast)
    {
        ref var sum = ref Sums[group];
        sum.DeltaEnergy = TLanes.Subtract(field.LaneEnergy<TLanes, TDouble, TBits>(state, lambdaLast), sum.InitialEnergy);
    }
}

/// <summary>
/// The engine on SIMD lanes: one trajectory per lane (four with <see cref="Lanes256"/>, eight with <see cref="Lanes512"/>),
/// any dimension (structure-of-arrays), any struct force field, struct scheme step (overdamped Euler-Maruyama and Heun;
/// the semi-implicit underdamped step of the control gradients) and struct observer (what is accumulated along the path:
/// nothing, the fused energetics, or the control gradients' work, score and dW/dtheta), the control lambda_n shared by all
/// lanes. A block of groups advances step by step with its state in L1; the groups' update chains are independent, so
/// their latencies overlap. No allocation and no interface call per step.
/// </summary>
internal static class OverdampedLaneKernel<TLanes, TDouble, TBits>
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    /// <summary>Groups of Count trajectories advanced together (256 trajectories at either width).</summary>
    public static int GroupsPerBlock => 256 / TLanes.Count;

    /// <summary>
    /// Advances groups firstGroup .. firstGroup + groups - 1 (local trajectories Count g .. Count g + Count - 1; the last
    /// group has <paramref name="lastLanes"/> real lanes) from the states in <paramref name="x"/> (group g's state component
    /// i at x[g s + i], s = StatePerDimension x d), writing frames (frame 0 included) into the run's data and handing
    /// every step to <paramref name="observer"/>. Each step consumes d standard normals per lane. With a watch, every
    /// <see cref="BlowUpWatch.CheckEvery"/> steps the states are checked against the per-lane runaway
    /// <paramref name="bounds"/>; returns false when the run's watch says stop (a blow-up here or elsewhere).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool RunBlock<TField, TStep, TObserver>(in TField field, LaneRun run, Span<TDouble> x, Span<GaussianLanes<TLanes, TDouble, TBits>> noise,
        ref TObserver observer, ReadOnlySpan<TDouble> bounds, int firstGroup, int lastLanes)
        where TField : struct, ILaneForceField
        where TStep : struct, ILaneStep
        where TObserver : struct, ILaneObserver<TField, TLanes, TDouble, TBits>
    {
        int width = TLanes.Count, d = run.Dimension, k = run.ControlCount, groups = noise.Length;
        int state = TStep.StatePerDimension * d;
        int steps = run.Steps, saveEvery = run.SaveEvery;
        bool isStatic = run.Static, keepPrevious = observer.NeedsPrevious;
        var c = new LaneConstants<TDouble>(TLanes.Create(run.ForceResponse), TLanes.Create(run.Dt), TLanes.Create(run.Kick), TLanes.Create(0.5),
            TLanes.Create(run.Damping));
        // Normals for two steps at a time, drawn as Box-Muller pairs: the same sequence per lane as d calls of Next() per step.
        Span<TDouble> z = stackalloc TDouble[2 * d];
        Span<TDouble> previous = stackalloc TDouble[state];
        Span<TDouble> scratch = stackalloc TDouble[TStep.ScratchPerDimension * d];
        // lambda_s, lambda_(s+1), lambda_(s+2) broadcast once per pair of steps, shared by every group
        Span<TDouble> controls = stackalloc TDouble[3 * k];
        Broadcast(run.Controls, 0, k, controls[..k]);
        for (int g = 0; g < groups; g++)
        {
            var xg = x.Slice(g * state, state);
            Store(xg, run, state, firstGroup + g, g == groups - 1 ? lastLanes : width, 0);
            observer.Begin(field, g, xg, controls[..k]);
        }
        if (isStatic)
        {
            controls[..k].CopyTo(controls.Slice(k, k));
            controls[..k].CopyTo(controls.Slice(2 * k, k));
        }
        if (run.NoiseSubsteps > 1)
            return RunCoupledBlock<TField, TStep, TObserver>(field, run, x, noise, ref observer, bounds, firstGroup, lastLanes, controls, c);
        for (int s = 0; s < steps; s += 2)
        {
            bool second = s + 1 < steps;
            if (!isStatic)
            {
                Broadcast(run.Controls, s, k, controls[..k]);
                Broadcast(run.Controls, s + 1, k, controls.Slice(k, k));
                if (second) Broadcast(run.Controls, s + 2, k, controls.Slice(2 * k, k));
            }
            ReadOnlySpan<TDouble> lambda0 = controls[..k], lambda1 = controls.Slice(k, k), lambda2 = controls.Slice(2 * k, k);
            bool saveFirst = (s + 1) % saveEvery == 0, saveSecond = second && (s + 2) % saveEvery == 0;
            int pairs = second ? d : (d + 1) / 2;
            for (int g = 0; g < groups; g++)
            {
                ref var lanes = ref noise[g];
                for (int m = 0; m < pairs; m++) lanes.NextPair(out z[2 * m], out z[2 * m + 1]);
                var xg = x.Slice(g * state, state);
                Advance<TField, TStep, TObserver>(field, ref observer, g, s, xg, z[..d], lambda0, lambda1, previous, scratch, c, keepPrevious);
                if (saveFirst) Store(xg, run, state, firstGroup + g, g == groups - 1 ? lastLanes : width, (s + 1) / saveEvery);
                if (!second) continue;
                Advance<TField, TStep, TObserver>(field, ref observer, g, s + 1, xg, z.Slice(d, d), lambda1, lambda2, previous, scratch, c, keepPrevious);
                if (saveSecond) Store(xg, run, state, firstGroup + g, g == groups - 1 ? lastLanes : width, (s + 2) / saveEvery);
            }
            int done = second ? s + 2 : s + 1;
            if (run.Watch is { } watch && watch.IsCheckStep(done))
            {
                CheckStates(x, bounds, watch, state, firstGroup, lastLanes, done);
                if (watch.ShouldStop(done)) return false;
            }
        }
        return true;
    }

    /// <summary>Steps a group runs through before the next group takes over in <see cref="RunChunkedBlock"/> (the watch's check interval).</summary>
    public const int ChunkSteps = BlowUpWatch.CheckEvery;

    /// <summary>
    /// <see cref="RunBlock"/> group-major within chunks of <see cref="ChunkSteps"/> steps: each group runs steps s0 .. s0 + ChunkSteps - 1,
    /// then <see cref="IChunkedLaneObserver{TField, TLanes, TDouble, TBits}.EndChunk"/>, then the next group; the states are checked
    /// at the chunks' ends, which are the watch's check steps. Every group draws the same normals in the same order as in
    /// <see cref="RunBlock"/> and <see cref="RunCoupledBlock"/> (its own streams), and each observer call sees the same numbers,
    /// so the results are the same bits; what changes is that an observer may keep a group's per-step terms over a chunk and
    /// fold them into its sums once (in registers rather than a read-modify-write per step).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool RunChunkedBlock<TField, TStep, TObserver>(in TField field, LaneRun run, Span<TDouble> x, Span<GaussianLanes<TLanes, TDouble, TBits>> noise,
        ref TObserver observer, ReadOnlySpan<TDouble> bounds, int firstGroup, int lastLanes)
        where TField : struct, ILaneForceField
        where TStep : struct, ILaneStep
        where TObserver : struct, IChunkedLaneObserver<TField, TLanes, TDouble, TBits>
    {
        int width = TLanes.Count, d = run.Dimension, k = run.ControlCount, groups = noise.Length, r = run.NoiseSubsteps;
        if (r != 1 && (r % 2 != 0 || r > 64)) throw new ArgumentOutOfRangeException(nameof(run), $"NoiseSubsteps must be 1 or even and at most 64 (got {r}).");
        int state = TStep.StatePerDimension * d, steps = run.Steps, saveEvery = run.SaveEvery;
        bool isStatic = run.Static, keepPrevious = observer.NeedsPrevious;
        var c = new LaneConstants<TDouble>(TLanes.Create(run.ForceResponse), TLanes.Create(run.Dt), TLanes.Create(run.Kick), TLanes.Create(0.5),
            TLanes.Create(run.Damping));
        var norm = TLanes.Create(1 / Math.Sqrt(r));
        Span<TDouble> z = stackalloc TDouble[2 * d];
        Span<TDouble> fine = stackalloc TDouble[r > 1 ? r * d : 0];
        Span<TDouble> previous = stackalloc TDouble[state];
        Span<TDouble> scratch = stackalloc TDouble[TStep.ScratchPerDimension * d];
        // lambda_s0 .. lambda_(s0 + ChunkSteps), broadcast once per chunk, shared by every group
        Span<TDouble> controls = stackalloc TDouble[(ChunkSteps + 1) * k];
        Broadcast(run.Controls, 0, k, controls[..k]);
        for (int g = 0; g < groups; g++)
        {
            var xg = x.Slice(g * state, state);
            Store(xg, run, state, firstGroup + g, g == groups - 1 ? lastLanes : width, 0);
            observer.Begin(field, g, xg, controls[..k]);
        }
        for (int s0 = 0; s0 < steps; s0 += ChunkSteps)
        {
            int s1 = Math.Min(steps, s0 + ChunkSteps);
            for (int n = s0; n <= s1; n++) Broadcast(run.Controls, isStatic ? 0 : n, k, controls.Slice((n - s0) * k, k));
            for (int g = 0; g < groups; g++)
            {
                ref var lanes = ref noise[g];
                var xg = x.Slice(g * state, state);
                for (int s = s0; s < s1; s++)
                {
                    Span<TDouble> zs = z[..d];
                    if (r > 1)
                    {
                        // r fine steps' normals (fine step j, coordinate i is normal j d + i), z_i = sum_j z_(j d + i) / sqrt(r)
                        for (int m = 0; m < r * d / 2; m++) lanes.NextPair(out fine[2 * m], out fine[2 * m + 1]);
                        for (int i = 0; i < d; i++)
                        {
                            var sum = fine[i];
                            for (int j = 1; j < r; j++) sum = TLanes.Add(sum, fine[j * d + i]);
                            z[i] = TLanes.Multiply(sum, norm);
                        }
                    }
                    else if (s % 2 == 0)
                    {
                        // normals for steps s and s + 1 as Box-Muller pairs, as RunBlock draws them (s0 is even)
                        int pairs = s + 1 < steps ? d : (d + 1) / 2;
                        for (int m = 0; m < pairs; m++) lanes.NextPair(out z[2 * m], out z[2 * m + 1]);
                    }
                    else zs = z.Slice(d, d);
                    int at = (s - s0) * k;
                    Advance<TField, TStep, TObserver>(field, ref observer, g, s, xg, zs, controls.Slice(at, k), controls.Slice(at + k, k), previous, scratch, c, keepPrevious);
                    if ((s + 1) % saveEvery == 0) Store(xg, run, state, firstGroup + g, g == groups - 1 ? lastLanes : width, (s + 1) / saveEvery);
                }
                observer.EndChunk(g, s0, s1);
            }
            if (run.Watch is { } watch && watch.IsCheckStep(s1))
            {
                CheckStates(x, bounds, watch, state, firstGroup, lastLanes, s1);
                if (watch.ShouldStop(s1)) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// <see cref="RunBlock"/> for <see cref="LaneRun.NoiseSubsteps"/> = r &gt; 1: one step at a time, each drawing the r d normals of
    /// r fine steps (r d / 2 pairs, in the order the fine run draws them: fine step j, coordinate i is normal j d + i) and
    /// taking z_i = sum_j z_(j d + i) / sqrt(r).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool RunCoupledBlock<TField, TStep, TObserver>(in TField field, LaneRun run, Span<TDouble> x, Span<GaussianLanes<TLanes, TDouble, TBits>> noise,
        ref TObserver observer, ReadOnlySpan<TDouble> bounds, int firstGroup, int lastLanes, Span<TDouble> controls, in LaneConstants<TDouble> c)
        where TField : struct, ILaneForceField
        where TStep : struct, ILaneStep
        where TObserver : struct, ILaneObserver<TField, TLanes, TDouble, TBits>
    {
        int width = TLanes.Count, d = run.Dimension, k = run.ControlCount, groups = noise.Length, r = run.NoiseSubsteps;
        if (r % 2 != 0 || r > 64) throw new ArgumentOutOfRangeException(nameof(run), $"NoiseSubsteps must be 1 or even and at most 64 (got {r}).");
        int state = TStep.StatePerDimension * d, steps = run.Steps, saveEvery = run.SaveEvery;
        bool isStatic = run.Static, keepPrevious = observer.NeedsPrevious;
        var norm = TLanes.Create(1 / Math.Sqrt(r));
        Span<TDouble> fine = stackalloc TDouble[r * d];
        Span<TDouble> z = stackalloc TDouble[d];
        Span<TDouble> previous = stackalloc TDouble[state];
        Span<TDouble> scratch = stackalloc TDouble[TStep.ScratchPerDimension * d];
        for (int s = 0; s < steps; s++)
        {
            if (!isStatic)
            {
                Broadcast(run.Controls, s, k, controls[..k]);
                Broadcast(run.Controls, s + 1, k, controls.Slice(k, k));
            }
            ReadOnlySpan<TDouble> lambda0 = controls[..k], lambda1 = isStatic ? controls[..k] : controls.Slice(k, k);
            bool save = (s + 1) % saveEvery == 0;
            for (int g = 0; g < groups; g++)
            {
                ref var lanes = ref noise[g];
                for (int m = 0; m < r * d / 2; m++) lanes.NextPair(out fine[2 * m], out fine[2 * m + 1]);
                for (int i = 0; i < d; i++)
                {
                    var sum = fine[i];
                    for (int j = 1; j < r; j++) sum = TLanes.Add(sum, fine[j * d + i]);
                    z[i] = TLanes.Multiply(sum, norm);
                }
                var xg = x.Slice(g * state, state);
                Advance<TField, TStep, TObserver>(field, ref observer, g, s, xg, z, lambda0, lambda1, previous, scratch, c, keepPrevious);
                if (save) Store(xg, run, state, firstGroup + g, g == groups - 1 ? lastLanes : width, (s + 1) / saveEvery);
            }
            if (run.Watch is { } watch && watch.IsCheckStep(s + 1))
            {
                CheckStates(x, bounds, watch, state, firstGroup, lastLanes, s + 1);
                if (watch.ShouldStop(s + 1)) return false;
            }
        }
        return true;
    }

    /// <summary>Reports to the watch every lane whose state is non-finite or beyond its bound (|x| &lt; bound, lane-wise, fails for NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckStates(ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> bounds, BlowUpWatch watch, int d, int firstGroup, int lastLanes, int done)
    {
        int width = TLanes.Count, groups = bounds.Length;
        var magnitude = TLanes.AsDouble(TLanes.Create(0x7FFF_FFFF_FFFF_FFFFUL));
        uint allLanes = (1u << width) - 1;
        for (int g = 0; g < groups; g++)
        {
            var sound = TLanes.Create(BitConverter.UInt64BitsToDouble(ulong.MaxValue));
            for (int i = 0; i < d; i++) sound = TLanes.And(sound, TLanes.GreaterThan(bounds[g], TLanes.And(x[g * d + i], magnitude)));
            if (TLanes.SignBits(sound) == allLanes) continue;   // the usual case: every lane sound, no lane-by-lane look
            int lanes = g == groups - 1 ? lastLanes : width;
            for (int j = 0; j < lanes; j++)
            {
                if (BitConverter.DoubleToUInt64Bits(TLanes.GetElement(sound, j)) != 0) continue;
                double bound = TLanes.GetElement(bounds[g], j);
                for (int i = 0; i < d; i++)
                {
                    double v = TLanes.GetElement(x[g * d + i], j);
                    if (Math.Abs(v) <= bound) continue;
                    watch.Report(done, width * (firstGroup + g) + j, i, v, bound);
                    break;
                }
            }
        }
    }

    /// <summary>Row n of the control table, broadcast.</summary>
    private static void Broadcast(double[] table, int n, int k, Span<TDouble> into)
    {
        for (int q = 0; q < k; q++) into[q] = TLanes.Create(table[n * k + q]);
    }

    /// <summary>One step of one group from lambda_n (and lambda_(n+1)): the scheme's step, then the observer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Advance<TField, TStep, TObserver>(in TField field, ref TObserver observer, int group, int step, Span<TDouble> x,
        ReadOnlySpan<TDouble> z, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext, Span<TDouble> previous, Span<TDouble> scratch,
        in LaneConstants<TDouble> c, bool keepPrevious)
        where TField : struct, ILaneForceField
        where TStep : struct, ILaneStep
        where TObserver : struct, ILaneObserver<TField, TLanes, TDouble, TBits>
    {
        // a plain loop, not a memmove call, for a few vectors
        if (keepPrevious)
            for (int i = 0; i < x.Length; i++) previous[i] = x[i];
        observer.Prepare(field, group, x, lambda, lambdaNext);
        TStep.Step<TField, TLanes, TDouble, TBits>(field, x, z, lambda, lambdaNext, c, scratch);
        observer.Step(field, group, step, previous, x, z, lambda, lambdaNext);
    }

    // Not inlined: frames are written at most once per step and group, and inlining this loop twice into RunBlock spent the
    // JIT's inlining budget, leaving the span conversions of the observer calls as real calls on every step.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Store(ReadOnlySpan<TDouble> x, LaneRun run, int state, int group, int lanes, int frame)
    {
        var data = run.Data;
        long offset = ((long)TLanes.Count * group * run.Frames + frame) * state;
        long stride = (long)run.Frames * state;
        for (int j = 0; j < lanes; j++)
            for (int i = 0; i < state; i++) data[offset + j * stride + i] = TLanes.GetElement(x[i], j);
    }
}
