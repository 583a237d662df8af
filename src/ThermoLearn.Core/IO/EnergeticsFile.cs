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
        int n = 0;
        for (int i = from; i < to; i++)
        {
            Append(into, ref n, first + i);
            Append(into, ref n, e.Work[i]);
            Append(into, ref n, e.Heat[i]);
            Append(into, ref n, e.DeltaEnergy[i]);
            Append(into, ref n, e.MediumEntropy[i]);
            if (e.SystemEntropy is not null)
            {
                Append(into, ref n, e.SystemEntropy[i]);
                Append(into, ref n, e.TotalEntropy![i]);
            }
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

    /// <summary>The round-trip ("R") text of <paramref name="value"/>, as double.ToString("R", InvariantCulture) writes it.</summary>
    private static void Append(Span<byte> into, ref int n, double value)
    {
        value.TryFormat(into[n..], out int written, "R", CultureInfo.InvariantCulture);
        n += written;
        into[n++] = (byte)',';
    }

    private static string SidecarJson(TrajectoryMetadata m, long rows) =>
        TrajectorySidecar.WithProvenance(new JsonObject { ["format"] = SidecarFormat, ["trajectories"] = rows }, m)
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private sealed record Part(string Path, string ColumnsLine, List<string> Rows, long First, TrajectoryMetadata? Provenance);

    /// <summary>Summary of a merge: rows written and the provenance of the merged file (null without sidecars).</summary>
    public sealed record MergeResult(long Rows, TrajectoryMetadata? Provenance);

    /// <summary>
    /// Merges energetics CSV shards into <paramref name="outPath"/>: same columns; rows in order of the global
    /// trajectory index, covering 0 .. N-1 exactly once; with sidecars also the same model, parameters, seed and
    /// run size, and rows matching each sidecar. Any mismatch is <see cref="InvalidInputException"/> and writes nothing.
    /// </summary>
    public static MergeResult Merge(IReadOnlyList<string> paths, string outPath)
    {
        var parts = paths.Select(Read).ToList();
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
        parts = ShardMerge.InOrderCovering(parts, p => p.Path, p => p.First, p => p.Rows.Count,
            reference.Provenance?.TotalTrajectories, out long expected);

        var text = new StringBuilder(reference.ColumnsLine).Append('\n');
        foreach (var p in parts)
            foreach (var row in p.Rows) text.Append(row).Append('\n');
        var merged = reference.Provenance is { } provenance ? provenance with { FirstTrajectory = 0, TotalTrajectories = null } : null;
        AtomicFile.WriteText(outPath, text.ToString());
        string sidecar = TrajectorySidecar.PathFor(outPath);
        if (merged is not null) AtomicFile.WriteText(sidecar, SidecarJson(merged, expected));
        else if (File.Exists(sidecar)) File.Delete(sidecar);   // a stale sidecar would describe another file
        return new MergeResult(expected, merged);
    }

    private static Part Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: no such file.");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !IsHeader(lines[0]))
            throw new InvalidInputException($"{path}: not an energetics CSV (its first line must start with '{Header}'); energetics and trajectory files merge separately.");
        int columns = lines[0].Split(',').Length;
        var rows = new List<string>(lines.Length - 1);
        long first = 0;
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i];
            if (line.Length == 0 && i == lines.Length - 1) break;
            var cells = line.Split(',');
            if (cells.Length != columns)
                throw new InvalidInputException($"{path} line {i + 1}: {cells.Length} columns, but the header has {columns}.");
            if (!long.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out long traj))
                throw new InvalidInputException($"{path} line {i + 1}: trajectory index '{cells[0]}' is not a non-negative integer.");
            for (int c = 1; c < columns; c++)
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw new InvalidInputException($"{path} line {i + 1} column {c + 1}: '{cells[c]}' is not a number.");
            if (rows.Count == 0) first = traj;
            else if (traj != first + rows.Count)
                throw new InvalidInputException($"{path} line {i + 1}: trajectory {traj} follows {first + rows.Count - 1}; a shard's rows are consecutive trajectories.");
            rows.Add(line);
        }
        if (rows.Count == 0) throw new InvalidInputException($"{path}: no rows after the header.");
        var provenance = ReadSidecar(path);
        if (provenance is { } p)
        {
            if (p.Metadata.FirstTrajectory != first || p.Rows != rows.Count)
                throw new InvalidInputException($"{path}: rows hold trajectories {first}..{first + rows.Count - 1}, but its sidecar says "
                    + $"{p.Metadata.FirstTrajectory}..{p.Metadata.FirstTrajectory + p.Rows - 1}; the file was changed after it was written.");
        }
        return new Part(path, lines[0], rows, first, provenance?.Metadata);
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
            var metadata = TrajectorySidecar.ReadProvenance(json);
            return (metadata, (long)json["trajectories"]!);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidInputException($"{path}: malformed energetics sidecar ({e.Message}).");
        }
    }
}
