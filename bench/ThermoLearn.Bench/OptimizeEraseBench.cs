using System.Diagnostics;
using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using ThermoLearn.Models;
using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;
using ThermoLearn.Simulation;

namespace ThermoLearn.Bench;

/// <summary>
/// optimize-erase: one optimiser iteration of the erase task (10,000 trajectories x 1,000 steps, 3 controls x
/// 6 knots = 18 parameters): likelihood-ratio gradient with work, score and explicit work derivative accumulated
/// on every step. References measured in the same process on the same trajectories x steps:
/// (a) the project's plain simulator, <c>Simulator.Run</c>, on the same model (the tunable double well driven
/// by the same protocol, Euler-Maruyama, same h, start in equilibrium), with and without its energetics;
/// (b) the control kernel measuring the work only; (c) a bare Euler-Maruyama loop over the protocol table (no work);
/// (d) the simulator's vector kernel on the static double well (its fastest path; a different, undriven model).
/// And what a measurement costs: <c>ControlTask.Measure</c> (the final numbers of optimize, all of evaluate-protocol)
/// runs the chains at dt, dt/2 and dt/4 (7 chains' worth of steps) and the task's references (finite-time bound,
/// Landauer) on the same trajectories; its ratio to one chain (the work-only kernel row) is printed.
/// Each is timed in wall and CPU seconds (best of 5; the gradient iteration, the simulator rows and the measurement best of 15); the machine is shared, so throughput and ratios are given per
/// CPU-second. Target: the gradient iteration within 2x of the plain simulator.
/// </summary>
internal static class OptimizeEraseBench
{
    private const int Trajectories = 10_000, Steps = 1000, Repeats = 5, EnergeticsRepeats = 15;

    public static int Run(string[] args)
    {
        var task = new EraseTask(tau: 10, steps: Steps);
        var family = task.KnotFamily(6);
        var protocol = family.WithParameters(task.InitialGuess(family));
        var table = DiscreteProtocol.From(protocol, Steps);
        double totalSteps = (double)Trajectories * Steps;
        var model = new DrivenDoubleWellModel(task, protocol);
        var plain = new SimulationOptions
        {
            Trajectories = Trajectories, Steps = Steps, Dt = table.Dt, SaveEvery = Steps, Seed = 1, Scheme = "euler-maruyama",
        };
        var staticWell = new DoubleWellModel(b: 4, c: 0, mu: 1, temperature: 1, x0: -1);
        Console.WriteLine($"optimize-erase: {Trajectories:N0} trajectories x {Steps:N0} steps, {family.ParameterCount} parameters, "
            + $"{Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        // JIT and thread-pool warm-up of every path timed below.
        task.EstimateGradient(protocol, 20, 1, 500);
        task.Simulate(table, 1, 500, gradients: false, maxDegreeOfParallelism: -1);
        task.Measure(protocol, task.DefaultAlpha, 1, 500);
        Simulator.Run(model, plain with { Trajectories = 256, Steps = 100, SaveEvery = 100 });
        Simulator.Run(model, plain with { Trajectories = 256, Steps = 100, SaveEvery = 100, ComputeEnergetics = false });
        Simulator.Run(staticWell, plain with { Trajectories = 256, Steps = 100, SaveEvery = 100, ComputeEnergetics = false });
        Simulator.Run(staticWell, plain with { Trajectories = 256, Steps = 100, SaveEvery = 100 });

        // The plain simulator rows run 10x the trajectories (0.2 s each rather than 0.02 s: thread start-up and scheduling
        // noise would otherwise dominate the energetics ratios); every row is compared per trajectory-step.
        var big = plain with { Trajectories = 10 * Trajectories };
        double bigSteps = 10 * totalSteps;
        var rows = new List<(string Name, Timing Time, double Steps)>
        {
            // best of 15 as the simulator rows it is compared with (0.1 CPU-s rows: best of 5 moved by 20 % between runs)
            ("gradient iteration (LR score + work + dW/dtheta)", Best(r => task.EstimateGradient(protocol, 20, (ulong)r, Trajectories), EnergeticsRepeats), totalSteps),
            ("plain simulator, same model, with energetics", Best(r => Simulator.Run(model, big with { Seed = (ulong)r }), EnergeticsRepeats), bigSteps),
            ("plain simulator, same model, no energetics", Best(r => Simulator.Run(model, big with { Seed = (ulong)r, ComputeEnergetics = false }), EnergeticsRepeats), bigSteps),
            // one chain at the task's step (Measure runs three, at dt, dt/2 and dt/4, to extrapolate to dt -> 0)
            // best of 15 as the simulator rows: the full measurement's ratio to this row is the figure of interest
            ("control kernel, work only", Best(r => task.Simulate(table, (ulong)r, Trajectories, gradients: false, maxDegreeOfParallelism: -1), EnergeticsRepeats), totalSteps),
            ("bare Euler-Maruyama loop over the table (no work)", Best(r => BareLoop(table, (ulong)r)), totalSteps),
            ("simulator vector kernel, static double well (other model)", Best(r => Simulator.Run(staticWell, big with { Seed = (ulong)r, ComputeEnergetics = false }), EnergeticsRepeats), bigSteps),
            ("simulator vector kernel, static double well, with energetics", Best(r => Simulator.Run(staticWell, big with { Seed = (ulong)r }), EnergeticsRepeats), bigSteps),
            // per step of the chain at dt, as the other rows: its throughput counts 1 of the 7 chains' steps it runs
            ("full measurement (Measure: dt, dt/2, dt/4 + references)", Best(r => task.Measure(protocol, task.DefaultAlpha, (ulong)r, Trajectories), EnergeticsRepeats), totalSteps),
        };
        foreach (var (name, t, n) in rows)
            Console.WriteLine($"  {name,-60} wall {t.Wall,7:F3} s  cpu {t.Cpu,7:F3} s  {n / t.Cpu / 1e6,7:F2} M trajectory-steps per CPU-second");
        // CPU seconds per trajectory-step of row i
        double PerStep(int i) => rows[i].Time.Cpu / rows[i].Steps;
        double gradient = PerStep(0);
        Console.WriteLine($"  CPU-time ratios of the gradient iteration: vs plain simulator (same model) {gradient / PerStep(1):F2}x with energetics, "
            + $"{gradient / PerStep(2):F2}x without (target <= 2x); vs work-only kernel {gradient / PerStep(3):F2}x; "
            + $"vs bare loop {gradient / PerStep(4):F2}x; vs static-well vector kernel {gradient / PerStep(5):F2}x");
        double drivenCost = PerStep(1) / PerStep(2), staticCost = PerStep(6) / PerStep(5), drivenVsStatic = PerStep(1) / PerStep(5);
        Console.WriteLine($"  energetics cost (CPU with / without, target <= 1.3x): driven {drivenCost:F2}x, static {staticCost:F2}x; "
            + $"driven with energetics vs static kernel without: {drivenVsStatic:F2}x (target <= 3x)");
        Console.WriteLine($"verdict: {(drivenCost <= 1.3 && staticCost <= 1.3 && drivenVsStatic <= 3 ? "MET" : "NOT MET")}: energetics cost "
            + $"{drivenCost:F2}x driven, {staticCost:F2}x static (<= 1.3x), driven+energetics {drivenVsStatic:F2}x the static kernel (<= 3x); "
            + $"CPU time, best of {EnergeticsRepeats} runs of the simulator rows (the minimum filters out the neighbours on a shared machine)");
        var measure = rows[^1].Time;
        var chain = rows[3].Time;
        Console.WriteLine($"  full measurement vs one chain at dt (work only, same paths x steps): {measure.Cpu / chain.Cpu:F2}x CPU, {measure.Wall / chain.Wall:F2}x wall "
            + $"(7x the steps; {7 * totalSteps / measure.Cpu / 1e6:F2} M simulated trajectory-steps per CPU-second); vs one gradient iteration {measure.Cpu / rows[0].Time.Cpu:F2}x CPU");
        Console.WriteLine($"  time per optimiser iteration: {rows[0].Time.Wall:F3} s wall, {rows[0].Time.Cpu:F3} CPU-s "
            + $"({Environment.ProcessorCount} cores shared; load average now {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        return 0;
    }

    private readonly record struct Timing(double Wall, double Cpu);

    private static Timing Best(Action<int> action, int repeats = Repeats)
    {
        var process = Process.GetCurrentProcess();
        double wall = double.PositiveInfinity, cpu = double.PositiveInfinity;
        for (int r = 0; r < repeats; r++)
        {
            GC.Collect();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            action(r + 1);
            double elapsed = clock.Elapsed.TotalSeconds;
            process.Refresh();
            wall = Math.Min(wall, elapsed);
            cpu = Math.Min(cpu, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
        }
        return new Timing(wall, cpu);
    }

    /// <summary>The simplest overdamped loop over the same protocol table: x += mu F h + sqrt(2 D h) xi.</summary>
    private static double BareLoop(DiscreteProtocol table, ulong seed)
    {
        var ends = new double[Trajectories];
        double h = table.Dt, noise = Math.Sqrt(2 * h);
        Parallel.For(0, (Trajectories + 31) / 32, chunk =>
        {
            for (int i = chunk * 32; i < Math.Min(Trajectories, chunk * 32 + 32); i++)
            {
                var random = RandomStream.For(seed, (ulong)i);
                double x = random.NextDouble() < 0.5 ? -1 : 1;
                for (int n = 0; n < table.Steps; n++)
                {
                    double b = table.Lambda[3 * n], c = table.Lambda[3 * n + 1], s = table.Lambda[3 * n + 2];
                    x += h * (DoubleWell.ForceAt(x, b, c) - s * x) + noise * random.NextGaussian();
                }
                ends[i] = x;
            }
        });
        return ends.Sum();
    }

    /// <summary>The erase task's system as a plain simulator model: V(x; lambda(t)) of the tunable double well, mu = T = 1,
    /// equilibrium start in the symmetric well.</summary>
    private sealed class DrivenDoubleWellModel(EraseTask task, ParameterisedProtocol protocol)
        : PotentialModel<TunableDoubleWell>("driven-double-well", new Dictionary<string, string>(), new TunableDoubleWell(), protocol, 1, 1)
    {
        public override void SampleInitial(ref RandomStream random, Span<double> x) => x[0] = task.Equilibrium.Draw(ref random);
    }
}
