using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Models;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;
using ThermoLearn.Simulation;
using ThermoLearn.Simulation.ForceFields;
using ThermoLearn.Simulation.Kernels;

namespace ThermoLearn.Control;

/// <summary>Draws the initial state of trajectory i from its own stream (x, and v when underdamped).</summary>
internal delegate void InitialStateSampler(ref RandomStream random, Span<double> x, Span<double> v);

/// <summary>A task's failure measure of one trajectory from its first and last positions (0 = success).</summary>
internal delegate double EndpointFunctional(ReadOnlySpan<double> start, ReadOnlySpan<double> end);

/// <summary>Per-trajectory results of one batch, indexed by trajectory so any reduction order is fixed.</summary>
internal sealed class PathSample
{
    public PathSample(int count, int parameters, int dimension)
    {
        Resources.MemoryBudget.Require(8.0 * count * (2 + 2.0 * parameters + 2.0 * dimension),
            $"{count} trajectories x {2 + 2 * parameters + 2 * dimension} numbers each (work, error, score and work gradient of {parameters} parameters, start and end)",
            $"use fewer {InputParameter.Trajectories} (the standard errors fall as 1/sqrt(trajectories): 1e5 to 1e6 is plenty)");
        Count = count;
        Parameters = parameters;
        Dimension = dimension;
        Work = new double[count];
        Error = new double[count];
        Score = new double[count * parameters];
        WorkGradient = new double[count * parameters];
        Start = new double[count * dimension];
        End = new double[count * dimension];
    }

    /// <summary>Whether this sample can take a batch of this shape (every slot is overwritten by a run, so it can be reused).</summary>
    public bool Fits(int count, int parameters, int dimension) => Count == count && Parameters == parameters && Dimension == dimension;

    public int Count { get; }
    public int Parameters { get; }
    public int Dimension { get; }
    public double[] Work { get; }
    public double[] Error { get; }

    /// <summary>d ln P[path | theta] / d theta_p, row-major Count x Parameters.</summary>
    public double[] Score { get; }

    /// <summary>
    /// d W / d theta_p: the explicit derivative at a fixed path (likelihood-ratio kernel) or the total
    /// derivative along the reparameterised path (pathwise kernel).
    /// </summary>
    public double[] WorkGradient { get; }

    public double[] Start { get; }
    public double[] End { get; }
}

/// <summary>
/// The control module's paths on the engine's lane kernel (<see cref="OverdampedLaneKernel{TLanes, TDouble, TBits}"/>):
/// Euler-Maruyama (overdamped) or semi-implicit Euler-Maruyama (underdamped: v first, then x with the new v) under a
/// <see cref="DiscreteProtocol"/>, one trajectory per SIMD lane, with the control's accumulators as the kernel's observer:
/// the work and, on request, the likelihood-ratio score
/// d ln P / d theta = sum_n (mu h dF_n/dtheta)^T (2 D h)^-1 (x_(n+1) - x_n - mu F_n h) = sum_n c (dF_n/dtheta)^T xi_n with
/// c = mu h / sqrt(2 mu T h) (overdamped), or the same for the velocity update with c = (h/m) / (sqrt(2 gamma T h) / m)
/// (underdamped), and the explicit derivative of the work. Generic over a struct potential (monomorphic, no allocation per
/// step). Keys as in <see cref="Simulator"/>: trajectory i draws its initial state from
/// RandomStream.For(seed, i, <see cref="RandomPurposes.SimulationInitial"/>) and its noise from the lane streams (seed, i,
/// <see cref="RandomPurposes.SimulationNoise"/>), and writes only its own slot, so results are bit-identical for any thread count
/// and either vector width.
/// </summary>
internal static class PathKernel
{
    public static PathSample Run<TPotential>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ulong seed, int trajectories, bool gradients,
        int maxDegreeOfParallelism = -1, SimulationEngine engine = SimulationEngine.Automatic, int noiseSubsteps = 1, PathSample? reuse = null)
        where TPotential : struct, ILaneDifferentiableField
    {
        Check(potential, protocol, trajectories);
        int parameters = gradients ? protocol.Parameters : 0;
        // A caller's spare sample of the same shape is overwritten in full (the optimiser's iterations: 3 MB at 10,000 paths
        // and 18 parameters, which would otherwise be allocated, zeroed and page-faulted every iteration).
        var sample = reuse is not null && reuse.Fits(trajectories, parameters, potential.Dimension) ? reuse : new PathSample(trajectories, parameters, potential.Dimension);
        var collector = new Collector(sample, protocol, gradients, NoiseSubsteps: noiseSubsteps);
        if (dynamics.IsUnderdamped)
            Run<TPotential, SemiImplicitEulerLanes>(potential, dynamics, protocol, initial, endpoint, seed, sample, maxDegreeOfParallelism, engine, collector);
        else
            Run<TPotential, EulerMaruyamaLanes>(potential, dynamics, protocol, initial, endpoint, seed, sample, maxDegreeOfParallelism, engine, collector);
        return sample;
    }

    /// <summary>
    /// Pathwise (reparameterisation) reference for overdamped dynamics: the noise is held fixed and the tangent dx_n/dtheta
    /// is propagated, dx_(n+1)/dtheta = dx_n/dtheta + mu h (dF/dx dx_n/dtheta + dF/dLambda dLambda_n/dtheta);
    /// <see cref="PathSample.WorkGradient"/> receives the total dW/dtheta. Valid for smooth functionals only (the work), not
    /// for an indicator such as a task error, which is why the likelihood ratio is the main tool.
    /// </summary>
    public static PathSample RunPathwise<TPotential>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ulong seed, int trajectories, int maxDegreeOfParallelism = -1, SimulationEngine engine = SimulationEngine.Automatic)
        where TPotential : struct, ILaneDifferentiableField
    {
        if (dynamics.IsUnderdamped) throw new InvalidInputException("control: the pathwise reference gradient is implemented for overdamped dynamics only.");
        Check(potential, protocol, trajectories);
        var sample = new PathSample(trajectories, protocol.Parameters, potential.Dimension);
        Run<TPotential, EulerMaruyamaLanes>(potential, dynamics, protocol, initial, endpoint, seed, sample, maxDegreeOfParallelism, engine,
            new Collector(sample, protocol, Gradients: true, Pathwise: true));
        return sample;
    }

    private static void Check<TPotential>(TPotential potential, DiscreteProtocol protocol, int trajectories) where TPotential : struct, ILaneDifferentiableField
    {
        if (trajectories < 2) throw new InvalidInputException($"control: at least 2 trajectories are needed for a mean with a standard error (got {trajectories}).");
        if (potential.ControlCount != protocol.Controls)
            throw new InvalidInputException($"control: the protocol has {protocol.Controls} controls but the potential takes {potential.ControlCount}.");
    }

    /// <summary>What to do about a blow-up: the step size against the stability limit along the protocol.</summary>
    internal static string ControlAdvice(IPotential potential, LangevinDynamics dynamics, double[] controls, int k, InitialStateSampler initial, double dt)
    {
        var limit = SimulationHealth.ControlLimit(potential, dynamics, controls, k, initial);
        const string fix = "use more steps (the task's 'steps' setting: dt = duration / steps) or a gentler protocol.";
        return limit is null
            ? fix
            : limit.MaxDt < dt
                ? $"dt = {dt:G3} is past the stability limit {limit.Description}; {fix}"
                : $"the stability limit estimated at the initial states is {limit.Description}, but the paths left that region; {fix}";
    }

    /// <summary>Which observer runs and where its per-trajectory sums go; <paramref name="NoiseSubsteps"/>: see <see cref="LaneRun.NoiseSubsteps"/>.</summary>
    private sealed record Collector(PathSample Sample, DiscreteProtocol Protocol, bool Gradients, bool Pathwise = false, int NoiseSubsteps = 1);

    private static void Run<TPotential, TStep>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ulong seed, PathSample sample, int maxDegreeOfParallelism, SimulationEngine engine, Collector collector)
        where TPotential : struct, ILaneDifferentiableField
        where TStep : struct, ILaneStep
    {
        if (engine == SimulationEngine.PerTrajectoryLoop)
            throw new InvalidInputException("control: the path kernel runs on lanes only; choose the automatic engine or four lanes.");
        if (Vector512.IsHardwareAccelerated && engine != SimulationEngine.FourLanes)
            Run<TPotential, TStep, Lanes512, Vector512<double>, Vector512<ulong>>(potential, dynamics, protocol, initial, endpoint, seed, sample, maxDegreeOfParallelism, collector);
        else
            Run<TPotential, TStep, Lanes256, Vector256<double>, Vector256<ulong>>(potential, dynamics, protocol, initial, endpoint, seed, sample, maxDegreeOfParallelism, collector);
    }

    private static void Run<TPotential, TStep, TLanes, TDouble, TBits>(TPotential potential, LangevinDynamics dynamics, DiscreteProtocol protocol,
        InitialStateSampler initial, EndpointFunctional endpoint, ulong seed, PathSample sample, int maxDegreeOfParallelism, Collector collector)
        where TPotential : struct, ILaneDifferentiableField
        where TStep : struct, ILaneStep
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        int d = potential.Dimension, k = protocol.Controls, steps = protocol.Steps, count = sample.Count;
        int state = TStep.StatePerDimension * d, width = TLanes.Count;
        // The kernel's lambda_n: Lambda_0 .. Lambda_(N-1), then lambda_f, so step n moves under Lambda_n and the work of the
        // jump Lambda_n -> Lambda_(n+1) is taken at x_(n+1).
        var controls = new double[(steps + 1) * k];
        protocol.Lambda.CopyTo(controls, 0);
        protocol.End.CopyTo(controls, steps * k);
        double h = protocol.Dt, response, kick, damping = 1;
        if (dynamics.Mass is { } m)
        {
            response = 1 / m;
            kick = Math.Sqrt(2 * dynamics.Friction * dynamics.Temperature * h) / m;
            damping = 1 - dynamics.Friction * h / m;
        }
        else
        {
            response = dynamics.Mobility;
            kick = Math.Sqrt(2 * h) * Math.Sqrt(response * dynamics.Temperature);
        }
        // Blow-up (class 4 of issue 15): states are checked every BlowUpWatch.CheckEvery steps against a runaway bound per
        // trajectory; the first blow-up (lowest step, then trajectory) stops the run and is reported with the stability limit.
        var watch = new BlowUpWatch("control: the simulated paths", dynamics.IsUnderdamped ? "semi-implicit euler" : "euler-maruyama", h, steps, 0,
            () => $"{ControlAdvice(potential, dynamics, controls, k, initial, h)}");
        var run = new LaneRun
        {
            Steps = steps, SaveEvery = steps, Frames = 2, Dimension = d, Controls = controls, ControlCount = k,
            ForceResponse = response, Dt = h, Kick = kick, Damping = damping, Data = new double[(long)count * 2 * state], Watch = watch,
            NoiseSubsteps = collector.NoiseSubsteps,
        };
        // The drift of a step is response F h (mu F h of x, or F h / m of v), so its theta-derivative carries h: the score per step is
        // (response h / kick) (dF/dtheta)^T xi.
        double coefficient = response * h / kick;
        int perBlock = OverdampedLaneKernel<TLanes, TDouble, TBits>.GroupsPerBlock;
        int groups = (count + width - 1) / width, blocks = (groups + perBlock - 1) / perBlock;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, b =>
        {
            int firstGroup = b * perBlock, blockGroups = Math.Min(perBlock, groups - firstGroup);
            var x = new TDouble[blockGroups * state];
            var noise = new GaussianLanes<TLanes, TDouble, TBits>[blockGroups];
            var bounds = new TDouble[blockGroups];
            Span<double> lanes = stackalloc double[state * width];
            Span<double> boundOfLane = stackalloc double[width];
            Span<double> position = stackalloc double[d], velocity = stackalloc double[d];
            for (int g = 0; g < blockGroups; g++)
            {
                int group = firstGroup + g;
                lanes.Clear();
                boundOfLane.Fill(double.PositiveInfinity);
                for (int j = 0; j < Math.Min(width, count - width * group); j++)
                {
                    var random = RandomStream.For(seed, (ulong)(width * group + j), RandomPurposes.SimulationInitial);
                    position.Clear();
                    velocity.Clear();
                    initial(ref random, position, velocity);
                    boundOfLane[j] = Math.Max(SimulationHealth.RunawayBound(position), state > d ? SimulationHealth.RunawayBound(velocity) : 0);
                    for (int i = 0; i < d; i++) lanes[i * width + j] = position[i];
                    if (state > d) for (int i = 0; i < d; i++) lanes[(d + i) * width + j] = velocity[i];
                }
                bounds[g] = TLanes.Create(boundOfLane);
                for (int i = 0; i < state; i++) x[g * state + i] = TLanes.Create(lanes.Slice(i * width, width));
                noise[g] = GaussianLanes<TLanes, TDouble, TBits>.For(seed, width * group, RandomPurposes.SimulationNoise);
            }
            int lastLanes = Math.Min(width, count - width * (firstGroup + blockGroups - 1));
            var accumulators = ControlSums<TDouble>.Rent(blockGroups, k, collector.Gradients ? protocol.Parameters : 0, d, collector.Pathwise);
            if (collector.Pathwise)
            {
                var observer = new PathwiseObserver<TPotential, TLanes, TDouble, TBits>(accumulators, protocol, d, TLanes.Create(response * h));
                OverdampedLaneKernel<TLanes, TDouble, TBits>.RunBlock<TPotential, TStep, PathwiseObserver<TPotential, TLanes, TDouble, TBits>>(
                    potential, run, x, noise, ref observer, bounds, firstGroup, lastLanes);
            }
            else if (collector.Gradients)
            {
                var observer = new ScoreObserver<TPotential, TLanes, TDouble, TBits>(accumulators, protocol, d, TLanes.Create(coefficient));
                OverdampedLaneKernel<TLanes, TDouble, TBits>.RunChunkedBlock<TPotential, TStep, ScoreObserver<TPotential, TLanes, TDouble, TBits>>(
                    potential, run, x, noise, ref observer, bounds, firstGroup, lastLanes);
            }
            else
            {
                var observer = new WorkObserver<TPotential, TLanes, TDouble, TBits>(accumulators, protocol, d);
                OverdampedLaneKernel<TLanes, TDouble, TBits>.RunBlock<TPotential, TStep, WorkObserver<TPotential, TLanes, TDouble, TBits>>(
                    potential, run, x, noise, ref observer, bounds, firstGroup, lastLanes);
            }
            accumulators.CopyTo<TLanes, TBits>(sample, firstGroup, count);
        });
        watch.ThrowIfBlownUp();
        for (int i = 0; i < count; i++)
        {
            var start = sample.Start.AsSpan(i * d, d);
            var end = sample.End.AsSpan(i * d, d);
            run.Data.AsSpan((int)((long)2 * i * state), d).CopyTo(start);
            run.Data.AsSpan((int)((long)(2 * i + 1) * state), d).CopyTo(end);
            sample.Error[i] = endpoint(start, end);
        }
    }
}

/// <summary>Per-lane sums of one block of the control kernel: work, dV/dLambda carried between steps, score and dW/dtheta.</summary>
internal sealed class ControlSums<TDouble>(int groups, int controls, int parameters, int dimension, bool pathwise) where TDouble : unmanaged
{
    public readonly int Controls = controls, Parameters = parameters;
    public readonly TDouble[] Work = new TDouble[groups];
    public readonly TDouble[] Derivative = new TDouble[groups * controls];
    public readonly TDouble[] Score = new TDouble[groups * parameters];
    public readonly TDouble[] WorkGradient = new TDouble[groups * parameters];

    /// <summary>dx/dtheta_p per group (pathwise only), P x d.</summary>
    public readonly TDouble[] Tangent = new TDouble[pathwise ? groups * parameters * dimension : 0];

    private readonly int _groups = groups, _dimension = dimension;
    private readonly bool _pathwise = pathwise;

    // One set per worker thread, reused by its next block of the same shape (a block's sums are written out before the
    // thread takes another block): 72 KB per block of 256 paths at 18 parameters, 40 blocks per 10,000 paths.
    [ThreadStatic] private static ControlSums<TDouble>? t_spare;

    /// <summary>Zeroed sums for one block: this thread's spare set when it has the shape, else a new one.</summary>
    public static ControlSums<TDouble> Rent(int groups, int controls, int parameters, int dimension, bool pathwise)
    {
        var spare = t_spare;
        if (spare is null || spare._groups != groups || spare.Controls != controls || spare.Parameters != parameters
            || spare._dimension != dimension || spare._pathwise != pathwise)
            return t_spare = new ControlSums<TDouble>(groups, controls, parameters, dimension, pathwise);
        Array.Clear(spare.Work);
        Array.Clear(spare.Derivative);
        Array.Clear(spare.Score);
        Array.Clear(spare.WorkGradient);
        Array.Clear(spare.Tangent);
        return spare;
    }

    /// <summary>Writes the block's sums into the trajectories' slots (each vector stored once, then its lanes copied out).</summary>
    public void CopyTo<TLanes, TBits>(PathSample sample, int firstGroup, int count)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TBits : unmanaged
    {
        int width = TLanes.Count, p = Parameters;
        Span<double> work = stackalloc double[width];
        var score = new double[p * width];
        var workGradient = new double[p * width];
        for (int g = 0; g < Work.Length; g++)
        {
            TLanes.CopyTo(Work[g], work);
            for (int q = 0; q < p; q++)
            {
                TLanes.CopyTo(Score[g * p + q], score.AsSpan(q * width, width));
                TLanes.CopyTo(WorkGradient[g * p + q], workGradient.AsSpan(q * width, width));
            }
            for (int j = 0; j < Math.Min(width, count - width * (firstGroup + g)); j++)
            {
                int i = width * (firstGroup + g) + j;
                sample.Work[i] = work[j];
                for (int q = 0; q < p; q++)
                {
                    sample.Score[i * p + q] = score[q * width + j];
                    sample.WorkGradient[i * p + q] = workGradient[q * width + j];
                }
            }
        }
    }
}

/// <summary>
/// What both control observers start from: lambda_i on every lane, and the work's first term
/// V(x_0; Lambda_0) - V(x_0; lambda_i) (the jump from the initial control to the protocol's first value).
/// </summary>
internal static class ControlStart<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneDifferentiableField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    public static TDouble[] Broadcast(DiscreteProtocol protocol)
    {
        var start = new TDouble[protocol.Controls];
        for (int q = 0; q < start.Length; q++) start[q] = TLanes.Create(protocol.Start[q]);
        return start;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TDouble Work(in TField field, ReadOnlySpan<TDouble> x, ReadOnlySpan<TDouble> lambda, TDouble[] start) =>
        TLanes.Subtract(field.LaneEnergy<TLanes, TDouble, TBits>(x, lambda), field.LaneEnergy<TLanes, TDouble, TBits>(x, start));
}

/// <summary>
/// The work-only kernel's accumulator on lanes (a measurement's chains): W = sum_(n=0..N) [V(x_n; Lambda_n) - V(x_n; Lambda_(n-1))],
/// the same numbers as <see cref="ScoreObserver{TField, TLanes, TDouble, TBits}"/>'s work. Small enough to inline into the kernel.
/// </summary>
internal readonly struct WorkObserver<TField, TLanes, TDouble, TBits> : ILaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneDifferentiableField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    private readonly TDouble[] _work, _start;
    private readonly int _d;

    public WorkObserver(ControlSums<TDouble> sums, DiscreteProtocol protocol, int dimension)
    {
        _work = sums.Work;
        _start = ControlStart<TField, TLanes, TDouble, TBits>.Broadcast(protocol);
        _d = dimension;
    }

    public bool NeedsPrevious => false;

    public void Prepare(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Begin(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda) =>
        _work[group] = ControlStart<TField, TLanes, TDouble, TBits>.Work(field, state[.._d], lambda, _start);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step(in TField field, int group, int step, ReadOnlySpan<TDouble> previous, ReadOnlySpan<TDouble> state,
        ReadOnlySpan<TDouble> z, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext)
    {
        var x = state[.._d];
        ref TDouble work = ref _work[group];
        work = TLanes.Add(work, TLanes.Subtract(field.LaneEnergy<TLanes, TDouble, TBits>(x, lambdaNext), field.LaneEnergy<TLanes, TDouble, TBits>(x, lambda)));
    }
}

/// <summary>
/// The likelihood-ratio kernel's accumulators on lanes. Work W = sum_(n=0..N) [V(x_n; Lambda_n) - V(x_n; Lambda_(n-1))]
/// (Lambda_-1 = lambda_i, Lambda_N = lambda_f); per step, score += c phi_p(n) (dF/dLambda(x_n; Lambda_n))^T xi_n and
/// dW/dtheta_p += phi_p(n) [dV/dLambda(x_n; Lambda_n) - dV/dLambda(x_(n+1); Lambda_n)], over the hat functions' non-zero
/// phi_p(n) only (two per control and step). Runs on <see cref="OverdampedLaneKernel{TLanes, TDouble, TBits}.RunChunkedBlock"/>:
/// each step keeps its per-control terms c (dF/dLambda)^T xi and the dV/dLambda difference, and at the end of a group's chunk
/// every parameter's two sums are carried in registers through the steps whose rows name the same parameters, adding the
/// terms in step order (the same additions in the same order as one read-modify-write per step, so the same bits).
/// </summary>
internal struct ScoreObserver<TField, TLanes, TDouble, TBits> : IChunkedLaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneDifferentiableField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    private readonly ControlSums<TDouble> _sums;
    private readonly DiscreteProtocol _protocol;
    private readonly TDouble[] _start, _jacobian, _derivative, _scoreSteps, _derivativeSteps;
    private readonly TDouble _coefficient;
    private readonly int _d;

    public ScoreObserver(ControlSums<TDouble> sums, DiscreteProtocol protocol, int dimension, TDouble coefficient)
    {
        _sums = sums;
        _protocol = protocol;
        _d = dimension;
        _coefficient = coefficient;
        _start = ControlStart<TField, TLanes, TDouble, TBits>.Broadcast(protocol);
        int k = protocol.Controls, chunk = OverdampedLaneKernel<TLanes, TDouble, TBits>.ChunkSteps;
        _jacobian = new TDouble[dimension * k];
        _derivative = new TDouble[k];
        _scoreSteps = new TDouble[chunk * k];
        _derivativeSteps = new TDouble[chunk * k];
    }

    public readonly bool NeedsPrevious => true;

    public readonly void Prepare(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) { }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Begin(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda)
    {
        var x = state[.._d];
        _sums.Work[group] = ControlStart<TField, TLanes, TDouble, TBits>.Work(field, x, lambda, _start);
        field.LaneControlDerivative<TLanes, TDouble, TBits>(x, lambda, _sums.Derivative.AsSpan(group * _sums.Controls, _sums.Controls));
    }

    // Not inlined into the kernel: as its own method everything below inlines and the kernel keeps its inlining budget for
    // the span conversions of its own calls. Refs instead of slices: no bounds check per step (group and control indices are
    // in range by construction, and the step's slot step % ChunkSteps is below ChunkSteps).
    [MethodImpl(MethodImplOptions.NoInlining)]
    public readonly void Step(in TField field, int group, int step, ReadOnlySpan<TDouble> previous, ReadOnlySpan<TDouble> state,
        ReadOnlySpan<TDouble> z, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext)
    {
        int d = _d, k = _sums.Controls, slot = step % OverdampedLaneKernel<TLanes, TDouble, TBits>.ChunkSteps * k;
        var x = state[..d];
        ref TDouble work = ref _sums.Work[group];
        ref TDouble g = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_sums.Derivative), group * k);
        ref TDouble jacobian = ref MemoryMarshal.GetArrayDataReference(_jacobian);
        ref TDouble scoreStep = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_scoreSteps), slot);
        ref TDouble derivativeStep = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_derivativeSteps), slot);
        ref TDouble derivative = ref MemoryMarshal.GetArrayDataReference(_derivative);
        ref TDouble zs = ref MemoryMarshal.GetReference(z);
        field.LaneForceControlJacobian<TLanes, TDouble, TBits>(previous[..d], lambda, _jacobian);
        for (int q = 0; q < k; q++)
        {
            var s = TLanes.Multiply(Unsafe.Add(ref jacobian, q), zs);
            for (int j = 1; j < d; j++) s = TLanes.Add(s, TLanes.Multiply(Unsafe.Add(ref jacobian, j * k + q), Unsafe.Add(ref zs, j)));
            Unsafe.Add(ref scoreStep, q) = TLanes.Multiply(_coefficient, s);
        }
        // Explicit dW/dLambda_n: V(x_n; Lambda_n) enters with +, V(x_(n+1); Lambda_n) with -.
        field.LaneControlDerivative<TLanes, TDouble, TBits>(x, lambda, _derivative);
        for (int q = 0; q < k; q++) Unsafe.Add(ref derivativeStep, q) = TLanes.Subtract(Unsafe.Add(ref g, q), Unsafe.Add(ref derivative, q));
        work = TLanes.Add(work,
            TLanes.Subtract(field.LaneEnergy<TLanes, TDouble, TBits>(x, lambdaNext), field.LaneEnergy<TLanes, TDouble, TBits>(x, lambda)));
        if (step + 1 < _protocol.Steps) field.LaneControlDerivative<TLanes, TDouble, TBits>(x, lambdaNext, MemoryMarshal.CreateSpan(ref g, k));
    }

    /// <summary>
    /// Folds the chunk's per-step terms into the group's score and dW/dtheta: score_p += phi_p(n) scoreStep_q(n) and
    /// dW/dtheta_p += phi_p(n) derivativeStep_q(n) for each of the step's non-zero phi_p(n), step by step. Over a run of
    /// steps whose rows name the same parameters (<see cref="DiscreteProtocol.PatternEnd"/>) the sums of two entries at a time
    /// stay in registers, four independent chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public readonly void EndChunk(int group, int firstStep, int endStep)
    {
        int k = _sums.Controls, parameters = _sums.Parameters;
        ref TDouble score = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_sums.Score), group * parameters);
        ref TDouble workGradient = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_sums.WorkGradient), group * parameters);
        ref TDouble scoreSteps = ref MemoryMarshal.GetArrayDataReference(_scoreSteps);
        ref TDouble derivativeSteps = ref MemoryMarshal.GetArrayDataReference(_derivativeSteps);
        int[] rowStart = _protocol.RowStart, index = _protocol.SparseIndex, controlOf = _protocol.SparseControl, patternEnd = _protocol.PatternEnd;
        ref double value = ref MemoryMarshal.GetArrayDataReference(_protocol.SparseValue);
        for (int from = firstStep; from < endStep;)
        {
            int to = Math.Min(endStep, patternEnd[from]), row = rowStart[from], entries = rowStart[from + 1] - row;
            int e = 0;
            for (; e + 1 < entries; e += 2)
            {
                int p0 = index[row + e], p1 = index[row + e + 1], q0 = controlOf[row + e], q1 = controlOf[row + e + 1];
                ref TDouble s0 = ref Unsafe.Add(ref score, p0), s1 = ref Unsafe.Add(ref score, p1);
                ref TDouble w0 = ref Unsafe.Add(ref workGradient, p0), w1 = ref Unsafe.Add(ref workGradient, p1);
                TDouble score0 = s0, score1 = s1, work0 = w0, work1 = w1;
                for (int n = from; n < to; n++)
                {
                    int at = rowStart[n] + e, slot = (n - firstStep) * k;
                    var phi0 = TLanes.Create(Unsafe.Add(ref value, at));
                    var phi1 = TLanes.Create(Unsafe.Add(ref value, at + 1));
                    score0 = TLanes.Add(score0, TLanes.Multiply(phi0, Unsafe.Add(ref scoreSteps, slot + q0)));
                    work0 = TLanes.Add(work0, TLanes.Multiply(phi0, Unsafe.Add(ref derivativeSteps, slot + q0)));
                    score1 = TLanes.Add(score1, TLanes.Multiply(phi1, Unsafe.Add(ref scoreSteps, slot + q1)));
                    work1 = TLanes.Add(work1, TLanes.Multiply(phi1, Unsafe.Add(ref derivativeSteps, slot + q1)));
                }
                s0 = score0;
                s1 = score1;
                w0 = work0;
                w1 = work1;
            }
            if (e < entries)
            {
                int p = index[row + e], q = controlOf[row + e];
                ref TDouble sp = ref Unsafe.Add(ref score, p), wp = ref Unsafe.Add(ref workGradient, p);
                TDouble scoreSum = sp, workSum = wp;
                for (int n = from; n < to; n++)
                {
                    var phi = TLanes.Create(Unsafe.Add(ref value, rowStart[n] + e));
                    int slot = (n - firstStep) * k + q;
                    scoreSum = TLanes.Add(scoreSum, TLanes.Multiply(phi, Unsafe.Add(ref scoreSteps, slot)));
                    workSum = TLanes.Add(workSum, TLanes.Multiply(phi, Unsafe.Add(ref derivativeSteps, slot)));
                }
                sp = scoreSum;
                wp = workSum;
            }
            from = to;
        }
    }
}

/// <summary>
/// The pathwise reference's accumulators on lanes: the tangent dx/dtheta_p propagated with the step's own linearisation,
/// dx_(n+1)/dtheta = dx_n/dtheta + mu h (dF/dx dx_n/dtheta + dF/dLambda phi_p(n)), and the total dW/dtheta_p: the explicit
/// terms phi_p(n+1) dV/dLambda(x_(n+1); Lambda_(n+1)) - phi_p(n) dV/dLambda(x_(n+1); Lambda_n) plus
/// (F(x_(n+1); Lambda_n) - F(x_(n+1); Lambda_(n+1))) . dx_(n+1)/dtheta_p.
/// </summary>
internal struct PathwiseObserver<TField, TLanes, TDouble, TBits> : ILaneObserver<TField, TLanes, TDouble, TBits>
    where TField : struct, ILaneDifferentiableField
    where TLanes : struct, ILanes<TDouble, TBits>
    where TDouble : unmanaged
    where TBits : unmanaged
{
    private readonly ControlSums<TDouble> _sums;
    private readonly DiscreteProtocol _protocol;
    private readonly TDouble[] _start, _forceJacobian, _controlJacobian, _derivative, _force, _forceBefore, _tangentNew;
    private readonly TDouble _drift;
    private readonly int _d;

    public PathwiseObserver(ControlSums<TDouble> sums, DiscreteProtocol protocol, int dimension, TDouble drift)
    {
        _sums = sums;
        _protocol = protocol;
        _d = dimension;
        _drift = drift;
        _start = ControlStart<TField, TLanes, TDouble, TBits>.Broadcast(protocol);
        int k = protocol.Controls;
        _forceJacobian = new TDouble[dimension * dimension];
        _controlJacobian = new TDouble[dimension * k];
        _derivative = new TDouble[k];
        _force = new TDouble[dimension];
        _forceBefore = new TDouble[dimension];
        _tangentNew = new TDouble[sums.Parameters * dimension];
    }

    public readonly bool NeedsPrevious => true;

    public readonly void Prepare(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext) { }

    public readonly void Begin(in TField field, int group, ReadOnlySpan<TDouble> state, ReadOnlySpan<TDouble> lambda)
    {
        var x = state[.._d];
        int parameters = _sums.Parameters;
        _sums.Work[group] = ControlStart<TField, TLanes, TDouble, TBits>.Work(field, x, lambda, _start);
        field.LaneControlDerivative<TLanes, TDouble, TBits>(x, lambda, _derivative);
        var total = _sums.WorkGradient.AsSpan(group * parameters, parameters);
        for (int p = 0; p < parameters; p++) total[p] = TLanes.Multiply(TLanes.Create(_protocol.Basis[p]), _derivative[_protocol.ControlOf[p]]);
    }

    public readonly void Step(in TField field, int group, int step, ReadOnlySpan<TDouble> previous, ReadOnlySpan<TDouble> state,
        ReadOnlySpan<TDouble> z, ReadOnlySpan<TDouble> lambda, ReadOnlySpan<TDouble> lambdaNext)
    {
        int d = _d, k = _sums.Controls, parameters = _sums.Parameters, steps = _protocol.Steps;
        double[] basis = _protocol.Basis;
        int[] controlOf = _protocol.ControlOf;
        var x = state[..d];
        var tangent = _sums.Tangent.AsSpan(group * parameters * d, parameters * d);
        var total = _sums.WorkGradient.AsSpan(group * parameters, parameters);
        Span<TDouble> fx = _forceJacobian, fl = _controlJacobian, g = _derivative, f = _force, fOld = _forceBefore, tangentNew = _tangentNew;
        field.LaneForceJacobian<TLanes, TDouble, TBits>(previous[..d], lambda, fx);
        field.LaneForceControlJacobian<TLanes, TDouble, TBits>(previous[..d], lambda, fl);
        for (int p = 0; p < parameters; p++)
        {
            var phi = TLanes.Create(basis[step * parameters + p]);
            int q = controlOf[p];
            for (int j = 0; j < d; j++)
            {
                var s = TLanes.Multiply(fl[j * k + q], phi);
                for (int l = 0; l < d; l++) s = TLanes.Add(s, TLanes.Multiply(fx[j * d + l], tangent[p * d + l]));
                tangentNew[p * d + j] = TLanes.Add(tangent[p * d + j], TLanes.Multiply(_drift, s));
            }
        }
        _sums.Work[group] = TLanes.Add(_sums.Work[group],
            TLanes.Subtract(field.LaneEnergy<TLanes, TDouble, TBits>(x, lambdaNext), field.LaneEnergy<TLanes, TDouble, TBits>(x, lambda)));
        // d/dtheta [V(x'; Lambda_(n+1)) - V(x'; Lambda_n)] = (F(x'; Lambda_n) - F(x'; Lambda_(n+1))) . dx'/dtheta + explicit terms.
        field.LaneForce<TLanes, TDouble, TBits>(x, lambdaNext, f);
        field.LaneForce<TLanes, TDouble, TBits>(x, lambda, fOld);
        field.LaneControlDerivative<TLanes, TDouble, TBits>(x, lambda, g);
        for (int p = 0; p < parameters; p++)
        {
            var s = TLanes.Multiply(TLanes.Create(-basis[step * parameters + p]), g[controlOf[p]]);
            for (int j = 0; j < d; j++) s = TLanes.Add(s, TLanes.Multiply(TLanes.Subtract(fOld[j], f[j]), tangentNew[p * d + j]));
            total[p] = TLanes.Add(total[p], s);
        }
        if (step + 1 < steps)
        {
            field.LaneControlDerivative<TLanes, TDouble, TBits>(x, lambdaNext, g);
            for (int p = 0; p < parameters; p++)
                total[p] = TLanes.Add(total[p], TLanes.Multiply(TLanes.Create(basis[(step + 1) * parameters + p]), g[controlOf[p]]));
        }
        tangentNew.CopyTo(tangent);
    }
}
