using ThermoLearn.Neural.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Networks;

/// <summary>
/// NEEP's entropy-production network: Delta S(x_i, x_{i+1}) = h(x_i, x_{i+1}) - h(x_{i+1}, x_i), with h an
/// MLP on the concatenated pair, so Delta S is antisymmetric under time reversal by construction.
/// Kim, Bae, Lee &amp; Jeong, "Learning entropy production via neural networks", PRL 125, 140604 (2020),
/// doi:10.1103/PhysRevLett.125.140604.
/// </summary>
public sealed class AntisymmetricPairNetwork : Module<Tensor, Tensor, Tensor>
{
    private readonly Mlp _h;

    public AntisymmetricPairNetwork(int dimension, int hidden, int layers) : base(nameof(AntisymmetricPairNetwork))
    {
        _h = new Mlp(2 * dimension, 1, hidden, layers);
        RegisterComponents();
    }

    /// <summary>The inner network h, whose input standardisation is set from pairs [N, 2d].</summary>
    public Mlp Inner => _h;

    /// <summary>Delta S for each row: [B, d] x [B, d] -> [B].</summary>
    public override Tensor forward(Tensor x0, Tensor x1)
    {
        Tensor forwardPair = cat([x0, x1], 1);
        Tensor backwardPair = cat([x1, x0], 1);
        return _h.forward(forwardPair).Minus(_h.forward(backwardPair)).squeeze(1);
    }
}
