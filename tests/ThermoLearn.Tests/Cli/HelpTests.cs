using System.CommandLine;
using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// <c>--help</c> prints usage and exit 0 for every command, before any rule about the command's values applies:
/// <c>merge --help</c> and <c>reduce --help</c> (a required argument not given) used to abort with an unhandled exception.
/// </summary>
public sealed class HelpTests
{
    [Fact]
    public void EveryCommandPrintsItsUsage()
    {
        var paths = new List<string[]>();
        void Walk(Command command, string[] path)
        {
            paths.Add(path);
            foreach (var sub in command.Subcommands) Walk(sub, [.. path, sub.Name]);
        }
        var (console, _, _) = CliConsole.ForTesting();
        Walk(CliApp.BuildRoot(console), []);
        Assert.Contains(paths, p => p.SequenceEqual(["merge"]));
        Assert.Contains(paths, p => p.SequenceEqual(["reduce"]));
        foreach (var path in paths)
        {
            var (code, output, error) = Run([.. path, "--help"]);
            Assert.True(code == CliApp.ExitOk, $"thermolearn {string.Join(" ", path)} --help: exit {code}: {error}");
            Assert.Contains("Usage:", output);
        }
    }

    [Fact]
    public void HelpWinsOverAnOutputThatNamesTheInput()
    {
        string folder = Directory.CreateTempSubdirectory("thermolearn-help-").FullName;
        try
        {
            string file = Path.Combine(folder, "a.npy");
            File.WriteAllBytes(file, [1, 2, 3]);
            var (code, output, _) = Run("convert", "--in", file, "--out", file, "--help");
            Assert.Equal(CliApp.ExitOk, code);
            Assert.Contains("Usage:", output);
            Assert.Equal([1, 2, 3], File.ReadAllBytes(file));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
