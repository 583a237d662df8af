using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Models;
using ThermoLearn.Simulation.Schemes;

namespace ThermoLearn.Cli.Commands;

/// <summary><c>thermolearn models [--json]</c>: every model with its parameters, defaults and meanings.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliConsole console)
    {
        var json = SharedOptions.Json();
        var command = new Command("models", "List the models with their parameters, defaults and meanings.") { json };
        command.SetAction(parse =>
        {
            if (parse.GetValue(json))
            {
                var models = new JsonArray();
                foreach (var m in ModelCatalog.All.Concat(ActiveModelCatalog.All))
                {
                    var parameters = new JsonArray();
                    foreach (var p in m.Parameters)
                        parameters.Add(new JsonObject { ["name"] = p.Name, ["default"] = p.Default, ["kind"] = p.Kind, ["meaning"] = p.Meaning });
                    models.Add(new JsonObject { ["name"] = m.Name, ["description"] = m.Description, ["parameters"] = parameters });
                }
                JsonOutput.Write(console, new JsonObject
                {
                    ["models"] = models,
                    ["schemes"] = new JsonArray(SchemeCatalog.Names.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
                });
                return CliApp.ExitOk;
            }
            foreach (var m in ModelCatalog.All.Concat(ActiveModelCatalog.All))
            {
                console.Out.WriteLine($"{m.Name}: {m.Description}");
                foreach (var p in m.Parameters)
                    console.Out.WriteLine($"    {p.Name,-6} = {p.Default,-26} {p.Meaning}");
            }
            console.Out.WriteLine($"schemes: {string.Join(", ", SchemeCatalog.Names)}");
            return CliApp.ExitOk;
        });
        return command;
    }
}
