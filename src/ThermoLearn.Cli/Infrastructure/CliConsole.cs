namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// Where a command writes: <see cref="Out"/> for results (exactly one JSON object with --json),
/// <see cref="Error"/> for people's text and progress. Tests pass string writers.
/// </summary>
public sealed class CliConsole
{
    public CliConsole(TextWriter output, TextWriter error, bool errorIsTerminal = false)
    {
        Out = output;
        Error = error;
        ErrorIsTerminal = errorIsTerminal;
    }

    public TextWriter Out { get; }
    public TextWriter Error { get; }

    /// <summary>True when stderr is an interactive terminal (progress may redraw one line).</summary>
    public bool ErrorIsTerminal { get; }

    public static CliConsole System { get; } = new(Console.Out, Console.Error, !Console.IsErrorRedirected);

    /// <summary>A console writing into strings, for tests.</summary>
    public static (CliConsole Console, StringWriter Out, StringWriter Error) ForTesting()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        return (new CliConsole(o, e), o, e);
    }
}
