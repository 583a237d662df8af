using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.Energetics;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// The per-trajectory energetics CSV (the CLI's <c>simulate --energetics FILE.csv</c>): one row per trajectory,
/// <c>traj,work,heat,delta_energy,medium_entropy[,system_entropy,total_entropy]</c> with the global trajectory index
/// and round-trip ("R") numbers, plus a sidecar <c>FILE.csv.json</c> (format "thermolearn-energetics": model,
/// parameters, seed, first trajectory, rows, size of the whole run) so <see cref="Merge"/> can check shards
/// as it does for trajectory files. Merging passes the rows through unchanged, so merged shards equal the single
/// run's file byte for byte.
/// </summary>
public static class EnergeticsFile
{
    /// <summary>The header line's first columns (system_entropy and total_entropy follow where the model has them).</summary>
    public const string Header = "traj,work,heat,delta_energy,medium_entropy";
    private const string SidecarFormat = "thermolearn-energetics";

    /// <summary>Whether <paramref name="path"/> is a CSV whose first line is an energetics header.</summary>
    public static bool IsEnergeticsCsv(string path)
    {
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || !File.Exists(path)) return false;
        using var reader = new StreamReader(path);
        string? first = reader.ReadLine();
        return first is not null && IsHeader(first);
    }

    private static bool IsHeader(string line) => line == Header || line.StartsWith(Header + ",", StringComparison.Ordinal);

    /// <summary>Writes the CSV and its sidecar (each atomically; the sidecar last).</summary>
    public static void Write(string path, TrajectoryEnergetics e, TrajectoryMetadata provenance)
    {
        AtomicFile.Write(path, stream => WriteRows(stream, e, provenance.FirstTrajectory));
        AtomicFile.WriteText(TrajectorySidecar.PathFor(path), SidecarJson(provenance, e.Count));
    }

    /// <summary>Rows formatted straight to UTF-8 bytes, blocks of rows in parallel, written in order (no text of the whole file in memory).</summary>
    private static void WriteRows(Stream stream, TrajectoryEnergetics e, long first)
    {
        string header = Header + (e.SystemEntropy is not null ? ",system_entropy,total_entropy" : "") + "\n";
        stream.Write(Encoding.ASCII.GetBytes(header));
        const int rowsPerBlock = 8192, maxRowBytes = 8 * 32;   // seven round-trip doubles and an index fit in 8 x 32 bytes
        int blocks = (e.Count + rowsPerBlock - 1) / rowsPerBlock, batch = 4 * Environment.ProcessorCount;
        var buffers = new byte[batch][];
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++) buffers[b] = new byte[rowsPerBlock * maxRowBytes];
        for (int start = 0; start < blocks; start += batch)
        {
            int count = Math.Min(batch, blocks - start);
            Parallel.For(0, count, k =>
            {
                int from = (start + k) * rowsPerBlock, to = Math.Min(e.Count, from + rowsPerBlock);
                lengths[k] = FormatRows(buffers[k], e, first, from, to);
            });
            for (int k = 0; k < count; k++) stream.Write(buffers[k], 0, lengths[k]);
        }
    }

    private static int FormatRows(Span<byte> into, TrajectoryEnergetics e, long first, int from, int to)
    {
        int n = 0, columns = e.SystemEntropy is not null ? 7 : 5;
        Span<double> row = stackalloc double[columns];
        Span<int> starts = stackalloc int[columns];
        for (int i = from; i < to; i++)
        {
            Append(into, ref n, first + i);
            row[0] = e.Work[i];
            row[1] = e.Heat[i];
            row[2] = e.DeltaEnergy[i];
            row[3] = e.MediumEntropy[i];
            if (e.SystemEntropy is not null)
            {
                row[4] = e.SystemEntropy[i];
                row[5] = e.TotalEntropy![i];
            }
            for (int c = 0; c < columns - 1; c++) Append(into, ref n, row, c, starts);
            into[n - 1] = (byte)'\n';   // the last separator ends the row
        }
        return n;
    }

    private static void Append(Span<byte> into, ref int n, long value)
    {
        value.TryFormat(into[n..], out int written, default, CultureInfo.InvariantCulture);
        n += written;
        into[n++] = (byte)',';
    }

    /// <summary>
    /// The round-trip ("R") text of row[c], as double.ToString("R", InvariantCulture) writes it. A value with the bits of an
    /// earlier value of the row copies that text, and a finite one with its bits but the sign flipped copies it with the
    /// minus sign added or dropped: the same bytes for a third of the formatting where the columns repeat (a static
    /// potential's energy change is minus its heat, and the medium entropy Q / T is the heat at T = 1).
    /// </summary>
    private static void Append(Span<byte> into, ref int n, ReadOnlySpan<double> row, int c, Span<int> starts)
    {
        double value = row[c];
        ulong bits = BitConverter.DoubleToUInt64Bits(value);
        starts[c] = n;
        for (int p = 0; p < c; p++)
        {
            ulong earlier = BitConverter.DoubleToUInt64Bits(row[p]);
            bool same = earlier == bits, negated = (earlier ^ bits) == SignBit && double.IsFinite(value);
            if (!same && !negated) continue;
            var text = into[starts[p]..(starts[p + 1] - 1)];   // without its separator
            if (negated && text[0] == (byte)'-') text = text[1..];
            else if (negated) into[n++] = (byte)'-';
            text.CopyTo(into[n..]);
            n += text.Length;
            into[n++] = (byte)',';
            return;
        }
        value.TryFormat(into[n..], out int written, "R", CultureInfo.InvariantCulture);
        n += written;
        into[n++] = (byte)',';
    }

    private const ulong SignBit = 1UL << 63;

    private static string SidecarJson(TrajectoryMetadata m, long rows) =>
        TrajectorySidecar.WithProvenance(new JsonObject { ["format"] = SidecarFormat, ["trajectories"] = rows }, m)
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private sealed record Part(string Path, string ColumnsLine, long Rows, long First, TrajectoryMetadata? Provenance);

    /// <summary>Summary of a merge: rows written and the provenance of the merged file (null without sidecars).</summary>
    public sealed record MergeResult(long Rows, TrajectoryMetadata? Provenance);

    /// <summary>
    /// Merges energetics CSV shards into <paramref name="outPath"/>: same columns; rows in order of the global
    /// trajectory index, covering 0 .. N-1 exactly once; with sidecars also the same model, parameters, seed and
    /// run size, and rows matching each sidecar. Any mismatch is <see cref="InvalidInputException"/> and writes nothing.
    /// Memory does not grow with the run: every shard is checked line by line in a first pass, and the rows are copied
    /// line by line in a second (a shard changed between the passes is refused and the output discarded).
    /// </summary>
    public static MergeResult Merge(IReadOnlyList<string> paths, string outPath)
    {
        var parts = paths.Select(path => Scan(path, null)).ToList();
        var reference = parts[0];
        foreach (var p in parts)
        {
            if (p.ColumnsLine != reference.ColumnsLine)
                throw new InvalidInputException($"{p.Path}: columns '{p.ColumnsLine}' differ from {reference.Path} ('{reference.ColumnsLine}'); shards of one run have the same columns.");
            if ((p.Provenance is null) != (reference.Provenance is null))
                throw new InvalidInputException($"{(p.Provenance is null ? p.Path : reference.Path)} has no sidecar ({TrajectorySidecar.PathFor(p.Path)}) but other shards do; give the shards of one run, each with its sidecar.");
            if (p.Provenance is { } m && reference.Provenance is { } r && !ShardMerge.SameRun(m, r))
                throw new InvalidInputException($"{p.Path}: model, parameters, seed or run size differ from {reference.Path}; merge only shards of the same run.");
        }
        parts = ShardMerge.InOrderCovering(parts, p => p.Path, p => p.First, p => p.Rows,
            reference.Provenance?.TotalTrajectories, out long expected);

        var merged = reference.Provenance is { } provenance ? provenance with { FirstTrajectory = 0, TotalTrajectories = null } : null;
        AtomicFile.Write(outPath, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            writer.Write(reference.ColumnsLine);
            writer.Write('\n');
            foreach (var p in parts)
                if (Scan(p.Path, writer) is var again && (again.Rows != p.Rows || again.First != p.First || again.ColumnsLine != p.ColumnsLine))
                    throw new InvalidInputException($"{p.Path}: the file changed while it was merged (rows {p.First}..{p.First + p.Rows - 1} before, "
                        + $"{again.First}..{again.First + again.Rows - 1} now); merge shards that are no longer being written.");
        });
        string sidecar = TrajectorySidecar.PathFor(outPath);
        if (merged is not null) AtomicFile.WriteText(sidecar, SidecarJson(merged, expected));
        else if (File.Exists(sidecar)) File.Delete(sidecar);   // a stale sidecar would describe another file
        return new MergeResult(expected, merged);
    }

    /// <summary>
    /// Reads a shard line by line, checking its header, columns, numbers and consecutive trajectory indices (and its sidecar);
    /// with <paramref name="copyTo"/>, also writes each row there unchanged (a row and its newline: the merge's second pass).
    /// </summary>
    private static Part Scan(string path, TextWriter? copyTo)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: no such file.");
        using var reader = new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 16);
        string? header = reader.ReadLine();
        if (header is null || !IsHeader(header))
            throw new InvalidInputException($"{path}: not an energetics CSV (its first line must start with '{Header}'); energetics and trajectory files merge separately.");
        int columns = header.Split(',').Length;
        long rows = 0, first = 0;
        long lineNumber = 1;
        bool emptyLine = false;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (emptyLine)
                throw new InvalidInputException($"{path} line {lineNumber - 1}: 1 columns, but the header has {columns}.");
            // an empty last line (a trailing newline) ends the file; an empty line before other rows is a bad row
            if (line.Length == 0)
            {
                emptyLine = true;
                continue;
            }
            var cells = line.Split(',');
            if (cells.Length != columns)
                throw new InvalidInputException($"{path} line {lineNumber}: {cells.Length} columns, but the header has {columns}.");
            if (!long.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out long traj))
                throw new InvalidInputException($"{path} line {lineNumber}: trajectory index '{cells[0]}' is not a non-negative integer.");
            for (int c = 1; c < columns; c++)
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw new InvalidInputException($"{path} line {lineNumber} column {c + 1}: '{cells[c]}' is not a number.");
            if (rows == 0) first = traj;
            else if (traj != first + rows)
                throw new InvalidInputException($"{path} line {lineNumber}: trajectory {traj} follows {first + rows - 1}; a shard's rows are consecutive trajectories.");
            rows++;
            if (copyTo is not null)
            {
                copyTo.Write(line);
                copyTo.Write('\n');
            }
        }
        if (rows == 0) throw new InvalidInputException($"{path}: no rows after the header.");
        var provenance = ReadSidecar(path);
        if (provenance is { } p)
        {
            if (p.Metadata.FirstTrajectory != first || p.Rows != rows)
                throw new InvalidInputException($"{path}: rows hold trajectories {first}..{first + rows - 1}, but its sidecar says "
                    + $"{p.Metadata.FirstTrajectory}..{p.Metadata.FirstTrajectory + p.Rows - 1}; the file was changed after it was written.");
        }
        return new Part(path, header, rows, first, provenance?.Metadata);
    }

    private static (TrajectoryMetadata Metadata, long Rows)? ReadSidecar(string dataPath)
    {
        string path = TrajectorySidecar.PathFor(dataPath);
        if (!File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            if ((string?)json["format"] != SidecarFormat)
                throw new InvalidInputException($"{path}: not an energetics sidecar (format '{(string?)json["format"]}'); remove it or give the right file.");
            var metadata = TrajectorySidecar.ReadProvenance(json, path);
            return (metadata, (long)json["trajectories"]!);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidInputException($"{path}: malformed energetics sidecar ({e.Message}).");
        }
    }
}
