using System.Globalization;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Neural.Runtime;

namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>
/// What a saved score network is: its shape (to rebuild it) and the model it learned the stationary score of (to refuse data
/// whose score means something else). The score s = grad log rho depends on every parameter of the dynamics (v0, gamma, eps,
/// k, A, the pair potential) and, in a periodic box, on the density phi; it does not depend on N for a local network at
/// fixed density (that is the transfer: train at small N, apply at large N). The box side L = (N pi r0^2 / phi)^(1/2) and N
/// are recorded but not compared.
/// </summary>
/// <param name="Method">"score".</param>
/// <param name="Kind">Active model kind ("aoup"; the network is defined for AOUP only).</param>
/// <param name="Dimension">d (2).</param>
/// <param name="Neighbours">K of the network.</param>
/// <param name="NetworkCutoff">r_c of the network's neighbour lists.</param>
/// <param name="Hidden">Hidden width.</param>
/// <param name="Rounds">Message-passing rounds.</param>
/// <param name="RadialBasis">Radial Gaussians.</param>
/// <param name="ForceInput">Whether the network reads the pair force F_i / v0.</param>
/// <param name="Trapped">Whether the network reads x_i (trap, A &gt; 0).</param>
/// <param name="V0">v0 of the training data.</param>
/// <param name="Gamma">gamma.</param>
/// <param name="Epsilon">eps.</param>
/// <param name="K">k (interaction strength).</param>
/// <param name="A">A (trap stiffness; 0: periodic box).</param>
/// <param name="PackingFraction">phi (compared in a periodic box only).</param>
/// <param name="Potential">Pair potential ("softplus", "wca", "harmonic", "none").</param>
/// <param name="R0">Particle radius r0.</param>
/// <param name="Beta">Softplus sharpness beta.</param>
/// <param name="InteractionCutoff">Pair cutoff r_c of the potential (0 without one).</param>
/// <param name="Box">Box side L of the training data, or null in a trap (recorded, not compared).</param>
/// <param name="Particles">N of the training data (recorded, not compared).</param>
/// <param name="TrainingSnapshots">Snapshots trained on.</param>
/// <param name="Steps">Adam steps.</param>
/// <param name="Seed">Training seed.</param>
/// <param name="ContactInput">Whether the network reads the contact fields (absent in files written before it existed: false).</param>
/// <param name="LinearFeatures">Features of the network's linear head over the particle basis (0: none; absent in older files).</param>
/// <param name="LinearRidge">The relative ridge the linear head was fitted with, chosen on validation snapshots or given (null: no
/// linear head, or a file written before it was recorded). Recorded, not compared: it does not change how the network applies.</param>
public sealed record ScoreModelInfo(string Method, string Kind, int Dimension, int Neighbours, double NetworkCutoff, int Hidden, int Rounds,
    int RadialBasis, bool ForceInput, bool Trapped, double V0, double Gamma, double Epsilon, double K, double A, double PackingFraction,
    string Potential, double R0, double Beta, double InteractionCutoff, double? Box, int Particles, int TrainingSnapshots, int Steps, ulong Seed,
    bool ContactInput = false, int LinearFeatures = 0, double? LinearRidge = null)
{
    /// <summary>The network shape this metadata rebuilds.</summary>
    public LocalScoreShape Shape => new(Neighbours, NetworkCutoff, Hidden, Rounds, RadialBasis, ForceInput, ContactInput, LinearFeatures);

    /// <summary>
    /// The metadata of a network trained with <paramref name="settings"/> on snapshots of <paramref name="model"/>, its linear head
    /// (if any) fitted at <paramref name="linearRidge"/> (<see cref="ScoreTraining.LinearRidge"/>; NaN: none).
    /// </summary>
    public static ScoreModelInfo For(ActiveModel model, ScoreSettings settings, int trainingSnapshots, double linearRidge = double.NaN)
    {
        var s = settings.Shape;
        return new ScoreModelInfo("score", model.Name, model.Dimension, s.Neighbours, s.Cutoff, s.Hidden, s.Rounds, s.RadialBasis, s.ForceInput,
            model.A > 0, model.V0, model.Gamma, model.Epsilon, model.K, model.A, model.PackingFraction,
            model.Interaction.ToString().ToLowerInvariant(), model.R0, model.Beta, model.Cutoff, model.Box, model.Particles, trainingSnapshots,
            settings.Steps, settings.Seed, s.ContactInput, s.LinearFeatures, s.LinearFeatures > 0 && double.IsFinite(linearRidge) ? linearRidge : null);
    }

    /// <summary>
    /// Throws <see cref="InvalidInputException"/> naming the first parameter of <paramref name="model"/> that differs from the
    /// training data's in a way that changes the score; N (and with it the box side) may differ.
    /// </summary>
    public void CheckApplies(ActiveModel model)
    {
        void Same(string name, string trained, string given)
        {
            if (trained != given)
                throw new InvalidInputException($"the network was trained on {name} = {trained}, these data have {name} = {given}: the score depends on {name}, "
                    + "so the network does not apply (only N may differ).");
        }
        static string Text(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        Same("model", Kind, model.Name);
        Same("d", Dimension.ToString(CultureInfo.InvariantCulture), model.Dimension.ToString(CultureInfo.InvariantCulture));
        Same("v0", Text(V0), Text(model.V0));
        Same("gamma", Text(Gamma), Text(model.Gamma));
        Same("eps", Text(Epsilon), Text(model.Epsilon));
        Same("A", Text(A), Text(model.A));
        Same("k", Text(K), Text(model.K));
        Same("potential", Potential, model.Interaction.ToString().ToLowerInvariant());
        if (K != 0 && Potential != "none")
        {
            Same("r0", Text(R0), Text(model.R0));
            if (Potential == "softplus") Same("beta", Text(Beta), Text(model.Beta));
        }
        if (A == 0) Same("phi (the density, in a periodic box)", Text(PackingFraction), Text(model.PackingFraction));
    }

    internal bool IsValid() => Method == "score" && Dimension == ScoreData.Dimension && Neighbours >= 1 && NetworkCutoff > 0 && double.IsFinite(NetworkCutoff)
        && Hidden >= 1 && Rounds >= 1 && RadialBasis >= 1 && LinearFeatures >= 0 && Gamma > 0 && Epsilon >= 0 && A >= 0 && Particles >= 1 && Trapped == A > 0
        && LinearRidge is null or >= 0 && (LinearRidge is null || LinearFeatures > 0);
}

/// <summary>
/// A trained <see cref="LocalScoreNetwork"/> with its <see cref="ScoreModelInfo"/>, saved after training and loaded to score
/// other snapshots: the same network applied unchanged to other snapshots of the same model,
/// e.g. with more particles. File layout: <see cref="NetworkFile"/> (header, JSON metadata, weights with the network's
/// position and output scales).
/// </summary>
public sealed class ScoreModel : IDisposable
{
    private const string Magic = "thermolearn-score-model/1";

    /// <summary>The parameter that writes these files (<see cref="Save"/>), as error messages name it.</summary>
    public static InputParameter SaveParameter { get; } = new("ScoreModel.Save");

    private ScoreModel(ScoreModelInfo info, LocalScoreNetwork network)
    {
        Info = info;
        Network = network;
    }

    public ScoreModelInfo Info { get; }

    public LocalScoreNetwork Network { get; }

    /// <summary>Writes <paramref name="network"/> and <paramref name="info"/> atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, LocalScoreNetwork network, ScoreModelInfo info)
    {
        if (network.Shape != info.Shape || network.Trapped != info.Trapped)
            throw new InvalidOperationException($"the metadata ({info.Shape.Name}, trapped {info.Trapped}) do not describe this network ({network.Shape.Name}, trapped {network.Trapped}).");
        NetworkFile.Save(path, Magic, info, [network]);
    }

    /// <summary>Reads a file written by <see cref="Save"/>.</summary>
    public static ScoreModel Load(string path)
    {
        var (info, networks) = NetworkFile.Load<ScoreModelInfo, LocalScoreNetwork>(path, Magic, SaveParameter, i => i.IsValid(), _ => 1,
            i => new LocalScoreNetwork(i.Shape, i.Trapped));
        return new ScoreModel(info, networks[0]);
    }

    /// <summary>
    /// Scores every snapshot with the saved network after checking that they come from the model it was trained on
    /// (<see cref="ScoreModelInfo.CheckApplies"/>; N may differ); standard errors over <paramref name="blocks"/> contiguous blocks.
    /// </summary>
    public ScoreEstimate Evaluate(ActiveSnapshots snapshots, int grid = 16, IProgress<double>? progress = null, int blocks = BlockStatistics.DefaultBlocks)
    {
        Info.CheckApplies(snapshots.Model);
        return ScoreSnapshots.Evaluate(Network, snapshots, grid, progress, blocks);
    }

    public void Dispose() => Network.Dispose();
}
