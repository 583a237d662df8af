using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.Control;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Processes;

namespace ThermoLearn.Fuzz;

/// <summary>
/// The readers under fuzzing, one target each: bytes in, and the reader must either accept them or throw
/// <see cref="InvalidInputException"/> (a clear message for the user). Any other exception, a hang or a crash is a bug.
/// Shared by the SharpFuzz/afl++ harness (<c>scripts/fuzz.sh</c>) and the corpus replay in the fast test suite, which
/// needs no afl++.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Target names: the folder names under <c>fuzz/corpus</c> and <c>fuzz/crashes</c>.</summary>
    public static readonly IReadOnlyList<string> Names = ["npy", "csv", "hdf5", "parquet", "sidecar", "hmm", "protocol", "model"];

    /// <summary>Runs target <paramref name="target"/> on <paramref name="input"/> inside <paramref name="folder"/> (a scratch folder).</summary>
    public static void Run(string target, ReadOnlySpan<byte> input, string folder)
    {
        try
        {
            switch (target)
            {
                case "npy": TrajectoryFile.Read(Write(folder, "x.npy", input), 0.1); break;
                case "csv": TrajectoryFile.Read(Write(folder, "x.csv", input), 0.1); break;
                case "hdf5": TrajectoryFile.Read(Write(folder, "x.h5", input), 0.1); break;
                case "parquet": TrajectoryFile.Read(Write(folder, "x.parquet", input), 0.1); break;
                case "sidecar":
                {
                    // a valid tiny .npy with the fuzzed bytes as its sidecar
                    string data = Path.Combine(folder, "s.npy");
                    if (!File.Exists(data)) NpyFormat.WriteArray(data, new double[] { 0, 1, 2, 3, 4, 5 }, [2, 3]);
                    Write(folder, "s.npy.json", input);
                    TrajectoryFile.Read(data);
                    break;
                }
                case "hmm": ProcessFile.Read(Write(folder, "p.json", input)); break;
                case "protocol": ProtocolFile.Read(Write(folder, "q.json", input)); break;
                case "model": Model(input); break;
                default: throw new ArgumentException($"unknown fuzz target '{target}'; use one of {string.Join(", ", Names)}.");
            }
        }
        catch (InvalidInputException)
        {
            // the expected outcome for bad input
        }
    }

    private static string Write(string folder, string name, ReadOnlySpan<byte> input)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, input.ToArray());
        return path;
    }

    /// <summary>A model as JSON, {"model": NAME, "parameters": {NAME: VALUE}}, built through the catalogue as the CLI's --model/--set do.</summary>
    private static void Model(ReadOnlySpan<byte> input)
    {
        // the CLI receives --model and --set as strings (invalid UTF-8 already replaced), and a key given twice is refused as "repeated --set"
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(System.Text.Encoding.UTF8.GetString(input));
            if (root is JsonObject whole && whole["parameters"] is JsonObject given) _ = given.Count;
        }
        catch (Exception e) when (e is JsonException or ArgumentException) { return; }
        if (root is not JsonObject o || o["model"] is not JsonValue name || !name.TryGetValue(out string? model)) return;
        var parameters = new Dictionary<string, string>();
        if (o["parameters"] is JsonObject p)
            foreach (var (key, value) in p)
                parameters[key] = value is JsonValue v && v.TryGetValue(out string? s) ? s : value?.ToJsonString() ?? "null";
        var m = ModelCatalog.Create(model, parameters);
        _ = m.ParametersJson().ToJsonString();
    }
}
