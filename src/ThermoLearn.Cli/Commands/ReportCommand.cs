using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Reports;
using ThermoLearn.IO;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn report --in RESULT.json… --out report.html</c>: one self-contained HTML page from the
/// JSON objects other commands print with --json (see <see cref="HtmlReport"/>).
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Option<string[]>("--in")
        {
            Description = "JSON result files (the output of any command run with --json, or a beliefs run folder's run.json); several may follow one --in.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "The HTML page to write (.html).", Required = true };
        var title = new Option<string>("--title") { Description = "Page title.", DefaultValueFactory = _ => "ThermoLearn report" };
        var json = SharedOptions.Json();
        var command = new Command("report", "Render JSON results as a self-contained HTML page with figures, error bars, exact values and seeds.")
        {
            input, output, title, json,
        };
        command.SetAction(parse => Run(console, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(title)!, parse.GetValue(json)));
        return command;
    }

    private static int Run(CliConsole console, string[] inputs, string output, string title, bool json)
    {
        string ext = Path.GetExtension(output).ToLowerInvariant();
        if (ext is not (".html" or ".htm"))
            throw new InvalidInputException($"--out {output}: a report is an HTML page; use a name ending in .html.");
        if (inputs.Length == 0)
            throw new InvalidInputException("--in: give at least one JSON result file.");
        var results = inputs.Select(Load).ToList();
        var rendered = HtmlReport.Render(title, results, DateTime.UtcNow);
        OutputFile.WriteText(output, rendered.Html);
        if (json)
        {
            JsonOutput.Write(console, new JsonObject
            {
                ["output"] = output,
                ["inputs"] = inputs.Length,
                ["figures"] = rendered.Figures,
                ["measurements"] = rendered.Measurements,
                ["bytes"] = new FileInfo(output).Length,
            });
        }
        else
        {
            console.Error.WriteLine($"{output}: {inputs.Length} result{(inputs.Length == 1 ? "" : "s")}, {rendered.Measurements} measurement{(rendered.Measurements == 1 ? "" : "s")}, {rendered.Figures} figure{(rendered.Figures == 1 ? "" : "s")}.");
        }
        return CliApp.ExitOk;
    }

    private static HtmlReport.Input Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new InvalidInputException($"{path}: file is empty; expected the JSON object a command prints with --json.");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} ({e.Message.Split(" Path:")[0].TrimEnd('.')}); expected the JSON object a command prints with --json.", e);
        }
        if (node is not JsonObject obj)
            throw new InvalidInputException($"{path}: the JSON is {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}, not an object; expected the JSON object a command prints with --json.");
        CheckNumbers(path, "", obj);
        return new HtmlReport.Input(path, obj, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>
    /// Refuses numbers a report would render as if they were results: a non-finite value written as a string ("NaN",
    /// "Infinity"; ThermoLearn writes such values as null), and a standard error that is negative or not a number.
    /// </summary>
    private static void CheckNumbers(string file, string path, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                {
                    string at = path.Length == 0 ? key : path + "." + key;
                    bool isError = key is "stderr" or "standard_error" || key.EndsWith("_stderr", StringComparison.Ordinal)
                        || key.EndsWith("_standard_error", StringComparison.Ordinal) || key.EndsWith("_err", StringComparison.Ordinal);
                    if (isError && child is JsonValue ev)
                    {
                        if (!ev.TryGetValue(out double err) || !double.IsFinite(err))
                            throw new InvalidInputException($"{file}: \"{at}\" is {child.ToJsonString()}; a standard error is a finite number >= 0 (or null when there is none).");
                        if (err < 0)
                            throw new InvalidInputException($"{file}: \"{at}\" is {err}; a standard error cannot be negative.");
                    }
                    CheckNumbers(file, at, child);
                }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++) CheckNumbers(file, $"{path}[{i}]", a[i]);
                break;
            case JsonValue v when v.TryGetValue(out string? text) && IsNonFiniteText(text):
                throw new InvalidInputException($"{file}: \"{path}\" is the string \"{text}\", not a finite number; a result without a value is null.");
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number && !(v.TryGetValue(out double number) && double.IsFinite(number)):
                throw new InvalidInputException($"{file}: \"{path}\" is {v.ToJsonString()}, beyond the range of double-precision numbers (about 1.8e308); "
                    + "a report shows finite results only (a result without a value is null).");
        }
    }

    private static bool IsNonFiniteText(string text) =>
        text.Trim().ToLowerInvariant() is "nan" or "-nan" or "inf" or "-inf" or "+inf" or "infinity" or "-infinity" or "+infinity";
}
