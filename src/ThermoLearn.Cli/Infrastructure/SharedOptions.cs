using System.CommandLine;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// The options that many commands take, declared once: each command gets its own instance (an option belongs to one
/// command), with the same name, description and default everywhere.
/// </summary>
internal static class SharedOptions
{
    /// <summary><c>--json</c>: print one JSON object on stdout instead of text.</summary>
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object on stdout." };

    /// <summary><c>--seed S</c> with the command's default; <paramref name="description"/> says what the seed drives.</summary>
    public static Option<ulong> Seed(string description, ulong defaultValue = 0) => new("--seed") { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary><c>--seed S</c> without a default (null: the command picks one, e.g. the seed of the run it analyses).</summary>
    public static Option<ulong?> OptionalSeed(string description) => new("--seed") { Description = description };

    /// <summary><c>--threads T</c> (libtorch CPU threads of the neural commands).</summary>
    public static Option<int> TorchThreads(int defaultValue) => new("--threads") { Description = "libtorch CPU threads.", DefaultValueFactory = _ => defaultValue };
}
