using System.Diagnostics;
using System.Globalization;
using ThermoLearn.Models;
using ThermoLearn.Models.Potentials;
using ThermoLearn.Randomness;
using ThermoLearn.Simulation;

namespace ThermoLearn.Bench;

/// <summary>
/// `doublewell [particles] [steps]`: overdamped Euler-Maruyama for independent particles in V = (x^2 - 1)^2
/// (mu = T = 1, dt = 1e-3, start at -1), default 1,000,000 x 1,000 float64 steps, saving only the first and last
/// frame. Prints particle-steps per second of <c>Simulator.Run</c> and of a plain scalar reference loop
/// (one thread, RandomStream Box-Muller normals) run on a slice of the particles in the same process, their
/// ratio, and the bytes allocated per particle-step beyond the output array. Where AVX-512 is accelerated it also
/// times the four-lane kernel on the same run (and checks that its output is identical).
/// </summary>
internal static class DoubleWellBenchmark
{
    public static int Run(string[] args)
    {
        int particles = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        int steps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        const double dt = 1e-3;
        var model = new DoubleWellModel(b: 1, c: 0, mu: 1, temperature: 1, x0: -1);
        var options = new SimulationOptions { Trajectories = particles, Steps = steps, Dt = dt, SaveEvery = steps, Seed = 1, ComputeEnergetics = false };

        // Warm-up (JIT, thread pool) on a small run.
        Simulator.Run(model, options with { Trajectories = 4096, Steps = 100, SaveEvery = 100 });

        long outputBytes = (long)particles * 2 * sizeof(double);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var result = Simulator.Run(model, options);
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        double simulator = (double)particles * steps / seconds;

        // The four-lane kernel on the same run, where the eight-lane (AVX-512) one is the default: same numbers, slower.
        double? narrowPerCpu = null;
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            process.Refresh();
            var narrowCpuBefore = process.TotalProcessorTime;
            var narrow = Simulator.Run(model, options with { Engine = SimulationEngine.FourLanes });
            process.Refresh();
            narrowPerCpu = particles * (double)steps / (process.TotalProcessorTime - narrowCpuBefore).TotalSeconds;
            if (!narrow.Trajectories.Data.AsSpan().SequenceEqual(result.Trajectories.Data))
                throw new InvalidOperationException("the four- and eight-lane kernels disagree");
        }

        // Scalar reference: the textbook loop, one particle at a time, on one thread.
        int referenceParticles = Math.Max(1, Math.Min(particles, 20_000));
        process.Refresh();
        var referenceCpuBefore = process.TotalProcessorTime;
        clock.Restart();
        double checksum = ScalarReference(referenceParticles, steps, dt);
        double referenceSeconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double referenceCpu = (process.TotalProcessorTime - referenceCpuBefore).TotalSeconds;
        double reference = (double)referenceParticles * steps / referenceSeconds;

        double mean = 0;
        for (int i = 0; i < result.Trajectories.Trajectories; i++) mean += result.Trajectories.Frame(i, 1)[0];
        mean /= result.Trajectories.Trajectories;
        Console.WriteLine($"doublewell: {particles:N0} particles x {steps:N0} steps (float64, dt = {dt}), {Environment.ProcessorCount} cores, "
            + $"AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, AVX-512 {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");
        Console.WriteLine($"  simulator:        {simulator:E3} particle-steps/s ({seconds:F2} s)");
        Console.WriteLine($"  scalar reference: {reference:E3} particle-steps/s ({referenceParticles:N0} particles, 1 thread, {referenceSeconds:F2} s)");
        Console.WriteLine($"  ratio: {simulator / reference:F1}x;  target 8e8: {(simulator >= 8e8 ? "met" : "NOT met")}");
        // On a shared machine wall time measures the neighbours too; CPU time measures this process.
        Console.WriteLine($"  per CPU-second: simulator {particles * (double)steps / cpuSeconds:E3}, reference {referenceParticles * (double)steps / referenceCpu:E3} "
            + $"particle-steps (x {Environment.ProcessorCount} cores = {Environment.ProcessorCount * particles * (double)steps / cpuSeconds:E3}/s if the cores were free; "
            + $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        if (narrowPerCpu is { } n)
            Console.WriteLine($"  four-lane kernel (Vector256) on the same run: {n:E3} particle-steps per CPU-second (identical output); eight-lane: {particles * (double)steps / cpuSeconds:E3}");
        Console.WriteLine($"  allocated beyond the output: {Math.Max(0, allocated - outputBytes) / ((double)particles * steps):F4} bytes per particle-step "
            + $"({allocated:N0} bytes in all, output {outputBytes:N0})");
        Console.WriteLine($"  <x(T)> = {mean:F4} (simulator), {checksum:F4} (reference)");
        return 0;
    }

    private static double ScalarReference(int particles, int steps, double dt)
    {
        double noise = Math.Sqrt(2 * dt), sum = 0;
        for (int i = 0; i < particles; i++)
        {
            var random = RandomStream.For(1, (ulong)i);
            double x = -1;
            for (int s = 0; s < steps; s++) x += DoubleWell.ForceAt(x, 1, 0) * dt + noise * random.NextGaussian();
            sum += x;
        }
        return sum / particles;
    }
}
