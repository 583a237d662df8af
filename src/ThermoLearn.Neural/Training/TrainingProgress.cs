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

/// <summary>Loss per epoch of one trained network (the training curve) and the epoch whose weights were kept.</summary>
public sealed record TrainingCurve(IReadOnlyList<double> TrainLoss, IReadOnlyList<double> ValidationLoss, int BestEpoch, bool StoppedEarly);
