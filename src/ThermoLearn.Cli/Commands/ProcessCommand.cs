using System.CommandLine;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Processes;

namespace ThermoLearn.Cli.Commands;

/// <summary><c>thermolearn process</c>: hidden Markov processes (info, sample). See docs/processes.md.</summary>
internal static class ProcessCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("process", "Hidden Markov processes: exact information measures and mixed states (info), sequence sampling (sample).");
        command.Add(ProcessInfoCommand.Create(console));
        command.Add(ProcessSampleCommand.Create(console));
        return command;
    }

    /// <summary>--process NAME|FILE.json (products with '*').</summary>
    public static Option<string> ProcessOption() => new("--process", "-p")
    {
        Description = "Process: " + string.Join(", ", ProcessCatalog.Names) + ", a FILE.json ({\"name\",\"tokens\",\"states\",\"T\"}), or a product such as mess3*mess3.",
        Required = true,
    };

    /// <summary>--set name=value (repeatable).</summary>
    public static Option<string[]> SetOption() => new("--set")
    {
        Description = "Parameter, repeatable: x=0.05 (every factor with x), 1:a=0.7 (factor 1 only), noise=0.1 (uniform mixing). "
            + "Defaults: " + string.Join("; ", ProcessCatalog.Describe()),
        AllowMultipleArgumentsPerToken = false,
    };
}
