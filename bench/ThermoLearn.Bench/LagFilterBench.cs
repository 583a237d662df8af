using System.Diagnostics;
using ThermoLearn.ActiveMatter;

namespace ThermoLearn.Bench;

/// <summary>
/// <c>bench lag-filters [N] [repeats]</c>: the cost of the current estimator's particle basis (<see cref="ParticleBasis"/>) per
/// particle and snapshot, with the twelve lag filters and without them (the reference, in the same run), on two compressed
/// states of N = 4,096 discs at phi = 0.7 with eps = 0: soft discs (softplus, k = 1, 200 steps of 0.01) and WCA discs (k = 1, 400
/// steps of 0.001, contacts far stiffer than k: the filters' hard case). The filters' share is (with - without) / with.
/// Each figure is the best (and median) of the repeats, by wall clock and by process CPU time, on one thread and on all.
/// Session 22 replaced the filters' conjugate gradients on k^2 H^2 + lambda^2 (one solve per rate) by one Lanczos process on
/// k H per field for all rates (docs/active-matter.md, "Lag filters").
/// </summary>
internal static class LagFilterBench
{
    public static int Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 4096;
        int repeats = args.Length > 1 ? int.Parse(args[1]) : 7;
        Console.WriteLine($"lag-filters: particle basis per snapshot, 2-D, N = {n:N0}, phi = 0.7, eps = 0, {Environment.ProcessorCount} cores, "
            + $"load average {PairBench.LoadAverage()}; best (median) of {repeats}");
        foreach (var (name, interaction, dt, steps) in new[] { ("softplus", PairInteraction.Softplus, 0.01, 200), ("wca", PairInteraction.Wca, 0.001, 400) })
        {
            var model = new ActiveModel
            {
                Particles = n, PackingFraction = 0.7, V0 = 1, Gamma = 1, Epsilon = 0, A = 0, K = 1, Interaction = interaction,
            };
            var system = new ActiveSystem(model, dt, 3);
            system.Step(steps);
            double[] x = system.Positions.ToArray(), g = system.Active.ToArray();
            foreach (int threads in new[] { 1, -1 })
            {
                var without = Measure(new ParticleBasis(model), x, g, threads, repeats);
                var with = Measure(new ParticleBasis(model, lagFilters: true), x, g, threads, repeats);
                string label = threads == 1 ? "1 thread" : $"{Environment.ProcessorCount} threads";
                Console.WriteLine($"  {name}, {label}: without filters {Per(without.Wall, n)} ({Per(without.WallMedian, n)}) us wall, {Per(without.Cpu, n)} us CPU "
                    + $"per particle; with {Per(with.Wall, n)} ({Per(with.WallMedian, n)}) us wall, {Per(with.Cpu, n)} us CPU; "
                    + $"ratio with / without {with.Wall / without.Wall:F2} wall, {with.Cpu / without.Cpu:F2} CPU; filters' share {(with.Wall - without.Wall) / with.Wall:P0} of the wall time");
            }
        }
        Console.WriteLine($"  load average at the end: {PairBench.LoadAverage()}");
        return 0;
    }

    private static string Per(double seconds, int n) => (seconds / n * 1e6).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Best and median seconds (wall, CPU) of one evaluation, after two untimed ones (the JIT's tiers).</summary>
    private static (double Wall, double Cpu, double WallMedian) Measure(ParticleBasis basis, double[] x, double[] g, int threads, int repeats)
    {
        var phi = new double[x.Length * basis.Count];
        for (int w = 0; w < 2; w++) basis.Evaluate(x, g, phi, threads);
        var walls = new double[repeats];
        var cpus = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            double cpu0 = PairBench.ProcessCpuSeconds();
            long t0 = Stopwatch.GetTimestamp();
            basis.Evaluate(x, g, phi, threads);
            walls[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            cpus[r] = PairBench.ProcessCpuSeconds() - cpu0;
        }
        return (walls.Min(), cpus.Min(), PairBench.Median(walls));
    }
}
