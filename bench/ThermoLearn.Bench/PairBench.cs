using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Randomness;
using ThermoLearn.Simd;

namespace ThermoLearn.Bench;

/// <summary>
/// <c>bench pair [N] [block] [blocks]</c>: AOUP steps (eps = 0) of N = 32,768 soft discs in 2-D at packing fraction 0.5
/// with the softplus repulsion (r0 = 1, beta = 7.5; cutoff 4.1875) through <see cref="ActiveSystem"/>, against the same
/// step in numpy + scipy (cKDTree(boxsize=L).query_pairs, bench/pair/scipy_reference.py) run as a child process in the
/// same run; then O(N): time per particle-step from N = 1,024 to 262,144. Each sample times a block of steps (default
/// 20) by wall clock and by process CPU time (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), nanosecond resolution, both
/// here and in Python's time.process_time), so no sample is shorter than the clock it reads; per step figures are the
/// best block (the machine is shared: CPU time per step and same-run ratios are the stable numbers) with the median block
/// beside it. Each system is first stepped for half a second (at least 20 steps) so the timed code is the JIT's final tier.
/// <c>bench pair [N] [block] [blocks] --phases</c> instead times each phase of the step (list refresh, cell build, list
/// fill, force sweep, update) by wall clock and process CPU time, on one thread and on all, with no reference run.
/// </summary>
internal static class PairBench
{
    public static int Run(string[] args)
    {
        bool phases = args.Contains("--phases");
        args = args.Where(a => a != "--phases").ToArray();
        int n = args.Length > 0 ? int.Parse(args[0]) : 32768;
        int block = args.Length > 1 ? int.Parse(args[1]) : 20;
        int blocks = args.Length > 2 ? int.Parse(args[2]) : 3;
        if (phases) return Phases(n, block, blocks);
        string script = FindScript();
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        Console.WriteLine($"pair: AOUP step, 2-D, N = {n:N0}, phi = 0.5, softplus (r0 = 1, beta = 7.5, cutoff {new SoftplusRepulsion(1, 7.5).Cutoff:F4}), "
            + $"{Environment.ProcessorCount} cores, load average {LoadAverage()}; per step: best (median) of {blocks} blocks of {block} steps");
        var reference = RunReference(python, script, n, block, blocks);
        double refWall = (double)reference["wall_s"]!, refCpu = (double)reference["cpu_s"]!;
        var (wall, cpu, wallMedian, cpuMedian) = Measure(n, block, blocks);
        Console.WriteLine($"  numpy {reference["numpy"]} + scipy {reference["scipy"]} cKDTree: {refWall * 1e3:F2} ({(double)reference["wall_median_s"]! * 1e3:F2}) ms wall, "
            + $"{refCpu * 1e3:F2} ({(double)reference["cpu_median_s"]! * 1e3:F2}) ms CPU per step ({reference["pairs"]} pairs)");
        Console.WriteLine($"  ThermoLearn ActiveSystem: {wall * 1e3:F3} ({wallMedian * 1e3:F3}) ms wall, {cpu * 1e3:F3} ({cpuMedian * 1e3:F3}) ms CPU per step");
        Console.WriteLine($"  ratio (reference / ThermoLearn): {refWall / wall:F1}x wall, {refCpu / cpu:F1}x CPU (target >= 30x)");
        Console.WriteLine($"  O(N): N, ms wall per step, ns wall per particle-step, ns CPU per particle-step (best of {blocks} blocks of >= 2e5 particle-steps)");
        foreach (int size in new[] { 1024, 4096, 16384, 65536, 262144 })
        {
            int steps = Math.Max(block, 200_000 / size);
            var (w, c, _, _) = Measure(size, steps, blocks);
            Console.WriteLine($"    {size,7:N0}  {w * 1e3,9:F3}  {w / size * 1e9,8:F1}  {c / size * 1e9,8:F1}");
        }
        Console.WriteLine($"  load average at the end: {LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// Per phase of the step, ns per particle-step by wall clock and by process CPU time (all threads, so the second
    /// core's share and any waiting at the end of a parallel loop count), summed over <paramref name="blocks"/> blocks of
    /// <paramref name="block"/> steps, on one thread and on all; then the step without the phase hooks for comparison.
    /// </summary>
    private static int Phases(int n, int block, int blocks)
    {
        Console.WriteLine($"pair --phases: AOUP step, 2-D, N = {n:N0}, phi = 0.5, softplus (r0 = 1, beta = 7.5), {Environment.ProcessorCount} cores, "
            + $"load average {LoadAverage()}; {blocks} blocks of {block} steps after 0.5 s of warm-up; ns per particle-step, wall / CPU");
        var names = Enum.GetNames<StepPhase>();
        Console.WriteLine($"  {"threads",-8}{string.Join("", names.Select(p => $"{p,16}"))}{"sum",16}{"unhooked step",18}{"builds/step",13}");
        foreach (int threads in new[] { 1, -1 })
        {
            var model = new ActiveModel { Particles = n, PackingFraction = 0.5, V0 = 0.25, Gamma = 0.01, Epsilon = 0, K = 1 };
            var system = new ActiveSystem(model, 0.1, 1, maxDegreeOfParallelism: threads);
            long warm = Stopwatch.GetTimestamp();
            for (int s = 0; s < 20 || Stopwatch.GetElapsedTime(warm).TotalSeconds < 0.5; s++) system.Step();
            var wall = new double[names.Length];
            var cpu = new double[names.Length];
            long lastWall = 0;
            double lastCpu = 0;
            system.PhaseEnded = phase =>
            {
                long nowWall = Stopwatch.GetTimestamp();
                double nowCpu = ProcessCpuSeconds();
                wall[(int)phase] += Stopwatch.GetElapsedTime(lastWall, nowWall).TotalSeconds;
                cpu[(int)phase] += nowCpu - lastCpu;
                (lastWall, lastCpu) = (Stopwatch.GetTimestamp(), ProcessCpuSeconds());
            };
            long builds0 = system.Pairs!.Neighbours.Builds;
            for (int b = 0; b < blocks; b++)
            {
                (lastWall, lastCpu) = (Stopwatch.GetTimestamp(), ProcessCpuSeconds());
                system.Step(block);
            }
            double builds = (double)(system.Pairs.Neighbours.Builds - builds0) / (blocks * block);
            system.PhaseEnded = null;
            double plainWall = 0, plainCpu = 0;
            for (int b = 0; b < blocks; b++)
            {
                double c0 = ProcessCpuSeconds();
                long t0 = Stopwatch.GetTimestamp();
                system.Step(block);
                plainWall += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                plainCpu += ProcessCpuSeconds() - c0;
            }
            double scale = 1e9 / ((double)blocks * block * n);
            string Cell(double w, double c) => $"{w * scale,7:F1} /{c * scale,6:F1}";
            Console.WriteLine($"  {(threads == 1 ? "1" : "all"),-8}{string.Join("", names.Select((_, p) => $"{Cell(wall[p], cpu[p]),16}"))}"
                + $"{Cell(wall.Sum(), cpu.Sum()),16}{Cell(plainWall, plainCpu),18}{builds,13:F3}");
        }
        Console.WriteLine($"  noise alone (the update's draw: one Box-Muller pair per particle from its own stream, eight lanes, one thread): {NoiseAlone(n):F1} ns CPU per particle-step (best of 10)");
        Console.WriteLine($"  load average at the end: {LoadAverage()}");
        return 0;
    }

    /// <summary>CPU ns per particle for the normals of one AOUP step (d = 2: one pair per particle), drawn as <see cref="ActiveSystem"/> draws them.</summary>
    private static double NoiseAlone(int n)
    {
        int padded = (n + 7) / 8 * 8;
        ulong[] s0 = new ulong[padded], s1 = new ulong[padded], s2 = new ulong[padded], s3 = new ulong[padded];
        for (int i = 0; i < padded; i++) (s0[i], s1[i], s2[i], s3[i]) = RandomStream.For(1, (ulong)i, RandomPurposes.ActiveNoise).State;
        var sink = Vector512<double>.Zero;
        double best = double.PositiveInfinity;
        for (int r = 0; r < 30; r++)
        {
            double c0 = ProcessCpuSeconds();
            for (int step = 0; step < 20; step++)
                for (int first = 0; first < padded; first += 8)
                {
                    var lanes = GaussianLanes<Lanes512, Vector512<double>, Vector512<ulong>>.Load(s0, s1, s2, s3, first);
                    lanes.NextPair(out var even, out var odd);
                    lanes.Store(s0, s1, s2, s3, first);
                    sink += even + odd;
                }
            if (r >= 10) best = Math.Min(best, (ProcessCpuSeconds() - c0) / 20 / n * 1e9);
        }
        return sink[0] == double.MaxValue ? 0 : best;
    }

    /// <summary>Best and median seconds per step (wall, CPU) over <paramref name="blocks"/> timed blocks of <paramref name="block"/> steps.</summary>
    private static (double Wall, double Cpu, double WallMedian, double CpuMedian) Measure(int n, int block, int blocks)
    {
        var model = new ActiveModel { Particles = n, PackingFraction = 0.5, V0 = 0.25, Gamma = 0.01, Epsilon = 0, K = 1 };
        var system = new ActiveSystem(model, 0.1, 1);
        // Warm-up: at least 20 steps and half a second, so the JIT's tiering (call counting, then optimised code with
        // profile data) has settled before timing; the numpy/scipy reference runs compiled code from its first step.
        long warm = Stopwatch.GetTimestamp();
        for (int s = 0; s < 20 || Stopwatch.GetElapsedTime(warm).TotalSeconds < 0.5; s++) system.Step();
        var walls = new double[blocks];
        var cpus = new double[blocks];
        for (int b = 0; b < blocks; b++)
        {
            double cpu0 = ProcessCpuSeconds();
            long t0 = Stopwatch.GetTimestamp();
            system.Step(block);
            walls[b] = Stopwatch.GetElapsedTime(t0).TotalSeconds / block;
            cpus[b] = (ProcessCpuSeconds() - cpu0) / block;
        }
        return (walls.Min(), cpus.Min(), Median(walls), Median(cpus));
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
    }

    internal static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>CPU time of this process (all threads) from CLOCK_PROCESS_CPUTIME_ID (Linux), else the runtime's process times.</summary>
    internal static double ProcessCpuSeconds()
    {
        const int processCpuTimeClock = 2;
        if (OperatingSystem.IsLinux() && ClockGetTime(processCpuTimeClock, out var t) == 0) return t.Seconds + 1e-9 * t.Nanoseconds;
        return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    private static JsonNode RunReference(string python, string script, int n, int block, int blocks)
    {
        var info = new ProcessStartInfo(python, [script, n.ToString(), block.ToString(), blocks.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {python}");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"the numpy/scipy reference failed (exit {process.ExitCode}): {error.Trim()} (needs python3-numpy and python3-scipy: apt-get install python3-scipy)");
        return JsonNode.Parse(output.Trim().Split('\n')[^1])!;
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "pair", "scipy_reference.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("bench/pair/scipy_reference.py not found above " + AppContext.BaseDirectory);
    }
}
