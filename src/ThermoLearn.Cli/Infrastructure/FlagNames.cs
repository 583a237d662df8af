namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// The tool's flag for each parameter the library's messages name (<see cref="InputParameter"/>): the library says "dt",
/// the tool says "--dt". Every error is rendered through here before it is printed, so a message from the library reads
/// in the terms the user typed.
/// </summary>
internal static class FlagNames
{
    private static readonly Dictionary<InputParameter, string> Flags = new()
    {
        [InputParameter.Dt] = "--dt",
        [InputParameter.DtOverrides] = "--dt-override",
        [InputParameter.Scheme] = "--scheme",
        [InputParameter.SaveEvery] = "--save-every",
        [InputParameter.Shard] = "--shard",
        [InputParameter.Trajectories] = "--trajectories",
        [InputParameter.Columns] = "--columns",
        [InputParameter.Batches] = "--batches",
        [InputParameter.Bootstrap] = "--bootstrap",
        [InputParameter.BatchMode] = "--batches",
        [InputParameter.Windows] = "--windows",
        [InputParameter.Joint] = "--joint",
        [InputParameter.Method] = "--method",
        [InputParameter.ModelParameters] = "--set",
        [InputParameter.StatisticsOutput] = "estimate --statistics-out",
        [ThermoLearn.Neural.Inference.NeuralModel.SaveParameter] = "--save-model",
        [ThermoLearn.Neural.ActiveMatter.ScoreModel.SaveParameter] = "--save-model",
    };

    /// <summary>The flag of <paramref name="parameter"/> (its library name when the tool has none).</summary>
    public static string Of(InputParameter parameter) => Flags.TryGetValue(parameter, out string? flag) ? flag : parameter.Name;

    /// <summary>Whether the tool has a flag for <paramref name="parameter"/>.</summary>
    public static bool Knows(InputParameter parameter) => Flags.ContainsKey(parameter);

    /// <summary>The message of <paramref name="e"/> in flag terms.</summary>
    public static string Render(InvalidInputException e) => e.Render(Of);
}
