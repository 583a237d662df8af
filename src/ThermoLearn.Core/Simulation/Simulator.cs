using System.Runtime.Intrinsics;
using ThermoLearn.Energetics;
using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;
using ThermoLearn.Simulation.Kernels;
using ThermoLearn.Simulation.Schemes;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Simulation;

/// <summary>
/// Simulates many independent trajectories of a model in parallel. Model, scheme and options are separate
/// values: <c>Simulator.Run(model, options)</c>. Trajectory i draws its initial state from
/// RandomStream.For(seed, i, <see cref="InitialPurpose"/>) and its noise from lane streams keyed by
/// (seed, i, <see cref="NoisePurpose"/>), so the output is bit-identical for any thread count and any
/// <see cref="Shard"/> split. Trajectories run in groups of four (one SIMD lane of noise each).
/// </summary>
public static class Simulator
{
    /// <summary>Purpose key of the initial-condition stream.</summary>
    public const ulong InitialPurpose = 1;

    /// <summary>Purpose key of the noise stream.</summary>
    public const ulong NoisePurpose = 2;

    /// <summary>Runs the simulation.</summary>
    /// <exception cref="InvalidInputException">Bad options, or a scheme that does not fit the model.</exception>
    public static SimulationResult Run(StochasticModel model, SimulationOptions options, IProgress<double>? progress = null)
    {
        Validate(options, model);
        return model switch
        {
            OverdampedModel overdamped => RunOverdamped(overdamped, options, progress),
            UnderdampedModel underdamped => RunUnderdamped(underdamped, options, progress),
            MarkovJumpProcess jumps => new SimulationResult(jumps.SampleFixedStep(RequireExact(options, model)), null, model, options, "exact"),
            DiscreteMarkovChain chain => new SimulationResult(chain.Sample(RequireExact(options, model)), null, model, options, "exact"),
            _ => throw new InvalidInputException($"model '{model.Name}' is not a Langevin model; simulate it with its own sampler."),
        };
    }

    private static SimulationOptions RequireExact(SimulationOptions o, StochasticModel model) =>
        o.Scheme is null or "exact" ? o
            : throw new InvalidInputException($"model '{model.Name}' is sampled exactly; scheme '{o.Scheme}' does not apply (leave --scheme out).");

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
            throw new InvalidInputException($"{count} trajectories x {o.Steps / o.SaveEvery + 1} frames x {model.StateDimension} coordinates = {values} values "
                + $"exceed one array ({Array.MaxLength}); save fewer frames (--save-every) or split the run with --shard.");
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
        if (scheme is EulerMaruyama && model is DoubleWellModel well && !o.GenericPathOnly)
        {
            // The vector kernels: same numbers as the generic loop, about 50x faster; eight lanes where
            // AVX-512 is hardware-accelerated, four otherwise (same numbers again).
            var (first, count) = o.Shard.Range(o.Trajectories);
            int frames = o.Steps / o.SaveEvery + 1;
            var data = new double[(long)count * frames];
            bool energetics = o.ComputeEnergetics;
            double[]? work = energetics ? new double[count] : null, heat = energetics ? new double[count] : null;
            double[]? deltaE = energetics ? new double[count] : null, entropy = energetics ? new double[count] : null;
            var energies = new EnergeticsArrays(work, heat, deltaE, entropy);
            if (Vector512.IsHardwareAccelerated && !o.NarrowVectorsOnly)
                RunDoubleWell<Lanes512, Vector512<double>, Vector512<ulong>>(well, o, first, count, frames, data, energetics ? energies : null, progress);
            else
                RunDoubleWell<Lanes256, Vector256<double>, Vector256<ulong>>(well, o, first, count, frames, data, energetics ? energies : null, progress);
            return Finish(model, o, first, count, frames, 1, data, energetics, work, heat, deltaE, entropy, null, scheme.Name);
        }
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

        Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, g =>
        {
            int lanes = Math.Min(4, count - 4 * g);
            var x = new double[4 * d];
            var previous = new double[d];
            var normals = new double[4 * normalsPerStep];
            var scratch = new double[Math.Max(scratchLength, d)];
            var noise = GaussianLanes.For(o.Seed, first + 4 * g, NoisePurpose);
            Span<double> sums = stackalloc double[16];
            sums.Clear();
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                var random = RandomStream.For(o.Seed, (ulong)(first + local), InitialPurpose);
                var xj = x.AsSpan(j * d, d);
                model.SampleInitial(ref random, xj);
                xj.CopyTo(data.AsSpan((int)((long)local * frames * d), d));
                if (density) systemEntropy![local] = model.LogDensity(xj, 0)!.Value;
            }
            for (int stepIndex = 0; stepIndex < o.Steps; stepIndex++)
            {
                double t = stepIndex * o.Dt, tNext = (stepIndex + 1) * o.Dt;
                for (int k = 0; k < normalsPerStep; k++)
                {
                    var z = noise.Next();
                    for (int j = 0; j < 4; j++) normals[j * normalsPerStep + k] = z.GetElement(j);
                }
                bool save = (stepIndex + 1) % o.SaveEvery == 0;
                for (int j = 0; j < lanes; j++)
                {
                    var xj = x.AsSpan(j * d, d);
                    if (energetics) xj.CopyTo(previous);
                    step(stepIndex, xj, normals.AsSpan(j * normalsPerStep, normalsPerStep), scratch);
                    if (energetics)
                    {
                        var e = StochasticEnergetics.OverdampedStep(model, previous, xj, t, tNext);
                        sums[4 * j] += e.Work;
                        sums[4 * j + 1] += e.Heat;
                        sums[4 * j + 2] += e.DeltaEnergy;
                        sums[4 * j + 3] += e.MediumEntropy;
                    }
                    if (save)
                    {
                        int local = 4 * g + j;
                        int frame = (stepIndex + 1) / o.SaveEvery;
                        xj.CopyTo(data.AsSpan((int)(((long)local * frames + frame) * d), d));
                    }
                }
            }
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                if (energetics)
                {
                    work![local] = sums[4 * j];
                    heat![local] = sums[4 * j + 1];
                    deltaE![local] = sums[4 * j + 2];
                    entropy![local] = sums[4 * j + 3];
                }
                if (density) systemEntropy![local] -= model.LogDensity(x.AsSpan(j * d, d), tEnd)!.Value;
            }
            tracker.GroupDone();
        });

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

    /// <summary>The per-trajectory energetics arrays the kernels fill (work is zero: the double well's potential is fixed).</summary>
    private sealed record EnergeticsArrays(double[]? Work, double[]? Heat, double[]? DeltaEnergy, double[]? MediumEntropy)
    {
        public void Store(int local, double heat, double deltaEnergy, double mediumEntropy)
        {
            Work![local] = 0;
            Heat![local] = heat;
            DeltaEnergy![local] = deltaEnergy;
            MediumEntropy![local] = mediumEntropy;
        }
    }

    /// <summary>Initial state of local trajectory <paramref name="local"/> (1-D models), from its own stream.</summary>
    private static double InitialState(OverdampedModel model, SimulationOptions o, long first, int local)
    {
        Span<double> start = stackalloc double[1];
        var random = RandomStream.For(o.Seed, (ulong)(first + local), InitialPurpose);
        model.SampleInitial(ref random, start);
        return start[0];
    }

    /// <summary>The double well on the vector kernel, <typeparamref name="TLanes"/> trajectories per group.</summary>
    private static void RunDoubleWell<TLanes, TDouble, TBits>(DoubleWellModel well, SimulationOptions o, long first, int count, int frames,
        double[] data, EnergeticsArrays? energetics, IProgress<double>? progress)
        where TLanes : struct, ILanes<TDouble, TBits>
        where TDouble : unmanaged
        where TBits : unmanaged
    {
        int lanes = TLanes.Count, perBlock = ScalarOverdampedKernel<TLanes, TDouble, TBits>.GroupsPerBlock;
        double noiseScale = Math.Sqrt(2 * o.Dt) * Math.Sqrt(well.MobilityValue * well.Temperature);
        var force = new DoubleWellForce<TLanes, TDouble, TBits>(well.Barrier, well.Tilt);
        int groups = (count + lanes - 1) / lanes, blocks = (groups + perBlock - 1) / perBlock;
        var tracker = new Progress(progress, blocks);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, b =>
        {
            int firstGroup = b * perBlock, blockGroups = Math.Min(perBlock, groups - firstGroup);
            Span<TDouble> x = stackalloc TDouble[blockGroups];
            Span<GaussianLanes<TLanes, TDouble, TBits>> noise = stackalloc GaussianLanes<TLanes, TDouble, TBits>[blockGroups];
            Span<ScalarOverdampedKernel<TLanes, TDouble, TBits>.Sums> sums = stackalloc ScalarOverdampedKernel<TLanes, TDouble, TBits>.Sums[blockGroups];
            Span<double> start = stackalloc double[lanes];
            for (int k = 0; k < blockGroups; k++)
            {
                int g = firstGroup + k;
                start.Clear();
                for (int j = 0; j < Math.Min(lanes, count - lanes * g); j++) start[j] = InitialState(well, o, first, lanes * g + j);
                x[k] = TLanes.Create(start);
                noise[k] = GaussianLanes<TLanes, TDouble, TBits>.For(o.Seed, first + lanes * g, NoisePurpose);
            }
            int lastLanes = Math.Min(lanes, count - lanes * (firstGroup + blockGroups - 1));
            ScalarOverdampedKernel<TLanes, TDouble, TBits>.RunBlock(force, x, noise, sums, firstGroup, lastLanes, o.Steps, o.SaveEvery, frames,
                well.MobilityValue, o.Dt, noiseScale, 1 / (well.MobilityValue * well.Temperature), energetics is not null, data);
            if (energetics is not null)
                for (int k = 0; k < blockGroups; k++)
                {
                    int g = firstGroup + k;
                    for (int j = 0; j < Math.Min(lanes, count - lanes * g); j++)
                        energetics.Store(lanes * g + j, TLanes.GetElement(sums[k].Heat, j), TLanes.GetElement(sums[k].DeltaEnergy, j),
                            TLanes.GetElement(sums[k].MediumEntropy, j));
                }
            tracker.GroupDone();
        });
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

        Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, g =>
        {
            int lanes = Math.Min(4, count - 4 * g);
            var state = new double[4 * stride];
            var previousX = new double[d];
            var normals = new double[4 * d];
            var force = new double[d];
            var noise = GaussianLanes.For(o.Seed, first + 4 * g, NoisePurpose);
            Span<double> sums = stackalloc double[12];
            sums.Clear();
            for (int j = 0; j < lanes; j++)
            {
                int local = 4 * g + j;
                var random = RandomStream.For(o.Seed, (ulong)(first + local), InitialPurpose);
                var sj = state.AsSpan(j * stride, stride);
                model.SampleInitial(ref random, sj[..d], sj[d..]);
                sj.CopyTo(data.AsSpan((int)((long)local * frames * stride), stride));
                if (energetics) sums[3 * j + 2] = -StochasticEnergetics.UnderdampedEnergy(model, sj[..d], sj[d..], 0);
            }
            for (int step = 0; step < o.Steps; step++)
            {
                double t = step * o.Dt, tNext = (step + 1) * o.Dt;
                for (int k = 0; k < d; k++)
                {
                    var z = noise.Next();
                    for (int j = 0; j < 4; j++) normals[j * d + k] = z.GetElement(j);
                }
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
                    if (save)
                    {
                        int local = 4 * g + j;
                        int frame = (step + 1) / o.SaveEvery;
                        sj.CopyTo(data.AsSpan((int)(((long)local * frames + frame) * stride), stride));
                    }
                }
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

        var ensemble = new TrajectoryEnsemble(count, frames, stride, o.Dt * o.SaveEvery, data, Metadata(model, o, first, scheme.Name));
        var result = energetics ? new TrajectoryEnergetics(work!, heat!, deltaE!, entropy!, null) : null;
        return new SimulationResult(ensemble, result, model, o, scheme.Name);
    }
}
