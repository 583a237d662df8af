using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>JSON conventions of the tool: snake_case keys, NaN/Infinity written as null, one object per command.</summary>
public static class JsonOutput
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>A finite double as a JSON number; NaN or infinity as null.</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>A nullable double as a JSON number or null.</summary>
    public static JsonNode? Number(double? value) => value is { } v ? Number(v) : null;

    public static JsonArray Array(IEnumerable<double> values) => new(values.Select(Number).ToArray());

    public static void Write(CliConsole console, JsonObject result) =>
        console.Out.WriteLine(result.ToJsonString(Options));
}
