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
