namespace ThermoLearn.Randomness;

/// <summary>
/// Every purpose key passed to <see cref="RandomStream.For(ulong, ulong, ulong)"/> (and to the lane streams built on it),
/// named in one place. A purpose separates the streams one seed feeds: stream (seed, index, purpose) is independent of
/// (seed, index, other purpose). The values are part of the reproducibility promise: every pinned number in tests and
/// docs/ was drawn with them, so a value is never changed, only named here.
/// </summary>
/// <remarks>
/// Two purposes may share a value when their streams never meet in one computation (the same seed never feeds both in a
/// way that would correlate results); those sharing a value are marked below. <see cref="RandomStream.For(ulong, ulong)"/>
/// without a purpose is used by <c>ProcessSampler</c> (stream per sequence) and is not a purpose of this list.
/// </remarks>
public static class RandomPurposes
{
    /// <summary>Initial condition of trajectory i, stream (seed, i, 1): <c>Simulator</c>, <c>MarkovJumpProcess</c> and
    /// the control gradients (<c>PathKernel</c>) draw it, so a control run and a simulation with the same seed start from
    /// the same states. Shares the value 1 with <see cref="HeldOutSplit"/> and <see cref="ScoreMinibatch"/>.</summary>
    public const ulong SimulationInitial = 1;

    /// <summary>Noise of trajectory i, stream (seed, i, 2), one per lane in the lane engine (<c>GaussianLanes</c>):
    /// <c>Simulator</c>, <c>MarkovJumpProcess</c>, <c>PathKernel</c>. Shares the value 2 with <see cref="ShuffledLabels"/>
    /// and <see cref="ScoreProbeNoise"/>.</summary>
    public const ulong SimulationNoise = 2;

    /// <summary>Probe states of the simulation health check (<c>SimulationHealth</c>), under the fixed seed 0.</summary>
    public const ulong SimulationHealthProbe = 0x57AB1E;

    /// <summary>Initial positions and orientations of an active-matter system (<c>ActiveSystem</c>; ASCII "ACTI").</summary>
    public const ulong ActiveInitial = 0x41435449UL;

    /// <summary>Noise of particle i of an active-matter system (<c>ActiveSystem</c>; ASCII "NOIS").</summary>
    public const ulong ActiveNoise = 0x4E4F4953UL;

    /// <summary>Bootstrap replicate r's batch weights (<c>Resampling</c>), stream (seed, r, 0xB0075).</summary>
    public const ulong BootstrapResample = 0xB0075;

    /// <summary>Train/held-out row split of the belief-geometry least squares (<c>WeightedLeastSquares</c>), stream
    /// (seed, 0, 1). Shares the value 1 with <see cref="SimulationInitial"/> and <see cref="ScoreMinibatch"/>.</summary>
    public const ulong HeldOutSplit = 1;

    /// <summary>Permutation of the labels for the shuffled control of the belief-geometry least squares
    /// (<c>WeightedLeastSquares</c>), stream (seed, 0, 2). Shares the value 2 with <see cref="SimulationNoise"/> and
    /// <see cref="ScoreProbeNoise"/>.</summary>
    public const ulong ShuffledLabels = 2;

    /// <summary>Assignment of groups to cross-validation folds in the factored-versus-joint comparison
    /// (<c>BeliefModelComparison</c>), stream (seed, 0, 3).</summary>
    public const ulong CrossValidationFolds = 3;

    /// <summary>Initial weights of the belief transformer, stream (seed, parameter index in ordinal name order, 7)
    /// (Neural's <c>TransformerTrainer</c>).</summary>
    public const ulong TransformerInitialisation = 7;

    /// <summary>Shuffle of transition units into folds for the neural estimators (Neural's <c>TransitionUnits.Plan</c>),
    /// stream (seed, 0, 0x5EED_F01D).</summary>
    public const ulong NeuralFoldPlan = 0x5EED_F01D;

    /// <summary>Mini-batch order of epoch e of the neural estimators' trainer (Neural's <c>Trainer</c>), stream
    /// (seed, e, 0xBA7C).</summary>
    public const ulong NeuralEpochOrder = 0xBA7C;

    /// <summary>Mini-batch choice and Rademacher probes of training step s of the active-matter score network (Neural's
    /// <c>ScoreEntropyProduction</c>), stream (seed, s, 1). Shares the value 1 with <see cref="SimulationInitial"/> and
    /// <see cref="HeldOutSplit"/>.</summary>
    public const ulong ScoreMinibatch = 1;

    /// <summary>Rademacher probes (divergence by Hutchinson's trace estimator) of the score network's evaluation over the batch starting at snapshot f (Neural's
    /// <c>ScoreEntropyProduction</c>), stream (<see cref="ScoreEvaluationSeed"/>, f, 2): the evaluation is the same
    /// whatever seed trained the network. Shares the value 2 with <see cref="SimulationNoise"/> and
    /// <see cref="ShuffledLabels"/>.</summary>
    public const ulong ScoreProbeNoise = 2;

    /// <summary>The fixed seed (not a purpose) of the score network's evaluation streams, see
    /// <see cref="ScoreProbeNoise"/>.</summary>
    public const ulong ScoreEvaluationSeed = 0x5C0BE;

    /// <summary>Rademacher probe of the lag filters' own-g divergences (Core's <c>ParticleBasis</c>), stream
    /// (<see cref="LagFilterProbeSeed"/>, probe, 0x1A6F): the score data pass the snapshot's index as the probe.</summary>
    public const ulong LagFilterProbe = 0x1A6F;

    /// <summary>The fixed seed (not a purpose) of the lag filters' probes, see <see cref="LagFilterProbe"/>.</summary>
    public const ulong LagFilterProbeSeed = 0x1A6F_5EED;

    // Seed derivations (not purposes): a run derives a second seed from its own, so that one seed feeds two
    // independent sets of streams. Named here for the same reason as the purposes: the values are pinned.

    /// <summary>Key of the final measurements' seed of the protocol optimiser, <c>SplitMix64(seed ^ key)</c>
    /// (<c>ProtocolOptimizer.EvaluationSeed</c>: the optimised protocol and the baseline share it, common random numbers).</summary>
    public const ulong ProtocolEvaluationSeedKey = 0x5EEDE7A1;

    /// <summary>Key of the seed of a belief task's sampled validation sequences, <c>SplitMix64(seed ^ key)</c> (Neural's
    /// <c>BeliefTask.CreateDataset</c>, when the prefixes are too many to enumerate).</summary>
    public const ulong BeliefValidationSeedKey = 0x5EED_0F_DA7A;

    /// <summary>Stride between the TorchSharp seeds of the neural estimators' cross-fitted folds: fold k's network is
    /// initialised from <c>SplitMix64(seed + k * stride)</c> (Neural's <c>CrossFit</c>; the golden-ratio increment of SplitMix64).</summary>
    public const ulong NeuralFoldSeedStride = 0x9E3779B97F4A7C15UL;
}
