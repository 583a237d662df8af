using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// The parser's messages in the user's terms. A value that does not convert to its option's type is reported by the
/// library as "Cannot parse argument 'abc' for option '--dt' as expected type 'System.Nullable`1[System.Double]'": a .NET
/// type name that means nothing to someone at a shell or in Python. Here it reads "--dt 'abc' is not a number".
/// </summary>
internal static class ParseMessages
{
    /// <summary>
    /// What is wrong with the command line, one message each: a value its option's type cannot hold says what kind of
    /// value the option takes (also a value the library would read otherwise: it takes "1,5" for 15, digits and a
    /// thousands separator); any other error as the library wrote it. Empty when the command line parses.
    /// </summary>
    public static List<string> Of(ParseResult parse)
    {
        var messages = new List<string>();
        var reported = new HashSet<Option>();
        foreach (var error in parse.Errors)
        {
            var option = error.SymbolResult switch
            {
                OptionResult o => o,
                ArgumentResult { Parent: OptionResult o } => o,
                _ => null,
            };
            if (option is not null && Plain(option) is { } plain)
            {
                if (reported.Add(option.Option)) messages.Add(plain);
            }
            else messages.Add(error.Message);
        }
        for (var command = parse.CommandResult; command is not null; command = command.Parent as CommandResult)
            foreach (var option in command.Children.OfType<OptionResult>())
                if (!reported.Contains(option.Option) && Plain(option) is { } plain)
                {
                    reported.Add(option.Option);
                    messages.Add(plain);
                }
        return messages;
    }

    /// <summary>"--dt 'abc' is not a number" for the first value of <paramref name="option"/> its type cannot hold; null when all fit.</summary>
    private static string? Plain(OptionResult option)
    {
        var type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
        foreach (var token in option.Tokens)
            if (Problem(token.Value, type) is { } problem) return $"{option.Option.Name} '{token.Value}' {problem}.";
        return null;
    }

    /// <summary>Why <paramref name="text"/> is not a value of <paramref name="type"/> (null when it is one, or the type is not a number or switch).</summary>
    internal static string? Problem(string text, Type type)
    {
        if (type == typeof(double))
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? null
                : text.Contains(',') && double.TryParse(text.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                    ? "is not a number (write the decimal point as '.', e.g. " + text.Replace(',', '.') + ")"
                    : "is not a number";
        if (type == typeof(bool))
            return bool.TryParse(text, out _) ? null : "is not true or false";
        var range = IntegerRange(type);
        if (range is not { } r) return null;
        if (!BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            return "is not a whole number";
        if (value > r.Max) return $"is too large (at most {r.Max})";
        if (value < r.Min) return r.Min.IsZero ? $"is negative (give a whole number from 0 to {r.Max})" : $"is too small (at least {r.Min})";
        return null;
    }

    private static (BigInteger Min, BigInteger Max)? IntegerRange(Type type) =>
        type == typeof(int) ? (int.MinValue, int.MaxValue)
        : type == typeof(long) ? (long.MinValue, long.MaxValue)
        : type == typeof(ulong) ? (ulong.MinValue, ulong.MaxValue)
        : type == typeof(uint) ? (uint.MinValue, uint.MaxValue)
        : null;
}
