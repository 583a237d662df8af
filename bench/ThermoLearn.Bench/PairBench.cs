using System.Diagnostics;
using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;

namespace ThermoLearn.Bench;

/// <summary>
/// <c>bench pair [N] [steps]</c>: one AOUP step (eps = 0) of N = 32,768 soft discs in 2-D at packing fraction 0.5 with the
/// softplus repulsion (r0 = 1, beta = 7.5; cutoff 4.1874) through <see cref="ActiveSystem"/>, against the same step in
/// numpy + scipy (cKDTree(boxsize=L).query_pairs, bench/pair/scipy_reference.py) run as a child process in the same
/// run; then O(N): time per particle-step from N = 1,024 to 262,144. Prints best-of wall and CPU seconds per step and
/// their ratios (the machine is shared, so the best of several steps and CPU time are the stable numbers).
/// </summary>
internal static class PairBench
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 32768;
        int steps = args.Length > 1 ? int.Parse(args[1]) : 10;
        string script = FindScript();
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var reference = RunReference(python, script, n, steps);
        double refWall = (double)reference["wall_s"]!, refCpu = (double)reference["cpu_s"]!;
        var (wall, cpu) = Measure(n, steps);
        Console.WriteLine($"pair: AOUP step, 2-D, N = {n:N0}, phi = 0.5, softplus (r0 = 1, beta = 7.5, cutoff {new SoftplusRepulsion(1, 7.5).Cutoff:F4}), "
            + $"{Environment.ProcessorCount} cores; best of {steps} steps");
        Console.WriteLine($"  numpy {reference["numpy"]} + scipy {reference["scipy"]} cKDTree: {refWall * 1e3:F2} ms wall, {refCpu * 1e3:F2} ms CPU per step ({reference["pairs"]} pairs)");
        Console.WriteLine($"  ThermoLearn ActiveSystem:          {wall * 1e3:F2} ms wall, {cpu * 1e3:F2} ms CPU per step");
        Console.WriteLine($"  ratio (reference / ThermoLearn): {refWall / wall:F1}x wall, {refCpu / cpu:F1}x CPU (target >= 30x)");
        Console.WriteLine("  O(N): N, ms wall per step, ns wall per particle-step, ns CPU per particle-step");
        foreach (int size in new[] { 1024, 4096, 16384, 65536, 262144 })
        {
            var (w, c) = Measure(size, size >= 65536 ? 5 : 10);
            Console.WriteLine($"    {size,7:N0}  {w * 1e3,9:F3}  {w / size * 1e9,8:F1}  {c / size * 1e9,8:F1}");
        }
        return 0;
    }

    private static (double Wall, double Cpu) Measure(int n, int steps)
    {
        var model = new ActiveModel { Particles = n, PackingFraction = 0.5, V0 = 0.25, Gamma = 0.01, Epsilon = 0, K = 1 };
        var system = new ActiveSystem(model, 0.1, 1);
        system.Step(3);   // JIT and caches
        var process = Process.GetCurrentProcess();
        double bestWall = double.PositiveInfinity, bestCpu = double.PositiveInfinity;
        for (int s = 0; s < steps; s++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            system.Step();
            double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            bestWall = Math.Min(bestWall, wall);
            bestCpu = Math.Min(bestCpu, Math.Max(cpu, 1e-6));
        }
        return (bestWall, bestCpu);
    }

    private static JsonNode RunReference(string python, string script, int n, int steps)
    {
        var info = new ProcessStartInfo(python, [script, n.ToString(), steps.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
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
