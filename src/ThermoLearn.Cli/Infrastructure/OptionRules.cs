using System.CommandLine;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// Checks that hold for every command, run by <see cref="CliApp.Run"/> after parsing and before the command's action:
/// no output names an input or another output (<see cref="FileRoles"/>), and no <c>--set name=value</c> sets one name twice
/// (the last value would otherwise win silently).
/// </summary>
internal static class OptionRules
{
    public static void Check(ParseResult parse)
    {
        FileRoles.Check(parse);
        RepeatedSettings(parse);
    }

    private static void RepeatedSettings(ParseResult parse)
    {
        foreach (var option in parse.CommandResult.Command.Options)
        {
            if (option.Name != "--set" || option.ValueType != typeof(string[])) continue;
            if (parse.GetResult(option) is not { Implicit: false } result) continue;
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string item in result.GetValueOrDefault<string[]>() ?? [])
            {
                int eq = item.IndexOf('=');
                if (eq <= 0) continue; // malformed: the command's own parser says what is wrong
                string name = item[..eq].Trim();
                if (seen.TryGetValue(name, out string? first))
                    throw new InvalidInputException($"--set gives '{name}' twice ('{first}' and '{item}'); give each setting once.");
                seen[name] = item;
            }
        }
    }
}
