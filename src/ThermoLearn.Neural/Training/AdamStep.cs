using ThermoLearn.Neural.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Training;

/// <summary>
/// Adam (Kingma &amp; Ba, arXiv:1412.6980) with a cosine learning-rate decay, written out so that every scalar
/// handed to libtorch is an object this class keeps alive. TorchSharp's optimizer converts doubles to native
/// scalars implicitly; such a temporary can be finalised by the garbage collector while the native call that
/// reads it is still running, which under load showed up as "Expected false to be true ... toDouble" from
/// Adam.step (<see cref="StableScalars"/>). Here the constant scalars are fields and the per-step ones are disposed
/// only after their last use.
/// Update: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr_t / (1 - b1^t) m / (sqrt(v / (1 - b2^t)) + eps),
/// with lr_t = lr_min + (lr - lr_min) (1 + cos(pi (t - 1 - W) / (T - W))) / 2 over T steps, after W steps of linear
/// warm-up lr_t = lr t / W (W = 0: no warm-up; the rate climbs from near 0 while the moment estimates are still noisy).
/// </summary>
internal sealed class AdamStep : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _m;
    private readonly Tensor[] _v;
    private readonly Scalar _beta1 = Beta1.ToScalar(), _oneMinusBeta1 = (1 - Beta1).ToScalar();
    private readonly Scalar _beta2 = Beta2.ToScalar(), _oneMinusBeta2 = (1 - Beta2).ToScalar();
    private readonly Scalar _epsilon = Epsilon.ToScalar();
    private readonly double _rate, _finalRate;
    private readonly long _totalSteps, _warmupSteps;
    private long _step;

    /// <param name="parameters">Tensors to optimise (leaf tensors with gradients).</param>
    /// <param name="rate">Initial learning rate.</param>
    /// <param name="finalRate">Learning rate reached after <paramref name="totalSteps"/> steps.</param>
    /// <param name="totalSteps">Steps until <paramref name="finalRate"/> is reached, warm-up included.</param>
    /// <param name="warmupSteps">Steps of linear warm-up from rate / W to <paramref name="rate"/> before the decay; below <paramref name="totalSteps"/>.</param>
    public AdamStep(IReadOnlyList<Tensor> parameters, double rate, double finalRate, long totalSteps, long warmupSteps = 0)
    {
        if (warmupSteps < 0 || warmupSteps >= Math.Max(1, totalSteps))
            throw new InvalidInputException($"Adam warm-up must be 0 to {Math.Max(1, totalSteps) - 1} steps (shorter than the {totalSteps} steps of the schedule), not {warmupSteps}.");
        _parameters = parameters.ToArray();
        _m = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _v = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _rate = rate;
        _finalRate = finalRate;
        _totalSteps = Math.Max(1, totalSteps);
        _warmupSteps = warmupSteps;
    }

    /// <summary>Learning rate of the next step.</summary>
    public double CurrentRate
    {
        get
        {
            if (_step < _warmupSteps) return _rate * (_step + 1) / _warmupSteps;
            long decay = _totalSteps - _warmupSteps;
            return _finalRate + (_rate - _finalRate) * (1 + Math.Cos(Math.PI * Math.Min(_step - _warmupSteps, decay) / decay)) / 2;
        }
    }

    /// <summary>Applies one update from the gradients now stored in the parameters.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        double rate = CurrentRate;
        _step++;
        double correction1 = 1 - Math.Pow(Beta1, _step), correction2 = 1 - Math.Pow(Beta2, _step);
        using Scalar stepSize = (-rate / correction1).ToScalar();
        using Scalar inverseRoot = (1 / Math.Sqrt(correction2)).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            Tensor? g = _parameters[i].grad;
            if (g is null) continue;
            _m[i].mul_(_beta1).add_(g, alpha: _oneMinusBeta1);
            _v[i].mul_(_beta2).addcmul_(g, g, value: _oneMinusBeta2);
            using Tensor denominator = _v[i].sqrt();
            denominator.mul_(inverseRoot).add_(_epsilon, StableScalars.One);
            _parameters[i].addcdiv_(_m[i], denominator, value: stepSize);
        }
        GC.KeepAlive(this);
    }

    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
        _beta1.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2.Dispose();
        _oneMinusBeta2.Dispose();
        _epsilon.Dispose();
    }
}
