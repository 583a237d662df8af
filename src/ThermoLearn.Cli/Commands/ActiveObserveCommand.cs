using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn active-observe --in SNAPSHOTS [--frame F] [--radius R] [--plot FILE.png|svg] [--density-plot FILE] [--json]</c>:
/// the local packing-fraction histogram over all snapshots (bimodal in MIPS), the cluster sizes of one snapshot, and
/// figures of the snapshot and of the histogram.
/// </summary>
internal static class ActiveObserveCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Option<string>("--in") { Description = "Snapshot file (thermolearn simulate --model aoup|abp).", Required = true };
        var frame = new Option<int>("--frame") { Description = "Snapshot for the cluster sizes and the figure (-1: the last).", DefaultValueFactory = _ => -1 };
        var radius = new Option<double?>("--radius") { Description = "Radius R of the local-density discs (spheres in 3-D) around each particle, phi_i = (n_i + 1) (r0 / R)^d (default 5 r0); larger than r0 and, in a periodic box, smaller than half its side." };
        var plot = new Option<string?>("--plot") { Description = "Figure of the snapshot (.png/.svg)." };
        var densityPlot = new Option<string?>("--density-plot") { Description = "Figure of the local packing-fraction histogram (.png/.svg)." };
        var json = SharedOptions.Json();
        var command = new Command("active-observe", "Local density histogram, cluster sizes and snapshot figures of active-matter snapshots.");
        foreach (var o in new Option[] { input, frame, radius, plot, densityPlot, json }) command.Add(o);
        command.SetAction(parse =>
        {
            string? plotPath = parse.GetValue(plot), densityPath = parse.GetValue(densityPlot);
            if (plotPath is not null) PlotFile.Validate(plotPath);
            if (densityPath is not null) PlotFile.Validate(densityPath);
            var s = ActiveSnapshotFile.Read(parse.GetValue(input)!);
            int f = parse.GetValue(frame);
            if (f == -1) f = s.Frames - 1;
            if (f < 0 || f >= s.Frames) throw new InvalidInputException($"--frame {f}: the file has snapshots 0..{s.Frames - 1}.");
            double? given = parse.GetValue(radius);
            double r = given ?? ActiveObservables.DefaultDensityRadius(s.Model);
            string which = given is null ? $"the default disc radius 5 r0 = {r:G6}" : $"--radius {r:G6}";
            if (!(r > s.Model.R0) || !double.IsFinite(r))
                throw new InvalidInputException($"{which}: the local-density disc needs a finite radius larger than the particle radius r0 = {s.Model.R0:G6} "
                    + "(a disc no larger than a particle gives every particle a local packing fraction of 1 or more).");
            if (s.Model.Box is { } box && !(r < box / 2))
                throw new InvalidInputException($"{which}: the local-density disc must be smaller than half the periodic box (L / 2 = {box / 2:G6}), "
                    + $"or it would meet its own periodic image; give a --radius below {box / 2:G6}, or simulate more particles.");
            var (centres, density) = ActiveObservables.LocalDensityHistogram(s, radius: r);
            var clusters = ActiveObservables.ClusterSizes(s, f);
            if (plotPath is not null)
                ActiveMatterPlots.Particles(s, f, null, $"{s.Model.Name} snapshot {f} (N = {s.Particles}, phi = {s.Model.PackingFraction})"
                    + (s.Model.Dimension == 3 ? ", projected onto (x, y)" : ""), "", plotPath);
            if (densityPath is not null)
            {
                var p = PlotFile.Create($"local packing fraction (N = {s.Particles}, phi = {s.Model.PackingFraction})", "local packing fraction", "probability density");
                p.Add.Bars(centres, density);
                PlotFile.Save(p, densityPath);
            }
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console, new JsonObject
                {
                    ["local_density_centres"] = JsonOutput.Array(centres),
                    ["local_density_histogram"] = JsonOutput.Array(density),
                    ["frame"] = f,
                    ["clusters"] = clusters.Length,
                    ["largest_cluster"] = clusters[0],
                    ["largest_cluster_fraction"] = (double)clusters[0] / s.Particles,
                    ["cluster_sizes"] = new JsonArray(clusters.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                });
            }
            else
            {
                console.Out.WriteLine($"snapshot {f}: {clusters.Length} clusters, largest {clusters[0]} of {s.Particles} particles ({100.0 * clusters[0] / s.Particles:F1}%)");
                console.Out.WriteLine("local packing fraction histogram (density): " + string.Join(" ", centres.Zip(density, (c, d) => $"{c:F2}:{d:F2}")));
            }
            return CliApp.ExitOk;
        });
        return command;
    }
}
