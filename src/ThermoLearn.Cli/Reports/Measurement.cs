using System.Globalization;
using System.Text.Json.Nodes;

namespace ThermoLearn.Cli.Reports;

/// <summary>
/// A number from a result with its standard error and exact value when the result gives them.
/// The deviation z = (value - exact) / stderr is what a reader checks: |z| &lt;= 3 is consistent
/// (a 0.27% chance of exceeding it for a Gaussian estimator).
/// </summary>
internal sealed record Measurement(string Source, string Path, double? Value, double? StandardError, double? Exact)
{
    public double? Deviation => Value is { } v && Exact is { } e && StandardError is { } s && s > 0 ? (v - e) / s : null;

    /// <summary>
    /// Finds, in one JSON object, the numbers that come with an error bar or an exact value. Conventions
    /// of ThermoLearn's --json output: <c>K</c> with <c>K_stderr</c> (or <c>K_standard_error</c>, <c>K_err</c>; for
    /// <c>ep_rate_S</c> also <c>stderr_S</c>, for <c>P_ep_rate</c> also <c>P_stderr</c>: <see cref="ErrorKeys"/>),
    /// <c>exact_K</c> or <c>K_exact</c>; and for the object's main quantity (ep_rate, rate, estimate, value,
    /// ep_total, mean) the bare keys <c>stderr</c> / <c>standard_error</c> and <c>exact</c> (a number, or an
    /// object keyed like the result); <c>optimum_K</c> is the exact optimum of K; <c>K_debiased</c> shares K's error
    /// bar and exact value. An <c>exact_K</c> without <c>K</c> is an exact value on its own.
    /// Returns the measurements and the keys they used.
    /// </summary>
    public static (List<Measurement> Found, HashSet<string> Used) Find(string source, string path, JsonObject obj)
    {
        var found = new List<Measurement>();
        var used = new HashSet<string>();
        string? primary = PrimaryNames.FirstOrDefault(k => Number(obj[k]) is not null);
        foreach (var (key, node) in obj)
        {
            if (Number(node) is not { } value || IsCompanion(key)) continue;
            string? errKey = ErrorKeys(key).FirstOrDefault(k => Number(obj[k]) is not null)
                ?? (key == primary ? new[] { "stderr", "standard_error" }.FirstOrDefault(k => Number(obj[k]) is not null) : null);
            string? exactKey = new[] { "exact_" + key, key + "_exact", "optimum_" + key }.FirstOrDefault(k => Number(obj[k]) is not null)
                ?? (key == primary && Number(obj["exact"]) is not null ? "exact" : null);
            // A corrected estimate (ep_rate_debiased) shares its estimator's error bar and exact value.
            if (key.EndsWith("_debiased", StringComparison.Ordinal) && errKey is null && exactKey is null)
            {
                string baseKey = key[..^"_debiased".Length];
                var (baseFound, _) = Find(source, path, new JsonObject(obj.Where(p => p.Key != key).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))));
                if (baseFound.FirstOrDefault(m => m.Path == Join(path, baseKey)) is { } b)
                {
                    found.Add(new Measurement(source, Join(path, key), value, b.StandardError, b.Exact));
                    used.Add(key);
                }
                continue;
            }
            double? exact = exactKey is null ? null : Number(obj[exactKey]);
            if (exact is null && obj["exact"] is JsonObject exactObject && Number(exactObject[key]) is { } e) exact = e;
            if (errKey is null && exact is null) continue;
            found.Add(new Measurement(source, Join(path, key), value, errKey is null ? null : Number(obj[errKey]), exact));
            used.Add(key);
            if (errKey is not null) used.Add(errKey);
            if (exactKey is not null) used.Add(exactKey);
        }
        foreach (var (key, node) in obj)
        {
            if (!key.StartsWith("exact_", StringComparison.Ordinal) || used.Contains(key) || Number(node) is not { } exact) continue;
            found.Add(new Measurement(source, Join(path, key["exact_".Length..]), null, null, exact));
            used.Add(key);
        }
        return (found, used);
    }

    /// <summary>The names of an object's main quantity, the one a bare <c>stderr</c> or <c>exact</c> belongs to, in order of precedence.</summary>
    internal static readonly string[] PrimaryNames = ["ep_rate", "rate", "estimate", "value", "ep_total", "mean"];
    internal static readonly string[] ErrorSuffixes = ["_stderr", "_standard_error", "_err"];

    /// <summary>
    /// The keys that may hold <paramref name="key"/>'s own error bar: K_stderr (K_standard_error, K_err), and the two forms
    /// the active-matter estimates write, stderr_S beside ep_rate_S (ep_rate_heldout, stderr_heldout; ep_rate_per_particle,
    /// stderr_per_particle) and P_stderr beside P_ep_rate (identity_ep_rate, identity_stderr).
    /// </summary>
    internal static IEnumerable<string> ErrorKeys(string key)
    {
        foreach (string suffix in ErrorSuffixes) yield return key + suffix;
        if (key.StartsWith("ep_rate_", StringComparison.Ordinal)) yield return "stderr_" + key["ep_rate_".Length..];
        if (key.EndsWith("_ep_rate", StringComparison.Ordinal)) yield return key[..^"ep_rate".Length] + "stderr";
    }

    /// <summary>A standard error's key: <c>stderr</c>, <c>standard_error</c> or a key ending in one of <see cref="ErrorSuffixes"/>.</summary>
    internal static bool IsError(string key) =>
        key is "stderr" or "standard_error" || ErrorSuffixes.Any(s => key.EndsWith(s, StringComparison.Ordinal));

    /// <summary>A key that qualifies another (an error bar, an exact value, an optimum) rather than holding a result of its own.</summary>
    internal static bool IsCompanion(string key) =>
        IsError(key) || key == "exact" || key.StartsWith("exact_", StringComparison.Ordinal) || key.StartsWith("optimum_", StringComparison.Ordinal)
        || key.EndsWith("_exact", StringComparison.Ordinal);

    public static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d) ? d : null;

    public static string Join(string path, string key) => path.Length == 0 ? key : path + " › " + key;

    /// <summary>
    /// A value to the precision its error bar supports: two significant digits of the error, the value to
    /// the same decimal place ("0.1823 ± 0.0041"); without an error, six significant digits.
    /// </summary>
    public static string Format(double value, double? error)
    {
        if (error is not { } s || !(s > 0)) return value.ToString("G6", CultureInfo.InvariantCulture);
        int decimals = Math.Clamp(1 - (int)Math.Floor(Math.Log10(s)), 0, 15);
        if (Math.Abs(value) >= 1e6 || (Math.Abs(value) < 1e-4 && value != 0) || s < 1e-6)
            return $"{value.ToString("G4", CultureInfo.InvariantCulture)} ± {s.ToString("G2", CultureInfo.InvariantCulture)}";
        return $"{value.ToString("F" + decimals, CultureInfo.InvariantCulture)} ± {s.ToString("F" + decimals, CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// Exact values and settings to 15 significant digits: every digit a double carries reliably, without the
    /// last-bit noise of a computed closed form (0.18000000000000016 shows as 0.18).
    /// </summary>
    public static string Plain(double value) => value.ToString("G15", CultureInfo.InvariantCulture);
}
