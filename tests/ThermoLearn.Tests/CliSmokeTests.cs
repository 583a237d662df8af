using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;
using Xunit;

namespace ThermoLearn.Tests;

public class CliSmokeTests
{
    [Fact]
    public void UnknownCommandIsBadInputWithExitCode2()
    {
        var (console, output, error) = CliConsole.ForTesting();
        int code = CliApp.Run(["no-such-command"], console);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", output.ToString());
        Assert.Contains("no-such-command", error.ToString());
    }
}
