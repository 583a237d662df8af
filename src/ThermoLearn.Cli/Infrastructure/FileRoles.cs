using System.CommandLine;
using ThermoLearn.IO;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// Which options and arguments of the tool name files, and whether they are read or written; and the one check,
/// run by <see cref="CliApp.Run"/> for every command before its action starts, that no output names an input or
/// another output. Paths are compared by <see cref="FileIdentity"/> (canonical path with symbolic links resolved,
/// and device + inode, which catches hard links). A trajectory file's sidecar (<c>FILE.json</c>, read and written
/// with .npy and .csv files) counts as part of it. Every string-valued option of every command must be listed here,
/// as a path or as <see cref="NotPaths"/>; a test walks the command tree and fails on an unlisted one.
/// </summary>
internal static class FileRoles
{
    internal enum Role { Input, Output }

    /// <summary>Options (by name, the same meaning in every command) and arguments that name files or folders.</summary>
    internal static readonly IReadOnlyDictionary<string, Role> Paths = new Dictionary<string, Role>
    {
        ["--in"] = Role.Input,
        ["--protocol"] = Role.Input,
        ["--load-model"] = Role.Input,
        ["--process"] = Role.Input, // a catalogue name or a JSON file; only existing files are compared
        ["--run"] = Role.Input,
        ["shards"] = Role.Input,
        ["parts"] = Role.Input,
        ["--statistics-out"] = Role.Output,
        ["--out"] = Role.Output,
        ["--per-trajectory"] = Role.Output,
        ["--plot"] = Role.Output,
        ["--plot-dir"] = Role.Output,
        ["--save-model"] = Role.Output,
        ["--energetics"] = Role.Output,
        ["--beliefs"] = Role.Output,
        ["--initial"] = Role.Input,
        ["--local"] = Role.Output,
        ["--regions"] = Role.Output,
        ["--density-plot"] = Role.Output,
    };

    /// <summary>String-valued options that are not paths.</summary>
    internal static readonly IReadOnlySet<string> NotPaths = new HashSet<string>
    {
        "--method", "--basis", "--basis-check", "--diffusion", "--correction", "--columns", "--hidden", "--task", "--set", "--model",
        "--optimizer", "--checkpoints", "--batches", "--title", "--sweep-tau", "--sweep-alpha", "--shard", "--scheme", "--dtype",
    };

    /// <summary>Extensions whose files carry a JSON sidecar <c>FILE.json</c> that is read and written with them.</summary>
    private static readonly string[] SidecarExtensions = [".npy", ".csv"];

    private sealed record Named(int Group, string Option, string Path, FileIdentity Identity, Role Role, bool Sidecar)
    {
        public string Describe() =>
            (Sidecar ? $"the sidecar {Path} of " : "") + (Role == Role.Input ? "the input " : "the output ") + Option + " "
            + (Sidecar ? Path[..^5] : Path);
    }

    /// <summary>Refuses, before any work, an output that is an input or another output (symbolic and hard links included).</summary>
    /// <exception cref="InvalidInputException">Two paths name the same file; the message names both options.</exception>
    public static void Check(ParseResult parse)
    {
        var named = new List<Named>();
        int group = 0; // a path and its own sidecar share a group and are not compared with each other
        foreach (var (option, value) in PathValues(parse))
        {
            if (!Paths.TryGetValue(option, out var role)) continue;
            if (string.IsNullOrWhiteSpace(value)) continue;
            if (role == Role.Input)
            {
                if (option != "--run" && Directory.Exists(value))
                    throw new InvalidInputException($"{option} {value} is a folder; give a file.");
                foreach (string part in InputParts(option, value))
                {
                    group++;
                    if (!File.Exists(part) && !Directory.Exists(part)) continue;
                    named.Add(new Named(group, option, part, FileIdentity.Of(part), role, false));
                    string sidecar = part + ".json";
                    if (File.Exists(sidecar)) named.Add(new Named(group, option, sidecar, FileIdentity.Of(sidecar), role, true));
                }
            }
            else
            {
                group++;
                named.Add(new Named(group, option, value, FileIdentity.Of(value), role, false));
                if (SidecarExtensions.Contains(Path.GetExtension(value).ToLowerInvariant()))
                    named.Add(new Named(group, option, value + ".json", FileIdentity.Of(value + ".json"), role, true));
            }
        }
        for (int i = 0; i < named.Count; i++)
            for (int j = i + 1; j < named.Count; j++)
            {
                var (a, b) = (named[i], named[j]);
                if (a.Group == b.Group || (a.Role == Role.Input && b.Role == Role.Input)) continue;
                if (!a.Identity.SameFileAs(b.Identity)) continue;
                // figures written into the run folder they analyse (beliefs analyze --run R --plot-dir R) replace nothing of it
                if (Directory.Exists(a.Path) && Directory.Exists(b.Path) && (a.Role == Role.Input || b.Role == Role.Input)) continue;
                var (o, other) = a.Role == Role.Output ? (a, b) : (b, a);
                string how = o.Identity.IsHardLinkOf(other.Identity)
                    ? $" ({o.Path} is a hard link to {other.Path}: device {o.Identity.Device}, inode {o.Identity.Inode})"
                    : $" (both resolve to {o.Identity.CanonicalPath})";
                throw new InvalidInputException(other.Role == Role.Input
                    ? $"{o.Describe()} would overwrite {other.Describe()}{how}; an output must never replace an input: give the output another name."
                    : $"{o.Describe()} and {other.Describe()} are the same file{how}; each output needs its own name.");
            }
    }

    /// <summary>The files an input value names: a path, or for --process a product of names and JSON files (a*b*c).</summary>
    private static IEnumerable<string> InputParts(string option, string value)
    {
        if (option == "--process" && !File.Exists(value) && value.Contains('*'))
            return value.Split('*', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return [value];
    }

    /// <summary>(option or argument name, value) for every string-valued option and argument given to the invoked command.</summary>
    private static IEnumerable<(string Name, string? Value)> PathValues(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        foreach (var option in command.Options)
        {
            if (parse.GetResult(option) is not { } result || result.Implicit) continue;
            foreach (var v in Values(option.ValueType, () => result.GetValueOrDefault<object?>())) yield return (option.Name, v);
        }
        foreach (var argument in command.Arguments)
        {
            if (parse.GetResult(argument) is not { } result) continue;
            foreach (var v in Values(argument.ValueType, () => result.GetValueOrDefault<object?>())) yield return (argument.Name, v);
        }
    }

    private static IEnumerable<string?> Values(Type type, Func<object?> get)
    {
        if (type == typeof(string)) return [(string?)get()];
        if (type == typeof(string[])) return (string[]?)get() ?? [];
        return [];
    }
}
