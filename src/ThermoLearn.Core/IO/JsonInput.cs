using System.Text.Json;
using System.Text.Json.Nodes;

namespace ThermoLearn.IO;

/// <summary>
/// JSON text from users' files, parsed completely at once. <see cref="JsonNode.Parse(string, JsonNodeOptions?, JsonDocumentOptions)"/>
/// builds objects lazily, so a key given twice surfaced later as an <see cref="ArgumentException"/> from whichever
/// reader first looked inside (found by fuzzing the HMM, protocol and sidecar readers); here every object is built
/// while parsing and a duplicate key is a <see cref="JsonException"/> naming it, which the readers already report.
/// </summary>
internal static class JsonInput
{
    /// <summary>Parses <paramref name="text"/> and builds every object in it.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a key that appears twice in one object.</exception>
    public static JsonNode? Parse(string text, JsonDocumentOptions options = default)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(text, documentOptions: options); }
        catch (JsonException e) when (NonFiniteAt(text, e))
        {
            // "'N' is an invalid start of a value" does not say what is wrong (NaN written by Python's json.dump, say)
            throw new JsonException("NaN and Infinity are not JSON numbers; every number must be finite (" + e.Message + ")", e.Path, e.LineNumber, e.BytePositionInLine, e);
        }
        try { Build(root); }
        catch (ArgumentException e) { throw new JsonException($"a key appears twice in one object ({e.Message})", e); }
        return root;
    }

    /// <summary>
    /// <paramref name="o"/>[<paramref name="key"/>] as a number, null when absent or null. A value of another kind is
    /// refused naming the file and the key: the cast <c>(double?)node</c> said "An element of type 'String' cannot be
    /// converted to a 'System.Double'", which names neither and speaks .NET.
    /// </summary>
    /// <exception cref="InvalidInputException">The value is not a number.</exception>
    public static double? Number(JsonObject o, string key, string where) =>
        Value<double>(o, key, where, "a number");

    /// <summary><paramref name="o"/>[<paramref name="key"/>] as a whole number (null when absent or null), refused as in <see cref="Number"/>.</summary>
    public static long? Integer(JsonObject o, string key, string where) =>
        Value<long>(o, key, where, "a whole number");

    /// <summary><paramref name="o"/>[<paramref name="key"/>] as a whole number from 0 (a seed; null when absent or null), refused as in <see cref="Number"/>.</summary>
    public static ulong? Unsigned(JsonObject o, string key, string where) =>
        Value<ulong>(o, key, where, $"a whole number from 0 to {ulong.MaxValue}");

    /// <summary><paramref name="o"/>[<paramref name="key"/>] as a string (null when absent or null), refused as in <see cref="Number"/>.</summary>
    public static string? Text(JsonObject o, string key, string where)
    {
        var node = o[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? text)) return text;
        throw new InvalidInputException($"{where}: \"{key}\" is {Shown(node)}; it must be a string (or null).");
    }

    private static T? Value<T>(JsonObject o, string key, string where, string kind) where T : struct
    {
        var node = o[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out T value)) return value;
        throw new InvalidInputException($"{where}: \"{key}\" is {Shown(node)}; it must be {kind} (or null).");
    }

    /// <summary>A value as it is written in the file, cut short when long.</summary>
    private static string Shown(JsonNode node)
    {
        string text = node.ToJsonString();
        return text.Length <= 40 ? text : text[..37] + "...";
    }

    /// <summary>Whether the parser stopped at NaN, Infinity or -Infinity (positions are 0-based lines and UTF-8 bytes; the text is taken as ASCII there).</summary>
    private static bool NonFiniteAt(string text, JsonException e)
    {
        if (e.LineNumber is not { } line || e.BytePositionInLine is not { } column) return false;
        string[] lines = text.Split('\n');
        if (line >= lines.Length) return false;
        string rest = lines[line][(int)Math.Min(column, lines[line].Length)..].TrimStart('-');
        return rest.StartsWith("NaN", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("Inf", StringComparison.OrdinalIgnoreCase);
    }

    private static void Build(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, value) in o) Build(value);
                break;
            case JsonArray a:
                foreach (var value in a) Build(value);
                break;
        }
    }
}
