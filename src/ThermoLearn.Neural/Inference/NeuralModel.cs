using ThermoLearn.Inference;
using ThermoLearn.Neural.Networks;
using ThermoLearn.Neural.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Inference;

/// <summary>What a saved neural model is: enough to rebuild its networks and use them on new data.</summary>
/// <param name="Method">"neural-current" (field d(x[, t]), output d) or "neep" (antisymmetric Delta S(x_i, x_{i+1})).</param>
/// <param name="Dimension">Dimension d of x.</param>
/// <param name="TimeInput">Whether the field takes t as an extra input.</param>
/// <param name="Hidden">Hidden width.</param>
/// <param name="Layers">Hidden layers.</param>
/// <param name="Dt">Frame spacing of the training data.</param>
/// <param name="Diffusion">Diffusion matrix, row-major d*d (current models), else null.</param>
/// <param name="Folds">Number of cross-fitted networks stored.</param>
/// <param name="Trapezoid">Current models: whether the field was trained (and so must be scored) with the trapezoid
/// rule (d at both ends of a transition) rather than at the midpoint. Files written before this field existed read
/// as false, which is how they were trained.</param>
public sealed record NeuralModelInfo(string Method, int Dimension, bool TimeInput, int Hidden, int Layers, double Dt, double[]? Diffusion, int Folds,
    bool Trapezoid = false);

/// <summary>
/// The K cross-fitted networks of a neural estimate. Used on new data, the fields of the folds are
/// averaged (d = mean_k d_k, Delta S = mean_k Delta S_k); the current loss is convex in d, so the
/// averaged field is never worse in expectation than the average fold. Saved as one file: a header,
/// the JSON of <see cref="NeuralModelInfo"/>, then each network's TorchSharp weights (written atomically).
/// </summary>
public sealed class NeuralModel : IDisposable
{
    /// <summary>What writes a model file, as error messages name it (<see cref="Save"/>; the CLI's --save-model).</summary>
    public static InputParameter SaveParameter { get; } = new("NeuralModel.Save");

    private const string Magic = "thermolearn-neural-model/1";

    internal NeuralModel(NeuralModelInfo info, IReadOnlyList<nn.Module> networks)
    {
        Info = info;
        Networks = networks;
    }

    public NeuralModelInfo Info { get; }

    internal IReadOnlyList<nn.Module> Networks { get; }

    internal static nn.Module Create(NeuralModelInfo info) => info.Method switch
    {
        NeuralMethods.Current => new Mlp(info.Dimension + (info.TimeInput ? 1 : 0), info.Dimension, info.Hidden, info.Layers),
        NeuralMethods.Neep => new AntisymmetricPairNetwork(info.Dimension, info.Hidden, info.Layers),
        _ => throw new InvalidInputException($"unknown neural model method '{info.Method}'; known: {NeuralMethods.Current}, {NeuralMethods.Neep}."),
    };

    /// <summary>Writes the model atomically to <paramref name="path"/> (<see cref="NetworkFile"/>).</summary>
    public void Save(string path) => NetworkFile.Save(path, Magic, Info, Networks);

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    public static NeuralModel Load(string path)
    {
        var (info, networks) = NetworkFile.Load<NeuralModelInfo, nn.Module>(path, Magic, SaveParameter,
            info => info.Folds >= 1 && info.Dimension >= 1 && info.Hidden >= 1 && info.Layers >= 1 && info.Dt > 0,
            info => info.Folds, Create);
        return new NeuralModel(info, networks);
    }

    /// <summary>The thermodynamic force d(x[, t]) = D^-1 v of a current model at points x [n, d] (row-major), fold-averaged.</summary>
    public double[] ThermodynamicForce(double[] x, double[]? t = null)
    {
        if (Info.Method != NeuralMethods.Current)
            throw new InvalidInputException($"a {Info.Method} model has no thermodynamic force field; use a {NeuralMethods.Current} model.");
        int d = Info.Dimension;
        if (x.Length % d != 0) throw new InvalidInputException($"points must have {d} coordinates each (got {x.Length} values).");
        long n = x.Length / d;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor input = tensor(Array.ConvertAll(x, v => (float)v), [n, d]);
        if (Info.TimeInput)
        {
            if (t is null || t.Length != n) throw new InvalidInputException($"a time-dependent model needs one time per point ({n}).");
            input = cat([input, tensor(Array.ConvertAll(t, v => (float)v), [n, 1])], 1);
        }
        Tensor sum = zeros(n, d);
        foreach (var network in Networks) sum = sum.Plus(((Mlp)network).forward(input));
        return Array.ConvertAll((sum / Networks.Count).data<float>().ToArray(), v => (double)v);
    }

    public void Dispose()
    {
        foreach (var n in Networks) n.Dispose();
    }
}

/// <summary>Names of the neural estimation methods (as the CLI's --method spells them).</summary>
public static class NeuralMethods
{
    public const string Current = "neural-current";
    public const string Neep = "neep";

    /// <summary>The neural current estimator as an estimate method: a network d(x) (with windows d(x, t)) trained on the current
    /// loss, rated on held-out data; it reads the diffusion and the coarse-sampling correction.</summary>
    public static EstimateMethod CurrentMethod { get; } = new(Current, "neural network d(x) trained on the current loss, held-out rate by cross-fitting "
        + "(with windows: d(x, t) and sigma(t))", EstimateInputs.Diffusion | EstimateInputs.Correction, SupportsWindows: true);

    /// <summary>NEEP as an estimate method: an antisymmetric network of one step, rated on held-out data. Both neural methods
    /// stream: every epoch reads the file sequentially (<see cref="NeuralEntropyProductionEstimator"/>).</summary>
    public static EstimateMethod NeepMethod { get; } = new(Neep, "NEEP: antisymmetric network Delta S(x_i, x_{i+1}) trained on -<Delta S> + <exp(-Delta S)>, held-out rate",
        EstimateInputs.Diffusion, SupportsWindows: false);
}
