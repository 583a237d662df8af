using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// A loss over transitions x_i -> x_{i+1} that a network minimises, and the per-transition quantity
/// whose held-out mean is the estimate (for entropy production: a contribution to the rate sigma).
/// </summary>
internal abstract class TransitionObjective : IDisposable
{
    /// <summary>The trained network (its parameters and buffers are what is saved).</summary>
    public abstract nn.Module Network { get; }

    /// <summary>Sets input standardisation from the moments of the training transitions.</summary>
    public abstract void Standardise(TransitionMoments train);

    /// <summary>Mean loss of a batch (a scalar with gradient).</summary>
    public abstract Tensor Loss(TransitionBatch batch);

    /// <summary>Per-transition estimate [B] whose mean over held-out data is the reported value.</summary>
    public abstract Tensor Contributions(TransitionBatch batch);

    /// <summary>Frees the objective's own tensors but leaves the network alive (it moves into a model).</summary>
    public virtual void ReleaseAllButNetwork() { }

    public void Dispose()
    {
        ReleaseAllButNetwork();
        Network.Dispose();
    }
}
