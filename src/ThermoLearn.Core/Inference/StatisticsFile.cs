using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Inference;

/// <summary>The sufficient statistics of one part of a data set (a shard, a file) with what is needed to finish the estimate.</summary>
/// <param name="Request">The estimate the statistics were accumulated for.</param>
/// <param name="Statistics">One set per lag, in the order of <see cref="CurrentEstimateRequest.StatisticsOptions"/>.</param>
/// <param name="Source">The data file.</param>
/// <param name="Metadata">The data's provenance (model, seed, position in the run).</param>
public sealed record StatisticsPart(CurrentEstimateRequest Request, IReadOnlyList<CurrentStatistics> Statistics, string Source, TrajectoryMetadata Metadata);

/// <summary>How <see cref="StatisticsFile.Reduce"/> forms the batches of the standard errors.</summary>
public enum ReduceBatches
{
    /// <summary>The batches of the whole run when every part is a shard that kept them (the single-process layout), else the parts' blocks.</summary>
    Auto,

    /// <summary>Every batch of every part (blocks within shards).</summary>
    Blocks,

    /// <summary>One batch per part (batches as shards).</summary>
    Parts,
}

/// <summary>
/// Statistics files (<c>.stats</c>): the sums of <see cref="CurrentStatistics"/> of one part, and their reduction to the
/// estimate one process would make on all parts. Layout (version 1): the line <c>thermolearn-statistics 1</c>, one line of
/// JSON (method, basis, diffusion, windows, time degree, correction, noise_robust (tur; present only when true), batches and resampling, dt, start time, frames,
/// trajectories, the batch layout, provenance), then the sums as little-endian float64, one block per lag,
/// [window][batch][sum]. A file is a few kB to a few MB whatever the data size.
/// <para>Summation order (bit-identical reduction): within a part each batch sums its transitions trajectory by trajectory
/// and frame by frame, as the in-memory estimator does. Parts that are shards of one run (simulate --shard) keep the run's
/// batches (<see cref="BatchLayout.ForPart"/>); the reduction adds, batch by batch, the parts' partial sums in the order of
/// their first trajectory, starting from zero. A batch lying within one shard is thus copied exactly, and the estimate
/// (which sums batches in order, then resamples them) is bit for bit the single process's. A batch straddling two shards
/// (when the number of shards does not divide the number of batches) is one partial sum plus another instead of one running
/// sum: a relative difference of order 1e-16 in that batch's sums.</para>
/// </summary>
public static class StatisticsFile
{
    public const int Version = 1;
    private const string Magic = "thermolearn-statistics";

    /// <summary>Writes a part atomically.</summary>
    public static void Write(string path, StatisticsPart part)
    {
        var first = part.Statistics[0];
        var r = part.Request;
        var layout = first.BatchLayout;
        var header = new JsonObject
        {
            ["version"] = Version,
            ["method"] = r.Method,
            ["basis"] = first.Basis.Name,
            ["dimension"] = first.Dimension,
            ["diffusion"] = r.Diffusion.Matrix is { } m ? new JsonArray(m.Select(v => (JsonNode?)v).ToArray()) : r.Diffusion.NoiseRobust ? "auto-robust" : "auto",
            ["windows"] = r.Windows,
            ["time_degree"] = r.TimeDegree,
            ["joint"] = r.Joint,
            ["correction_order"] = r.CorrectionOrder,
            ["batches_requested"] = r.Errors.Batches,
            ["bootstrap"] = r.Errors.Bootstrap,
            ["seed"] = r.Errors.Seed,
            ["dt"] = first.FrameDt,
            ["start_time"] = first.StartTime,
            ["frames_per_trajectory"] = first.FramesPerTrajectory,
            ["trajectories"] = first.Trajectories,
            ["total_frames"] = first.Frames,
            ["source"] = part.Source,
            ["model"] = part.Metadata.Model,
            ["parameters"] = part.Metadata.ParametersJson,
            ["data_seed"] = part.Metadata.Seed,
            ["first_trajectory"] = part.Metadata.FirstTrajectory,
            ["total_trajectories"] = part.Metadata.TotalTrajectories,
            ["whole_trajectories"] = layout.WholeTrajectories,
            ["run_batches"] = layout.RunCount,
            ["batches"] = new JsonArray(layout.Batches.Select(b => (JsonNode?)new JsonArray(b.TrajectoryFrom, b.TrajectoryTo, b.FrameFrom, b.FrameTo)).ToArray()),
            ["run_index"] = layout.RunIndex is { } index ? new JsonArray(index.Select(i => (JsonNode?)i).ToArray()) : null,
            ["lags"] = new JsonArray(part.Statistics.Select(s => (JsonNode?)s.Options.Lag).ToArray()),
        };
        if (r.NoiseRobust) header["noise_robust"] = true;
        if (first.Basis is RadialBasis rbf)
        {
            header["basis_lower"] = new JsonArray(rbf.Lower.Select(v => (JsonNode?)v).ToArray());
            header["basis_upper"] = new JsonArray(rbf.Upper.Select(v => (JsonNode?)v).ToArray());
        }
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Encoding.UTF8.GetBytes($"{Magic} {Version}\n{header.ToJsonString()}\n"));
            foreach (var s in part.Statistics)
            {
                var cells = s.Cells;
                if (BitConverter.IsLittleEndian) stream.Write(MemoryMarshal.AsBytes(cells));
                else
                {
                    var buffer = new byte[8];
                    foreach (double v in cells) { BinaryPrimitives.WriteDoubleLittleEndian(buffer, v); stream.Write(buffer); }
                }
            }
        });
    }

    /// <summary>Reads a part; a malformed file is refused with a message naming it.</summary>
    public static StatisticsPart Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        var bytes = File.ReadAllBytes(path);
        int line1 = Array.IndexOf(bytes, (byte)'\n');
        string magic = line1 > 0 ? Encoding.ASCII.GetString(bytes, 0, line1) : "";
        if (!magic.StartsWith(Magic + " ", StringComparison.Ordinal))
            throw InvalidInputException.Naming($"{path}: not a ThermoLearn statistics file (it should start with '{Magic} {Version}'; write one with {InputParameter.StatisticsOutput}).");
        if (magic != $"{Magic} {Version}")
            throw new InvalidInputException($"{path}: statistics file version '{magic[(Magic.Length + 1)..]}' is not supported (this ThermoLearn reads version {Version}).");
        int line2 = Array.IndexOf(bytes, (byte)'\n', line1 + 1);
        if (line2 < 0) throw new InvalidInputException($"{path}: truncated statistics file (no header line).");
        try
        {
            var h = JsonNode.Parse(bytes.AsSpan(line1 + 1, line2 - line1 - 1))!.AsObject();
            T Get<T>(string key) => h[key] is { } node ? node.GetValue<T>() : throw new InvalidInputException($"{path}: the header lacks '{key}'.");
            int d = Get<int>("dimension");
            var diffusionNode = h["diffusion"];
            var diffusion = diffusionNode is JsonArray arr ? DiffusionSpec.Given(arr.Select(v => v!.GetValue<double>()).ToArray(), d)
                : diffusionNode?.GetValue<string>() == "auto-robust" ? DiffusionSpec.EstimatedNoiseRobust : DiffusionSpec.Estimated;
            var errors = new ErrorOptions(Get<int>("batches_requested"), Get<int>("bootstrap"), Get<ulong>("seed"));
            var request = new CurrentEstimateRequest(Get<string>("method"), diffusion, Get<int>("windows"), Get<int>("time_degree"), Get<bool>("joint"),
                Get<int>("correction_order"), errors, h["noise_robust"]?.GetValue<bool>() ?? false);
            string basisSpec = Get<string>("basis");
            var basis = BasisSpec.Parse(basisSpec, d, () => (
                h["basis_lower"]?.AsArray().Select(v => v!.GetValue<double>()).ToArray() ?? throw new InvalidInputException($"{path}: an rbf basis needs basis_lower."),
                h["basis_upper"]?.AsArray().Select(v => v!.GetValue<double>()).ToArray() ?? throw new InvalidInputException($"{path}: an rbf basis needs basis_upper.")));
            var batchList = h["batches"]!.AsArray().Select(b => b!.AsArray()).Select(b =>
                new BatchLayout.Batch(b[0]!.GetValue<int>(), b[1]!.GetValue<int>(), b[2]!.GetValue<int>(), b[3]!.GetValue<int>())).ToArray();
            var runIndex = h["run_index"]?.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            var layout = BatchLayout.FromParts(batchList, Get<bool>("whole_trajectories"), runIndex, Get<int>("run_batches"));
            var metadata = new TrajectoryMetadata(h["model"]?.GetValue<string>(), h["parameters"]?.GetValue<string>(), h["data_seed"]?.GetValue<ulong>(),
                Get<long>("first_trajectory"), h["total_trajectories"]?.GetValue<long>());
            var shape = new CurrentStatistics.DataShape(Get<long>("trajectories"), Get<int>("frames_per_trajectory"), d, Get<double>("dt"), Get<double>("start_time"),
                Get<long>("total_frames"));
            var options = request.StatisticsOptions();
            var lags = h["lags"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            if (!lags.SequenceEqual(options.Select(o => o.Lag)))
                throw new InvalidInputException($"{path}: the file holds lags {string.Join(", ", lags)} but its settings need {string.Join(", ", options.Select(o => o.Lag))}.");
            long offset = line2 + 1;
            var stats = new List<CurrentStatistics>();
            foreach (var o in options)
            {
                var lay = new CurrentStatistics.Layout(basis.Count * (o.TimeDegree + 1), d, o.CurrentCovariance);
                long count = (long)o.Windows * layout.Count * lay.Length;
                if (offset + count * 8 > bytes.LongLength)
                    throw new InvalidInputException($"{path}: the file has {bytes.LongLength} bytes but its header describes {offset + count * 8 - bytes.LongLength} more; it is truncated.");
                var cells = new double[count];
                if (BitConverter.IsLittleEndian) bytes.AsSpan((int)offset, (int)(count * 8)).CopyTo(MemoryMarshal.AsBytes(cells.AsSpan()));
                else for (long i = 0; i < count; i++) cells[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan((int)(offset + 8 * i)));
                offset += count * 8;
                stats.Add(new CurrentStatistics(shape, basis, o, layout, cells, lay, CurrentStatistics.Edges(shape, o.Windows)));
            }
            if (offset != bytes.LongLength)
                throw new InvalidInputException($"{path}: {bytes.LongLength - offset} bytes after the statistics its header describes; the file is corrupt.");
            return new StatisticsPart(request, stats, Get<string>("source"), metadata);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NullReferenceException or KeyNotFoundException)
        {
            throw new InvalidInputException($"{path}: the statistics header is malformed ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Sums the parts into the statistics of all their data, for the estimate of their common request. Parts must agree on
    /// every setting (method, basis, diffusion, windows, time degree, correction, batches, resampling, dt, time grid);
    /// otherwise the first difference is named. See the class summary for the summation order.
    /// </summary>
    public static (CurrentEstimateRequest Request, IReadOnlyList<CurrentStatistics> Statistics, TrajectoryMetadata Metadata) Reduce(
        IReadOnlyList<StatisticsPart> parts, ReduceBatches mode = ReduceBatches.Auto)
    {
        if (parts.Count == 0) throw new InvalidInputException("reduce needs at least one statistics file.");
        var p0 = parts[0];
        foreach (var p in parts.Skip(1)) CheckSame(p0, p);
        bool run = mode == ReduceBatches.Auto && parts.All(p => p.Statistics[0].BatchLayout.RunIndex is not null && p.Metadata.TotalTrajectories is not null);
        var ordered = run ? parts.OrderBy(p => p.Metadata.FirstTrajectory).ToArray() : parts.ToArray();
        long trajectories = ordered.Sum(p => p.Statistics[0].Trajectories), totalFrames = ordered.Sum(p => p.Statistics[0].Frames);
        var s0 = p0.Statistics[0];
        var metadata = p0.Metadata with { FirstTrajectory = ordered[0].Metadata.FirstTrajectory, TotalTrajectories = null };
        BatchLayout layout;
        Func<int, int, int> target; // (part, batch in part) -> batch of the result
        if (run)
        {
            long total = p0.Metadata.TotalTrajectories!.Value;
            for (int i = 1; i < ordered.Length; i++)
            {
                long end = ordered[i - 1].Metadata.FirstTrajectory + ordered[i - 1].Statistics[0].Trajectories;
                if (ordered[i].Metadata.FirstTrajectory != end)
                    throw new InvalidInputException($"{ordered[i].Source}: starts at trajectory {ordered[i].Metadata.FirstTrajectory} but the previous part ({ordered[i - 1].Source}) ends at {end}; "
                        + (ordered[i].Metadata.FirstTrajectory < end ? "parts overlap (a shard given twice?)." : "a shard is missing."));
            }
            if (ordered[0].Metadata.FirstTrajectory != 0 || trajectories != total)
                throw InvalidInputException.Naming($"the parts hold trajectories {ordered[0].Metadata.FirstTrajectory}..{ordered[0].Metadata.FirstTrajectory + trajectories - 1} of the run's 0..{total - 1}; ",
                    $"give every shard's statistics (or {InputParameter.BatchMode} blocks to reduce a subset).");
            layout = BatchLayout.Create((int)total, s0.FramesPerTrajectory, p0.Request.Errors.Batches);
            if (layout.Count != s0.BatchLayout.RunCount)
                throw new InvalidInputException($"{p0.Source}: the run has {s0.BatchLayout.RunCount} batches but its size gives {layout.Count}; the file is inconsistent.");
            target = (p, b) => ordered[p].Statistics[0].BatchLayout.RunIndex![b];
            metadata = metadata with { FirstTrajectory = 0 };
        }
        else if (mode == ReduceBatches.Parts)
        {
            layout = BatchLayout.FromParts(ordered.Select(_ => new BatchLayout.Batch(0, 0, 0, 0)).ToArray(), true, null, 0, "parts (statistics files)");
            target = (p, _) => p;
        }
        else
        {
            var batches = new List<BatchLayout.Batch>();
            var offsets = new int[ordered.Length];
            for (int p = 0; p < ordered.Length; p++)
            {
                offsets[p] = batches.Count;
                batches.AddRange(ordered[p].Statistics[0].BatchLayout.Batches);
            }
            layout = BatchLayout.FromParts(batches.ToArray(), ordered.All(p => p.Statistics[0].BatchLayout.WholeTrajectories), null, 0);
            target = (p, b) => offsets[p] + b;
        }
        var shape = new CurrentStatistics.DataShape(trajectories, s0.FramesPerTrajectory, s0.Dimension, s0.FrameDt, s0.StartTime, totalFrames);
        var result = new List<CurrentStatistics>();
        for (int l = 0; l < p0.Statistics.Count; l++)
        {
            var o = p0.Statistics[l].Options;
            var lay = p0.Statistics[l].L;
            int nb = layout.Count, len = lay.Length;
            var cells = new double[(long)o.Windows * nb * len];
            for (int p = 0; p < ordered.Length; p++)
            {
                var part = ordered[p].Statistics[l];
                var source = part.Cells;
                int pb = part.Batches;
                for (int w = 0; w < o.Windows; w++)
                    for (int b = 0; b < pb; b++)
                    {
                        var from = source.Slice((int)(((long)w * pb + b) * len), len);
                        var into = cells.AsSpan((int)(((long)w * nb + target(p, b)) * len), len);
                        for (int i = 0; i < len; i++) into[i] += from[i];
                    }
            }
            result.Add(new CurrentStatistics(shape, s0.Basis, o, layout, cells, lay, CurrentStatistics.Edges(shape, o.Windows)));
        }
        if (mode == ReduceBatches.Parts && ordered.Length < 2)
            throw InvalidInputException.Naming($"{InputParameter.BatchMode} parts needs at least 2 statistics files (one batch each) for a standard error.");
        return (p0.Request, result, metadata);
    }

    private static void CheckSame(StatisticsPart a, StatisticsPart b)
    {
        // what: a description, or an InputParameter (which a front end renders in its own terms)
        void Same<T>(object what, T x, T y)
        {
            if (!EqualityComparer<T>.Default.Equals(x, y))
                throw InvalidInputException.Naming($"{b.Source}: {what} is {Show(y)} but {a.Source} has {Show(x)}; parts to reduce must share every setting (estimate each with the same options).");
        }
        static string Show<T>(T v) => v switch
        {
            double x => x.ToString("R", CultureInfo.InvariantCulture),
            null => "none",
            _ => v.ToString()!,
        };
        var (ra, rb) = (a.Request, b.Request);
        var (sa, sb) = (a.Statistics[0], b.Statistics[0]);
        Same("the method", ra.Method, rb.Method);
        Same("the basis", sa.Basis.Name, sb.Basis.Name);
        Same("the dimension", sa.Dimension, sb.Dimension);
        if (sa.Basis is RadialBasis x && sb.Basis is RadialBasis y)
            Same("the rbf basis range (centres are placed on each file's own range; reduce needs one basis)",
                string.Join(",", x.Lower.Concat(x.Upper)), string.Join(",", y.Lower.Concat(y.Upper)));
        Same("the diffusion", Describe(ra.Diffusion), Describe(rb.Diffusion));
        Same("the measurement-noise correction (--noise-robust)", ra.NoiseRobust, rb.NoiseRobust);
        Same(InputParameter.Windows, ra.Windows, rb.Windows);
        Same("the time degree", ra.TimeDegree, rb.TimeDegree);
        Same(InputParameter.Joint, ra.Joint, rb.Joint);
        Same("the correction order", ra.CorrectionOrder, rb.CorrectionOrder);
        Same(InputParameter.Batches, ra.Errors.Batches, rb.Errors.Batches);
        Same(InputParameter.Bootstrap, ra.Errors.Bootstrap, rb.Errors.Bootstrap);
        Same("the bootstrap seed", ra.Errors.Seed, rb.Errors.Seed);
        Same("dt", sa.FrameDt, sb.FrameDt);
        Same("the start time", sa.StartTime, sb.StartTime);
        Same("the number of frames per trajectory", sa.FramesPerTrajectory, sb.FramesPerTrajectory);
        Same("the run size (total_trajectories)", a.Metadata.TotalTrajectories, b.Metadata.TotalTrajectories);
        Same("the model", a.Metadata.Model, b.Metadata.Model);
    }

    private static string Describe(DiffusionSpec d) =>
        d.Matrix is { } m ? "[" + string.Join(", ", m.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]" : d.NoiseRobust ? "auto-robust" : "auto";
}
