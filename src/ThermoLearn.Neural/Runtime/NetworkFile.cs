using System.Text;
using System.Text.Json;
using ThermoLearn.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace ThermoLearn.Neural.Runtime;

/// <summary>
/// The one file layout of saved networks (<c>NeuralModel</c>, <c>ScoreModel</c>): a header naming the kind of model, the JSON of
/// its metadata (what rebuilds the networks and what data they are valid for), then each network's TorchSharp weights
/// and buffers. Written atomically (write, then rename), so a failed save leaves no file.
/// </summary>
internal static class NetworkFile
{
    /// <summary>Headers of every saved-model kind, with what they are for (so a file of the wrong kind is named, not just refused).</summary>
    private static readonly Dictionary<string, string> Kinds = new()
    {
        ["thermolearn-neural-model/1"] = "a trajectory model (NeuralModel: neural-current or neep, for trajectories)",
        ["thermolearn-score-model/1"] = "an active-matter score network (ScoreModel, for AOUP snapshots)",
    };

    /// <summary>Writes <paramref name="header"/>, the JSON of <paramref name="info"/> and the networks to <paramref name="path"/> atomically.</summary>
    public static void Save<TInfo>(string path, string header, TInfo info, IEnumerable<nn.Module> networks)
    {
        if (!Kinds.ContainsKey(header)) throw new InvalidOperationException($"unregistered model header '{header}'.");
        OutputFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(header);
            writer.Write(JsonSerializer.Serialize(info));
            foreach (var network in networks) network.save(writer);
        });
    }

    /// <summary>
    /// Reads a file written by <see cref="Save"/> with this <paramref name="header"/>: the metadata, checked by
    /// <paramref name="valid"/>, then <paramref name="count"/> networks made by <paramref name="create"/> and filled with the
    /// stored weights (in eval mode). Every failure is an <see cref="InvalidInputException"/> naming the file (and
    /// <paramref name="save"/>, the parameter whose files these are, where the file is not one).
    /// </summary>
    public static (TInfo Info, List<TModule> Networks) Load<TInfo, TModule>(string path, string header, InputParameter save, Func<TInfo, bool> valid,
        Func<TInfo, int> count, Func<TInfo, TModule> create) where TInfo : class where TModule : nn.Module
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: no such model file.");
        TorchRuntime.Initialise();
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        TInfo? info;
        string found;
        try
        {
            found = reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            throw InvalidInputException.Naming(e, $"{path}: not a ThermoLearn neural model (saved with {save}): {e.Message}.");
        }
        if (found != header)
        {
            throw Kinds.TryGetValue(found, out var other)
                ? new InvalidInputException($"{path}: the file holds {other}, not {Kinds[header]}.")
                : InvalidInputException.Naming($"{path}: not a ThermoLearn neural model (saved with {save}): wrong header.");
        }
        try
        {
            info = JsonSerializer.Deserialize<TInfo>(reader.ReadString());
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or IOException or NotSupportedException)
        {
            throw new InvalidInputException($"{path}: the model header is unreadable ({e.Message}).", e);
        }
        if (info is null || !valid(info)) throw new InvalidInputException($"{path}: the model header is incomplete or invalid.");
        var networks = new List<TModule>();
        try
        {
            for (int k = 0, n = count(info); k < n; k++)
            {
                var network = create(info);
                networks.Add(network);
                network.load(reader);
                network.eval();
            }
        }
        catch (Exception e) when (e is not InvalidInputException)
        {
            foreach (var n in networks) n.Dispose();
            throw new InvalidInputException($"{path}: the model weights could not be read ({e.Message}).", e);
        }
        return (info, networks);
    }
}
