using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Simulation;
using Xunit;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// The library's errors name its parameters; the tool prints them with its flags (issue 17, item 7): one message, two
/// renderings, and a flag for every parameter the library names.
/// </summary>
public sealed class FlagNamesTests
{
    [Fact]
    public void EveryParameterTheLibraryNamesHasAFlag()
    {
        foreach (var parameter in InputParameter.All)
            Assert.True(FlagNames.Knows(parameter), $"the CLI has no flag for the library parameter '{parameter.Name}'");
        Assert.True(FlagNames.Knows(ThermoLearn.Neural.Inference.NeuralModel.SaveParameter));
        Assert.True(FlagNames.Knows(ThermoLearn.Neural.ActiveMatter.ScoreModel.SaveParameter));
    }

    [Fact]
    public void ALibraryErrorSaysParametersAndTheToolSaysFlags()
    {
        var error = Assert.Throws<InvalidInputException>(() => Shard.Parse("3/2"));
        Assert.Equal("shard '3/2' is malformed; write k/N with 1 <= k <= N, e.g. shard 2/4.", error.Message);
        Assert.Equal("--shard '3/2' is malformed; write k/N with 1 <= k <= N, e.g. --shard 2/4.", FlagNames.Render(error));
        Assert.Equal(new[] { InputParameter.Shard }, error.Parameters);

        var plain = new InvalidInputException("nothing to rename --here");
        Assert.Equal(plain.Message, FlagNames.Render(plain));
        Assert.Empty(plain.Parameters);
    }

    [Fact]
    public void NestedAndConcatenatedPartsAreRenamedToo()
    {
        FormattableString advice = $"use a smaller {InputParameter.Dt}.";
        var error = InvalidInputException.Naming($"it blew up at {1.5:F1}; ", $"{advice} Or split with {InputParameter.Shard}.");
        Assert.Equal($"it blew up at {1.5:F1}; use a smaller dt. Or split with shard.", error.Message);
        Assert.Equal($"it blew up at {1.5:F1}; use a smaller --dt. Or split with --shard.", FlagNames.Render(error));
        Assert.Equal(new[] { InputParameter.Dt, InputParameter.Shard }, error.Parameters);
    }

    [Fact]
    public void TheToolPrintsTheLibrarysErrorInFlagTerms()
    {
        var (console, _, error) = CliConsole.ForTesting();
        int code = CliApp.Run(["simulate", "--model", "driven-trap-2d", "--trajectories", "2", "--steps", "10", "--dt", "0.01", "--shard", "3/2",
            "--out", Path.Combine(Path.GetTempPath(), $"thermolearn-flagnames-{Guid.NewGuid():N}.npy")], console);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("--shard '3/2' is malformed", error.ToString());
    }
}
