using System.CommandLine;
using System.CommandLine.Help;
using ThermoLearn.Cli.Infrastructure;

namespace ThermoLearn.Cli;

/// <summary>
/// The <c>thermolearn</c> tool: parse, validate, run. Commands write to an injected <see cref="CliConsole"/>
/// so tests read exactly what a user sees. Exit codes: 0 success, 2 bad input (a message on stderr,
/// no output file left behind), 1 an internal error or libtorch missing on this machine (a message on stderr).
/// </summary>
public static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitInternalError = 1;
    public const int ExitBadInput = 2;

    /// <summary>Every command of the tool; a new command is one line here and one file in Commands/.</summary>
    private static IEnumerable<Command> Commands(CliConsole console)
    {
        yield return ThermoLearn.Cli.Commands.OptimizeCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.EvaluateProtocolCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ProcessCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ConvertCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ReportCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ModelsCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ExactCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.SimulateCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.MergeCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.BeliefsCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.EstimateCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.InferCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ReduceCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ActiveSweepCommand.Create(console);
        yield return ThermoLearn.Cli.Commands.ActiveObserveCommand.Create(console);
    }

    public static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("ThermoLearn: data-driven stochastic thermodynamics. Simulate Langevin and jump processes, "
            + "infer forces and entropy production from trajectories, optimise control protocols, and analyse belief geometry.");
        foreach (var command in Commands(console)) root.Add(command);
        return root;
    }

    public static int Run(string[] args, CliConsole console)
    {
        var root = BuildRoot(console);
        var parse = root.Parse(args);
        var errors = ParseMessages.Of(parse);
        if (errors.Count > 0)
        {
            foreach (var message in errors) console.Error.WriteLine($"error: {message}");
            console.Error.WriteLine("Run 'thermolearn --help' (or the command with --help) for usage.");
            return ExitBadInput;
        }
        try
        {
            // --help prints usage and runs nothing: the rules about the command's values (a required argument that is
            // still missing, an output naming an input) are for a run, and checking them here made 'merge --help' crash.
            if (parse.Action is not HelpAction) OptionRules.Check(parse);
            return parse.Invoke(new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (InvalidInputException e)
        {
            console.Error.WriteLine($"error: {FlagNames.Render(e)}");
            return ExitBadInput;
        }
        catch (Exception e) when (ThermoLearn.Neural.Runtime.TorchRuntime.LoadFailureMessage(e) is { } message)
        {
            console.Error.WriteLine($"error: {message}");
            return ExitInternalError;
        }
        catch (OutOfMemoryException e)
        {
            // the last resort: what a command needs is checked before it allocates (MemoryBudget), so this is a figure it missed
            console.Error.WriteLine($"error: out of memory ({e.Message.TrimEnd('.')}) with {ThermoLearn.Resources.MemoryBudget.Format(ThermoLearn.Resources.MemoryBudget.AvailableBytes())} "
                + "available; nothing was written. Run it on less data (fewer trajectories or frames, --shard) or on a machine with more memory.");
            return ExitInternalError;
        }
        catch (OperationCanceledException)
        {
            console.Error.WriteLine("cancelled");
            return ExitInternalError;
        }
    }
}
