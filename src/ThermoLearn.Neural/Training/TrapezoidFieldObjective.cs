using ThermoLearn.Neural.Networks;
using ThermoLearn.Neural.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// The current loss (score: false) or the score-matching loss (score: true) (docs/neural.md) with every field
/// evaluated at both ends of a transition at its midpoint time (trapezoid), as Core's linear estimators do:
/// current l = (d_i^T D d_i + d_e^T D d_e)/2 - (d_i + d_e) . dx / dt, minimised by D^-1 v;
/// score l = (s_i^T D s_i + s_e^T D s_e)/2 + (s_e - s_i) . dx / dt, minimised by grad ln p.
/// Why not the midpoint x_mid: &lt;x_mid x_mid^T&gt; falls short of &lt;x x^T&gt; by D dt / 2, which inflates both minimisers by
/// a factor 1 + D dt / (2 S) on a Gaussian of variance S (2% at k dt = 0.04): harmless for a rate, but it scales every
/// per-trajectory Delta s_tot (<see cref="Inference.NeuralTrajectoryEntropy"/>) and moved &lt;exp(-Delta s_tot)&gt; on the breathing trap by several standard errors. The
/// trapezoid's error is O(dt^2) for linear fields.
/// </summary>
internal sealed class TrapezoidFieldObjective(Module<Tensor, Tensor> field, IReadOnlyList<double> diffusion, bool score, bool timeInput)
    : FieldObjective(field, diffusion, timeInput)
{
    protected override Tensor PerTransitionLoss(TransitionBatch batch)
    {
        Tensor a = Field(batch.X0, batch.TMid);
        Tensor b = Field(batch.X1, batch.TMid);
        // twice the loss, halved below with an explicit scalar: (a D a + b D b) - 2 (a + b) . dx / dt  or  + 2 (b - a) . dx / dt
        Tensor quadratic = (a * a.matmul(Diffusion)).sum(1).Plus((b * b.matmul(Diffusion)).sum(1));
        Tensor current = ((score ? b.Minus(a) : a.Plus(b)) * batch.Dx).sum(1);
        using Scalar twoOverStep = (2 / batch.Step).ToScalar();
        Tensor scaled = current.mul_(twoOverStep);
        return (score ? quadratic.Plus(scaled) : quadratic.Minus(scaled)).mul_(StableScalars.Half);
    }
}
