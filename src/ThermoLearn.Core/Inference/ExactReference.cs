using ThermoLearn.Models;

namespace ThermoLearn.Inference;

/// <summary>
/// The exact values a catalogue model offers for data sampled every dt, one per quantity, so that an estimate is compared only
/// with the value of what it estimates (<see cref="EstimatedQuantity"/>): the continuous-time rate sigma, the EP per unit time of
/// the chain sampled every dt (jump processes: from exp(Q dt); linear SDEs: the Gaussian pair law; discrete-time chains: EP per
/// step / dt, frames being steps), and a discrete-time chain's EP per step (which has no continuous-time rate).
/// </summary>
/// <param name="ContinuousRate">sigma at time t, or null (discrete-time chains, models without an exact value).</param>
/// <param name="SampledChainRate">The sampled chain's exact EP per unit time, or null where not known in closed form.</param>
/// <param name="PerStep">A discrete-time chain's EP per step, else null.</param>
public sealed record ExactReference(double? ContinuousRate, double? SampledChainRate, double? PerStep)
{
    public static ExactReference For(StochasticModel model, double dt, double t)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model switch
        {
            DiscreteMarkovChain chain => new ExactReference(null, chain.EntropyProductionPerStep / dt, chain.EntropyProductionPerStep),
            MarkovJumpProcess jump => new ExactReference(jump.EntropyProductionRateValue, jump.SampledChainEntropyProductionRate(dt), null),
            LinearModel linear => new ExactReference(linear.EntropyProductionRateValue, linear.SampledChainEntropyProductionRate(dt), null),
            _ => new ExactReference(model.EntropyProductionRate(t), null, null),
        };
    }

    /// <summary>
    /// The exact value an estimate of <paramref name="quantity"/> is compared with (for a lower bound: the value it bounds), or
    /// null when the model has none of that quantity.
    /// </summary>
    public double? For(EstimatedQuantity? quantity)
    {
        if (quantity == EstimatedQuantity.ContinuousRate || quantity == EstimatedQuantity.ContinuousLowerBound) return ContinuousRate;
        if (quantity == EstimatedQuantity.SampledChainRate || quantity == EstimatedQuantity.SampledChainLowerBound) return SampledChainRate;
        return null;
    }

    /// <summary>True for a lower bound, which the exact value is to be above rather than equal to.</summary>
    public static bool IsBound(EstimatedQuantity? quantity) =>
        quantity == EstimatedQuantity.ContinuousLowerBound || quantity == EstimatedQuantity.SampledChainLowerBound;
}
