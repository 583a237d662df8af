using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Bench;

/// <summary>
/// Estimation beyond memory. (1) A .npy of --gb GB (default 3) of 2-D driven-trap data, at least 10x the managed-heap
/// limit the bench sets for the estimating child process (DOTNET_GCHeapHardLimit, --limit-mb, default 300), is estimated
/// (current, poly:2, Richardson correction: lags 1 and 2) by streaming; the child prints its peak resident memory (VmHWM).
/// Speed is compared with plain sequential reads of the same file measured here, both cold (the file's pages dropped with
/// posix_fadvise(DONTNEED) before each pass, so both read the disk) and warm (page cache). (2) `reduce` of 1,000
/// statistics files (shards of one run) timed in process, and checked bit for bit against the single-process estimate.
/// Usage: stream [--gb G] [--limit-mb M] [--dir DIR]. The data file is deleted at the end.
/// </summary>
internal static class StreamBench
{
    private const int Dimension = 2, Frames = 100_001;

    public static int Run(string[] args)
    {
        double gb = Arg(args, "--gb", 3.0);
        int limitMb = (int)Arg(args, "--limit-mb", 300);
        string dir = args.SkipWhile(a => a != "--dir").Skip(1).FirstOrDefault() ?? Path.GetTempPath();
        var drive = new DriveInfo(dir);
        Console.WriteLine($"disk {drive.RootDirectory}: {drive.AvailableFreeSpace / 1e9:F1} GB free");
        if (drive.AvailableFreeSpace < gb * 1e9 + 2e9) { Console.Error.WriteLine($"stream: not enough disk for a {gb} GB file"); return 1; }
        if (gb * 1e3 < 10 * limitMb) { Console.Error.WriteLine($"stream: the file ({gb} GB) must be at least 10x the memory limit ({limitMb} MB)"); return 1; }

        string path = Path.Combine(dir, $"stream-bench-{Environment.ProcessId}.npy");
        var total = Stopwatch.StartNew();
        string verdict;
        try
        {
            int trajectories = (int)Math.Ceiling(gb * 1e9 / (Frames * Dimension * 8.0));
            var sw = Stopwatch.StartNew();
            Write(path, trajectories);
            long bytes = new FileInfo(path).Length;
            Console.WriteLine($"wrote {path}: {trajectories} trajectories x {Frames} frames x {Dimension}, {bytes / 1e9:F2} GB in {sw.Elapsed.TotalSeconds:F1} s "
                + $"({bytes / 1e6 / limitMb:F1}x the {limitMb} MB heap limit of the estimating process)");
            string loadBefore = LoadAverage();
            (double Ratio, double Plain, double Streamed, long Peak, double Projected)? coldResult = null;
            foreach (bool cold in new[] { true, false })
            {
                string mode = cold ? "cold (pages dropped before each pass: disk reads)" : "warm (page cache)";
                if (cold) DropCache(path); else PlainRead(path);
                double plain = PlainRead(path);
                if (cold) DropCache(path);
                var (seconds, cpu, peak, line) = Child(path, limitMb);
                // On a loaded machine the wall clock measures the other processes; the CPU time the estimate needs per byte
                // says what it reaches with the cores to itself (the compute-bound speed; reading adds little CPU).
                double computeBound = Environment.ProcessorCount * bytes / cpu;
                Console.WriteLine($"{mode}: plain reads {bytes / 1e6 / plain:F0} MB/s; streamed estimate {bytes / 1e6 / seconds:F0} MB/s "
                    + $"= {plain / seconds:P0} of plain reads (wall clock; target >= 70%); peak resident {peak / 1e6:F0} MB (target <= 1000 MB)");
                Console.WriteLine($"  CPU: {cpu:F1} s for {bytes / 1e6:F0} MB = {bytes / 1e6 / cpu:F0} MB per CPU second; on this machine's {Environment.ProcessorCount} cores "
                    + $"at most {computeBound / 1e6:F0} MB/s = {Math.Min(computeBound, bytes / plain) / (bytes / plain):P0} of plain reads when the cores are free");
                Console.WriteLine($"  {line}");
                if (cold) coldResult = (plain / seconds, bytes / 1e6 / plain, bytes / 1e6 / seconds, peak, Math.Min(computeBound, bytes / plain) / (bytes / plain));
            }
            // The verdict: the cold pass's wall clock (both read the disk) against the cold plain reads of the same file. On a
            // busy machine the wall clock measures the other processes too, hence the load average beside it.
            var (ratio, plainSpeed, streamedSpeed, peakBytes, projected) = coldResult!.Value;
            bool met = ratio >= 0.7 && peakBytes <= 1_000_000_000;
            verdict = $"stream: {(met ? "MET" : "NOT MET")}: streamed estimate {streamedSpeed:F0} MB/s wall clock = {ratio:P0} of cold plain reads of the same file "
                + $"({plainSpeed:F0} MB/s, pages dropped with posix_fadvise) (target >= 70%); peak resident {peakBytes / 1e6:F0} MB (target <= 1000 MB); "
                + $"{bytes / 1e9:F2} GB file, {Environment.ProcessorCount} cores (projected with the cores free: {projected:P0}); load average {loadBefore} before, {LoadAverage()} after";
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".json");
        }
        int reduced = Reduce(dir);
        Console.WriteLine($"bench stream took {total.Elapsed.TotalSeconds:F0} s");
        Console.WriteLine(verdict); // last, for the one line that matters
        return reduced;
    }

    /// <summary>The estimating child: streams the file with the heap limit the parent set, prints seconds, peak RSS and the estimate.</summary>
    public static int ChildMain(string[] args)
    {
        string path = args[0];
        var sw = Stopwatch.StartNew();
        using var reader = TrajectoryReader.Open(path, 0.01);
        var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 1, ErrorOptions.Default);
        var basis = BasisSpec.Parse("poly:2", Dimension, () => throw new InvalidOperationException());
        var stats = request.Accumulate(reader, basis, long.Parse(args[1], CultureInfo.InvariantCulture));
        var e = request.Estimate(stats).Estimate;
        double seconds = sw.Elapsed.TotalSeconds, cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        long peak = File.ReadAllLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).First();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{seconds:R} {cpu:R} {peak} EP rate ({e.Method}, {e.Basis}) {e.Rate:G6} +- {e.StandardError:G3} from {e.Transitions} transitions ({e.Settings.Errors})"));
        return 0;
    }

    private static (double Seconds, double Cpu, long Peak, string Line) Child(string path, int limitMb)
    {
        // chunks of a quarter of the heap limit: two are held, plus the runtime
        long chunkValues = (long)limitMb * (1 << 20) / 4 / 8;
        var start = new ProcessStartInfo(Environment.ProcessPath!, ["stream-child", path, chunkValues.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)) start.ArgumentList.Insert(0, typeof(StreamBench).Assembly.Location);
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)limitMb << 20).ToString("X", CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"stream-child failed ({process.ExitCode}): {output}");
        var parts = output.Split(' ', 4);
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture),
            long.Parse(parts[2], CultureInfo.InvariantCulture), parts[3]);
    }

    /// <summary>Seconds to read the file sequentially with plain 4 MB reads.</summary>
    private static double PlainRead(string path)
    {
        var buffer = new byte[4 << 20];
        var sw = Stopwatch.StartNew();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        while (stream.Read(buffer) > 0) { }
        return sw.Elapsed.TotalSeconds;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int posix_fadvise(int fd, long offset, long length, int advice);

    private static void DropCache(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        const int dontNeed = 4;
        int rc = posix_fadvise((int)stream.SafeFileHandle.DangerousGetHandle(), 0, 0, dontNeed);
        if (rc != 0) Console.Error.WriteLine($"posix_fadvise failed ({rc}); the cold pass may read from the page cache");
    }

    /// <summary>
    /// The driven trap dx = -(k x + eps J x) dt + sqrt(2 D dt) xi (J the rotation by 90 degrees), Euler steps: trajectories
    /// written one at a time (a few MB in memory), then fsync so that the pages can be dropped.
    /// </summary>
    private static void Write(string path, int trajectories)
    {
        const double dt = 0.01, k = 1, eps = 0.3, d = 0.5;
        double noise = Math.Sqrt(2 * d * dt);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(NpyFormat.Header([trajectories, Frames, Dimension]));
        var row = new double[Frames * Dimension];
        for (int r = 0; r < trajectories; r++)
        {
            var random = new Random(1000 + r);
            double x = 0, y = 0;
            for (int f = 0; f < Frames; f++)
            {
                row[2 * f] = x;
                row[2 * f + 1] = y;
                double u1 = 1 - random.NextDouble(), u2 = random.NextDouble(), radius = Math.Sqrt(-2 * Math.Log(u1));
                double dx = -(k * x - eps * y) * dt + noise * radius * Math.Cos(2 * Math.PI * u2);
                double dy = -(k * y + eps * x) * dt + noise * radius * Math.Sin(2 * Math.PI * u2);
                x += dx;
                y += dy;
            }
            stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
        }
        stream.Flush(flushToDisk: true);
        File.WriteAllText(path + ".json", $"{{\"dt\": {dt.ToString("R", CultureInfo.InvariantCulture)}, \"trajectories\": {trajectories}, \"frames\": {Frames}, \"dimension\": {Dimension}}}");
    }

    /// <summary>1,000 shards of one run mapped to statistics files, then reduced (read + sum + estimate) and timed.</summary>
    private static int Reduce(string dir)
    {
        const int parts = 1000, frames = 201;
        string folder = Path.Combine(dir, $"stream-bench-stats-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            var random = new Random(7);
            var all = new double[(long)parts * frames * Dimension];
            for (int i = 0; i < all.Length; i += Dimension * frames)
                for (int f = 1; f < frames; f++)
                    for (int c = 0; c < Dimension; c++)
                        all[i + f * Dimension + c] = 0.99 * all[i + (f - 1) * Dimension + c] + 0.1 * (random.NextDouble() - 0.5);
            var request = new CurrentEstimateRequest("current", DiffusionSpec.Estimated, 1, 0, false, 1, ErrorOptions.Default);
            var basis = BasisSpec.Parse("poly:2", Dimension, () => throw new InvalidOperationException());
            var whole = new TrajectoryEnsemble(parts, frames, Dimension, 0.01, all);
            var single = request.Estimate(request.StatisticsOptions().Select(o => CurrentStatistics.Accumulate(whole, basis, o, request.Errors)).ToArray()).Estimate;
            var files = new string[parts];
            for (int p = 0; p < parts; p++)
            {
                string shard = Path.Combine(folder, $"shard-{p}.npy");
                var data = all.AsSpan(p * frames * Dimension, frames * Dimension).ToArray();
                TrajectoryFile.Write(shard, new TrajectoryEnsemble(1, frames, Dimension, 0.01, data, new TrajectoryMetadata(FirstTrajectory: p, TotalTrajectories: parts)));
                using var reader = TrajectoryReader.Open(shard);
                files[p] = Path.Combine(folder, $"part-{p}.stats");
                StatisticsFile.Write(files[p], new StatisticsPart(request, request.Accumulate(reader, basis, 1 << 20, runLayout: true), shard, reader.Header.Metadata));
            }
            long size = files.Sum(f => new FileInfo(f).Length);
            double best = double.MaxValue;
            EntropyProductionEstimate? reduced = null;
            for (int repeat = 0; repeat < 3; repeat++)
            {
                var sw = Stopwatch.StartNew();
                var read = new StatisticsPart[parts];
                Parallel.For(0, parts, i => read[i] = StatisticsFile.Read(files[i]));
                var (r, stats, _) = StatisticsFile.Reduce(read);
                reduced = r.Estimate(stats).Estimate;
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            // 1,000 one-trajectory shards and 50 batches: every batch straddles 20 shards, so the reduction adds 20 partial
            // sums where the single process keeps one running sum (agreement to rounding, not bit for bit; see StatisticsFile)
            double relative = Math.Abs(reduced!.Rate - single.Rate) / Math.Abs(single.Rate);
            double relativeError = Math.Abs(reduced.StandardError - single.StandardError) / single.StandardError;
            Console.WriteLine($"reduce of {parts} statistics files ({size / 1e6:F1} MB): {best * 1e3:F0} ms (best of 3; target < 1000 ms); "
                + $"reduced {reduced.Rate:R} +- {reduced.StandardError:R}, single process {single.Rate:R} +- {single.StandardError:R}: "
                + $"relative difference {relative:G2} (rate), {relativeError:G2} (standard error)");
            return relative < 1e-12 && relativeError < 1e-10 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages (/proc/loadavg), or "unknown".</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static double Arg(string[] args, string name, double fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
