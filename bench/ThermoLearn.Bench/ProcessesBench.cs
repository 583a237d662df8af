using System.Diagnostics;
using ThermoLearn.Processes;

namespace ThermoLearn.Bench;

/// <summary>
/// Hidden Markov processes: exact enumeration of all 3^10 Mess3 prefixes (probabilities, beliefs, next-token laws)
/// and sampling throughput (sequences of n_ctx + 1 = 11 tokens from pi). References: a vectorised numpy
/// implementation measured on this 2-core machine (issue 7): 7 ms for the enumeration, 560,000 sequences/s at batch 64,
/// 1,000,000 sequences/s for large batches. Ratios above 1 mean faster than the reference.
/// On a shared machine wall-clock medians include time spent waiting for a core, so the harness also prints the
/// minimum and the process CPU time per run (load-independent for the single-threaded runs).
/// </summary>
internal static class ProcessesBench
{
    private const double ReferenceEnumerationMs = 7.0;
    private const double ReferenceBatch64PerSecond = 560_000;
    private const double ReferenceLargeBatchPerSecond = 1_000_000;

    public static int Run(string[] args)
    {
        var mess3 = StandardProcesses.Mess3(0.05, 0.85);
        Console.WriteLine($"processes bench: {mess3}, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        foreach (bool parallel in new[] { false, true }) Enumeration(mess3, parallel);
        Sampling(mess3);
        GhmmProductSampling();
        return 0;
    }

    /// <summary>
    /// The spec's 3 Mess3 x 2 TomQuantum (243 joint states, 432 tokens; a GHMM, so sampled through beliefs), one
    /// training batch (128 x 11 tokens) per call on one thread: the data cost of a `beliefs train` step for this case.
    /// CPU time per batch, since the single-threaded loop's CPU time does not depend on the load.
    /// </summary>
    private static void GhmmProductSampling()
    {
        var process = ProcessCatalog.Create("mess3*mess3*mess3*tom_quantum*tom_quantum",
            ["0:x=0.05", "0:a=0.85", "1:x=0.05", "1:a=0.85", "2:x=0.05", "2:a=0.85"]);
        var sampler = new ProcessSampler(process);
        const int Length = 11, Batch = 128;
        var batch = new int[Batch * Length];
        for (int i = 0; i < 3; i++) sampler.Sample(batch, Batch, Length, seed: 1, firstSequence: Batch * i);
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpu0 = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        int batches = 0;
        while (clock.Elapsed.TotalSeconds < 2 || batches < 5) sampler.Sample(batch, Batch, Length, seed: 1, firstSequence: Batch * (3 + batches++));
        self.Refresh();
        double cpuMs = (self.TotalProcessorTime - cpu0).TotalMilliseconds / batches;
        Console.WriteLine($"sample {process.Name} ({process.States} states, {process.Tokens} tokens), batch {Batch} x {Length} (1 thread): "
            + $"{cpuMs:F2} ms CPU per batch, {Batch * (Length - 1) / cpuMs * 1000:N0} training tokens/s of data");
    }

    private static void Enumeration(HiddenMarkovProcess mess3, bool parallel)
    {
        for (int i = 0; i < 5; i++) PrefixTree.Enumerate(mess3, 10, parallel: parallel);
        var wall = new List<double>();
        var cpu = new List<double>();
        long nodes = 0;
        var self = Process.GetCurrentProcess();
        for (int i = 0; i < 60; i++)
        {
            self.Refresh();
            var cpu0 = self.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var tree = PrefixTree.Enumerate(mess3, 10, parallel: parallel);
            wall.Add(clock.Elapsed.TotalMilliseconds);
            self.Refresh();
            cpu.Add((self.TotalProcessorTime - cpu0).TotalMilliseconds);
            nodes = tree.NodeCount;
        }
        wall.Sort();
        cpu.Sort();
        double median = wall[wall.Count / 2];
        Console.WriteLine($"enumerate all Mess3 prefixes to n_ctx 10 ({nodes} nodes, 59,049 at depth 10), {(parallel ? "parallel" : "1 thread")}: "
            + $"wall median {median:F2} ms, min {wall[0]:F2} ms; CPU time median {cpu[cpu.Count / 2]:F1} ms; "
            + $"reference {ReferenceEnumerationMs} ms: {ReferenceEnumerationMs / median:F2}x (median), {ReferenceEnumerationMs / wall[0]:F2}x (min)");
    }

    private static void Sampling(HiddenMarkovProcess mess3)
    {
        var sampler = new ProcessSampler(mess3);
        const int Length = 11;
        // Batch 64: one call per batch, the way a training loop draws data.
        var batch = new int[64 * Length];
        for (int i = 0; i < 2000; i++) sampler.Sample(batch, 64, Length, seed: 1, firstSequence: 64L * i);
        long sequences = 0;
        var c64 = Stopwatch.StartNew();
        for (long b = 0; c64.Elapsed.TotalSeconds < 1.5; b++)
        {
            sampler.Sample(batch, 64, Length, seed: 1, firstSequence: 64 * b);
            sequences += 64;
        }
        double perSecond64 = sequences / c64.Elapsed.TotalSeconds;
        Console.WriteLine($"sample batch 64 x {Length} tokens (1 thread): {perSecond64:N0} sequences/s; reference {ReferenceBatch64PerSecond:N0}/s: {perSecond64 / ReferenceBatch64PerSecond:F2}x");

        foreach (int size in new[] { 65_536, 1_000_000 })
        {
            var large = new int[size * Length];
            sampler.Sample(large, size, Length, seed: 2);
            int repeats = 0;
            var cl = Stopwatch.StartNew();
            while (cl.Elapsed.TotalSeconds < 1.5 || repeats < 3)
            {
                sampler.Sample(large, size, Length, seed: 2, firstSequence: (long)size * repeats);
                repeats++;
            }
            double perSecond = (double)size * repeats / cl.Elapsed.TotalSeconds;
            Console.WriteLine($"sample batch {size:N0} x {Length} tokens (parallel): {perSecond:N0} sequences/s; reference {ReferenceLargeBatchPerSecond:N0}/s: {perSecond / ReferenceLargeBatchPerSecond:F2}x");
        }
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }
}
