using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using ThermoLearn.IO;
using ThermoLearn.Protocols;

namespace ThermoLearn.Control;

/// <summary>
/// A saved protocol (JSON): the task it was made for and its settings, and samples {t, lambda} of lambda(t) with
/// both end jumps (a repeated time at 0 and at tau), plus the family and parameters when it came from the optimiser.
/// <code>{ "task": "erase", "tau": 10, "settings": {...}, "controls": ["b","c","s"],
///   "t": [0, 0, ..., 10, 10], "lambda": [[4,0,0], [..], ...], "family": "piecewise-linear", "parameters_per_control": 6, "theta": [...] }</code>
/// </summary>
public sealed record ProtocolDocument(string Task, IReadOnlyDictionary<string, double> Settings, IReadOnlyList<string> Controls,
    TabulatedProtocol Samples, string? Family = null, int? ParametersPerControl = null, double[]? Theta = null)
{
    public double Tau => Samples.Duration;
}

public static class ProtocolFile
{
    /// <summary>Writes the document atomically (never a half-written file).</summary>
    public static void Write(string path, ProtocolDocument document) => AtomicFile.WriteText(path, ToJson(document).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    public static JsonObject ToJson(ProtocolDocument document)
    {
        var json = new JsonObject
        {
            ["task"] = document.Task,
            ["tau"] = document.Tau,
            ["settings"] = new JsonObject(document.Settings.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
            ["controls"] = new JsonArray(document.Controls.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["t"] = new JsonArray(document.Samples.Times.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            ["lambda"] = new JsonArray(document.Samples.Values.Select(v => (JsonNode?)new JsonArray(v.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray())).ToArray()),
        };
        if (document.Family is not null) json["family"] = document.Family;
        if (document.ParametersPerControl is { } m) json["parameters_per_control"] = m;
        if (document.Theta is not null) json["theta"] = new JsonArray(document.Theta.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray());
        return json;
    }

    /// <summary>Reads and checks a protocol file; every problem is an <see cref="InvalidInputException"/> naming the file and the field.</summary>
    public static ProtocolDocument Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: no such protocol file.");
        JsonNode? root;
        try
        {
            root = ThermoLearn.IO.JsonInput.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).", e);
        }
        if (root is not JsonObject json) throw new InvalidInputException($"{path}: expected a JSON object with task, t and lambda.");
        string task = Get(json, path, "task", n => n.GetValue<string>());
        var times = Get(json, path, "t", n => n.AsArray().Select(v => v!.GetValue<double>()).ToArray());
        var values = Get(json, path, "lambda", n => n.AsArray().Select(row => row!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray());
        var settings = json["settings"] is JsonObject s
            ? Get(json, path, "settings", _ => s.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>()))
            : new Dictionary<string, double>();
        var controls = json["controls"] is JsonArray c
            ? Get(json, path, "controls", _ => c.Select(v => v!.GetValue<string>()).ToArray())
            : Enumerable.Range(0, values.FirstOrDefault()?.Length ?? 0).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var samples = new TabulatedProtocol(times, values, path);
        if (json["tau"] is JsonNode tauNode && Math.Abs(Get(json, path, "tau", _ => tauNode.GetValue<double>()) - samples.Duration) > 1e-9 * samples.Duration)
            throw new InvalidInputException($"{path}: tau = {tauNode} but the last sample is at t = {samples.Duration}.");
        return new ProtocolDocument(task, settings, controls, samples);
    }

    private static T Get<T>(JsonObject json, string path, string field, Func<JsonNode, T> read)
    {
        var node = json[field] ?? throw new InvalidInputException($"{path}: the field '{field}' is missing.");
        try
        {
            return read(node);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or JsonException)
        {
            throw new InvalidInputException($"{path}: the field '{field}' has the wrong type ({e.Message}).", e);
        }
    }
}
