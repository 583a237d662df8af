using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ThermoLearn.Cli.Reports;

/// <summary>
/// Checks, before anything is rendered, every value a report reads as a number, so that a malformed result is refused
/// (exit 2, the file and the key path named, no page written) rather than shown as a setting or silently dropped from a
/// measurement, a figure or a table. Read as numbers (the conventions of <see cref="Measurement.Find"/> and the figures):
/// <list type="bullet">
/// <item>standard errors (<c>stderr</c>, <c>standard_error</c>, <c>K_stderr</c>, <c>K_standard_error</c>, <c>K_err</c>,
/// <c>stderr_S</c> beside <c>ep_rate_S</c>, <c>P_stderr</c> beside <c>P_ep_rate</c>: <see cref="Measurement.ErrorKeys"/>): a finite
/// number &gt;= 0, or null when there is none; an array of them (a series' band, a matrix of errors) element by element;</item>
/// <item>a value with an error bar (<c>K</c> beside <c>K_stderr</c>; the object's main quantity beside a bare <c>stderr</c>) and
/// its corrected form <c>K_debiased</c>: a finite number or null (an array when its error is an array);</item>
/// <item>a value and its exact value or optimum (<c>exact_K</c>, <c>K_exact</c>, <c>optimum_K</c>, a bare <c>exact</c> or an
/// <c>exact</c> object keyed like the result) once either side is a number: both finite numbers or null;</item>
/// <item>arrays holding numbers (series, axes, matrix rows) and columns of a table of records that hold numbers in
/// some rows: every element a number or null.</item>
/// </list>
/// Anywhere, a number written as a string ("NaN", "Infinity": ThermoLearn writes such values as null) and a literal beyond
/// double range are refused. The belief-state section checks the fields it reads itself (<see cref="HtmlReport"/>).
/// </summary>
internal static class ResultNumbers
{
    public static void Check(string file, JsonObject result) => Walk(file, "", result);

    private static void Walk(string file, string path, JsonNode? node)
    {
        switch (node)
        {
            // Depth first, so that the most specific message wins: a standard error's own ("Infinity" under stderr), a
            // number written as a string, the value beside its error bar, then the column of a table.
            case JsonObject o:
                foreach (var (key, child) in o)
                    if (Measurement.IsError(key)) StandardErrors(file, Join(path, key), child);
                foreach (var (key, child) in o)
                    if (!Measurement.IsError(key)) Walk(file, Join(path, key), child);
                CheckObject(file, path, o);
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++) Walk(file, $"{path}[{i}]", a[i]);
                CheckArray(file, path, a);
                break;
            case JsonValue v when v.TryGetValue(out string? text) && IsNonFiniteText(text):
                throw new InvalidInputException($"{file}: \"{path}\" is the string \"{text}\", not a finite number; a result without a value is null.");
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number && !(v.TryGetValue(out double number) && double.IsFinite(number)):
                throw new InvalidInputException($"{file}: \"{path}\" is {v.ToJsonString()}, beyond the range of double-precision numbers (about 1.8e308); "
                    + "a report shows finite results only (a result without a value is null).");
        }
    }

    private static void CheckObject(string file, string path, JsonObject o)
    {
        // The main quantity is the first of the conventional names present (whatever it holds: "abc" under ep_rate beside
        // a stderr is an error, not a reason to look further down the list).
        string? primary = Measurement.PrimaryNames.FirstOrDefault(k => o.ContainsKey(k) && o[k] is null or JsonValue);
        bool bareError = o.ContainsKey("stderr") || o.ContainsKey("standard_error");
        foreach (var (key, child) in o)
        {
            string at = Join(path, key);
            if (Measurement.IsCompanion(key)) continue;

            // A value with an error bar: its own (K_stderr) or, for the main quantity, the object's bare stderr.
            string? errorKey = Measurement.ErrorKeys(key).FirstOrDefault(o.ContainsKey)
                ?? (key == primary && bareError ? (o.ContainsKey("stderr") ? "stderr" : "standard_error") : null);
            if (errorKey is not null)
            {
                // stderr_S (beside ep_rate_S) is an error bar by its pairing only: "stderr_from" elsewhere is a word
                if (!Measurement.IsError(errorKey)) StandardErrors(file, Join(path, errorKey), o[errorKey]);
                Values(file, at, child, $"the value of \"{Join(path, errorKey)}\"", o[errorKey] is JsonArray);
            }

            // A value with an exact value or optimum: as soon as either side is a number, both must be.
            var exacts = new List<(string Path, JsonNode? Node)>();
            foreach (string k in new[] { "exact_" + key, key + "_exact", "optimum_" + key })
                if (o.ContainsKey(k)) exacts.Add((Join(path, k), o[k]));
            if (key == primary && o.ContainsKey("exact") && o["exact"] is null or JsonValue && o["exact"]?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                exacts.Add((Join(path, "exact"), o["exact"]));
            if (o["exact"] is JsonObject exactObject && exactObject.ContainsKey(key))
                exacts.Add((Join(Join(path, "exact"), key), exactObject[key]));
            if (exacts.Count > 0 && (IsNumber(child) || exacts.Any(e => IsNumber(e.Node))))
            {
                Values(file, at, child, $"the value compared with \"{exacts[0].Path}\"", child is JsonArray);
                foreach (var (exactPath, node) in exacts)
                    Values(file, exactPath, node, $"the exact value of \"{at}\"", node is JsonArray);
            }

            // A corrected estimate shares its estimator's error bar and exact value.
            if (key.EndsWith("_debiased", StringComparison.Ordinal) && key[..^"_debiased".Length] is var baseKey && o.ContainsKey(baseKey)
                && (Measurement.ErrorKeys(baseKey).Any(o.ContainsKey) || (baseKey == primary && bareError)))
                Values(file, at, child, $"the corrected form of \"{Join(path, baseKey)}\"", child is JsonArray);
        }
    }

    /// <summary>An array that holds numbers holds nothing else but null; so does a column of records that holds numbers in some rows.</summary>
    private static void CheckArray(string file, string path, JsonArray a)
    {
        int firstNumber = FirstIndex(a, node => IsNumber(node));
        if (firstNumber >= 0)
            for (int i = 0; i < a.Count; i++)
                if (a[i] is not null && !IsNumber(a[i]))
                    throw new InvalidInputException($"{file}: \"{path}[{i}]\" is {Show(a[i])} in an array of numbers (\"{path}[{firstNumber}]\" is {Show(a[firstNumber])}); "
                        + "each element must be a finite number (null for a missing value).");
        var rows = a.OfType<JsonObject>().ToList();
        if (rows.Count < 2) return;
        foreach (string column in rows.SelectMany(r => r.Select(p => p.Key)).Distinct())
        {
            int numeric = FirstIndex(a, node => node is JsonObject row && IsNumber(row[column]));
            if (numeric < 0) continue;
            for (int i = 0; i < a.Count; i++)
                if (a[i] is JsonObject row && row[column] is JsonValue value && !IsNumber(value))
                    throw new InvalidInputException($"{file}: \"{path}[{i}].{column}\" is {Show(value)} in a column of numbers (\"{path}[{numeric}].{column}\" is {Show(a[numeric]![column])}); "
                        + "each row's value must be a finite number (null for a missing value).");
        }
    }

    private static int FirstIndex(JsonArray a, Func<JsonNode?, bool> match)
    {
        for (int i = 0; i < a.Count; i++)
            if (match(a[i])) return i;
        return -1;
    }

    private static void StandardErrors(string file, string path, JsonNode? node)
    {
        switch (node)
        {
            case null:
                return;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++) StandardErrors(file, $"{path}[{i}]", a[i]);
                return;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double error) && double.IsFinite(error):
                if (error < 0)
                    throw new InvalidInputException($"{file}: \"{path}\" is {error.ToString("G", CultureInfo.InvariantCulture)}; a standard error cannot be negative.");
                return;
            default:
                throw new InvalidInputException($"{file}: \"{path}\" is {Show(node)}; a standard error is a finite number >= 0 (or null when there is none).");
        }
    }

    private static void Values(string file, string path, JsonNode? node, string what, bool arrayAllowed)
    {
        switch (node)
        {
            case null:
                return;
            case JsonArray a when arrayAllowed:
                for (int i = 0; i < a.Count; i++) Values(file, $"{path}[{i}]", a[i], what, arrayAllowed: true);
                return;
            case JsonValue when IsNumber(node):
                return;
            default:
                throw new InvalidInputException($"{file}: \"{path}\" is {Show(node)}, not a finite number; as {what} it is read as a number (null when there is none).");
        }
    }

    private static bool IsNumber(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && double.IsFinite(d);

    private static string Show(JsonNode? node)
    {
        string text = node?.ToJsonString() ?? "null";
        return text.Length <= 60 ? text : text[..57] + "...";
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static bool IsNonFiniteText(string text) =>
        text.Trim().ToLowerInvariant() is "nan" or "-nan" or "inf" or "-inf" or "+inf" or "infinity" or "-infinity" or "+infinity";
}
