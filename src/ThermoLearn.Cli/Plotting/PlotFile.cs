using System.Reflection;
using ScottPlot;

namespace ThermoLearn.Cli.Plotting;

/// <summary>
/// Creating and saving figures: every plot uses the embedded DejaVu Sans font (text renders on a
/// headless machine with no fonts), and files are written under a temporary name, then renamed.
/// The format follows the extension: .png or .svg.
/// </summary>
public static class PlotFile
{
    public const string FontName = "DejaVu Sans";
    private static readonly Lazy<bool> FontRegistered = new(RegisterFont);

    /// <summary>A new plot with the tool's font and a title.</summary>
    public static Plot Create(string title, string xLabel, string yLabel)
    {
        _ = FontRegistered.Value;
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    /// <summary>Checks that a plot path has a supported extension before any work is done.</summary>
    public static void Validate(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext != ".png" && ext != ".svg")
            throw new InvalidInputException($"{path}: plots are written as .png or .svg, not '{ext}'.");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || !Directory.Exists(folder))
            throw new InvalidInputException($"{path}: the folder '{folder}' does not exist.");
    }

    /// <summary>Saves as PNG or SVG by extension, atomically.</summary>
    public static void Save(Plot plot, string path, int width = 800, int height = 600)
    {
        Validate(path);
        string full = Path.GetFullPath(path);
        string ext = Path.GetExtension(full).ToLowerInvariant();
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileNameWithoutExtension(full)}.{Guid.NewGuid():N}.tmp{ext}");
        FitTitle(plot, width, height);
        try
        {
            if (ext == ".svg") plot.SaveSvg(temporary, width, height);
            else plot.SavePng(temporary, width, height);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// Breaks the title at spaces so that every line fits: ScottPlot centres the title over the data area (which a
    /// legend on the right pushes left) and clips what runs past the figure's edges. A title already holding line
    /// breaks is left alone.
    /// </summary>
    internal static void FitTitle(Plot plot, int width, int height)
    {
        var label = plot.Axes.Title.Label;
        string text = label.Text;
        if (string.IsNullOrWhiteSpace(text) || text.Contains('\n')) return;
        plot.RenderInMemory(width, height);
        var data = plot.RenderManager.LastRender.DataRect;
        double centre = (data.Left + data.Right) / 2;
        double room = 2 * Math.Min(centre, width - centre) - 16;
        using var paint = Paint.NewDisposablePaint();
        double Measure(string line)
        {
            label.Text = line;
            return label.Measure(paint).Width;
        }
        var lines = new List<string>();
        string current = "";
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = current.Length == 0 ? word : current + " " + word;
            if (current.Length > 0 && Measure(candidate) > room)
            {
                lines.Add(current);
                current = word;
            }
            else current = candidate;
        }
        lines.Add(current);
        label.Text = string.Join("\n", lines);
    }

    private static bool RegisterFont()
    {
        // ScottPlot loads fonts from files: copy the embedded font once into a per-user cache folder.
        var assembly = Assembly.GetExecutingAssembly();
        using var font = assembly.GetManifestResourceStream("ThermoLearn.Cli.Plotting.Fonts.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("The embedded plot font is missing from the build.");
        string folder = Path.Combine(Path.GetTempPath(), "thermolearn-fonts");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, $"DejaVuSans-{font.Length}.ttf");
        if (!File.Exists(path) || new FileInfo(path).Length != font.Length)
        {
            string temporary = path + "." + Guid.NewGuid().ToString("N");
            using (var file = File.Create(temporary)) font.CopyTo(file);
            File.Move(temporary, path, overwrite: true);
        }
        Fonts.AddFontFile(FontName, path);
        Fonts.Default = FontName;
        return true;
    }
}
