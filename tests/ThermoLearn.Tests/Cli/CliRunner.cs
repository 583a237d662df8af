using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// The one way the tests run the tool: <c>using static ThermoLearn.Tests.Cli.CliRunner;</c>, then
/// <c>var (code, output, error) = Run("simulate", ...)</c>. The command writes to an injected console, so a test reads
/// what a user would see on stdout and stderr, and the exit code, without starting a process.
/// </summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Error) Run(params string[] args)
    {
        var (console, output, error) = CliConsole.ForTesting();
        int code = CliApp.Run(args, console);
        return (code, output.ToString(), error.ToString());
    }
}
