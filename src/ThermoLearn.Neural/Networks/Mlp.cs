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
    private static readonly Scalar MinimumScale = 1e-6.ToScalar();
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

    /// <summary>Sets the input standardisation from sample inputs [N, inputs] (mean and standard deviation per column).</summary>
    public void Standardise(Tensor sample)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor mean = sample.mean([0L]);
        Tensor std = sample.std(0L).clamp_min(MinimumScale);
        _shift.copy_(mean);
        _scale.copy_(std);
    }

    public override Tensor forward(Tensor input) => _layers.forward(input.Minus(_shift) / _scale);
}
