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
            Description = "JSON result files (the output of any command run with --json, or a beliefs run folder's run.json); several may follow one --in. "
                + "Values read as numbers (beside a _stderr, exact values, series) must be finite numbers or null, standard errors >= 0; otherwise exit 2 and no page.",
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
        ResultNumbers.Check(path, obj);
        return new HtmlReport.Input(path, obj, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
