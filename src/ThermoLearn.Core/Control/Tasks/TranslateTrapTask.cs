using ThermoLearn.Models.Potentials;
using ThermoLearn.Protocols;
using ThermoLearn.Randomness;

namespace ThermoLearn.Control.Tasks;

/// <summary>
/// translate-trap: move a harmonic trap V = k (x - lambda)^2 / 2 from 0 to lambda_f in time tau, overdamped,
/// starting in equilibrium; no error term. Reference: the Schmiedl-Seifert optimum (<see cref="HarmonicTranslation"/>).
/// <para>
/// Euler-Maruyama relaxes the trap's mean by m += (k h / gamma)(Lambda - m), so every mean work it estimates is off the
/// continuous one by about -k h / (2 gamma) relative (-10 % at k h / gamma = 0.2). The default steps keep
/// k h / gamma &lt;= 0.004 (0.2 %); <see cref="OptimalWorkAtStep"/> and <see cref="LinearRampWorkAtStep"/> are the exact
/// means of the simulated chain at any steps (what the optimiser's iterations estimate), <see cref="OptimalWorkExtrapolated"/>
/// the exact value of the measurements' extrapolation to dt -&gt; 0.
/// </para>
/// </summary>
public sealed class TranslateTrapTask : PotentialTask<HarmonicTrap>
{
    public TranslateTrapTask(double tau, double k = 1, double gamma = 1, double lambdaFinal = 1, double temperature = 1, int? steps = null)
        : base("translate-trap", tau, new LangevinDynamics(gamma, temperature), steps ?? DefaultSteps(tau, k, gamma), new HarmonicTrap(k), ["lambda"],
            [0.0], [CheckFinite(lambdaFinal)], [-10 * (Math.Abs(lambdaFinal) + 1)], [10 * (Math.Abs(lambdaFinal) + 1)])
    {
        Stiffness = k;
        LambdaFinal = lambdaFinal;
        double sigma = Math.Sqrt(temperature / k);
        Initial = (ref RandomStream random, Span<double> x, Span<double> v) => x[0] = sigma * random.NextGaussian();
    }

    public double Stiffness { get; }
    public double LambdaFinal { get; }
    public override double DefaultAlpha => 0;
    public override int DefaultKnots => 4;
    public override double DefaultLearningRate => 0.02 * Math.Max(Math.Abs(LambdaFinal), 1e-3);

    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double>
    {
        ["k"] = Stiffness, ["gamma"] = Dynamics.Friction, ["lambda_f"] = LambdaFinal,
        ["temperature"] = Dynamics.Temperature, ["steps"] = Steps,
    };

    /// <summary>W* of Schmiedl and Seifert.</summary>
    public double OptimalWork => HarmonicTranslation.OptimalWork(Stiffness, Dynamics.Friction, LambdaFinal, Duration);

    /// <summary>Exact &lt;W&gt; of lambda*(t) on the simulated chain (time step tau / steps): what the estimates of it converge to.</summary>
    public double OptimalWorkAtStep => HarmonicTranslation.MeanWork(DiscreteProtocol.From(OptimalProtocol, Steps), Stiffness, Dynamics.Friction);

    /// <summary>
    /// Exact value of what <see cref="ControlTask.Measure(IProtocol, double, ulong, int, int)"/> estimates for lambda*: the
    /// Richardson extrapolation 2 W(h/4) - W(h/2) of the chains at half and a quarter of the step h = tau / steps.
    /// </summary>
    public double OptimalWorkExtrapolated => 2 * HarmonicTranslation.MeanWork(DiscreteProtocol.From(OptimalProtocol, 4 * Steps), Stiffness, Dynamics.Friction)
        - HarmonicTranslation.MeanWork(DiscreteProtocol.From(OptimalProtocol, 2 * Steps), Stiffness, Dynamics.Friction);

    /// <summary>Exact &lt;W&gt; of the straight ramp on the simulated chain (time step tau / steps).</summary>
    public double LinearRampWorkAtStep => HarmonicTranslation.MeanWork(DiscreteProtocol.From(LinearRamp(), Steps), Stiffness, Dynamics.Friction);

    /// <summary>Steps with k h / gamma &lt;= 0.004 (the bias of the mean work about 0.2 %), at least 500, at most 10^6.</summary>
    public static int DefaultSteps(double tau, double k, double gamma)
    {
        double relaxations = k * tau / gamma;
        return double.IsFinite(relaxations) && relaxations > 2 ? (int)Math.Min(1_000_000, Math.Ceiling(250 * relaxations)) : 500;
    }

    /// <summary>lambda*(t) of Schmiedl and Seifert, with its end jumps.</summary>
    public OptimalTrapProtocol OptimalProtocol => new(Stiffness, Dynamics.Friction, 0, LambdaFinal, Duration);

    /// <summary>W_lin of the straight ramp.</summary>
    public double LinearRampWork => HarmonicTranslation.LinearRampWork(Stiffness, Dynamics.Friction, LambdaFinal, Duration);

    internal override InitialStateSampler Initial { get; }
    internal override EndpointFunctional ErrorFunctional { get; } = static (_, _) => 0;

    internal override TaskReferences References(PathSample fine, PathSample coarse, GradientEstimate estimate) => new(OptimumWork: OptimalWork);

    private static double CheckFinite(double value) => double.IsFinite(value)
        ? value : throw new InvalidInputException($"translate-trap: lambda_f must be finite (got {value}).");
}
