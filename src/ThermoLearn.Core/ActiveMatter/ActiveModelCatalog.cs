using System.Globalization;
using ThermoLearn.Models;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// The interacting active-matter models by name ("aoup", "abp"), listed by <c>thermolearn models</c> and built from
/// <c>--set name=value</c> text like <see cref="ModelCatalog"/>. Their simulations write snapshots
/// (<see cref="ActiveSnapshotFile"/>), not trajectory ensembles.
/// </summary>
public static class ActiveModelCatalog
{
    private static readonly ModelParameter[] Shared =
    [
        new("n", "1024", "integer", "number of particles N"),
        new("phi", "0.5", "number", "packing fraction N v_d r0^d / L^d (periodic box of side L when A = 0; the initial lattice patch in a trap); at most the densest packing, 0.9069 in 2-D, 0.7405 in 3-D"),
        new("v0", "1", "number", "self-propulsion speed"),
        new("potential", "softplus", "name", "pair repulsion: softplus (f = softplus_beta(2 r0 - r)), wca, harmonic or none"),
        new("r0", "1", "number", "particle radius (contact at 2 r0)"),
        new("beta", "7.5", "number", "sharpness of the softplus repulsion"),
    ];

    public static IReadOnlyList<ModelDescription> All { get; } =
    [
        new("aoup", "Active Ornstein-Uhlenbeck particles dx = [v0 g + k F - A x] dt + sqrt(2 eps) dW, dg = -gamma g dt + sqrt(2 gamma) dB; snapshots of (x, g)",
        [
            .. Shared,
            new("d", "2", "integer", "dimension (2 or 3)"),
            new("gamma", "1", "number", "relaxation rate of g (persistence time 1/gamma)"),
            new("eps", "0", "number", "translational noise strength (0: none)"),
            new("k", "1", "number", "strength of the pair force (>= 0: repulsive)"),
            new("A", "0", "number", "harmonic trap stiffness (0: periodic box)"),
        ]),
        new("abp", "Active Brownian particles (2-D) dx = [v0 e(theta) + mu F] dt + sqrt(2 Dt) dW, dtheta = sqrt(2 Dr) dB; snapshots of (x, theta)",
        [
            .. Shared,
            new("mu", "1", "number", "mobility (strength of the pair force, >= 0)"),
            new("Dt", "0", "number", "translational diffusion"),
            new("Dr", "1", "number", "rotational diffusion"),
        ]),
    ];

    public static bool Contains(string name) => All.Any(m => m.Name == name);

    /// <summary>Builds model <paramref name="name"/> from name=value text (the rest at their defaults), validated.</summary>
    public static ActiveModel Create(string name, IReadOnlyDictionary<string, string> parameters)
    {
        var description = All.FirstOrDefault(m => m.Name == name)
            ?? throw new InvalidInputException($"unknown active model '{name}'; known: {string.Join(", ", All.Select(m => m.Name))}.");
        foreach (var key in parameters.Keys)
            if (!description.Parameters.Any(p => p.Name == key))
                throw new InvalidInputException($"model '{name}' has no parameter '{key}'; its parameters are {string.Join(", ", description.Parameters.Select(p => p.Name))}.");
        string Text(string key) => parameters.TryGetValue(key, out var v) ? v : description.Parameters.First(p => p.Name == key).Default;
        double Number(string key) => double.TryParse(Text(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw new InvalidInputException($"model '{name}': parameter {key} = '{Text(key)}' is not a finite number.");
        int Integer(string key) => int.TryParse(Text(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new InvalidInputException($"model '{name}': parameter {key} = '{Text(key)}' is not an integer.");
        var model = new ActiveModel
        {
            Kind = name == "aoup" ? ActiveModelKind.Aoup : ActiveModelKind.Abp,
            Particles = Integer("n"),
            PackingFraction = Number("phi"),
            V0 = Number("v0"),
            Interaction = ActiveModel.ParseInteraction(Text("potential"), $"model '{name}', parameter potential"),
            R0 = Number("r0"),
            Beta = Number("beta"),
        };
        model = name == "aoup"
            ? model with { Dimension = Integer("d"), Gamma = Number("gamma"), Epsilon = Number("eps"), K = Number("k"), A = Number("A") }
            : model with { K = Number("mu"), TranslationalDiffusion = Number("Dt"), RotationalDiffusion = Number("Dr") };
        model.Validate();
        return model;
    }
}
