using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;

namespace ThermoLearn.Control.Tasks;

/// <summary>
/// Tasks on the tunable double well V(x; b, c, s) = b (x^2 - 1)^2 + c x + s x^2 / 2 (<see cref="TunableDoubleWell"/>)
/// that start and end at (b0, 0, 0), i.e. a symmetric bit with barrier b0 (in k_B T), in equilibrium at t = 0.
/// </summary>
public abstract class DoubleWellTask : PotentialTask<TunableDoubleWell>
{
    protected DoubleWellTask(string name, double tau, LangevinDynamics dynamics, int steps, double barrier, double[] lower, double[] upper)
        : base(name, tau, dynamics, steps, new TunableDoubleWell(), ["b", "c", "s"],
            [CheckBarrier(name, barrier), 0, 0], [barrier, 0, 0], lower, upper)
    {
        Barrier = barrier;
        var potential = new TunableDoubleWell();
        double[] lambda = [barrier, 0, 0];
        Equilibrium = new EquilibriumSampler1D(x => potential.Energy([x], lambda), dynamics.Temperature);
    }

    /// <summary>b0.</summary>
    public double Barrier { get; }

    internal EquilibriumSampler1D Equilibrium { get; }

    /// <summary>
    /// Default steps: at least 1,000 and h &lt;= 0.01 / <paramref name="stiffness"/>, inside Euler-Maruyama's stability
    /// limit h mu V'' &lt; 2 for the stiffest potential of the control box at |x| &lt;= 1.5 (V'' &lt;= 160 for b0 = 4).
    /// The box scales with b0, so h mu V'' is the same at any b0 and gamma when <paramref name="stiffness"/> is
    /// mu b0 / 4 (the erase task's; the flip keeps 1).
    /// </summary>
    protected static int DefaultSteps(double tau, double stiffness = 1)
    {
        double factor = double.IsFinite(stiffness) && stiffness > 1 ? stiffness : 1;
        return (int)Math.Min(int.MaxValue, Math.Max(1000, Math.Ceiling(100 * tau * factor)));
    }

    /// <summary>
    /// The largest curvature V'' = b (12 x^2 - 4) + s of the control box <paramref name="upper"/> = (b, c, s) at |x| &lt;= 1.5,
    /// where the wells keep the paths: 23 b_max + s_max.
    /// </summary>
    protected static double BoxCurvature(double[] upper) => 23 * upper[0] + upper[2];

    private static double CheckBarrier(string name, double barrier) => barrier > 0 && barrier <= 20
        ? barrier : throw new InvalidInputException($"{name}: the barrier b0 must be in (0, 20] k_B T (got {barrier}).");
}

/// <summary>
/// erase: reset a bit to 0. Start in equilibrium of the symmetric double well (both wells equally likely), end in
/// the same potential; error = P(x(tau) &gt; 0). References: Landauer, &lt;W&gt; &gt;= T (ln 2 - H_2(error)) in the slow
/// limit; finite time with full control, &lt;W&gt; &gt;= Delta F_neq + gamma W_2(p_0, p_tau)^2 / tau
/// (Aurell et al., PRL 106, 250601, 2011; Proesmans, Ehrich &amp; Bechhoefer, PRL 125, 100602, 2020).
/// </summary>
public sealed class EraseTask : DoubleWellTask
{
    public EraseTask(double tau, double barrier = 4, double gamma = 1, double temperature = 1, int? steps = null)
        : base("erase", tau, new LangevinDynamics(gamma, temperature), steps ?? DefaultSteps(tau, barrier / (4 * gamma)), barrier,
            [0.25 * barrier, -3 * barrier, -barrier], [1.5 * barrier, 3 * barrier, 5 * barrier])
    {
        Initial = (ref RandomStream random, Span<double> x, Span<double> v) => x[0] = Equilibrium.Draw(ref random);
    }

    public override double DefaultAlpha => 8;
    public override int DefaultKnots => 6;
    public override double DefaultLearningRate => 0.05 * Barrier;

    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>
    {
        ["barrier"] = Barrier, ["gamma"] = Dynamics.Friction, ["temperature"] = Dynamics.Temperature, ["steps"] = Steps,
    };

    internal override InitialStateSampler Initial { get; }
    internal override EndpointFunctional ErrorFunctional { get; } = static (_, end) => end[0] > 0 ? 1 : 0;

    /// <summary>
    /// A textbook erasure to start from, with smooth ramps (jumps in the controls cost work on every path):
    /// lower the barrier to b0/4 (s: 0 -> 2 b0), tilt towards the left well (c: 0 -> 3 &gt; 0), restore the barrier
    /// while tilted, then release the tilt.
    /// </summary>
    public override double[] InitialGuess(ProtocolFamily family)
    {
        double b0 = Barrier;
        static double Ramp(double u, double from, double to) => Math.Clamp((u - from) / (to - from), 0, 1);
        return family.Fit((t, c) =>
        {
            double u = t / Duration;
            return c switch
            {
                0 => b0,
                1 => 3 * (Ramp(u, 0.15, 0.35) - Ramp(u, 0.75, 1.0)),
                _ => 2 * b0 * (Ramp(u, 0, 0.25) - Ramp(u, 0.45, 0.7)),
            };
        });
    }

    /// <summary>T (ln 2 - H_2(error)) with H_2 in nats.</summary>
    public double LandauerBound(double error)
    {
        double e = Math.Clamp(error, 0, 1);
        double h = (e > 0 ? -e * Math.Log(e) : 0) + (e < 1 ? -(1 - e) * Math.Log(1 - e) : 0);
        return Dynamics.Temperature * (Math.Log(2) - h);
    }

    /// <summary>
    /// Landauer at the extrapolated error; W_2^2 and Delta F_neq (so the finite-time bound) from each chain's end sample,
    /// extrapolated as the means are (2 x_fine - x_coarse): a chain's end density carries its O(h) bias too.
    /// </summary>
    internal override TaskReferences References(PathSample fine, PathSample coarse, GradientEstimate estimate)
    {
        var (w2Fine, deltaFFine) = EndDensityTerms(fine);
        var (w2Coarse, deltaFCoarse) = EndDensityTerms(coarse);
        double w2 = 2 * w2Fine - w2Coarse, deltaF = 2 * deltaFFine - deltaFCoarse;
        return new TaskReferences(
            LandauerBound: LandauerBound(estimate.Error.Mean),
            FiniteTimeBound: deltaF + Dynamics.Friction * w2 / Duration,
            Wasserstein2: Math.Sqrt(Math.Max(0, w2)),
            NonequilibriumFreeEnergyChange: deltaF);
    }

    /// <summary>W_2(p_0, p_tau)^2 and Delta F_neq = F[p_tau] - F[p_0] of one sample.</summary>
    private (double W2Squared, double DeltaF) EndDensityTerms(PathSample sample)
    {
        // W_2 between the two empirical distributions: the monotone (quantile) coupling is optimal in 1-D.
        var start = (double[])sample.Start.Clone();
        var end = (double[])sample.End.Clone();
        Array.Sort(start);
        Array.Sort(end);
        double w2 = 0;
        for (int i = 0; i < start.Length; i++) w2 += (start[i] - end[i]) * (start[i] - end[i]);
        w2 /= start.Length;
        // F[p] = <V> - T S: exact for the equilibrium start, plug-in for the end (histogram entropy with the
        // Miller-Madow correction (bins - 1) / 2M, which removes the leading downward bias of the plug-in entropy).
        var potential = new TunableDoubleWell();
        double[] lambda = [.. End];
        double meanEnergy = 0;
        foreach (double x in sample.End) meanEnergy += potential.Energy([x], lambda);
        meanEnergy /= sample.End.Length;
        double freeEnd = meanEnergy - Dynamics.Temperature * HistogramEntropy(end);
        double freeStart = Equilibrium.MeanEnergy - Dynamics.Temperature * Equilibrium.Entropy;
        return (w2, freeEnd - freeStart);
    }

    /// <summary>Differential entropy of sorted samples from a histogram of ceil(sqrt(M)) bins, Miller-Madow corrected.</summary>
    internal static double HistogramEntropy(double[] sorted)
    {
        int m = sorted.Length, bins = (int)Math.Ceiling(Math.Sqrt(m));
        double lo = sorted[0], hi = sorted[^1];
        if (!(hi > lo)) return double.NegativeInfinity;
        double width = (hi - lo) / bins;
        var counts = new int[bins];
        foreach (double x in sorted) counts[Math.Min(bins - 1, (int)((x - lo) / width))]++;
        double s = 0;
        int occupied = 0;
        foreach (int n in counts)
        {
            if (n == 0) continue;
            occupied++;
            double p = (double)n / m;
            s -= p * Math.Log(p / width);
        }
        return s + (occupied - 1) / (2.0 * m);
    }
}

/// <summary>
/// flip-underdamped: swap the bit, sending each well to the other (error = P(sign x(tau) = sign x(0))), with
/// mass m and friction gamma well below critical, starting from equilibrium in x and Maxwell velocities
/// (Ray &amp; Crutchfield's momentum computing: a half period in a harmonic well flips almost for free). With
/// overdamped = 1 the same task runs overdamped, for comparison.
/// <para>
/// No overdamped 1-D protocol, of any form, flips with success above 1/2. Two overdamped paths driven by the same
/// noise from x0 &lt; x0' never cross (where they meet they coincide), so P(x(tau) &gt; 0 | x0) is non-decreasing in x0
/// and P(x(tau) &gt; 0 | left) &lt;= P(x(tau) &gt; 0 | right); with equal weights,
/// success = [P(x(tau) &gt; 0 | left) + 1 - P(x(tau) &gt; 0 | right)] / 2 &lt;= 1/2. (Euler-Maruyama keeps the order while
/// h mu V'' &lt;= 1.) The start is in equilibrium and the potential returns to itself, so &lt;W&gt; &gt;= Delta F = 0, and the
/// objective of every overdamped flip is at least alpha / 2: <see cref="TaskReferences.OverdampedObjectiveBound"/>.
/// </para>
/// </summary>
public sealed class FlipTask : DoubleWellTask
{
    public FlipTask(double tau, double barrier = 4, double gamma = 0.2, double mass = 1, double temperature = 1,
        bool overdamped = false, int? steps = null)
        : base("flip-underdamped", tau, new LangevinDynamics(gamma, temperature, overdamped ? null : mass),
            steps ?? (overdamped ? DefaultSteps(tau, barrier / (4 * gamma)) : UnderdampedDefaultSteps(tau, barrier, gamma, mass)),
            barrier, [0, -3 * barrier, 0.5], Upper(barrier))
    {
        if (!overdamped && gamma * Dt / mass >= 2)
            throw new InvalidInputException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"flip-underdamped: dt = tau / steps = {Dt:G3} makes gamma dt / m = {gamma * Dt / mass:G3} >= 2: the semi-implicit step multiplies the velocity by 1 - gamma dt / m = {1 - gamma * Dt / mass:G3} at every step, so every path blows up whatever the protocol. Use steps >= {Math.Floor(tau * gamma / (2 * mass)) + 1:F0} (the default for these settings is {UnderdampedDefaultSteps(tau, barrier, gamma, mass)})."));
        Mass = mass;
        double sigmaV = Math.Sqrt(temperature / mass);
        Initial = overdamped
            ? (ref RandomStream random, Span<double> x, Span<double> v) => x[0] = Equilibrium.Draw(ref random)
            : (ref RandomStream random, Span<double> x, Span<double> v) =>
            {
                x[0] = Equilibrium.Draw(ref random);
                v[0] = sigmaV * random.NextGaussian();
            };
    }

    public double Mass { get; }

    /// <summary>
    /// Default steps of the underdamped flip: at least 1,000 and dt at most 1/16 of semi-implicit Euler's stability limit
    /// 4 / (gamma/m + sqrt((gamma/m)^2 + 4 omega^2)) for the stiffest potential of the control box, omega^2 = 39.5 b0 / m
    /// (<see cref="Simulation.SimulationHealth.SemiImplicitMaxDt"/>): the step resolves both the fastest oscillation
    /// sqrt(m / V'') and the velocity's relaxation time m / gamma, whichever is shorter, so light or strongly damped
    /// particles get more steps and heavy ones no more than before (1,000 at b0 = 4, m = 1, gamma = 0.2 up to tau = 9.8).
    /// </summary>
    public static int UnderdampedDefaultSteps(double tau, double barrier, double gamma, double mass)
    {
        double limit = Simulation.SimulationHealth.SemiImplicitMaxDt(BoxCurvature(Upper(barrier)) / mass, gamma / mass);
        double steps = Math.Ceiling(16 * tau / limit);
        return double.IsFinite(steps) ? (int)Math.Clamp(steps, 1000, 10_000_000) : 1000;
    }

    private static double[] Upper(double barrier) => [1.5 * barrier, 3 * barrier, 5 * barrier];

    public override double DefaultAlpha => 10;
    public override int DefaultKnots => 6;
    public override double DefaultLearningRate => 0.02 * Barrier;

    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>
    {
        ["barrier"] = Barrier, ["gamma"] = Dynamics.Friction, ["mass"] = Mass, ["temperature"] = Dynamics.Temperature,
        ["overdamped"] = Dynamics.IsUnderdamped ? 0 : 1, ["steps"] = Steps,
    };

    internal override InitialStateSampler Initial { get; }
    internal override EndpointFunctional ErrorFunctional { get; } = static (start, end) => start[0] * end[0] < 0 ? 0 : 1;

    /// <summary>The least objective any overdamped 1-D flip can reach, alpha / 2 (see the class remarks).</summary>
    internal override TaskReferences References(PathSample fine, PathSample coarse, GradientEstimate estimate) =>
        new(OverdampedObjectiveBound: estimate.Alpha / 2);

    /// <summary>
    /// The physicist's flip to start from: switch to the harmonic well s x^2/2 with half period tau
    /// (s = m (pi / tau)^2, b = 0) for the whole interior; the end jump restores the double well.
    /// </summary>
    public override double[] InitialGuess(ProtocolFamily family)
    {
        double s = Math.Max(Mass * Math.Pow(Math.PI / Duration, 2), LowerBounds[2]);
        return family.Fit((t, c) => c switch { 0 => 0, 1 => 0, _ => s });
    }
}
