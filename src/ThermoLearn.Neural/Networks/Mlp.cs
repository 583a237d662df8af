using ThermoLearn.Neural.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Networks;

/// <summary>
/// A multilayer perceptron with standardised inputs: y = W_L s(... s(W_1 (x - shift) / scale + b_1) ...) + b_L,
/// s = SiLU (smooth, so divergences and second derivatives of learned fields exist). The input
/// shift and scale are buffers set from the training data, saved with the weights.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private const double MinimumScale = 1e-6;
    private readonly Sequential _layers;
    private readonly Tensor _shift;
    private readonly Tensor _scale;

    /// <param name="inputs">Input width.</param>
    /// <param name="outputs">Output width.</param>
    /// <param name="hidden">Width of each hidden layer.</param>
    /// <param name="layers">Number of hidden layers.</param>
    public Mlp(int inputs, int outputs, int hidden, int layers) : base(nameof(Mlp))
    {
        Inputs = inputs;
        Outputs = outputs;
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        int width = inputs;
        for (int l = 0; l < layers; l++)
        {
            modules.Add(($"linear{l}", Linear(width, hidden)));
            modules.Add(($"silu{l}", SiLU()));
            width = hidden;
        }
        modules.Add(("out", Linear(width, outputs)));
        _layers = Sequential(modules);
        _shift = zeros(inputs);
        _scale = ones(inputs);
        register_buffer("shift", _shift);
        register_buffer("scale", _scale);
        RegisterComponents();
    }

    public int Inputs { get; }
    public int Outputs { get; }

    /// <summary>Sets the input standardisation: per input, its mean and standard deviation over the training sample (floored at the minimum scale).</summary>
    public void Standardise(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        if (mean.Count != Inputs || std.Count != Inputs) throw new ArgumentException($"standardisation needs {Inputs} means and deviations.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _shift.copy_(tensor(mean.Select(v => (float)v).ToArray()));
        _scale.copy_(tensor(std.Select(v => (float)Math.Max(v, MinimumScale)).ToArray()));
    }

    public override Tensor forward(Tensor input) => _layers.forward(input.Minus(_shift) / _scale);
}
