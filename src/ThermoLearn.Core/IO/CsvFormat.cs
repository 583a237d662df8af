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
public sealed class CsvFormat : ISidecarTrajectoryFormat, IStreamingTrajectoryFormat
{
    public string Name => "csv";

    public IReadOnlyList<string> Extensions { get; } = [".csv"];

    public void Write(Stream stream, TrajectoryEnsemble ensemble) =>
        Write(stream, InMemoryTrajectory.Header(ensemble), InMemoryTrajectory.Values(ensemble.Data), 1 << 13);

    /// <summary>Writes the rows as the values come, a block of frames (up to 8192 values) at a time.</summary>
    public void Write(Stream stream, TrajectoryHeader h, TrajectoryValueSource values, long bufferValues)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var header = new StringBuilder("traj,t");
        for (int k = 0; k < h.Dimension; k++) header.Append(",x").Append(k);
        writer.WriteLine(header.ToString());
        long first = h.Metadata.FirstTrajectory;
        var line = new StringBuilder();
        int d = h.Dimension, framesPerBlock = (int)Math.Max(1, Math.Min(bufferValues, 1 << 13) / d);
        var buffer = new double[(long)framesPerBlock * d];
        long totalFrames = (long)h.Trajectories * h.Frames;
        string id = "";
        for (long done = 0; done < totalFrames; done += framesPerBlock)
        {
            int n = (int)Math.Min(framesPerBlock, totalFrames - done);
            values(buffer.AsSpan(0, n * d));
            for (int k = 0; k < n; k++)
            {
                long g = done + k;
                int f = (int)(g % h.Frames);
                if (f == 0 || k == 0) id = (first + g / h.Frames).ToString(CultureInfo.InvariantCulture);
                line.Clear();
                line.Append(id).Append(',').Append(Format(h.StartTime + f * h.Dt));
                for (int c = 0; c < d; c++) line.Append(',').Append(Format(buffer[k * d + c]));
                writer.WriteLine(line.ToString());
            }
        }
    }

    private static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public TrajectoryEnsemble Read(string path, double? dt)
    {
        using var reader = new Reader(path, dt);
        return reader.ReadAll();
    }

    /// <summary>Opens a CSV file for chunked reading (<see cref="TrajectoryReader"/>).</summary>
    internal static TrajectoryReader OpenReader(string path, double? dt) => new Reader(path, dt);

    /// <summary>
    /// Pass 1 (on opening) reads the traj and t columns: the shape, and checks that rows are grouped by trajectory with
    /// consecutive indices on one evenly spaced time grid. Pass 2 (the chunks) parses the coordinates line by line.
    /// </summary>
    private sealed class Reader : TrajectoryReader
    {
        private readonly StreamReader _lines;
        private readonly string[] _columns;
        private long _lineNumber = 1;

        public Reader(string path, double? dt)
        {
            _columns = ReadHeaderLine(path);
            SetHeader(Scan(path, _columns.Length - 2, dt));
            _lines = new StreamReader(path, Encoding.UTF8, true, 1 << 16);
            _lines.ReadLine();
        }

        protected override int ReadValues(Span<double> destination)
        {
            int dimension = _columns.Length - 2, filled = 0;
            string? line;
            while (filled + dimension <= destination.Length && (line = _lines.ReadLine()) is not null)
            {
                _lineNumber++;
                if (line.Length == 0) continue;
                var cells = line.Split(',');
                if (cells.Length != _columns.Length)
                    throw new InvalidInputException($"{Header.Path}, line {_lineNumber}: {cells.Length} columns but the header has {_columns.Length}.");
                for (int k = 0; k < dimension; k++) destination[filled++] = Parse(Header.Path, _lineNumber, _columns[k + 2], cells[k + 2]);
            }
            return filled;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _lines.Dispose();
        }
    }

    private static string[] ReadHeaderLine(string path)
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
        return columns;
    }

    /// <summary>The shape and time grid from the traj and t columns, checked row by row.</summary>
    private static TrajectoryHeader Scan(string path, int dimension, double? dt)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, true, 1 << 16);
        reader.ReadLine();
        var times = new List<double>();
        long firstId = -1, lastId = -1, trajectories = 0;
        int frame = 0, frames = -1;
        long lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            int c0 = line.IndexOf(','), c1 = c0 < 0 ? -1 : line.IndexOf(',', c0 + 1);
            if (c1 < 0) throw new InvalidInputException($"{path}, line {lineNumber}: fewer columns than the header's {dimension + 2}.");
            if (!long.TryParse(line.AsSpan(0, c0), NumberStyles.Integer, CultureInfo.InvariantCulture, out long id))
                throw new InvalidInputException($"{path}, line {lineNumber}: traj '{line[..c0]}' is not an integer.");
            double t = Parse(path, lineNumber, "t", line[(c0 + 1)..c1]);
            if (trajectories == 0 || id != lastId)
            {
                if (trajectories > 0 && id != lastId + 1)
                    throw new InvalidInputException($"{path}, line {lineNumber}: trajectory {id} follows {lastId}; rows must be grouped by trajectory with consecutive indices.");
                if (trajectories == 1) frames = frame;
                else if (trajectories > 1 && frame != frames)
                    throw new InvalidInputException($"{path}: trajectory {lastId} has {frame} frames but trajectory {firstId} has {frames}; all need the same number.");
                if (trajectories == 0) firstId = id;
                trajectories++;
                lastId = id;
                frame = 0;
            }
            if (trajectories == 1) times.Add(t);
            else if (frame >= times.Count || Math.Abs(times[frame] - t) > 1e-9 * Math.Max(1, Math.Abs(t)))
                throw new InvalidInputException($"{path}, line {lineNumber}: trajectory {id} frame {frame} is at t = {t} but trajectory {firstId} has "
                    + (frame < times.Count ? $"t = {times[frame]}" : $"only {times.Count} frames") + "; all trajectories need the same time grid.");
            frame++;
        }
        if (trajectories == 0) throw new InvalidInputException($"{path}: no data rows after the header.");
        if (trajectories == 1) frames = frame;
        else if (frame != frames)
            throw new InvalidInputException($"{path}: trajectory {lastId} has {frame} frames but trajectory {firstId} has {frames}; all need the same number.");
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
        if (trajectories > int.MaxValue) throw new InvalidInputException($"{path}: {trajectories} trajectories are too many for one file; split it.");
        return new TrajectoryHeader(path, (int)trajectories, frames, dimension, spacing, times[0], new TrajectoryMetadata(FirstTrajectory: firstId));
    }

    private static double Parse(string path, long line, string column, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InvalidInputException($"{path}, line {line}: {column} = '{text}' is not a finite number.");
        return v;
    }
}
