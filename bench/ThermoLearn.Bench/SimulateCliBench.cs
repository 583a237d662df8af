using System.Diagnostics;
using System.Globalization;

namespace ThermoLearn.Bench;

/// <summary>
/// simulate-cli [trajectories] [steps]: the end-to-end CLI run <c>thermolearn simulate --model double-well</c> (default 1e6 x
/// 1,000 Euler-Maruyama steps at dt = 1e-3, float64, start-up, energetics and writing the .npy with the first and last frame
/// included) against the vectorised numpy loop x += -4 x (x^2 - 1) dt + sqrt(2 dt) N(0, 1) over the same particles and steps
/// (then np.save of the last frame), each in a child process, in the same run. Prints wall seconds, child CPU seconds (from
/// /proc/self/stat's children times, so neighbours' load does not count) and both ratios. Target: CLI >= 12x numpy.
/// </summary>
internal static class SimulateCliBench
{
    public static int Run(string[] args)
    {
        int trajectories = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        string root = FindRoot();
        string cli = Path.Combine(root, "src/ThermoLearn.Cli/bin/Release/net10.0/thermolearn.dll");
        if (!File.Exists(cli)) throw new InvalidOperationException($"{cli} is missing: build src/ThermoLearn.Cli in Release first.");
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        string folder = Directory.CreateTempSubdirectory("tl-simulate-cli").FullName;
        string numpyScript = Path.Combine(folder, "loop.py");
        File.WriteAllText(numpyScript, $$"""
            import sys, numpy as np
            n, steps, dt = {{trajectories}}, {{steps}}, 1e-3
            rng = np.random.default_rng(1)
            x = np.full(n, -1.0)
            noise = np.sqrt(2 * dt)
            for _ in range(steps):
                x += -4 * x * (x * x - 1) * dt + noise * rng.standard_normal(n)
            np.save(sys.argv[1], x)
            """);
        Console.WriteLine($"simulate-cli: double well, {trajectories:N0} trajectories x {steps:N0} steps, float64, {Environment.ProcessorCount} cores, "
            + $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var cliRun = Time("dotnet", [cli, "simulate", "--model", "double-well", "--trajectories", trajectories.ToString(CultureInfo.InvariantCulture),
            "--steps", steps.ToString(CultureInfo.InvariantCulture), "--dt", "0.001", "--save-every", steps.ToString(CultureInfo.InvariantCulture),
            "--seed", "1", "--out", Path.Combine(folder, "x.npy"), "--energetics", Path.Combine(folder, "e.csv")]);
        var numpyRun = Time(python, [numpyScript, Path.Combine(folder, "numpy.npy")]);
        Console.WriteLine($"  thermolearn simulate (end to end, with energetics): wall {cliRun.Wall,8:F2} s  cpu {cliRun.Cpu,8:F2} s");
        Console.WriteLine($"  numpy loop (one thread):                           wall {numpyRun.Wall,8:F2} s  cpu {numpyRun.Cpu,8:F2} s");
        Console.WriteLine($"  ratio numpy / CLI: wall {numpyRun.Wall / cliRun.Wall:F1}x, CPU {numpyRun.Cpu / cliRun.Cpu:F1}x "
            + $"(CPU ratio x {Environment.ProcessorCount} cores = {Environment.ProcessorCount * numpyRun.Cpu / cliRun.Cpu:F1}x if the cores were free); target >= 12x wall");
        double wallRatio = numpyRun.Wall / cliRun.Wall;
        Console.WriteLine($"verdict: {(wallRatio >= 12 ? "MET" : "NOT MET")}: CLI {wallRatio:F1}x the numpy loop in wall time (target >= 12x) "
            + $"at load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; wall ratios mean something only on an idle machine");
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    private readonly record struct Timing(double Wall, double Cpu);

    private static Timing Time(string program, string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        double cpuBefore = ChildrenCpuSeconds();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        double wall = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {output}");
        return new Timing(wall, ChildrenCpuSeconds() - cpuBefore);
    }

    /// <summary>User + system CPU of waited-for children (cutime + cstime of /proc/self/stat, in clock ticks of 1/100 s).</summary>
    private static double ChildrenCpuSeconds()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17
        return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ThermoLearn.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run the bench from inside the repository (ThermoLearn.sln not found above it).");
    }
}
