using System.Runtime.Intrinsics;
using ThermoLearn.Energetics;
using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;
using ThermoLearn.Simulation.ForceFields;
using ThermoLearn.Simulation.Kernels;
using ThermoLearn.Simulation.Schemes;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Simulation;

/// <summary>
/// The one engine: simulates many independent trajectories of a model in parallel. Problem (the model's force field),
/// scheme and options are separate values: <c>Simulator.Run(model, scheme, options)</c>. Potential models
/// (<see cref="PotentialModel{TField}"/>, static or protocol-driven) run on the lane engine
/// (<see cref="Kernels.OverdampedLaneKernel{TLanes, TDouble, TBits}"/>: generic over the struct potential and the struct
/// scheme step, one trajectory per SIMD lane, energetics fused into the step); linear models take the exact scheme by
/// default; other overdamped models, underdamped models (BAOAB) and the samplers of jump processes and chains share the
/// same keys and options. Trajectory i draws its initial state from RandomStream.For(seed, i, <see cref="RandomPurposes.SimulationInitial"/>)
/// and its noise from lane streams keyed by (seed, i, <see cref="RandomPurposes.SimulationNoise"/>), so the output is bit-identical for any
/// thread count, any <see cref="Shard"/> split and either vector width, and the lane engine equals the per-trajectory loop.
/// </summary>
public static class Simulator
{
    /// <summary>Runs <paramref name="model"/> (the problem) with <paramref name="scheme"/> under <paramref name="options"/> (its Scheme is replaced).</summary>
    /// <exception cref="InvalidInputException">Bad options, or a scheme that does not fit the model.</exception>
    public static SimulationResult Run(StochasticModel model, IScheme scheme, SimulationOptions options, IProgress<double>? progress = null) =>
        Run(model, options with { Scheme = scheme.Name }, progress);

    /// <summary>Runs the simulation with the scheme named in <paramref name="options"/> (null: the model's default).</summary>
    /// <exception cref="InvalidInputException">Bad options, or a scheme that does not fit the model.</exception>
    public static SimulationResult Run(StochasticModel model, SimulationOptions options, IProgress<double>? progress = null)
    {
        Validate(options, model);
        var result = model switch
        {
            OverdampedModel overdamped => RunOverdamped(overdamped, options, progress),
            UnderdampedModel underdamped => RunUnderdamped(underdamped, options, progress),
            MarkovJumpProcess jumps => new SimulationResult(jumps.SampleFixedStep(RequireExact(options, model)), null, model, options, "exact"),
            DiscreteMarkovChain chain => new SimulationResult(chain.Sample(RequireExact(options, model)), null, model, options, "exact"),
            _ => throw new InvalidInputException($"model '{model.Name}' is not a Langevin model; simulate it with its own sampler."),
        };
        SimulationHealth.Check(result);
        return result;
    }

    /// <summary>The scheme <see cref="Run(StochasticModel, SimulationOptions, IProgress{double})"/> uses for <paramref name="model"/> when none is named (for the pre-run stability warning).</summary>
    public static string DefaultScheme(StochasticModel model) => model switch
    {
        UnderdampedModel => Baoab.Instance.Name,
        OverdampedModel m => m is ILinearDynamics ? ExactLinear.Instance.Name : EulerMaruyama.Instance.Name,
        _ => "exact",
    };

    private static SimulationOptions RequireExact(SimulationOptions o, StochasticModel model) =>
        o.Scheme is null or "exact" ? o
            : throw InvalidInputException.Naming($"model '{model.Name}' is sampled exactly; scheme '{o.Scheme}' does not apply (leave {InputParameter.Scheme} out).");

    private static void Validate(SimulationOptions o, StochasticModel model)
    {
        if (o.Trajectories < 1) throw new InvalidInputException($"trajectories must be >= 1 (got {o.Trajectories}).");
        if (o.Steps < 1) throw new InvalidInputException($"steps must be >= 1 (got {o.Steps}).");
        if (!(o.Dt > 0) || !double.IsFinite(o.Dt)) throw new InvalidInputException($"dt must be a positive finite number (got {o.Dt}).");
        if (o.SaveEvery < 1) throw new InvalidInputException($"save-every must be >= 1 (got {o.SaveEvery}).");
        if (o.Steps % o.SaveEvery != 0)
            throw new InvalidInputException($"steps ({o.Steps}) must be a multiple of save-every ({o.SaveEvery}) so the last state is saved.");
        var (_, count) = o.Shard.Range(o.Trajectories);
        if (count < 1) throw new InvalidInputException($"shard {o.Shard} of {o.Trajectories} trajectories is empty; use fewer shards.");
        long values = (long)count * (o.Steps / o.SaveEvery + 1) * model.StateDimension;
        if (values > Array.MaxLength)
            throw InvalidInputException.Naming($"{count} trajectories x {o.Steps / o.SaveEvery + 1} frames x {model.StateDimension} coordinates = {values} values ",
                $"exceed one array ({Array.MaxLength}); save fewer frames ({InputParameter.SaveEvery}) or split the run with {InputParameter.Shard}.");
    }

    private static TrajectoryMetadata Metadata(StochasticModel model, SimulationOptions o, long first, string scheme) =>
        new(model.Name, model.ParametersJson().ToJsonString(), o.Seed, first, o.Shard.Count > 1 ? o.Trajectories : null, scheme, o.Dt);

    private sealed class Progress(IProgress<double>? sink, int groups)
    {
        private int _done;
        private readonly int _every = Math.Max(1, groups / 200);

        public void GroupDone()
        {
            if (sink is null) return;
            int done = Interlocked.Increment(ref _done);
            if (done % _every == 0 || done == groups) sink.Report((double)done / groups);
        }
    }

    private static SimulationResult RunOverdamped(OverdampedModel model, SimulationOptions o, IProgress<double>? progress)
    {
        string name = o.Scheme ?? (model is ILinearDynamics ? ExactLinear.Instance.Name : EulerMaruyama.Instance.Name);
        if (name == ExactLinear.Instance.Name)
        {
            if (model is not ILinearDynamics linear)
                throw new InvalidInputException($"scheme '{name}' samples the exact transition of a linear model; '{model.Name}' is not linear: use "
                    + $"{string.Join(" or ", SchemeCatalog.Overdamped.Select(s => s.Name))}.");
            var table = new TransitionTable(linear, model.Dimension, o.Steps, o.Dt);
            return RunGeneric(model, o, ExactLinear.Instance.Name, model.Dimension,
                (int step, Span<double> x, ReadOnlySpan<double> normals, Span<double> scratch) => table.Step(step, x, normals, scratch), progress);
        }
        var scheme = SchemeCatalog.FindOverdamped(name);
        if (o.Engine != SimulationEngine.PerTrajectoryLoop && model is PotentialModel potential && !potential.HasNonConservativeForce
            && potential.Accept(new LaneVisitor(potential, o, scheme, progress)) is { } onLanes)
            return onLanes;
        return RunGeneric(model, o, scheme.Name, scheme.NormalsPerStep(model.Dimension),
            (int step, Span<double> x, ReadOnlySpan<double> normals, Span<double> scratch) => scheme.Step(model, x, step * o.Dt, o.Dt, normals, scratch),
            progress, scheme.ScratchLength(model.Dimension));
    }

    /// <summary>One step of one trajectory: advances x from step index <paramref name="step"/> to the next with the given normals.</summary>
    private delegate void StepFunction(int step, Span<double> x, ReadOnlySpan<double> normals, Span<double> scratch);

    /// <summary>The per-trajectory loop for any overdamped step: four trajectories share one lane-noise stream.</summary>
    private static SimulationResult RunGeneric(OverdampedModel model, SimulationOptions o, string schemeName, int normalsPerStep, StepFunction step,
        IProgress<double>? progress, int scratchLength = 0)
    {
        var (first, count) = o.Shard.Range(o.Trajectories);
        int d = model.Dimension, frames = o.Steps / o.SaveEvery + 1;
        var data = new double[(long)count * frames * d];
        bool energetics = o.ComputeEnergetics;
        bool density = energetics && model.HasExactDensity;
        double[]? work = energetics ? new double[count] : null, heat = energetics ? new double[count] : null;
        double[]? deltaE = energetics ? new double[count] : null, entropy = energetics ? new double[count] : null;
        double[]? systemEntropy = density ? new double[count] : null;
        int groups = (count + 3) / 4;
        var tracker = new Progress(progress, groups);
        double tEnd = o.Steps * o.Dt;
        var watch = new BlowUpWatch(model, schemeName, o, first);

        Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, g =>
        {
            int lanes = Math.Min(4, count - 4 * g);
            var x = new double[4 * d];
            Span<double> bounds = stackalloc double[4];
            var previous = new double[d];
            var normals = new double[4 * normalsPerStep];
            var scratch = new double[Math.Max(scratchLength, d)];
            var noise = GaussianLanes<Lanes256, Vector256<double>, Vector256<ulong>>.For(o.Seed, first + 4 * g, RandomPurposes.SimulationNoise);
            // per lane: work, V(x_0, 0), medium entropy (several baths); heat and energy change telescope (StochasticEnergetics)
            Span<double> sums = stackalloc double[12];
            sums.Clear();
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                var random = RandomStream.For(o.Seed, (ulong)(first + local), RandomPurposes.SimulationInitial);
                var xj = x.AsSpan(j * d, d);
                model.SampleInitial(ref random, xj);
                bounds[j] = SimulationHealth.RunawayBound(xj);
                StoreFrame(data, xj, local, 0, frames);
                if (density) systemEntropy![local] = model.LogDensity(xj, 0)!.Value;
                if (energetics) sums[3 * j + 1] = model.Energy(xj, 0);
            }
            for (int stepIndex = 0; stepIndex < o.Steps; stepIndex++)
            {
                double t = stepIndex * o.Dt, tNext = (stepIndex + 1) * o.Dt;
                noise.NextByLane(normals, normalsPerStep);
                bool save = (stepIndex + 1) % o.SaveEvery == 0;
                for (int j = 0; j < lanes; j++)
                {
                    var xj = x.AsSpan(j * d, d);
                    if (energetics) xj.CopyTo(previous);
                    step(stepIndex, xj, normals.AsSpan(j * normalsPerStep, normalsPerStep), scratch);
                    if (energetics)
                    {
                        var (stepWork, stepEntropy) = StochasticEnergetics.OverdampedStepWork(model, previous, xj, t, tNext);
                        sums[3 * j] += stepWork;
                        sums[3 * j + 2] += stepEntropy;
                    }
                    if (save) StoreFrame(data, xj, 4 * g + j, (stepIndex + 1) / o.SaveEvery, frames);
                }
                if (CheckLanes(watch, x, d, lanes, bounds, stepIndex + 1, 4 * g)) return;
            }
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                if (energetics)
                {
                    work![local] = sums[3 * j];
                    deltaE![local] = model.Energy(x.AsSpan(j * d, d), tEnd) - sums[3 * j + 1];
                    heat![local] = work[local] - deltaE[local];
                    entropy![local] = model.BathTemperature is { } temperature ? heat[local] / temperature : sums[3 * j + 2];   // Q / T for one bath
                }
                if (density) systemEntropy![local] -= model.LogDensity(x.AsSpan(j * d, d), tEnd)!.Value;
            }
            tracker.GroupDone();
        });
        watch.ThrowIfBlownUp();
        return Finish(model, o, first, count, frames, d, data, energetics, work, heat, deltaE, entropy, systemEntropy, schemeName);
    }

    /// <summary>The exact transitions of a linear model for every step of a run (one when time-independent), flattened.</summary>
    private sealed class TransitionTable
    {
        private readonly int _d, _entries;
        private readonly double[] _phi, _offset, _factor;

        public TransitionTable(ILinearDynamics model, int d, int steps, double dt)
        {
            _d = d;
            _entries = model.IsTimeIndependent ? 1 : steps;
            _phi = new double[(long)_entries * d * d];
            _offset = new double[(long)_entries * d];
            _factor = new double[(long)_entries * d * d];
            for (int n = 0; n < _entries; n++)
            {
                var tr = model.Transition(n * dt, dt);
                tr.Phi.CopyTo(_phi, (long)n * d * d);
                tr.Offset.CopyTo(_offset, (long)n * d);
                tr.Factor.CopyTo(_factor, (long)n * d * d);
            }
        }

        /// <summary>x = Phi_n x + b_n + L_n z (scratch holds the new state while x is read).</summary>
        public void Step(int step, Span<double> x, ReadOnlySpan<double> z, Span<double> scratch)
        {
            int d = _d, n = _entries == 1 ? 0 : step;
            var phi = _phi.AsSpan(n * d * d, d * d);
            var factor = _factor.AsSpan(n * d * d, d * d);
            for (int i = 0; i < d; i++)
            {
                double s = _offset[n * d + i];
                for (int j = 0; j < d; j++) s += phi[i * d + j] * x[j];
                for (int j = 0; j <= i; j++) s += factor[i * d + j] * z[j];
                scratch[i] = s;
            }
            scratch[..d].CopyTo(x);
        }
    }

    /// <summary>Runs a potential model on the lane engine with its own struct potential and the scheme's lane step.</summary>
    private sealed class LaneVisitor(PotentialModel model, SimulationOptions o, IOverdampedScheme scheme, IProgress<double>? progress)
        : IForceFieldVisitor<SimulationResult?>
    {
        public SimulationResult? Visit<TField>(TField field) where TField : struct, ILaneForceField => scheme switch
        {
            EulerMaruyama => RunLanes<TField, EulerMaruyamaLanes>(field, model, o, scheme.Name, progress),
            StochasticHeun => RunLanes<TField, HeunLanes>(field, model, o, scheme.Name, progress),
            _ => null,
        };
    }

    /// <summary>Eight lanes where AVX-512 is hardware-accelerated, four otherwise (the same numbers either way).</summary>
    private static SimulationResult RunLanes<TField, TStep>(TField field, PotentialModel model, SimulationOptions o, string scheme, IProgress<double>? progress)
        where TField : struct, ILaneForceField
        where TStep : struct, ILaneStep =>
        Vector512.IsHardwareAccelerated && o.Engine != SimulationEngine.FourLanes
            ? RunLanes<TField, TStep, Lanes512, Vector512<double>, Vector512<ulong>>(field, model, o, scheme, progress)
            : RunLanes<TField, TStep, Lanes256, Vector256<double>, Vector256<ulong>>(field, model, o, scheme, progress);

    /// <summary>
    /// The protocol tabulated at the step times, lambda_n = lambda(n dt) for n = 0 .. steps (what the per-trajectory loop
    /// evaluates at those times), collapsed to one row when it never changes (a static potential: no work, one energy per step).
    /// </summary>
    private static double[] ControlTable(PotentialModel model, int steps, double dt)
    {
        int k = model.Protocol.ControlCount;
        var table = new double[(long)(steps + 1) * k];
        bool constant = true;
        for (int n = 0; n <= steps; n++)
        {
            var row = table.AsSpan(n * k, k);
            model.Protocol.Evaluate(n * dt, row);
            constant &= row.SequenceEqual(table.AsSpan(0, k));
        }
        return constant ? table[..k] : table;
    }

    private static SimulationResult RunLanes<TField, TStep, TLanes, TDouble, TBits>(TField field, PotentialModel model, SimulationOptions o, string scheme,
        IProgress<double>? progress)
        where TField : struct, ILaneForceField
        where TStep : struct, ILaneStep
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        var (first, count) = o.Shard.Range(o.Trajectories);
        int d = model.Dimension, frames = o.Steps / o.SaveEvery + 1, width = TLanes.Count;
        var data = new double[(long)count * frames * d];
        bool energetics = o.ComputeEnergetics, density = energetics && model.HasExactDensity;
        double[]? work = energetics ? new double[count] : null, heat = energetics ? new double[count] : null;
        double[]? deltaE = energetics ? new double[count] : null, entropy = energetics ? new double[count] : null;
        double[]? systemEntropy = density ? new double[count] : null;
        var run = new LaneRun
        {
            Steps = o.Steps, SaveEvery = o.SaveEvery, Frames = frames, Dimension = d,
            Controls = ControlTable(model, o.Steps, o.Dt), ControlCount = model.Protocol.ControlCount,
            ForceResponse = model.Mobility, Dt = o.Dt, Kick = Math.Sqrt(2 * o.Dt) * Math.Sqrt(model.Mobility * model.Temperature),
            Data = data, Watch = new BlowUpWatch(model, scheme, o, first),
        };
        int perBlock = OverdampedLaneKernel<TLanes, TDouble, TBits>.GroupsPerBlock;
        int groups = (count + width - 1) / width, blocks = (groups + perBlock - 1) / perBlock;
        double tEnd = o.Steps * o.Dt;
        var tracker = new Progress(progress, blocks);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, b =>
        {
            int firstGroup = b * perBlock, blockGroups = Math.Min(perBlock, groups - firstGroup);
            // state of the block on the stack (at most 256 trajectories x 16 coordinates), on the heap beyond
            Span<TDouble> x = d <= 16 ? stackalloc TDouble[blockGroups * d] : new TDouble[blockGroups * d];
            Span<GaussianLanes<TLanes, TDouble, TBits>> noise = stackalloc GaussianLanes<TLanes, TDouble, TBits>[blockGroups];
            Span<double> lanesOfCoordinate = d <= 16 ? stackalloc double[d * width] : new double[d * width];
            Span<double> state = stackalloc double[d];
            Span<TDouble> bounds = stackalloc TDouble[blockGroups];
            Span<double> boundOfLane = stackalloc double[width];
            for (int k = 0; k < blockGroups; k++)
            {
                int g = firstGroup + k;
                lanesOfCoordinate.Clear();
                boundOfLane.Fill(double.PositiveInfinity);
                for (int j = 0; j < Math.Min(width, count - width * g); j++)
                {
                    int local = width * g + j;
                    var random = RandomStream.For(o.Seed, (ulong)(first + local), RandomPurposes.SimulationInitial);
                    model.SampleInitial(ref random, state);
                    boundOfLane[j] = SimulationHealth.RunawayBound(state);
                    for (int i = 0; i < d; i++) lanesOfCoordinate[i * width + j] = state[i];
                    if (density) systemEntropy![local] = model.LogDensity(state, 0)!.Value;
                }
                for (int i = 0; i < d; i++) x[k * d + i] = TLanes.Create(lanesOfCoordinate.Slice(i * width, width));
                bounds[k] = TLanes.Create(boundOfLane);
                noise[k] = GaussianLanes<TLanes, TDouble, TBits>.For(o.Seed, first + width * g, RandomPurposes.SimulationNoise);
            }
            int lastLanes = Math.Min(width, count - width * (firstGroup + blockGroups - 1));
            if (!energetics)
            {
                var none = new NoObserver<TField, TLanes, TDouble, TBits>();
                if (!OverdampedLaneKernel<TLanes, TDouble, TBits>.RunBlock<TField, TStep, NoObserver<TField, TLanes, TDouble, TBits>>(
                    field, run, x, noise, ref none, bounds, firstGroup, lastLanes)) return;
            }
            else
            {
                var fused = new FusedEnergetics<TField, TLanes, TDouble, TBits>(new EnergeticsSums<TDouble>[blockGroups], run.Static);
                if (!OverdampedLaneKernel<TLanes, TDouble, TBits>.RunBlock<TField, TStep, FusedEnergetics<TField, TLanes, TDouble, TBits>>(
                    field, run, x, noise, ref fused, bounds, firstGroup, lastLanes)) return;
                var sums = fused.Sums;
                Span<TDouble> lambdaLast = stackalloc TDouble[run.ControlCount];
                for (int q = 0; q < lambdaLast.Length; q++) lambdaLast[q] = TLanes.Create(run.Controls[(run.Static ? 0 : o.Steps) * run.ControlCount + q]);
                for (int k = 0; k < blockGroups; k++)
                {
                    int g = firstGroup + k;
                    fused.Finish(field, k, x.Slice(k * d, d), lambdaLast);
                    for (int j = 0; j < Math.Min(width, count - width * g); j++)
                    {
                        int local = width * g + j;
                        work![local] = TLanes.GetElement(sums[k].Work, j);
                        deltaE![local] = TLanes.GetElement(sums[k].DeltaEnergy, j);
                        heat![local] = work[local] - deltaE[local];
                        entropy![local] = heat[local] / model.Temperature;
                        if (density)
                        {
                            for (int i = 0; i < d; i++) state[i] = TLanes.GetElement(x[k * d + i], j);
                            systemEntropy![local] -= model.LogDensity(state, tEnd)!.Value;
                        }
                    }
                }
            }
            tracker.GroupDone();
        });
        run.Watch.ThrowIfBlownUp();
        return Finish(model, o, first, count, frames, d, data, energetics, work, heat, deltaE, entropy, systemEntropy, scheme);
    }

    private static SimulationResult Finish(StochasticModel model, SimulationOptions o, long first, int count, int frames, int d, double[] data,
        bool energetics, double[]? work, double[]? heat, double[]? deltaE, double[]? entropy, double[]? systemEntropy, string scheme)
    {
        var ensemble = new TrajectoryEnsemble(count, frames, d, o.Dt * o.SaveEvery, data, Metadata(model, o, first, scheme));
        var result = energetics ? new TrajectoryEnergetics(work!, heat!, deltaE!, entropy!, systemEntropy) : null;
        return new SimulationResult(ensemble, result, model, o, scheme);
    }

    private static SimulationResult RunUnderdamped(UnderdampedModel model, SimulationOptions o, IProgress<double>? progress)
    {
        string name = o.Scheme ?? Baoab.Instance.Name;
        if (name != Baoab.Instance.Name)
            throw new InvalidInputException($"scheme '{name}' does not apply to underdamped models; use {Baoab.Instance.Name}.");
        var scheme = Baoab.Instance;
        var (first, count) = o.Shard.Range(o.Trajectories);
        int d = model.Dimension, stride = 2 * d, frames = o.Steps / o.SaveEvery + 1;
        var data = new double[(long)count * frames * stride];
        bool energetics = o.ComputeEnergetics;
        double[]? work = energetics ? new double[count] : null, heat = energetics ? new double[count] : null;
        double[]? deltaE = energetics ? new double[count] : null, entropy = energetics ? new double[count] : null;
        int groups = (count + 3) / 4;
        var tracker = new Progress(progress, groups);
        var watch = new BlowUpWatch(model, scheme.Name, o, first);

        Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, g =>
        {
            int lanes = Math.Min(4, count - 4 * g);
            var state = new double[4 * stride];
            Span<double> bounds = stackalloc double[4];
            var previousX = new double[d];
            var normals = new double[4 * d];
            var force = new double[d];
            var noise = GaussianLanes<Lanes256, Vector256<double>, Vector256<ulong>>.For(o.Seed, first + 4 * g, RandomPurposes.SimulationNoise);
            Span<double> sums = stackalloc double[12];
            sums.Clear();
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                var random = RandomStream.For(o.Seed, (ulong)(first + local), RandomPurposes.SimulationInitial);
                var sj = state.AsSpan(j * stride, stride);
                model.SampleInitial(ref random, sj[..d], sj[d..]);
                bounds[j] = SimulationHealth.RunawayBound(sj);
                StoreFrame(data, sj, local, 0, frames);
                if (energetics) sums[3 * j + 2] = -StochasticEnergetics.UnderdampedEnergy(model, sj[..d], sj[d..], 0);
            }
            for (int step = 0; step < o.Steps; step++)
            {
                double t = step * o.Dt, tNext = (step + 1) * o.Dt;
                noise.NextByLane(normals, d);
                bool save = (step + 1) % o.SaveEvery == 0;
                for (int j = 0; j < lanes; j++)
                {
                    var sj = state.AsSpan(j * stride, stride);
                    var xj = sj[..d];
                    if (energetics) xj.CopyTo(previousX);
                    double q = scheme.Step(model, xj, sj[d..], t, o.Dt, normals.AsSpan(j * d, d), force);
                    if (energetics)
                    {
                        sums[3 * j] += StochasticEnergetics.UnderdampedWork(model, previousX, xj, t, tNext);
                        sums[3 * j + 1] += q;
                    }
                    if (save) StoreFrame(data, sj, 4 * g + j, (step + 1) / o.SaveEvery, frames);
                }
                if (CheckLanes(watch, state, stride, lanes, bounds, step + 1, 4 * g)) return;
            }
            double tEnd = o.Steps * o.Dt;
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                if (!energetics) continue;
                var sj = state.AsSpan(j * stride, stride);
                work![local] = sums[3 * j];
                heat![local] = sums[3 * j + 1];
                deltaE![local] = sums[3 * j + 2] + StochasticEnergetics.UnderdampedEnergy(model, sj[..d], sj[d..], tEnd);
                entropy![local] = heat[local] / model.Temperature;
            }
            tracker.GroupDone();
        });
        watch.ThrowIfBlownUp();
        var ensemble = new TrajectoryEnsemble(count, frames, stride, o.Dt * o.SaveEvery, data, Metadata(model, o, first, scheme.Name));
        var result = energetics ? new TrajectoryEnergetics(work!, heat!, deltaE!, entropy!, null) : null;
        return new SimulationResult(ensemble, result, model, o, scheme.Name);
    }

    /// <summary>Copies one trajectory's state into frame <paramref name="frame"/> of the ensemble's values (trajectory, frame, state).</summary>
    private static void StoreFrame(double[] data, ReadOnlySpan<double> state, int trajectory, int frame, int frames) =>
        state.CopyTo(data.AsSpan((int)(((long)trajectory * frames + frame) * state.Length), state.Length));

    /// <summary>
    /// The health check of a group stepped one trajectory at a time (lane j's state at j * stride of
    /// <paramref name="states"/>, trajectory firstTrajectory + j) after <paramref name="steps"/> steps; true when the run must stop.
    /// </summary>
    private static bool CheckLanes(BlowUpWatch watch, double[] states, int stride, int lanes, ReadOnlySpan<double> bounds, int steps, int firstTrajectory)
    {
        if (!watch.IsCheckStep(steps)) return false;
        for (int j = 0; j < lanes; j++) watch.Check(states.AsSpan(j * stride, stride), bounds[j], steps, firstTrajectory + j);
        return watch.ShouldStop(steps);
    }
}
