using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>A trajectory format that cannot hold dt and provenance itself (.npy, .csv): <see cref="TrajectoryFile"/> keeps them in a JSON sidecar.</summary>
public interface ISidecarTrajectoryFormat : ITrajectoryFormat { }

/// <summary>
/// The JSON file written next to every trajectory file (<c>FILE.npy.json</c>): frame spacing, start time,
/// shape and provenance (model, parameters, seed, global index of the first trajectory, size of the whole
/// run for shards). It lets .npy files keep dt and lets <c>thermolearn merge</c> check shard order.
/// </summary>
public static class TrajectorySidecar
{
    /// <summary>Path of the sidecar of <paramref name="dataPath"/>.</summary>
    public static string PathFor(string dataPath) => dataPath + ".json";

    public static string ToJson(TrajectoryEnsemble e)
    {
        var json = new JsonObject
        {
            ["format"] = "thermolearn-trajectories",
            ["dt"] = e.Dt,
            ["start_time"] = e.StartTime,
            ["trajectories"] = e.Trajectories,
            ["frames"] = e.Frames,
            ["dimension"] = e.Dimension,
        };
        return WithProvenance(json, e.Metadata).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
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
    internal static TrajectoryMetadata ReadProvenance(JsonObject json) =>
        new((string?)json["model"], json["parameters"]?.ToJsonString(), (ulong?)json["seed"],
            (long?)json["first_trajectory"] ?? 0, (long?)json["total_trajectories"], (string?)json["scheme"], (double?)json["integration_dt"]);

    /// <summary>The sidecar's content, or null when there is none.</summary>
    public static (double Dt, double StartTime, int Trajectories, int Frames, int Dimension, TrajectoryMetadata Metadata)? TryRead(string dataPath)
    {
        string path = PathFor(dataPath);
        if (!File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if ((string?)json["format"] != "thermolearn-trajectories") return null;
            var metadata = ReadProvenance(json);
            return ((double)json["dt"]!, (double?)json["start_time"] ?? 0, (int)json["trajectories"]!, (int)json["frames"]!, (int)json["dimension"]!, metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidInputException($"{path}: malformed ThermoLearn sidecar ({e.Message}); delete it and pass dt explicitly.");
        }
    }
}
