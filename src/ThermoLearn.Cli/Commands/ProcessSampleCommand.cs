using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.IO;
using ThermoLearn.Processes;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn process sample --process ... --sequences N --length L --seed S --out FILE.npy [--beliefs FILE.npy]</c>:
/// N sequences each started from pi, written as an integer array (N, L); optionally the beliefs after each prefix as a
/// float64 array (N, L, S).
/// </summary>
internal static class ProcessSampleCommand
{
    public static Command Create(CliConsole console)
    {
        var process = ProcessCommand.ProcessOption();
        var set = ProcessCommand.SetOption();
        var sequences = new Option<int>("--sequences", "-n") { Description = "Number of sequences.", DefaultValueFactory = _ => 1000 };
        var length = new Option<int>("--length", "-l") { Description = "Tokens per sequence (n_ctx + 1 for training data).", DefaultValueFactory = _ => 11 };
        var seed = SharedOptions.Seed("Seed; sequence i uses the random stream (seed, i).");
        var output = new Option<string>("--out", "-o") { Description = "Output .npy file: tokens, shape (sequences, length).", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Token type in the file: int64 (numpy's default) or int32.", DefaultValueFactory = _ => "int64" };
        var beliefs = new Option<string?>("--beliefs") { Description = "Also write the belief after each prefix, float64 (sequences, length, states), to this .npy." };
        var json = SharedOptions.Json();
        var command = new Command("sample", "Sample token sequences from a process (each from the stationary law pi).")
        { process, set, sequences, length, seed, output, dtype, beliefs, json };
        command.SetAction(parse =>
        {
            var p = ProcessCatalog.Create(parse.GetValue(process)!, parse.GetValue(set));
            int n = parse.GetValue(sequences), l = parse.GetValue(length);
            ulong s = parse.GetValue(seed);
            string path = parse.GetValue(output)!;
            string type = parse.GetValue(dtype)!.ToLowerInvariant();
            string? beliefPath = parse.GetValue(beliefs);
            if (n < 1) throw new InvalidInputException($"--sequences {n} must be >= 1.");
            if (l < 1) throw new InvalidInputException($"--length {l} must be >= 1.");
            if ((long)n * l > Array.MaxLength) throw new InvalidInputException($"--sequences x --length = {(long)n * l} tokens is too many for one file.");
            if (type is not ("int64" or "int32")) throw new InvalidInputException($"--dtype '{type}' must be int64 or int32.");
            CheckNpyPath(path, "--out");
            if (beliefPath is not null)
            {
                CheckNpyPath(beliefPath, "--beliefs");
                if ((long)n * l * p.States > Array.MaxLength) throw new InvalidInputException($"--beliefs: {(long)n * l * p.States} values are too many for one file.");
            }

            var clock = Stopwatch.StartNew();
            var tokens = new ProcessSampler(p).Sample(n, l, s);
            double seconds = clock.Elapsed.TotalSeconds;
            double[]? beliefValues = beliefPath is null ? null : p.BeliefsAlong(tokens, n, l);
            NpyFormat.WriteArray(path, tokens, [n, l], int32: type == "int32");
            if (beliefPath is not null) NpyFormat.WriteArray(beliefPath, beliefValues!, [n, l, p.States]);

            var counts = new long[p.Tokens];
            foreach (int t in tokens) counts[t]++;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console, new JsonObject
                {
                    ["process"] = p.Name,
                    ["tokens"] = p.Tokens,
                    ["states"] = p.States,
                    ["sequences"] = n,
                    ["length"] = l,
                    ["seed"] = s,
                    ["out"] = Path.GetFullPath(path),
                    ["dtype"] = type,
                    ["beliefs"] = beliefPath is null ? null : Path.GetFullPath(beliefPath),
                    ["token_frequencies"] = JsonOutput.Array(counts.Select(c => (double)c / tokens.Length)),
                    ["sampling_seconds"] = seconds,
                });
            }
            else
            {
                console.Out.WriteLine($"wrote {n} x {l} tokens of {p.Name} (seed {s}) to {path}{(beliefPath is null ? "" : $", beliefs to {beliefPath}")}");
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    private static void CheckNpyPath(string path, string option)
    {
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new InvalidInputException($"{option} {path}: the output must be a .npy file.");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || !Directory.Exists(folder))
            throw new InvalidInputException($"{option} {path}: the folder '{folder}' does not exist.");
    }
}
