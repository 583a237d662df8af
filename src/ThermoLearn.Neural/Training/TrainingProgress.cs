namespace ThermoLearn.Neural.Training;

/// <summary>One finished epoch of one fold: what a progress display shows.</summary>
/// <param name="Fold">Fold being trained (0-based).</param>
/// <param name="Folds">Number of folds.</param>
/// <param name="Epoch">Epoch just finished (1-based).</param>
/// <param name="Epochs">Maximum epochs.</param>
/// <param name="TrainLoss">Mean minibatch loss of the epoch.</param>
/// <param name="ValidationLoss">Loss on the early-stopping trajectories.</param>
public readonly record struct TrainingProgress(int Fold, int Folds, int Epoch, int Epochs, double TrainLoss, double ValidationLoss)
{
    /// <summary>Fraction of the maximal work done, in [0, 1].</summary>
    public double Fraction => (Fold + (double)Epoch / Epochs) / Folds;
}

/// <summary>Where training diverged: the first minibatch step (1-based, within <paramref name="Epoch"/>) whose loss was
/// not finite, or the held-out check after the epoch's last step.</summary>
/// <param name="Epoch">Epoch (1-based) in which it happened.</param>
/// <param name="Step">Adam step within that epoch.</param>
/// <param name="Loss">The non-finite loss (NaN or +-infinity).</param>
public sealed record Divergence(int Epoch, long Step, double Loss);

/// <summary>
/// Loss per epoch of one trained network (the training curve) and the epoch whose weights were kept
/// (0: the initial weights, when no epoch improved the held-out loss).
/// </summary>
/// <param name="TrainLoss">Mean minibatch loss of each completed epoch.</param>
/// <param name="ValidationLoss">Loss on the early-stopping trajectories after each completed epoch.</param>
/// <param name="BestEpoch">Epoch whose weights were kept.</param>
/// <param name="StoppedEarly">Whether early stopping ended training before the last epoch.</param>
/// <param name="Diverged">Where the loss became NaN or infinite, if it did (training stopped there).</param>
public sealed record TrainingCurve(IReadOnlyList<double> TrainLoss, IReadOnlyList<double> ValidationLoss, int BestEpoch, bool StoppedEarly,
    Divergence? Diverged = null);
