using System.CommandLine;
using ThermoLearn.Cli.Infrastructure;

namespace ThermoLearn.Cli.Commands;

/// <summary><c>thermolearn beliefs train|analyze</c>: transformers trained on hidden Markov processes and the belief geometry of their residual streams.</summary>
internal static class BeliefsCommand
{
    public static Command Create(CliConsole console) =>
        new("beliefs", "Train transformers on hidden Markov processes and measure the belief geometry in their residual streams (Shai et al., NeurIPS 2024).")
        {
            BeliefsTrainCommand.Create(console),
            BeliefsAnalyzeCommand.Create(console),
        };
}
