using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Inference;
using ThermoLearn.IO;
using ThermoLearn.Models;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Commands;

/// <summary>Options shared by <c>estimate</c> and <c>infer</c>: input file, dt, coordinates, error settings.</summary>
internal sealed class InferenceInput
{
    public Option<string> In { get; } = new("--in") { Description = "Trajectory file (.npy, .csv, .h5, .parquet).", Required = true };
    public Option<double?> Dt { get; } = new("--dt") { Description = "Frame spacing, when the file does not store it (a value that disagrees with a stored dt is refused unless --dt-override)." };
    public Option<bool> DtOverride { get; } = new("--dt-override") { Description = "Use --dt even where the file or its sidecar stores another frame spacing." };
    public Option<string?> Columns { get; } = new("--columns") { Description = "Use only these coordinates, e.g. 0,1 (the positions of an underdamped (x, v) file)." };
    public Option<int> Batches { get; } = new("--batches") { Description = "Batches (whole trajectories or time blocks) for standard errors.", DefaultValueFactory = _ => 50 };
    public Option<int> Bootstrap { get; } = new("--bootstrap") { Description = "Bootstrap replicates over batches instead of the jackknife (0: jackknife).", DefaultValueFactory = _ => 0 };
    public Option<ulong> Seed { get; } = SharedOptions.Seed("Seed of the bootstrap, and of the neural methods' weights, folds and minibatches.");

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { In, Dt, DtOverride, Columns, Batches, Bootstrap, Seed }) command.Add(o);
    }

    public ErrorOptions Errors(ParseResult parse)
    {
        var e = new ErrorOptions(parse.GetValue(Batches), parse.GetValue(Bootstrap), parse.GetValue(Seed));
        e.Validate();
        return e;
    }

    /// <summary>Says on stderr how a .npy of fewer than three axes was read (class 7 of issue 15: never a silent guess).</summary>
    public static void NoteLayout(Infrastructure.CliConsole console, string path)
    {
        if (Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase) && NpyFormat.LayoutNote(path) is { } note)
            console.Error.WriteLine("note: " + note);
    }

    /// <summary>
    /// Opens the file for chunked reading (dt from the file or --dt, --columns applied), for estimates in memory bounded by
    /// the chunk size rather than by the file.
    /// </summary>
    public TrajectoryReader Open(ParseResult parse, Infrastructure.CliConsole? console = null)
    {
        string path = parse.GetValue(In)!;
        double? dt = parse.GetValue(Dt);
        if (dt is { } v && (!(v > 0) || !double.IsFinite(v))) throw new InvalidInputException($"--dt must be a positive finite number (got {v}).");
        if (parse.GetValue(DtOverride) && dt is null) throw new InvalidInputException("--dt-override says that --dt wins over a stored frame spacing; give --dt too.");
        var reader = TrajectoryReader.Open(path, dt, parse.GetValue(DtOverride));
        reader.RequireSummableSquares = true;
        try
        {
            if (console is not null) NoteLayout(console, path);
            if (reader.Header.Frames < 2)
                throw new InvalidInputException($"{path}: trajectories have {reader.Header.Frames} frame(s); estimation needs at least 2 frames per trajectory.");
            if (parse.GetValue(Columns) is { } text) reader.SelectColumns(ParseColumns(text, reader.Header.Dimension, path));
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private static List<int> ParseColumns(string text, int dimension, string path)
    {
        var columns = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) || c < 0 || c >= dimension)
                throw new InvalidInputException($"--columns '{text}': '{part}' is not a coordinate of {path} (it has coordinates 0..{dimension - 1}).");
            if (columns.Contains(c))
                throw new InvalidInputException($"--columns '{text}': coordinate {c} is given twice; name each coordinate once (a repeated column makes the fit singular).");
            columns.Add(c);
        }
        return columns;
    }

    /// <summary>The model named in the file's metadata, when it is one of the catalogue's (for exact values), else null.</summary>
    public static StochasticModel? KnownModel(TrajectoryEnsemble data) => KnownModel(data.Metadata);

    /// <summary>The catalogue model named in <paramref name="meta"/>, else null.</summary>
    public static StochasticModel? KnownModel(TrajectoryMetadata meta)
    {
        if (meta.Model is null) return null;
        try
        {
            var parameters = new Dictionary<string, string>();
            if (meta.ParametersJson is { } json && JsonNode.Parse(json) is JsonObject o)
                foreach (var (key, value) in o)
                    if (value is not null)
                        parameters[key] = value is JsonValue v && v.TryGetValue(out string? s) ? s : value.ToJsonString();
            return ModelCatalog.Create(meta.Model, parameters);
        }
        catch (Exception e) when (e is InvalidInputException or System.Text.Json.JsonException)
        {
            return null; // not a catalogue model (or different parameters): no exact reference
        }
    }

    /// <summary>Parses --diffusion: a number (isotropic), JSON rows, "auto" (second cumulant) or "auto-robust" (less the measurement noise of successive increments).</summary>
    public static DiffusionSpec Diffusion(string text, int dimension)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "auto": return DiffusionSpec.Estimated;
            case "auto-robust": return DiffusionSpec.EstimatedNoiseRobust;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return DiffusionSpec.Isotropic(value, dimension);
        double[][]? rows = null;
        try { rows = System.Text.Json.JsonSerializer.Deserialize<double[][]>(text); }
        catch (System.Text.Json.JsonException) { }
        if (rows is null && System.Text.RegularExpressions.Regex.IsMatch(text, @"(?i)nan|inf"))
            throw new InvalidInputException($"--diffusion '{Shown(text)}' has a non-finite entry (NaN or Infinity); every entry of D must be a finite number.");
        if (rows is null || rows.Length != dimension || rows.Any(r => r is null || r.Length != dimension))
            throw new InvalidInputException($"--diffusion '{Shown(text)}': give a number, a {dimension} x {dimension} matrix as JSON rows (e.g. [[1,0],[0,1]]), auto or auto-robust.");
        try { return DiffusionSpec.Given(rows.SelectMany(r => r).ToArray(), dimension); }
        catch (InvalidInputException e) { throw new InvalidInputException($"--diffusion '{Shown(text)}': {FlagNames.Render(e)}", e); }
    }

    /// <summary>A value as given, cut short for a message (a 40 x 40 matrix from Python is 13,000 characters).</summary>
    private static string Shown(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
