using System.Globalization;
using System.Text.Json.Nodes;

namespace ThermoLearn.Models;

/// <summary>
/// A stochastic model that ThermoLearn can simulate: its name and resolved parameters (provenance),
/// the number of coordinates stored per frame, and its exact entropy production where known.
/// Units: k_B = 1, so entropy is dimensionless and EP rates are per unit time.
/// </summary>
public abstract class StochasticModel
{
    private readonly Dictionary<string, string> _parameters;

    protected StochasticModel(string name, IReadOnlyDictionary<string, string> parameters)
    {
        Name = name;
        _parameters = new Dictionary<string, string>(parameters, StringComparer.Ordinal);
    }

    /// <summary>Catalog name, e.g. "driven-trap-2d".</summary>
    public string Name { get; }

    /// <summary>Every parameter with the value used (defaults included), as text (numbers, or JSON for matrices).</summary>
    public IReadOnlyDictionary<string, string> Parameters => _parameters;

    /// <summary>Number of coordinates stored per frame of a simulated trajectory.</summary>
    public abstract int StateDimension { get; }

    /// <summary>Exact entropy-production rate sigma(t) (k_B per unit time) of the ensemble the simulator samples, or null when unknown.</summary>
    public virtual double? EntropyProductionRate(double t) => null;

    /// <summary>Duration tau of the model's protocol, or null for a time-independent model.</summary>
    public virtual double? Duration => null;

    /// <summary>Exact total entropy production over [0, <see cref="Duration"/>], or null when unknown or not applicable.</summary>
    public virtual double? TotalEntropyProduction => null;

    /// <summary>The parameters as a JSON object: numbers as numbers, matrices as nested arrays.</summary>
    public JsonObject ParametersJson()
    {
        var json = new JsonObject();
        foreach (var (key, value) in _parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
                json[key] = JsonValue.Create(number);
            else
            {
                try { json[key] = JsonNode.Parse(value); }
                catch (System.Text.Json.JsonException) { json[key] = JsonValue.Create(value); }
            }
        }
        return json;
    }

    /// <summary>Formats a number for <see cref="Parameters"/> (round-trip, invariant culture).</summary>
    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Formats a matrix as JSON rows for <see cref="Parameters"/>.</summary>
    protected static string Format(double[,] m)
    {
        var rows = new List<string>();
        for (int i = 0; i < m.GetLength(0); i++)
        {
            var row = new List<string>();
            for (int j = 0; j < m.GetLength(1); j++) row.Add(Format(m[i, j]));
            rows.Add("[" + string.Join(",", row) + "]");
        }
        return "[" + string.Join(",", rows) + "]";
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and positive.</summary>
    protected static double RequirePositive(string model, string parameter, double value)
    {
        if (!(value > 0) || !double.IsFinite(value))
            throw new InvalidInputException($"{model}: parameter {parameter} must be a positive finite number (got {Format(value)}).");
        return value;
    }

    /// <summary>Throws unless <paramref name="value"/> is finite.</summary>
    protected static double RequireFinite(string model, string parameter, double value)
    {
        if (!double.IsFinite(value))
            throw new InvalidInputException($"{model}: parameter {parameter} must be a finite number (got {Format(value)}).");
        return value;
    }
}
