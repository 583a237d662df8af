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
        var root = JsonNode.Parse(text, documentOptions: options);
        try { Build(root); }
        catch (ArgumentException e) { throw new JsonException($"a key appears twice in one object ({e.Message})", e); }
        return root;
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
