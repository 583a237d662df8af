using System.Diagnostics;
using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using ThermoLearn.Models.Potentials;
using ThermoLearn.Randomness;

namespace ThermoLearn.Bench;

/// <summary>
/// optimize-erase: one optimiser iteration of the erase task (10,000 trajectories x 1,000 steps, 3 controls x
/// 6 knots = 18 parameters): likelihood-ratio gradient with work, score and explicit work derivative accumulated
/// on every step, against (a) the same kernel measuring work only and (b) a bare Euler-Maruyama loop (force and
/// noise, no work). Target: gradient iteration within 2x of the plain simulation.
/// </summary>
internal static class OptimizeEraseBench
{
    public static int Run(string[] args)
    {
        const int trajectories = 10_000, steps = 1000, repeats = 3;
        var task = new EraseTask(tau: 10, steps: steps);
        var family = task.KnotFamily(6);
        var protocol = family.WithParameters(task.InitialGuess(family));
        var table = DiscreteProtocol.From(protocol, steps);
        double totalSteps = (double)trajectories * steps;
        Console.WriteLine($"optimize-erase: {trajectories} trajectories x {steps} steps, {family.ParameterCount} parameters, {Environment.ProcessorCount} cores");

        task.EstimateGradient(protocol, 20, 1, 500);   // JIT warm-up
        double gradient = Best(repeats, r => task.EstimateGradient(protocol, 20, (ulong)r, trajectories));
        double workOnly = Best(repeats, r => task.Measure(protocol, 20, (ulong)r, trajectories));
        double bare = Best(repeats, r => BareLoop(table, (ulong)r, trajectories));

        Console.WriteLine($"  gradient iteration (LR score + work + dW/dtheta): {gradient:F3} s/iteration, {totalSteps / gradient / 1e6:F1} M trajectory-steps/s");
        Console.WriteLine($"  plain simulation, work only (same kernel):      {workOnly:F3} s, {totalSteps / workOnly / 1e6:F1} M trajectory-steps/s");
        Console.WriteLine($"  bare Euler-Maruyama loop (no work):             {bare:F3} s, {totalSteps / bare / 1e6:F1} M trajectory-steps/s");
        Console.WriteLine($"  ratio gradient / work-only simulation: {gradient / workOnly:F2}x; gradient / bare loop: {gradient / bare:F2}x (target <= 2x)");
        return 0;
    }

    private static double Best(int repeats, Action<int> action)
    {
        double best = double.PositiveInfinity;
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            action(r + 1);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>The simplest overdamped loop over the same protocol table: x += mu F h + sqrt(2 D h) xi.</summary>
    private static double BareLoop(DiscreteProtocol table, ulong seed, int trajectories)
    {
        var ends = new double[trajectories];
        double h = table.Dt, noise = Math.Sqrt(2 * h);
        Parallel.For(0, (trajectories + 31) / 32, chunk =>
        {
            for (int i = chunk * 32; i < Math.Min(trajectories, chunk * 32 + 32); i++)
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
}
