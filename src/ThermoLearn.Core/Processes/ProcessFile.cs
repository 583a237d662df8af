using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.IO;

namespace ThermoLearn.Processes;

/// <summary>
/// Hidden Markov processes in JSON: <c>{"name": "...", "tokens": V, "states": S, "T": [V][S][S]}</c> with
/// <c>T[x][i][j] = P(emit x, next state j | state i)</c>, plus optionally <c>"generalized": true</c> for a GHMM
/// (negative entries allowed) and <c>"stationary": [S]</c> when the hidden chain has several stationary laws.
/// </summary>
public static class ProcessFile
{
    /// <summary>The keys a process file may hold; any other (a misspelled "stationry") is refused rather than dropped.</summary>
    private static readonly string[] Keys = ["name", "tokens", "states", "T", "generalized", "stationary"];

    /// <summary>Reads and validates a process file.</summary>
    /// <exception cref="InvalidInputException">Missing or empty file, malformed JSON, wrong shapes, non-numbers, negative
    /// entries in an HMM, rows that do not sum to 1; the message names the file and the entry.</exception>
    public static HiddenMarkovProcess Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: process file not found.");
        string text = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidInputException($"{path}: process file is empty.");
        return Parse(text, path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses process JSON; <paramref name="source"/> names it in messages.</summary>
    public static HiddenMarkovProcess Parse(string json, string source = "process JSON", string? defaultName = null)
    {
        JsonNode? root;
        try
        {
            root = ThermoLearn.IO.JsonInput.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
        if (root is not JsonObject obj)
            throw new InvalidInputException($"{source}: expected a JSON object {{\"name\", \"tokens\", \"states\", \"T\"}}.");
        var unknown = obj.Select(kv => kv.Key).Where(k => !Keys.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
            throw new InvalidInputException($"{source}: '{string.Join("', '", unknown)}' {(unknown.Count == 1 ? "is not a key" : "are not keys")} of a process file; "
                + $"it may hold {string.Join(", ", Keys.Select(k => $"\"{k}\""))} (see docs/processes.md).");

        string name = obj["name"] is JsonValue nv && nv.TryGetValue(out string? n) && !string.IsNullOrWhiteSpace(n) ? n : defaultName ?? "process";
        int v = PositiveInt(obj, "tokens", source);
        int s = PositiveInt(obj, "states", source);
        bool generalized = false;
        if (obj["generalized"] is { } g)
        {
            if (g is not JsonValue gv || !gv.TryGetValue(out bool gb))
                throw new InvalidInputException($"{source}: \"generalized\" must be true or false.");
            generalized = gb;
        }
        if ((long)v * s * s > 1L << 27)
            throw new InvalidInputException($"{source}: {v} tokens x {s} x {s} states is too large (at most {1L << 27} entries).");

        if (obj["T"] is not JsonArray tArray)
            throw new InvalidInputException($"{source}: missing \"T\": an array of {v} matrices, each {s} x {s} (T[x][i][j] = P(emit x, go to j | in i)).");
        if (tArray.Count != v)
            throw new InvalidInputException($"{source}: \"T\" has {tArray.Count} matrices but \"tokens\" is {v}; T must have shape [{v}][{s}][{s}].");
        var t = new double[v * s * s];
        for (int x = 0; x < v; x++)
        {
            if (tArray[x] is not JsonArray m || m.Count != s)
                throw new InvalidInputException($"{source}: T[{x}] must be a {s} x {s} matrix (an array of {s} rows); got {Describe(tArray[x])}.");
            for (int i = 0; i < s; i++)
            {
                if (m[i] is not JsonArray row || row.Count != s)
                    throw new InvalidInputException($"{source}: T[{x}][{i}] must be a row of {s} numbers; got {Describe(m[i])}.");
                for (int j = 0; j < s; j++)
                    t[(x * s + i) * s + j] = Number(row[j], $"T[{x}][{i}][{j}]", source);
            }
        }
        double[]? stationary = null;
        if (obj["stationary"] is { } st)
        {
            if (st is not JsonArray sa || sa.Count != s)
                throw new InvalidInputException($"{source}: \"stationary\" must be an array of {s} numbers; got {Describe(st)}.");
            stationary = new double[s];
            for (int i = 0; i < s; i++) stationary[i] = Number(sa[i], $"stationary[{i}]", source);
        }
        try
        {
            return new HiddenMarkovProcess(name, v, s, t, generalized, stationary);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>Writes <paramref name="process"/> as JSON (atomically); reading it back gives the same tensor.</summary>
    public static void Write(string path, HiddenMarkovProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        AtomicFile.WriteText(path, ToJson(process));
    }

    /// <summary>The process as JSON text (root belief included, so files of reducible chains read back).</summary>
    public static string ToJson(HiddenMarkovProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        int v = process.Tokens, s = process.States;
        var t = new JsonArray();
        for (int x = 0; x < v; x++)
        {
            var m = new JsonArray();
            for (int i = 0; i < s; i++)
            {
                var row = new JsonArray();
                for (int j = 0; j < s; j++) row.Add(process[x, i, j]);
                m.Add(row);
            }
            t.Add(m);
        }
        var obj = new JsonObject
        {
            ["name"] = process.Name,
            ["tokens"] = v,
            ["states"] = s,
            ["generalized"] = process.IsGeneralized,
            ["stationary"] = new JsonArray(process.Stationary.ToArray().Select(p => (JsonNode?)p).ToArray()),
            ["T"] = t,
        };
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    private static int PositiveInt(JsonObject obj, string key, string source)
    {
        if (obj[key] is not JsonValue value || !value.TryGetValue(out double d))
            throw new InvalidInputException($"{source}: missing or non-numeric \"{key}\": a positive integer is required.");
        if (!(d >= 1) || d != Math.Floor(d) || d > int.MaxValue)
            throw new InvalidInputException($"{source}: \"{key}\" = {d} must be a positive integer.");
        return (int)d;
    }

    private static double Number(JsonNode? node, string where, string source)
    {
        if (node is JsonValue value && value.TryGetValue(out double d))
        {
            if (!double.IsFinite(d)) throw new InvalidInputException($"{source}: {where} = {d} is not a finite number.");
            return d;
        }
        throw new InvalidInputException($"{source}: {where} must be a number; got {Describe(node)}.");
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray a => $"an array of {a.Count} entries",
        JsonObject => "an object",
        _ => node.ToJsonString(),
    };
}
