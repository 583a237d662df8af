using System.Globalization;

namespace ThermoLearn.Control.Tasks;

/// <summary>Creates control tasks by name with <c>name=value</c> settings, rejecting unknown names with the list of known ones.</summary>
public static class TaskCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["translate-trap", "erase", "flip-underdamped"];

    /// <summary>The settings each task accepts and their defaults (steps: null means the task's own default).</summary>
    public static IReadOnlyDictionary<string, double?> Settings(string task) => task switch
    {
        "translate-trap" => new Dictionary<string, double?> { ["k"] = 1, ["gamma"] = 1, ["lambda_f"] = 1, ["temperature"] = 1, ["steps"] = null },
        "erase" => new Dictionary<string, double?> { ["barrier"] = 4, ["gamma"] = 1, ["temperature"] = 1, ["steps"] = null },
        "flip-underdamped" => new Dictionary<string, double?>
        {
            ["barrier"] = 4, ["gamma"] = 0.2, ["mass"] = 1, ["temperature"] = 1, ["overdamped"] = 0, ["steps"] = null,
        },
        _ => throw UnknownTask(task),
    };

    public static ControlTask Create(string task, double tau, IReadOnlyDictionary<string, double>? settings = null)
    {
        var known = Settings(task);
        settings ??= new Dictionary<string, double>();
        foreach (var (name, value) in settings)
        {
            if (!known.ContainsKey(name))
                throw new InvalidInputException($"task '{task}' has no setting '{name}'; known settings: {string.Join(", ", known.Keys)}.");
            if (!double.IsFinite(value)) throw new InvalidInputException($"task '{task}': setting {name} must be a finite number (got {value}).");
            Models.ModelCatalog.CheckMagnitude($"task '{task}'", "setting", name, value);
        }
        double Get(string name) => settings.TryGetValue(name, out double v) ? v : known[name]!.Value;
        int? steps = settings.TryGetValue("steps", out double s) ? CheckSteps(s) : null;
        return task switch
        {
            "translate-trap" => new TranslateTrapTask(tau, Positive(task, "k", Get("k")), Positive(task, "gamma", Get("gamma")), Get("lambda_f"),
                Positive(task, "temperature", Get("temperature")), steps),
            "erase" => new EraseTask(tau, Get("barrier"), Positive(task, "gamma", Get("gamma")), Positive(task, "temperature", Get("temperature")), steps),
            "flip-underdamped" => new FlipTask(tau, Get("barrier"), Positive(task, "gamma", Get("gamma")), Positive(task, "mass", Get("mass")),
                Positive(task, "temperature", Get("temperature")), Flag(task, "overdamped", Get("overdamped")), steps),
            _ => throw UnknownTask(task),
        };
    }

    private static InvalidInputException UnknownTask(string task) =>
        new($"unknown task '{task}'; known tasks: {string.Join(", ", Names)}.");

    private static double Positive(string task, string name, double value) => value > 0
        ? value : throw new InvalidInputException($"task '{task}': {name} must be positive (got {value.ToString(CultureInfo.InvariantCulture)}).");

    private static bool Flag(string task, string name, double value) => value switch
    {
        0 => false,
        1 => true,
        _ => throw new InvalidInputException($"task '{task}': {name} is a flag, 0 or 1 (got {value.ToString(CultureInfo.InvariantCulture)})."),
    };

    private static int CheckSteps(double value) => value >= 1 && value <= 10_000_000 && value == Math.Floor(value)
        ? (int)value : throw new InvalidInputException($"steps must be a whole number between 1 and 10^7 (got {value.ToString(CultureInfo.InvariantCulture)}).");
}
