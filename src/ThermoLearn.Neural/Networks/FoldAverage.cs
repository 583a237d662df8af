using ThermoLearn.Neural.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ThermoLearn.Neural.Networks;

/// <summary>The mean of several fields f_k(x): how the cross-fitted networks of a saved model act on new data.
/// The members belong to the caller (they are not disposed with this wrapper).</summary>
internal sealed class FieldAverage(IReadOnlyList<Module<Tensor, Tensor>> members) : Module<Tensor, Tensor>(nameof(FieldAverage))
{
    public override Tensor forward(Tensor input)
    {
        Tensor sum = members[0].forward(input);
        for (int k = 1; k < members.Count; k++) sum = sum.Plus(members[k].forward(input));
        return sum / members.Count;
    }
}

/// <summary>The mean of several antisymmetric pair networks (still antisymmetric). Members belong to the caller.</summary>
internal sealed class PairAverage(IReadOnlyList<Module<Tensor, Tensor, Tensor>> members) : Module<Tensor, Tensor, Tensor>(nameof(PairAverage))
{
    public override Tensor forward(Tensor x0, Tensor x1)
    {
        Tensor sum = members[0].forward(x0, x1);
        for (int k = 1; k < members.Count; k++) sum = sum.Plus(members[k].forward(x0, x1));
        return sum / members.Count;
    }
}
