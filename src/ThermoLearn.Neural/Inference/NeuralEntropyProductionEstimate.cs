using ThermoLearn.Neural.Training;

namespace ThermoLearn.Neural.Inference;

/// <summary>sigma on one time window [Start, End) of non-stationary data, with its held-out standard error.</summary>
public sealed record WindowRate(double Start, double End, double Rate, double StandardError, long Transitions);

/// <summary>
/// An entropy-production rate sigma (per unit time, k_B = 1) learned by a neural network, evaluated only on
/// held-out trajectories (K-fold cross-fitting), so <see cref="StandardError"/> is the spread of independent
/// held-out pieces; the value is a variational lower bound whose gap is second order in the network's
/// error, so no finite-basis bias correction applies (<see cref="RateDebiased"/> = <see cref="Rate"/>).
/// </summary>
/// <param name="Rate">sigma estimate.</param>
/// <param name="StandardError">Held-out standard error of <paramref name="Rate"/>.</param>
/// <param name="Method">"neural-current" or "neep".</param>
/// <param name="Transitions">Transitions used (all of them, each held out once).</param>
/// <param name="Trajectories">Trajectories in the data.</param>
/// <param name="Dt">Frame spacing.</param>
/// <param name="Diffusion">Diffusion matrix D used by the current loss (given or from the second cumulant); null for NEEP.</param>
/// <param name="Options">Training settings.</param>
/// <param name="Curves">Training curve of each fold.</param>
/// <param name="Windows">sigma(t) per time window when requested, else empty.</param>
public sealed record NeuralEntropyProductionEstimate(
    double Rate,
    double StandardError,
    string Method,
    long Transitions,
    int Trajectories,
    double Dt,
    double[,]? Diffusion,
    TrainingOptions Options,
    IReadOnlyList<TrainingCurve> Curves,
    IReadOnlyList<WindowRate> Windows)
{
    public double RateDebiased => Rate;
}
