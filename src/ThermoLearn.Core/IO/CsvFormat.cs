using System.Globalization;
using System.Text;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// Long-format CSV: a header <c>traj,t,x0,x1,…</c> and one row per (trajectory, frame), trajectories in
/// ascending order and frames in time order; <c>traj</c> is the global trajectory index (so shards keep
/// their place) and numbers are written round-trip ("R", invariant culture). Reading recovers dt and the
/// start time from the t column and checks that every trajectory has the same frames at the same times.
/// </summary>
public sealed class CsvFormat : ISidecarTrajectoryFormat
{
    public string Name => "csv";

    public IReadOnlyList<string> Extensions { get; } = [".csv"];

    public void Write(Stream stream, TrajectoryEnsemble ensemble)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var header = new StringBuilder("traj,t");
        for (int k = 0; k < ensemble.Dimension; k++) header.Append(",x").Append(k);
        writer.WriteLine(header.ToString());
        long first = ensemble.Metadata.FirstTrajectory;
        var line = new StringBuilder();
        for (int i = 0; i < ensemble.Trajectories; i++)
        {
            string id = (first + i).ToString(CultureInfo.InvariantCulture);
            for (int f = 0; f < ensemble.Frames; f++)
            {
                line.Clear();
                line.Append(id).Append(',').Append(Format(ensemble.StartTime + f * ensemble.Dt));
                foreach (double v in ensemble.Frame(i, f)) line.Append(',').Append(Format(v));
                writer.WriteLine(line.ToString());
            }
        }
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public TrajectoryEnsemble Read(string path, double? dt)
    {
        using var reader = new StreamReader(path);
        string? headerLine = reader.ReadLine();
        if (headerLine is null) throw new InvalidInputException($"{path}: empty CSV file; expected a header traj,t,x0,...");
        var columns = headerLine.Split(',').Select(c => c.Trim()).ToArray();
        if (columns.Length < 3 || columns[0] != "traj" || columns[1] != "t")
            throw new InvalidInputException($"{path}: header '{headerLine}' is not the long format; expected traj,t,x0,x1,...");
        for (int k = 2; k < columns.Length; k++)
            if (columns[k] != $"x{k - 2}")
                throw new InvalidInputException($"{path}: header column {k + 1} is '{columns[k]}'; expected x{k - 2}.");
        int dimension = columns.Length - 2;
        // Count the rows first (a cheap pass next to parsing) so the values go straight into one array of the
        // final size: reading needs about one copy of the data, not a growing list plus its copy (2.7x).
        long rows = CountRows(path);
        if ((long)rows * dimension > Array.MaxLength)
            throw new InvalidInputException($"{path}: {rows} rows x {dimension} coordinates is more than one array can hold ({Array.MaxLength}); split the file.");
        var values = new double[rows * dimension];
        long filled = 0;
        var times = new List<double>();
        var ids = new List<long>();
        var frameCounts = new List<int>();
        long lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != columns.Length)
                throw new InvalidInputException($"{path}, line {lineNumber}: {cells.Length} columns but the header has {columns.Length}.");
            if (!long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long id))
                throw new InvalidInputException($"{path}, line {lineNumber}: traj '{cells[0]}' is not an integer.");
            double t = Parse(path, lineNumber, "t", cells[1]);
            if (ids.Count == 0 || ids[^1] != id)
            {
                if (ids.Count > 0 && id != ids[^1] + 1)
                    throw new InvalidInputException($"{path}, line {lineNumber}: trajectory {id} follows {ids[^1]}; rows must be grouped by trajectory with consecutive indices.");
                ids.Add(id);
                frameCounts.Add(0);
            }
            int frame = frameCounts[^1]++;
            if (ids.Count == 1) times.Add(t);
            else if (frame >= times.Count || Math.Abs(times[frame] - t) > 1e-9 * Math.Max(1, Math.Abs(t)))
                throw new InvalidInputException($"{path}, line {lineNumber}: trajectory {id} frame {frame} is at t = {t} but trajectory {ids[0]} has "
                    + (frame < times.Count ? $"t = {times[frame]}" : $"only {times.Count} frames") + "; all trajectories need the same time grid.");
            if (filled + dimension > values.LongLength)
                throw new InvalidInputException($"{path}, line {lineNumber}: the file changed while it was read.");
            for (int k = 0; k < dimension; k++) values[filled++] = Parse(path, lineNumber, columns[k + 2], cells[k + 2]);
        }
        if (ids.Count == 0) throw new InvalidInputException($"{path}: no data rows after the header.");
        int frames = times.Count;
        for (int i = 0; i < ids.Count; i++)
            if (frameCounts[i] != frames)
                throw new InvalidInputException($"{path}: trajectory {ids[i]} has {frameCounts[i]} frames but trajectory {ids[0]} has {frames}; all need the same number.");
        double spacing;
        if (frames >= 2)
        {
            spacing = (times[^1] - times[0]) / (frames - 1);
            if (!(spacing > 0)) throw new InvalidInputException($"{path}: times must increase (t goes from {times[0]} to {times[^1]}).");
            for (int f = 1; f < frames; f++)
                if (Math.Abs(times[f] - times[0] - f * spacing) > 1e-6 * spacing)
                    throw new InvalidInputException($"{path}: frames are not evenly spaced (frame {f} at t = {times[f]}, expected {times[0] + f * spacing}).");
        }
        else spacing = dt ?? throw new InvalidInputException($"{path}: one frame per trajectory, so the frame spacing is unknown; give dt.");
        return new TrajectoryEnsemble(ids.Count, frames, dimension, spacing, values,
            new TrajectoryMetadata(FirstTrajectory: ids[0]), times[0]);
    }

    /// <summary>Non-empty lines after the header.</summary>
    private static long CountRows(string path)
    {
        using var reader = new StreamReader(path);
        reader.ReadLine();
        long rows = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
            if (line.Length != 0) rows++;
        return rows;
    }

    private static double Parse(string path, long line, string column, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InvalidInputException($"{path}, line {line}: {column} = '{text}' is not a finite number.");
        return v;
    }
}
