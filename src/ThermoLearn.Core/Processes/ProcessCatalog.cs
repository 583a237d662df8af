using System.Globalization;

namespace ThermoLearn.Processes;

/// <summary>
/// Processes by name, as the command line names them: <c>mess3</c> (x, a), <c>rrxor</c> (p1, p2), <c>z1r</c> (p),
/// <c>tom_quantum</c> (a, b), a process file <c>FILE.json</c>, or a product of these joined by <c>*</c>
/// (e.g. <c>mess3*mess3*mess3</c>; factor 0 first = most significant token digit), or a chain joined by <c>&gt;</c>
/// (e.g. <c>mess3&gt;mess3</c>: factor i's parameters chosen by the token factor i-1 emits at the same step,
/// <see cref="ProcessComposition.Chain"/>; factor i has one variant per token of factor i-1), or a chain through the
/// hidden state joined by <c>&gt;&gt;</c> (e.g. <c>mess3&gt;&gt;mess3</c>: factor i's parameters chosen by the state factor i-1 is
/// in, <see cref="ProcessComposition.StateChain"/>; one variant per state of factor i-1).
/// </summary>
/// <remarks>
/// Settings are <c>key=value</c>: <c>x=0.05</c> sets x in every factor that has it, <c>1:a=0.7</c> only in factor 1,
/// <c>1.2:a=0.3</c> only in variant 2 of factor 1 of a chain (used when factor 0 emits token 2, or in a chain
/// through the hidden state while factor 0 is in state 2),
/// and <c>noise=e</c> mixes the whole process with the uniform tensor (<see cref="ProcessComposition.WithNoise"/>).
/// Defaults: mess3 x=0.15, a=0.6; rrxor p1=p2=0.5; z1r p=0.5; tom_quantum a=1, b=4.3.
/// </remarks>
public static class ProcessCatalog
{
    private sealed record Entry(string Name, string[] Parameters, double[] Defaults, Func<double[], HiddenMarkovProcess> Build, string Summary);

    private static readonly Entry[] Entries =
    [
        new("mess3", ["x", "a"], [0.15, 0.6], p => StandardProcesses.Mess3(p[0], p[1]), "Mess3(x, a): 3 states, 3 tokens, non-unifilar, fractal mixed states"),
        new("rrxor", ["p1", "p2"], [0.5, 0.5], p => StandardProcesses.Rrxor(p[0], p[1]), "RRXOR(p1, p2): two random bits then their XOR; 5 states, 2 tokens"),
        new("z1r", ["p"], [0.5], p => StandardProcesses.Z1R(p[0]), "Z1R(p): 0, 1, then a random bit; 3 states, 2 tokens"),
        new("tom_quantum", ["a", "b"], [1.0, 4.3], p => StandardProcesses.TomQuantum(p[0], p[1]), "TomQuantum(a, b): 3-dimensional generalised HMM, 4 tokens"),
    ];

    /// <summary>The built-in process names.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>One line per built-in process: name, parameters with defaults, summary.</summary>
    public static IEnumerable<string> Describe() =>
        Entries.Select(e => $"{e.Name} ({string.Join(", ", e.Parameters.Select((p, i) => $"{p}={e.Defaults[i].ToString(CultureInfo.InvariantCulture)}"))}): {e.Summary}");

    /// <summary>
    /// The process named by <paramref name="spec"/> with <paramref name="settings"/> applied.
    /// </summary>
    /// <exception cref="InvalidInputException">Unknown names or parameters, malformed settings, invalid values, bad files.</exception>
    public static HiddenMarkovProcess Create(string spec, IEnumerable<string>? settings = null)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new InvalidInputException("no process given: name one of " + string.Join(", ", Names) + ", or a FILE.json.");
        var parsed = ParseSettings(settings ?? []);
        double? noise = null;
        if (parsed.Remove((null, null, "noise"), out double e)) noise = e;

        bool stateChain = spec.Contains(">>", StringComparison.Ordinal);
        bool chain = spec.Contains('>');
        if (chain && spec.Contains('*'))
            throw new InvalidInputException($"process '{spec}': use either '*' (independent product) or '>' / '>>' (chain), not both.");
        var parts = stateChain ? spec.Split(">>", StringSplitOptions.TrimEntries) : spec.Split(chain ? '>' : '*', StringSplitOptions.TrimEntries);
        if (stateChain && parts.Any(p => p.Contains('>')))
            throw new InvalidInputException($"process '{spec}': use either '>' (chain by the token) or '>>' (chain through the hidden state) between all factors, not both.");
        var variants = new HiddenMarkovProcess[parts.Length][];
        var used = new HashSet<(int?, int?, string)>();
        for (int f = 0; f < parts.Length; f++)
        {
            string part = parts[f];
            int count = !chain || f == 0 ? 1 : stateChain ? variants[f - 1][0].States : variants[f - 1][0].Tokens;
            variants[f] = new HiddenMarkovProcess[count];
            if (part.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || File.Exists(part))
            {
                var file = ProcessFile.Read(part);
                Array.Fill(variants[f], file);
                continue;
            }
            string key = part.ToLowerInvariant().Replace('-', '_');
            if (key == "tomquantum") key = "tom_quantum";
            var entry = Entries.FirstOrDefault(x => x.Name == key)
                ?? throw new InvalidInputException($"unknown process '{part}'; known: {string.Join(", ", Names)}, or a process file FILE.json.");
            for (int v = 0; v < count; v++)
            {
                var values = (double[])entry.Defaults.Clone();
                for (int k = 0; k < entry.Parameters.Length; k++)
                {
                    string p = entry.Parameters[k];
                    if (chain && parsed.TryGetValue((f, v, p), out double variant)) { values[k] = variant; used.Add((f, v, p)); }
                    else if (parsed.TryGetValue((f, null, p), out double specific)) { values[k] = specific; used.Add((f, null, p)); }
                    else if (parsed.TryGetValue((null, null, p), out double general)) { values[k] = general; used.Add((null, null, p)); }
                }
                variants[f][v] = entry.Build(values);
            }
        }
        foreach (var (factor, variant, name) in parsed.Keys)
            if (!used.Contains((factor, variant, name)))
            {
                string where = factor is { } fi ? $"factor {fi} ({(fi < parts.Length ? parts[fi] : "none")})" : $"'{spec}'";
                if (variant is { } vi) where = $"variant {vi} of {where}" + (chain ? "" : " (variants exist only in a chain, a>b or a>>b)");
                throw new InvalidInputException($"setting '{(factor is null ? "" : factor + (variant is null ? "" : "." + variant) + ":")}{name}' does not apply to {where}; parameters: "
                    + string.Join("; ", Entries.Select(x => $"{x.Name}: {string.Join(", ", x.Parameters)}")) + "; and noise for any process.");
            }
        var process = parts.Length == 1 ? variants[0][0]
            : stateChain ? ProcessComposition.StateChain(variants.Select(v => (IReadOnlyList<HiddenMarkovProcess>)v).ToArray())
            : chain ? ProcessComposition.Chain(variants.Select(v => (IReadOnlyList<HiddenMarkovProcess>)v).ToArray())
            : ProcessComposition.Product(variants.Select(v => v[0]).ToArray());
        return noise is { } n ? ProcessComposition.WithNoise(process, n) : process;
    }

    private static Dictionary<(int?, int?, string), double> ParseSettings(IEnumerable<string> settings)
    {
        var result = new Dictionary<(int?, int?, string), double>();
        foreach (string raw in settings)
        {
            int eq = raw.IndexOf('=');
            if (eq <= 0 || eq == raw.Length - 1)
                throw new InvalidInputException($"setting '{raw}' is not of the form name=value (e.g. x=0.05, or 1:a=0.7 for factor 1).");
            string name = raw[..eq].Trim().ToLowerInvariant();
            string text = raw[(eq + 1)..].Trim();
            int? factor = null, variant = null;
            int colon = name.IndexOf(':');
            if (colon >= 0)
            {
                string target = name[..colon];
                int dot = target.IndexOf('.');
                if (dot >= 0)
                {
                    if (!int.TryParse(target[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int vi))
                        throw new InvalidInputException($"setting '{raw}': '{target[(dot + 1)..]}' is not a variant index (0, 1, ...).");
                    variant = vi;
                    target = target[..dot];
                }
                if (!int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out int fi))
                    throw new InvalidInputException($"setting '{raw}': '{target}' is not a factor index (0, 1, ...).");
                factor = fi;
                name = name[(colon + 1)..];
            }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                throw new InvalidInputException($"setting '{raw}': '{text}' is not a finite number.");
            if (!result.TryAdd((factor, variant, name), value))
                throw new InvalidInputException($"setting '{raw}' is given twice.");
        }
        return result;
    }
}
