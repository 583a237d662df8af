using System.Globalization;
using System.Text.Json;

namespace ThermoLearn.Models;

/// <summary>A model parameter: its name, default (as text), kind ("number", "integer" or "matrix") and meaning.</summary>
public sealed record ModelParameter(string Name, string Default, string Kind, string Meaning);

/// <summary>A catalogue entry: name, one-line description and parameters.</summary>
public sealed record ModelDescription(string Name, string Description, IReadOnlyList<ModelParameter> Parameters);

/// <summary>
/// The models ThermoLearn can simulate by name (the <c>thermolearn models</c> list). Parameters come as
/// text, as from <c>--set name=value</c>: numbers in invariant culture, matrices as JSON rows such as
/// <c>[[1,0.5],[-0.5,1]]</c>. Unknown models or parameters are bad input naming the known ones.
/// </summary>
public static class ModelCatalog
{
    private sealed record Entry(ModelDescription Description, Func<ParameterReader, StochasticModel> Create);

    private static readonly Entry[] Entries =
    [
        new(new("linear", "Linear SDE dx = -A x dt + sqrt(2D) dW from its stationary law; exact EP tr(A^T D^-1 A C) - tr(C^-1 D)",
            [
                new("A", "[[1,0.5],[-0.5,1]]", "matrix", "drift matrix (eigenvalues with positive real part)"),
                new("D", "[[1,0],[0,1]]", "matrix", "diffusion matrix (symmetric positive definite)"),
            ]), p => new LinearModel(p.Matrix("A"), p.Matrix("D"))),
        new(new("driven-trap-2d", "Overdamped 2-D trap with rotational drive F = -k x + eps J x; sigma = 2 mu eps^2 / k",
            [
                new("k", "1", "number", "trap stiffness"),
                new("eps", "0.3", "number", "strength of the rotational (non-conservative) force"),
                new("mu", "1", "number", "mobility"),
                new("T", "0.5", "number", "temperature"),
            ]), p => LinearModel.DrivenTrap2D(p.Number("k"), p.Number("eps"), p.Number("mu"), p.Number("T"))),
        new(new("bead-spring", "Chain of n beads between two walls, each bead in its own bath from th to tc (NEEP's benchmark)",
            [
                new("n", "2", "integer", "number of beads"),
                new("k", "1", "number", "spring stiffness"),
                new("gamma", "1", "number", "friction coefficient"),
                new("th", "10", "number", "temperature of the first (hot) bead"),
                new("tc", "1", "number", "temperature of the last (cold) bead"),
            ]), p => LinearModel.BeadSpring(p.Integer("n"), p.Number("k"), p.Number("gamma"), p.Number("th"), p.Number("tc"))),
        new(new("underdamped-driven-trap", "Underdamped 2-D trap with rotational drive; frames store (x1, x2, v1, v2)",
            [
                new("k", "1", "number", "trap stiffness"),
                new("eps", "0.5", "number", "rotational force strength (needs gamma^2 k > m eps^2)"),
                new("gamma", "1", "number", "friction coefficient"),
                new("m", "1", "number", "mass"),
                new("T", "1", "number", "temperature"),
            ]), p => new UnderdampedDrivenTrap(p.Number("k"), p.Number("eps"), p.Number("gamma"), p.Number("m"), p.Number("T"))),
        new(new("breathing-trap", "1-D parabola whose stiffness ramps k0 -> k1 over tau, from equilibrium; exact sigma(t) and p(x,t)",
            [
                new("k0", "1", "number", "initial stiffness"),
                new("k1", "4", "number", "final stiffness"),
                new("tau", "1", "number", "duration of the ramp"),
                new("mu", "1", "number", "mobility"),
                new("T", "1", "number", "temperature"),
            ]), p => new BreathingTrapModel(p.Number("k0"), p.Number("k1"), p.Number("tau"), p.Number("mu"), p.Number("T"))),
        new(new("harmonic-trap", "1-D harmonic trap translated at constant speed c0 -> c1 over tau, from equilibrium (Jarzynski: Delta F = 0)",
            [
                new("k", "1", "number", "trap stiffness"),
                new("c0", "0", "number", "initial centre"),
                new("c1", "1", "number", "final centre"),
                new("tau", "1", "number", "duration of the translation"),
                new("mu", "1", "number", "mobility"),
                new("T", "1", "number", "temperature"),
            ]), p => new HarmonicTrapModel(p.Number("k"), p.Number("c0"), p.Number("c1"), p.Number("tau"), p.Number("mu"), p.Number("T"))),
        new(new("double-well", "1-D double well V = b (x^2 - 1)^2 + c x started at x0 (no exact EP)",
            [
                new("b", "1", "number", "barrier height"),
                new("c", "0", "number", "tilt"),
                new("mu", "1", "number", "mobility"),
                new("T", "1", "number", "temperature"),
                new("x0", "-1", "number", "starting position"),
            ]), p => new DoubleWellModel(p.Number("b"), p.Number("c"), p.Number("mu"), p.Number("T"), p.Number("x0"))),
        new(new("mexican-hat-swirl", "2-D Mexican hat V = a (r^2 - r0^2)^2 with a Gaussian swirl f = omega(r) (-y, x); Boltzmann stationary law, exact sigma = (mu/T) <|f|^2>",
            [
                new("a", "0.25", "number", "depth of the hat (barrier a r0^4 at the origin)"),
                new("r0", "1.5", "number", "radius of the ring of minima"),
                new("w", "2", "number", "peak angular speed of the swirl omega(r) = w exp(-(r - rc)^2 / (2 s^2))"),
                new("rc", "1.5", "number", "radius where the swirl peaks"),
                new("s", "0.2", "number", "radial width of the swirl"),
                new("mu", "1", "number", "mobility"),
                new("T", "1", "number", "temperature"),
            ]), p => new MexicanHatSwirlModel(p.Number("a"), p.Number("r0"), p.Number("w"), p.Number("rc"), p.Number("s"), p.Number("mu"), p.Number("T"))),
        new(new("mjp", "Continuous-time Markov jump process with rates W (i -> j), sampled exactly on the dt grid; frames hold the state index",
            [
                new("W", "[[0,2,1],[1,0,2],[2,1,0]]", "matrix", "rate matrix, W[i][j] the rate from i to j (diagonal ignored; a driven 3-state ring by default)"),
            ]), p => new MarkovJumpProcess(p.Matrix("W"))),
        new(new("flashing-ratchet", "NEEP's discrete-time flashing ratchet (6 states = 3 positions x potential on/off); EP per step",
            [
                new("V", "1", "number", "potential amplitude: energies 0, V, 2V when on"),
                new("T", "1", "number", "temperature"),
                new("r", "1", "number", "switching weight between the on and off layers"),
            ]), p => DiscreteMarkovChain.FlashingRatchet(p.Number("V"), p.Number("T"), p.Number("r"))),
    ];

    /// <summary>Every model with its parameters, defaults and meanings.</summary>
    public static IReadOnlyList<ModelDescription> All => Entries.Select(e => e.Description).ToArray();

    /// <summary>Names of the models.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Description.Name).ToArray();

    /// <summary>The description of one model.</summary>
    /// <exception cref="InvalidInputException">Unknown name.</exception>
    public static ModelDescription Describe(string name) => Find(name).Description;

    /// <summary>Creates model <paramref name="name"/> with the given parameters (the rest at their defaults).</summary>
    /// <exception cref="InvalidInputException">Unknown model or parameter, malformed value, or parameters the model rejects.</exception>
    public static StochasticModel Create(string name, IReadOnlyDictionary<string, string>? parameters = null)
    {
        var entry = Find(name);
        parameters ??= new Dictionary<string, string>();
        foreach (var key in parameters.Keys)
        {
            if (!entry.Description.Parameters.Any(p => p.Name == key))
                throw new InvalidInputException($"model '{name}' has no parameter '{key}'; its parameters are "
                    + string.Join(", ", entry.Description.Parameters.Select(p => p.Name)) + ".");
        }
        return entry.Create(new ParameterReader(entry.Description, parameters));
    }

    /// <summary>Parses "name=value" pairs (the CLI's --set) into a dictionary; later pairs win.</summary>
    /// <exception cref="InvalidInputException">A pair without '=' or with an empty name.</exception>
    public static Dictionary<string, string> ParseAssignments(IEnumerable<string> assignments)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string item in assignments)
        {
            int eq = item.IndexOf('=');
            if (eq <= 0 || eq == item.Length - 1)
                throw InvalidInputException.Naming($"{InputParameter.ModelParameters} '{item}' is malformed; write name=value, e.g. {InputParameter.ModelParameters} k=2 or {InputParameter.ModelParameters} 'A=[[1,0.5],[-0.5,1]]'.");
            result[item[..eq].Trim()] = item[(eq + 1)..].Trim();
        }
        return result;
    }

    /// <summary>Largest |value| of a parameter: models and tasks square and multiply their parameters (k^2, k^2 / T, …), which must stay within double precision (1.8e308).</summary>
    public const double LargestParameter = 1e100;

    /// <summary>
    /// Refuses a parameter whose magnitude is beyond <see cref="LargestParameter"/> or, when not zero, below its inverse:
    /// squares, products and inverses of such values overflow or underflow (k = 1e308 gave "the stationary covariance is
    /// not positive definite" without naming k). The message names the parameter.
    /// </summary>
    internal static void CheckMagnitude(string owner, string kind, string name, double value)
    {
        double a = Math.Abs(value);
        if (a > LargestParameter || a > 0 && a < 1 / LargestParameter)
            throw new InvalidInputException($"{owner}: {kind} {name} = {value:G6} is out of the range the computation can hold: |{name}| must lie between "
                + $"{1 / LargestParameter:G1} and {LargestParameter:G1} (or be 0), because its squares, products and inverses must stay within double "
                + "precision. Choose units in which the parameters are of moderate size.");
    }

    private static Entry Find(string name)
    {
        foreach (var e in Entries)
            if (string.Equals(e.Description.Name, name, StringComparison.Ordinal)) return e;
        throw new InvalidInputException($"unknown model '{name}'; known models: {string.Join(", ", Entries.Select(e => e.Description.Name))}.");
    }

    private sealed class ParameterReader(ModelDescription model, IReadOnlyDictionary<string, string> given)
    {
        private string Text(string name)
        {
            var p = model.Parameters.First(q => q.Name == name);
            return given.TryGetValue(name, out var v) ? v : p.Default;
        }

        public double Number(string name)
        {
            string text = Text(name);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                throw new InvalidInputException($"model '{model.Name}': parameter {name} = '{text}' is not a finite number.");
            CheckMagnitude($"model '{model.Name}'", "parameter", name, value);
            return value;
        }

        public int Integer(string name)
        {
            string text = Text(name);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                throw new InvalidInputException($"model '{model.Name}': parameter {name} = '{text}' is not an integer.");
            return value;
        }

        public double[,] Matrix(string name)
        {
            string text = Text(name);
            double[][]? rows;
            try { rows = JsonSerializer.Deserialize<double[][]>(text); }
            catch (JsonException) { rows = null; }
            if (rows is null && System.Text.RegularExpressions.Regex.IsMatch(text, @"(?i)nan|inf"))
                throw new InvalidInputException($"model '{model.Name}': parameter {name} = '{text}' has a non-finite entry (NaN or Infinity); every entry must be a finite number.");
            if (rows is null || rows.Length == 0 || rows.Any(r => r is null || r.Length != rows.Length))
                throw new InvalidInputException($"model '{model.Name}': parameter {name} = '{text}' is not a square matrix; "
                    + "write JSON rows, e.g. [[1,0.5],[-0.5,1]].");
            var m = new double[rows.Length, rows.Length];
            for (int i = 0; i < rows.Length; i++)
                for (int j = 0; j < rows.Length; j++)
                {
                    if (!double.IsFinite(rows[i][j])) throw new InvalidInputException($"model '{model.Name}': parameter {name} has a non-finite entry.");
                    CheckMagnitude($"model '{model.Name}'", "parameter", $"{name}[{i},{j}]", rows[i][j]);
                    m[i, j] = rows[i][j];
                }
            return m;
        }
    }
}
