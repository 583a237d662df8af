namespace ThermoLearn;

/// <summary>
/// A parameter of the library as an error message names it (<see cref="InvalidInputException.Naming(FormattableString[])"/>):
/// the message reads <see cref="Name"/>, the library's own name (the option or argument it sets); a front end renders the
/// same message with its own name for it (<see cref="InvalidInputException.Render"/>; the command-line tool's flags).
/// Parameters are equal when their names are.
/// </summary>
public sealed record InputParameter(string Name)
{
    /// <summary>The frame spacing of data (<c>TrajectoryFile.Read</c>'s dt) or the integration step (<c>SimulationOptions.Dt</c>).</summary>
    public static InputParameter Dt { get; } = new("dt");

    /// <summary>Whether a given dt wins over a stored frame spacing (<c>TrajectoryFile.Read</c>'s dtOverrides).</summary>
    public static InputParameter DtOverrides { get; } = new("dtOverrides");

    /// <summary>The integration scheme (<c>SimulationOptions.Scheme</c>).</summary>
    public static InputParameter Scheme { get; } = new("scheme");

    /// <summary>Steps between saved frames (<c>SimulationOptions.SaveEvery</c>).</summary>
    public static InputParameter SaveEvery { get; } = new("saveEvery");

    /// <summary>The part k/N of a run to simulate (<c>SimulationOptions.Shard</c>, <c>Shard.Parse</c>).</summary>
    public static InputParameter Shard { get; } = new("shard");

    /// <summary>The number of trajectories (<c>SimulationOptions.Trajectories</c>, the control's trajectories).</summary>
    public static InputParameter Trajectories { get; } = new("trajectories");

    /// <summary>The coordinates of the data to use (<c>TrajectoryReader.SelectColumns</c>).</summary>
    public static InputParameter Columns { get; } = new("columns");

    /// <summary>The error batches (<c>ErrorOptions.Batches</c>).</summary>
    public static InputParameter Batches { get; } = new("batches");

    /// <summary>The bootstrap replicates (<c>ErrorOptions.Bootstrap</c>).</summary>
    public static InputParameter Bootstrap { get; } = new("bootstrap");

    /// <summary>How <c>StatisticsFile.Reduce</c> forms error batches (its mode: blocks or parts).</summary>
    public static InputParameter BatchMode { get; } = new("batch mode");

    /// <summary>The time windows of sigma(t) (<c>CurrentEstimateRequest.Windows</c>).</summary>
    public static InputParameter Windows { get; } = new("windows");

    /// <summary>One joint (x, t) fit (<c>CurrentEstimateRequest.Joint</c>).</summary>
    public static InputParameter Joint { get; } = new("joint");

    /// <summary>The entropy-production estimator (<c>CurrentEstimateRequest.Method</c>: current, tur, jump, underdamped, ...).</summary>
    public static InputParameter Method { get; } = new("method");

    /// <summary>A model's or task's parameters as name=value assignments (<c>ModelCatalog.ParseAssignments</c>).</summary>
    public static InputParameter ModelParameters { get; } = new("parameters");

    /// <summary>What writes a statistics file (<c>StatisticsFile.Write</c>).</summary>
    public static InputParameter StatisticsOutput { get; } = new("StatisticsFile.Write");

    /// <summary>Every parameter above (a front end checks that it has a name for each).</summary>
    public static IReadOnlyList<InputParameter> All { get; } =
        [Dt, DtOverrides, Scheme, SaveEvery, Shard, Trajectories, Columns, Batches, Bootstrap, BatchMode, Windows, Joint, Method, ModelParameters, StatisticsOutput];

    /// <inheritdoc/>
    public override string ToString() => Name;
}
