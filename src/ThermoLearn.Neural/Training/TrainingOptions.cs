namespace ThermoLearn.Neural.Training;

/// <summary>
/// How a neural estimator is trained: network size, minibatch Adam, early stopping and
/// cross-fitting. Every estimate is evaluated on trajectories the network never saw: the
/// trajectories (or, for few long ones, contiguous segments) are dealt into <see cref="Folds"/>
/// folds; fold k is estimated by a network trained on the other folds, with
/// <see cref="ValidationFraction"/> of those held back for early stopping.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Maximum number of passes over the training transitions (the length of the cosine learning-rate decay).</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Width of each hidden layer.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Number of hidden layers.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Transitions per Adam step.</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>
    /// Transitions per shuffle block. An epoch reads the training transitions in file order (trajectory, then frame) in blocks
    /// of this many and visits each block in a random order, so data larger than memory train from sequential reads (a
    /// shuffle over the whole file would need it in memory). A block of the default 2^18 holds 7 MB (2-D) and many
    /// trajectories of typical length; data up to this many training transitions are shuffled as a whole.
    /// </summary>
    public int ShuffleBlock { get; init; } = 1 << 18;

    /// <summary>Initial Adam learning rate; it decays along a cosine to 1% of this over <see cref="Epochs"/>.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Seed for weight initialisation, fold assignment and minibatch order.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Stop after this many epochs without a better validation loss; the best weights are kept either way. The default
    /// runs the whole schedule: the held-out loss is noisy (its spread is that of a rate estimate on the validation
    /// trajectories), and a short patience stopped the driven trap at 1e6 frames after an early lucky epoch, 3.6% below
    /// sigma, where the full schedule reaches 0.5% (docs/neural-estimators.md).
    /// </summary>
    public int Patience { get; init; } = 30;

    /// <summary>Fraction of the training units (trajectories or segments) held back for early stopping.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Number of cross-fitting folds (at least 2): each transition is scored by a network that never saw it.</summary>
    public int Folds { get; init; } = 2;

    /// <summary>libtorch intra-op threads; results are bit-identical for a fixed value.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Throws <see cref="InvalidInputException"/> naming the first impossible setting.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new InvalidInputException($"epochs must be at least 1 (got {Epochs}).");
        if (Hidden < 1) throw new InvalidInputException($"hidden width must be at least 1 (got {Hidden}).");
        if (Layers < 1) throw new InvalidInputException($"hidden layers must be at least 1 (got {Layers}).");
        if (BatchSize < 1) throw new InvalidInputException($"batch size must be at least 1 (got {BatchSize}).");
        if (ShuffleBlock < 1) throw new InvalidInputException($"shuffle block must be at least 1 transition (got {ShuffleBlock}).");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
            throw new InvalidInputException($"learning rate must be a positive finite number (got {LearningRate}).");
        if (Patience < 1) throw new InvalidInputException($"patience must be at least 1 epoch (got {Patience}).");
        if (!(ValidationFraction > 0 && ValidationFraction < 1))
            throw new InvalidInputException($"validation fraction must lie strictly between 0 and 1 (got {ValidationFraction}).");
        if (Folds < 2) throw new InvalidInputException($"folds must be at least 2 so every transition is scored out of sample (got {Folds}).");
        if (Threads < 1) throw new InvalidInputException($"threads must be at least 1 (got {Threads}).");
    }
}
