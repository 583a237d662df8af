using System.CommandLine;
using ThermoLearn.Models;

namespace ThermoLearn.Cli.Commands;

/// <summary>The shared <c>--model M --set name=value…</c> options of commands that build a catalogue model.</summary>
internal sealed class ModelArguments
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = "Model name (see 'thermolearn models').",
        Required = true,
    };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Model parameter name=value; repeat for several; matrices as JSON rows, e.g. --set 'A=[[1,0.5],[-0.5,1]]'.",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Set);
    }

    /// <summary>Builds the model; bad names or values throw <see cref="InvalidInputException"/>.</summary>
    public StochasticModel Create(ParseResult parse) =>
        ModelCatalog.Create(parse.GetValue(Model)!, ModelCatalog.ParseAssignments(parse.GetValue(Set) ?? []));
}
