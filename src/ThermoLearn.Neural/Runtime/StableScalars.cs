using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Runtime;

/// <summary>
/// Native scalars that live as long as the process, and tensor sums that use them. TorchSharp turns numbers into
/// native scalars implicitly, including the hidden alpha = 1 of <c>a + b</c> between tensors; such a
/// temporary is unreachable once its handle is read, so the garbage collector's finaliser can free it while the
/// native call still reads it. Under load that surfaced as "Expected false to be true ... toFloat/toDouble at
/// Scalar.h:140" from Adam.step and from a tensor sum. Static fields are never collected, so hot paths of the neural
/// estimators add and subtract through <see cref="Plus"/> and <see cref="Minus"/>.
/// </summary>
internal static class StableScalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>a + b with a kept-alive alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>
    /// a^2 elementwise as a * a. TorchSharp's <c>square()</c> calls pow(a, 2) with an implicit temporary scalar 2,
    /// which the finaliser can free during the call: the stress test AdamStepSurvivesParallelTrainingUnderGarbageCollection
    /// failed with "Unknown scalar type" from THSTensor_pow_scalar inside square().
    /// </summary>
    public static Tensor Squared(this Tensor a) => a.mul(a);

    /// <summary>a - b (TorchSharp's tensor subtraction takes no alpha; kept here so sums and differences read alike).</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.sub(b);
}
