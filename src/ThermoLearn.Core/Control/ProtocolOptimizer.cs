using ThermoLearn.Control.Tasks;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;
using ThermoLearn.Statistics;

namespace ThermoLearn.Control;

/// <summary>Settings of <see cref="ProtocolOptimizer"/>.</summary>
public sealed record OptimizerOptions
{
    /// <summary>Weight of the task error in L = &lt;W&gt; + alpha * error.</summary>
    public double Alpha { get; init; }

    /// <summary>Most iterations (one gradient estimate and one Adam step each).</summary>
    public int Iterations { get; init; } = 200;

    /// <summary>Trajectories of the first batches; the batch doubles (up to <see cref="MaxTrajectories"/>) when noise dominates.</summary>
    public int InitialTrajectories { get; init; } = 1000;

    public int MaxTrajectories { get; init; } = 16_000;

    /// <summary>Adam step size in units of the controls.</summary>
    public double LearningRate { get; init; } = 0.02;

    public ulong Seed { get; init; } = 1;

    /// <summary>The batch grows when sqrt(sum stderr^2) &gt; NoiseRatio * |gradient| (the "norm test" of Byrd et al., Math. Program. 134, 127, 2012).</summary>
    public double NoiseRatio { get; init; } = 1.0;

    /// <summary>Stop after this many consecutive iterations at the largest batch whose gradient is indistinguishable from noise.</summary>
    public int Patience { get; init; } = 15;

    /// <summary>Threads to use (-1: all cores). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    internal void Validate()
    {
        if (!double.IsFinite(Alpha) || Alpha < 0) throw new InvalidInputException($"optimiser: alpha must be a finite number >= 0 (got {Alpha}).");
        if (Iterations < 1) throw new InvalidInputException($"optimiser: iterations must be >= 1 (got {Iterations}).");
        if (InitialTrajectories < 2) throw new InvalidInputException($"optimiser: trajectories must be >= 2 (got {InitialTrajectories}).");
        if (MaxTrajectories < InitialTrajectories) throw new InvalidInputException($"optimiser: the largest batch ({MaxTrajectories}) is below the first ({InitialTrajectories}).");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InvalidInputException($"optimiser: the learning rate must be positive (got {LearningRate}).");
    }
}

/// <summary>One line of the optimiser's log: the estimate at the iteration's parameters (before its step).</summary>
public sealed record OptimizerStep(int Iteration, int Trajectories, MeanEstimate Objective, MeanEstimate Work, MeanEstimate Error,
    double GradientNorm, double GradientNoise, double[] Parameters);

/// <summary>The optimised protocol (the average of the iterates at the largest batch) and the log.</summary>
public sealed record OptimizationResult(ParameterisedProtocol Protocol, IReadOnlyList<OptimizerStep> Log, string StopReason);

/// <summary>
/// Minimises L(theta) = &lt;W&gt; + alpha * error over a protocol family with Adam (Kingma &amp; Ba, ICLR 2015) on
/// likelihood-ratio gradients (Lyu, Ray &amp; Crutchfield 2025). Every iteration draws fresh, independent paths
/// (stream seed derived from (seed, iteration)), so the steps are unbiased stochastic gradients and the
/// optimum is not fitted to one sample; the batch doubles when the gradient's noise exceeds its size; at the
/// largest batch the iterates are averaged (Polyak-Ruppert), which removes the jitter Adam keeps at a noisy
/// optimum. Common random numbers are used where they help: the caller compares the result with the
/// baseline on one shared evaluation seed.
/// </summary>
public static class ProtocolOptimizer
{
    public static OptimizationResult Run(ControlTask task, ProtocolFamily family, double[] initial, OptimizerOptions options,
        Action<OptimizerStep>? log = null, CancellationToken cancel = default)
    {
        options.Validate();
        if (initial.Length != family.ParameterCount)
            throw new InvalidInputException($"optimiser: {initial.Length} initial parameters for a family with {family.ParameterCount}.");
        int p = family.ParameterCount;
        var theta = (double[])initial.Clone();
        task.Project(family, theta);
        var first = new double[p];
        var second = new double[p];
        var average = new double[p];
        int averaged = 0, quiet = 0, batch = options.InitialTrajectories;
        const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
        var steps = new List<OptimizerStep>();
        string reason = $"reached {options.Iterations} iterations";
        for (int iteration = 0; iteration < options.Iterations; iteration++)
        {
            cancel.ThrowIfCancellationRequested();
            ulong seed = IterationSeed(options.Seed, iteration);
            var estimate = task.EstimateGradient(family.WithParameters(theta), options.Alpha, seed, batch, options.MaxDegreeOfParallelism);
            var step = new OptimizerStep(iteration, batch, estimate.Objective, estimate.Work, estimate.Error, estimate.GradientNorm,
                estimate.GradientNoise, (double[])theta.Clone());
            steps.Add(step);
            log?.Invoke(step);

            bool noisy = estimate.GradientNoise > options.NoiseRatio * estimate.GradientNorm;
            bool atLargest = batch >= options.MaxTrajectories;
            if (noisy && !atLargest) batch = Math.Min(2 * batch, options.MaxTrajectories);
            quiet = noisy && atLargest ? quiet + 1 : 0;

            double correction1 = 1 - Math.Pow(beta1, iteration + 1), correction2 = 1 - Math.Pow(beta2, iteration + 1);
            for (int j = 0; j < p; j++)
            {
                double g = estimate.Gradient[j].Mean;
                first[j] = beta1 * first[j] + (1 - beta1) * g;
                second[j] = beta2 * second[j] + (1 - beta2) * g * g;
                theta[j] -= options.LearningRate * (first[j] / correction1) / (Math.Sqrt(second[j] / correction2) + epsilon);
            }
            task.Project(family, theta);
            if (atLargest)
            {
                averaged++;
                for (int j = 0; j < p; j++) average[j] += (theta[j] - average[j]) / averaged;
            }
            if (quiet >= options.Patience)
            {
                reason = $"gradient within noise for {options.Patience} iterations at {batch} trajectories";
                break;
            }
        }
        var final = averaged > 0 ? average : theta;
        task.Project(family, final);
        return new OptimizationResult(family.WithParameters(final), steps, reason);
    }

    /// <summary>The stream seed of one iteration: independent of every other iteration's and of the evaluation seed.</summary>
    public static ulong IterationSeed(ulong seed, int iteration) => RandomStream.SplitMix64(seed ^ RandomStream.SplitMix64((ulong)iteration + 1));

    /// <summary>The seed of the final measurements (optimised protocol and baseline share it: common random numbers).</summary>
    public static ulong EvaluationSeed(ulong seed) => RandomStream.SplitMix64(seed ^ RandomPurposes.ProtocolEvaluationSeedKey);
}
