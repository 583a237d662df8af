using System.Diagnostics;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Bench;

/// <summary>
/// `io [frames] [dim] [folder]`: write and read throughput of every trajectory format for one ensemble
/// (default 1e7 frames of 2-D float64 = 160 MB: 100 trajectories x 100,000 frames), next to a raw file
/// copy of the .npy file and a raw read/write of the same bytes, measured in the same run. Throughput is
/// the ensemble's float64 payload (frames x dim x 8 bytes) per second, so formats compare on what they carry.
/// Also prints each read's peak memory above the baseline (VmHWM reset through /proc/self/clear_refs) as a
/// multiple of the payload: the streaming target is at most 2x. Files live in the folder given (default: a
/// temporary folder), so results reflect that disk and the page cache; each figure is the best of 3 runs.
/// </summary>
internal static class IoBench
{
    public static int Run(string[] args)
    {
        long frames = args.Length > 0 ? (long)double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
        int dim = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2;
        string folder = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), "thermolearn-bench-io-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        int trajectories = 100;
        int perTrajectory = (int)(frames / trajectories);
        var data = new double[(long)trajectories * perTrajectory * dim];
        var random = new Random(1);
        for (long i = 0; i < data.LongLength; i++) data[i] = random.NextDouble() * 4 - 2;
        var ensemble = new TrajectoryEnsemble(trajectories, perTrajectory, dim, 0.001, data,
            new TrajectoryMetadata("driven-trap-2d", "{\"k\":1,\"eps\":0.3,\"mu\":1,\"T\":0.5}", 42));
        double megabytes = data.LongLength * 8 / 1e6;
        Console.WriteLine($"io: {trajectories} trajectories x {perTrajectory} frames x {dim} dim = {megabytes:F0} MB of float64, folder {folder}, {Environment.ProcessorCount} cores");

        try
        {
            // References: the same bytes written and read with one FileStream, and a raw copy of a file of that size.
            string rawPath = Path.Combine(folder, "raw.bin");
            double rawWrite = Best(() =>
            {
                using var s = new FileStream(rawPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
            });
            double rawRead = Best(() =>
            {
                var back = new double[data.LongLength];
                using var s = new FileStream(rawPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                s.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(back.AsSpan()));
            });
            string copyPath = Path.Combine(folder, "copy.bin");
            // The machine may be shared and the page cache's write-back depends on what came before, so the raw-copy
            // reference is measured again right before each format and each format is compared with its own.
            double Copy() { double c = Best(() => File.Copy(rawPath, copyPath, overwrite: true)); File.Delete(copyPath); return c; }
            double copy = Copy();
            Console.WriteLine($"{"",-10} {"write MB/s",11} {"read MB/s",11} {"file MB",9} {"write/copy",11} {"read/copy",10} {"read peak",10} {"copy MB/s",10}");
            Console.WriteLine($"{"raw",-10} {megabytes / rawWrite,11:F0} {megabytes / rawRead,11:F0} {megabytes,9:F0} {copy / rawWrite,11:F2} {copy / rawRead,10:F2} {"",10}");
            Console.WriteLine($"{"file copy",-10} {megabytes / copy,11:F0} {"",11} {megabytes,9:F0}");

            bool ok = true;
            foreach (var format in TrajectoryFile.All.OrderBy(f => f.Name))
            {
                string path = Path.Combine(folder, "bench" + format.Extensions[0]);
                copy = Copy();
                double write = Best(() => TrajectoryFile.Write(path, ensemble), format.Name == "csv" ? 1 : 3);
                double read = Best(() => TrajectoryFile.Read(path), format.Name == "csv" ? 1 : 3);
                double peak = ReadPeak(path);
                double size = new FileInfo(path).Length / 1e6;
                // Target: .npy and HDF5 within 2x of a raw copy, i.e. at least half its throughput; reads of every format within 2x of the payload in memory.
                bool targeted = format.Name is "npy" or "hdf5";
                bool meets = (!targeted || (write <= 2 * copy && read <= 2 * copy)) && (double.IsNaN(peak) || peak <= 2.0);
                ok &= meets;
                Console.WriteLine($"{format.Name,-10} {megabytes / write,11:F0} {megabytes / read,11:F0} {size,9:F0} {copy / write,11:F2} {copy / read,10:F2} {peak,9:F2}x{megabytes / copy,10:F0}{(targeted ? (meets ? "  target met" : "  TARGET MISSED") : "")}");
                File.Delete(path);
                if (File.Exists(path + ".json")) File.Delete(path + ".json");
            }
            File.Delete(rawPath);
            Console.WriteLine("write/copy, read/copy: format throughput over raw-copy throughput (target for npy and hdf5: >= 0.5); read peak: memory above baseline while reading, in units of the payload (target <= 2).");
            return ok ? 0 : 1;
        }
        finally
        {
            if (args.Length <= 2) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Best wall time of <paramref name="runs"/> runs, in seconds.</summary>
    private static double Best(Action action, int runs = 3)
    {
        double best = double.PositiveInfinity;
        for (int i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// Peak resident memory while reading <paramref name="path"/>, measured in a fresh process (no garbage from
    /// earlier runs to reuse), above its resident memory just before, over the payload size; NaN if not measurable.
    /// </summary>
    private static double ReadPeak(string path)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in Environment.GetCommandLineArgs().Take(1).Where(a => a.EndsWith(".dll", StringComparison.Ordinal))) start.ArgumentList.Add(a);
        start.ArgumentList.Add("io-read-peak");
        start.ArgumentList.Add(path);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return child.ExitCode == 0 && double.TryParse(output.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double ratio) ? ratio : double.NaN;
    }

    /// <summary>The child side of <see cref="ReadPeak"/>: warms the format up on a small file (code loading is not the read's memory), resets VmHWM, reads, prints the ratio.</summary>
    public static int ReadPeakChild(string path)
    {
        string warm = Path.Combine(Path.GetDirectoryName(path)!, "warm-" + Environment.ProcessId + Path.GetExtension(path));
        TrajectoryFile.Write(warm, new TrajectoryEnsemble(2, 10, 2, 0.1, new double[40]));
        TrajectoryFile.Read(warm);
        File.Delete(warm);
        if (File.Exists(warm + ".json")) File.Delete(warm + ".json");
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 1; }
        using var process = Process.GetCurrentProcess();
        long baseline = process.WorkingSet64;
        var ensemble = TrajectoryFile.Read(path);
        process.Refresh();
        long peak = process.PeakWorkingSet64;
        Console.WriteLine(((peak - baseline) / (ensemble.Data.LongLength * 8.0)).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }
}
