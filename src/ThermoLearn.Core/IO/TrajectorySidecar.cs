using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>A trajectory format that cannot hold dt and provenance itself (.npy, .csv): <see cref="TrajectoryFile"/> keeps them in a JSON sidecar.</summary>
public interface ISidecarTrajectoryFormat : ITrajectoryFormat { }

/// <summary>
/// The JSON file written next to every trajectory file (<c>FILE.npy.json</c>): frame spacing, start time,
/// shape and provenance (model, parameters, seed, global index of the first trajectory, size of the whole
/// run for shards), and a description of the data it belongs to (<c>"data"</c>: dtype, byte size of the data
/// file, and a <see cref="DataFingerprint"/> of the values). It lets .npy files keep dt and lets
/// <c>thermolearn merge</c> check shard order. A sidecar is used only while it still describes its data
/// (<see cref="Check"/>): a re-saved, sliced or edited data file makes it stale, and reading then stops with a
/// message instead of applying the old dt to new data. A user may write a minimal sidecar by hand,
/// <c>{"dt": 0.01}</c> (optionally <c>start_time</c> and the shape keys <c>trajectories</c>, <c>frames</c>,
/// <c>dimension</c>, which are checked); it is taken as the user's statement of dt.
/// </summary>
public static class TrajectorySidecar
{
    /// <summary>The keys a hand-written sidecar (without <c>"format"</c>) may hold.</summary>
    private static readonly string[] UserKeys = ["dt", "start_time", "trajectories", "frames", "dimension"];

    /// <summary>Path of the sidecar of <paramref name="dataPath"/>.</summary>
    public static string PathFor(string dataPath) => dataPath + ".json";

    /// <summary>The sidecar of <paramref name="e"/> written to a data file of <paramref name="dataBytes"/> bytes.</summary>
    public static string ToJson(TrajectoryEnsemble e, long dataBytes) =>
        ToJson(new TrajectoryHeader("", e.Trajectories, e.Frames, e.Dimension, e.Dt, e.StartTime, e.Metadata), DataFingerprint.Of(e.Data), dataBytes);

    /// <summary>The sidecar of values of shape <paramref name="h"/> with fingerprint <paramref name="fingerprint"/> (a file written chunk by chunk).</summary>
    public static string ToJson(TrajectoryHeader h, string fingerprint, long dataBytes)
    {
        var json = new JsonObject
        {
            ["format"] = "thermolearn-trajectories",
            ["dt"] = h.Dt,
            ["start_time"] = h.StartTime,
            ["trajectories"] = h.Trajectories,
            ["frames"] = h.Frames,
            ["dimension"] = h.Dimension,
            ["data"] = new JsonObject
            {
                ["dtype"] = "float64",
                ["bytes"] = dataBytes,
                ["fingerprint"] = fingerprint,
            },
        };
        return WithProvenance(json, h.Metadata).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Appends a run's provenance (model, parameters, seed, first trajectory, run size, scheme and its step) to a sidecar object; the one
    /// place that names these keys, shared by trajectory and energetics sidecars (see <see cref="ReadProvenance"/>).
    /// </summary>
    internal static JsonObject WithProvenance(JsonObject json, TrajectoryMetadata m)
    {
        json["model"] = m.Model;
        json["parameters"] = m.ParametersJson is null ? null : JsonNode.Parse(m.ParametersJson);
        json["seed"] = m.Seed;
        json["first_trajectory"] = m.FirstTrajectory;
        json["total_trajectories"] = m.TotalTrajectories;
        if (m.Scheme is not null) json["scheme"] = m.Scheme;
        if (m.IntegrationDt is { } step) json["integration_dt"] = step;
        return json;
    }

    /// <summary>The provenance written by <see cref="WithProvenance"/>.</summary>
    /// <exception cref="InvalidInputException">A key holds a value of the wrong kind (the message names <paramref name="path"/> and the key).</exception>
    internal static TrajectoryMetadata ReadProvenance(JsonObject json, string path) =>
        new(JsonInput.Text(json, "model", path), json["parameters"]?.ToJsonString(), JsonInput.Unsigned(json, "seed", path),
            JsonInput.Integer(json, "first_trajectory", path) ?? 0, JsonInput.Integer(json, "total_trajectories", path),
            JsonInput.Text(json, "scheme", path), JsonInput.Number(json, "integration_dt", path));

    /// <summary>
    /// What a sidecar states. Shape, <see cref="Bytes"/> and <see cref="Fingerprint"/> are null when the sidecar does
    /// not record them (a hand-written one, or one written before ThermoLearn recorded them).
    /// </summary>
    public sealed record Content(string Path, double Dt, double StartTime, int? Trajectories, int? Frames, int? Dimension,
        string? Dtype, long? Bytes, string? Fingerprint, TrajectoryMetadata Metadata, bool UserWritten);

    /// <summary>The sidecar's content, or null when there is none (or it is another tool's JSON, e.g. an energetics sidecar).</summary>
    /// <exception cref="InvalidInputException">The sidecar is malformed; the message says what a valid one holds.</exception>
    public static Content? TryRead(string dataPath)
    {
        string path = PathFor(dataPath);
        if (!File.Exists(path)) return null;
        JsonObject json;
        try
        {
            json = JsonInput.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidInputException($"{path}: a sidecar is a JSON object such as {{\"dt\": 0.01}}.");
        }
        catch (JsonException e)
        {
            throw InvalidInputException.Naming($"{path}: not valid JSON ({e.Message}); a sidecar is a JSON object such as {{\"dt\": 0.01}}, or delete it and pass {InputParameter.Dt}.");
        }
        try
        {
            string? format = JsonInput.Text(json, "format", path);
            if (format is null)
            {
                var unknown = json.Select(kv => kv.Key).Where(k => !UserKeys.Contains(k)).ToList();
                if (unknown.Count > 0)
                    throw new InvalidInputException($"{path}: a hand-written sidecar may hold {string.Join(", ", UserKeys)}; '{string.Join("', '", unknown)}' "
                        + "is not one of them (ThermoLearn's own sidecars also carry \"format\": \"thermolearn-trajectories\").");
                if (json["dt"] is null)
                    throw new InvalidInputException($"{path}: the sidecar has no \"dt\"; write e.g. {{\"dt\": 0.01}} (the time between frames).");
                return new Content(path, JsonInput.Number(json, "dt", path)!.Value, JsonInput.Number(json, "start_time", path) ?? 0,
                    Count(json, "trajectories", path), Count(json, "frames", path), Count(json, "dimension", path), null, null, null, TrajectoryMetadata.None, true);
            }
            if (format != "thermolearn-trajectories") return null;
            var data = json["data"] as JsonObject;
            return new Content(path, Required(JsonInput.Number(json, "dt", path), "dt", path), JsonInput.Number(json, "start_time", path) ?? 0,
                Required(Count(json, "trajectories", path), "trajectories", path), Required(Count(json, "frames", path), "frames", path),
                Required(Count(json, "dimension", path), "dimension", path), data is null ? null : JsonInput.Text(data, "dtype", path),
                data is null ? null : JsonInput.Integer(data, "bytes", path), data is null ? null : JsonInput.Text(data, "fingerprint", path),
                ReadProvenance(json, path), false);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw InvalidInputException.Naming($"{path}: malformed sidecar ({e.Message}); it needs a number \"dt\" (and, when ThermoLearn wrote it, ",
                $"trajectories, frames, dimension); fix it, or delete it and pass {InputParameter.Dt}.");
        }
    }

    /// <summary>A shape key of a sidecar (null when absent or null).</summary>
    private static int? Count(JsonObject json, string key, string path) => JsonInput.Integer(json, key, path) switch
    {
        null => null,
        >= 0 and <= int.MaxValue and var n => (int)n,
        var n => throw new InvalidInputException($"{path}: \"{key}\" is {n}; it must be a whole number from 0 to {int.MaxValue}."),
    };

    /// <summary>A key every sidecar ThermoLearn writes holds.</summary>
    private static T Required<T>(T? value, string key, string path) where T : struct =>
        value ?? throw InvalidInputException.Naming($"{path}: malformed sidecar: \"{key}\" is missing; it needs a number \"dt\" (and, when ThermoLearn wrote it, ",
            $"trajectories, frames, dimension); fix it, or delete it and pass {InputParameter.Dt}.");

    /// <summary>
    /// Refuses a sidecar that no longer describes <paramref name="dataPath"/>'s values: a different shape, a different
    /// byte size of the data file, or a different <see cref="DataFingerprint"/> of the values.
    /// </summary>
    /// <exception cref="InvalidInputException">The sidecar is stale; the message names both files and what differs.</exception>
    public static void Check(Content s, string dataPath, TrajectoryEnsemble e)
    {
        CheckShapeAndSize(s, dataPath, e.Trajectories, e.Frames, e.Dimension);
        if (s.Fingerprint is not null) CheckFingerprint(s, dataPath, DataFingerprint.Of(e.Data));
    }

    /// <summary>Refuses a sidecar whose recorded fingerprint is not <paramref name="now"/>, the fingerprint of the values read (in one piece or in chunks).</summary>
    public static void CheckFingerprint(Content s, string dataPath, string now)
    {
        if (s.Fingerprint is { } fingerprint && now != fingerprint)
            throw Stale(s, dataPath, $"the values' fingerprint is {now}, the sidecar recorded {fingerprint}");
    }

    private static InvalidInputException Stale(Content s, string dataPath, string what) =>
        InvalidInputException.Naming($"{s.Path} does not describe {dataPath}: {what}. The data were changed after the sidecar was written, so its dt, start time ",
            $"and provenance may be wrong. Delete the sidecar and pass {InputParameter.Dt} (or write {{\"dt\": ...}} into it), or re-create both files together.");

    /// <summary>The checks that need no pass over the values (shape, byte size): what a chunked reader can check before reading.</summary>
    public static void CheckShapeAndSize(Content s, string dataPath, int trajectories, int frames, int dimension)
    {
        if ((s.Trajectories is { } n && n != trajectories) || (s.Frames is { } f && f != frames) || (s.Dimension is { } d && d != dimension))
            throw Stale(s, dataPath, $"the sidecar says {s.Trajectories?.ToString() ?? "?"} trajectories x {s.Frames?.ToString() ?? "?"} frames x "
                + $"{s.Dimension?.ToString() ?? "?"} coordinates, the file holds {trajectories} x {frames} x {dimension}");
        if (s.Bytes is { } bytes && new FileInfo(dataPath).Length is var actual && actual != bytes)
            throw Stale(s, dataPath, $"the sidecar records a {s.Dtype ?? "float64"} data file of {bytes} bytes, the file has {actual} bytes");
    }
}
