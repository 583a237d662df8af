using ThermoLearn.Models;
using ThermoLearn.Protocols;
using ThermoLearn.Simulation.ForceFields;
using ThermoLearn.Statistics;

namespace ThermoLearn.Control.Tasks;

/// <summary>
/// A computation to perform with a protocol on [0, tau]: a potential with controls, fixed endpoint
/// controls, an initial ensemble, dynamics, and an error functional (0 on success). The optimiser
/// minimises L = &lt;W&gt; + alpha * error over a <see cref="ProtocolFamily"/>
/// (spec control.md; Lyu, Ray &amp; Crutchfield, "Optimal Computation from Fluctuation Responses", 2025).
/// </summary>
public abstract class ControlTask
{
    protected ControlTask(string name, double duration, LangevinDynamics dynamics, int steps,
        string[] controlNames, double[] start, double[] end, double[] lower, double[] upper)
    {
        if (!(duration > 0) || !double.IsFinite(duration))
            throw new InvalidInputException($"{name}: tau must be a positive finite duration (got {duration}).");
        if (steps < 1 || steps > 10_000_000)
            throw new InvalidInputException($"{name}: steps must be between 1 and 10^7 (got {steps}).");
        Name = name;
        Duration = duration;
        Dynamics = dynamics;
        Steps = steps;
        ControlNames = controlNames;
        Start = start;
        End = end;
        LowerBounds = lower;
        UpperBounds = upper;
    }

    public string Name { get; }
    public double Duration { get; }
    public LangevinDynamics Dynamics { get; }

    /// <summary>Time steps per trajectory (h = tau / steps).</summary>
    public int Steps { get; }

    public IReadOnlyList<string> ControlNames { get; }
    public int ControlCount => ControlNames.Count;
    public IReadOnlyList<double> Start { get; }
    public IReadOnlyList<double> End { get; }

    /// <summary>Box on the controls in which the dynamics stay well posed and stable at the task's step.</summary>
    public IReadOnlyList<double> LowerBounds { get; }
    public IReadOnlyList<double> UpperBounds { get; }

    /// <summary>Default weight alpha of the error in the objective.</summary>
    public abstract double DefaultAlpha { get; }

    /// <summary>Default knots of the piecewise-linear family.</summary>
    public abstract int DefaultKnots { get; }

    /// <summary>Default Adam step (in units of the controls).</summary>
    public abstract double DefaultLearningRate { get; }

    /// <summary>The task's parameters (name = value), for provenance in outputs.</summary>
    public abstract IReadOnlyDictionary<string, double> Parameters { get; }

    /// <summary>A piecewise-linear family with the task's endpoints.</summary>
    public PiecewiseLinearFamily KnotFamily(int knots) => new(Duration, Start.ToArray(), End.ToArray(), knots);

    /// <summary>A sine-series family with the task's endpoints.</summary>
    public SineSeriesFamily SineFamily(int modes) => new(Duration, Start.ToArray(), End.ToArray(), modes);

    /// <summary>Where the optimiser starts: the straight line unless the task knows a better guess.</summary>
    public virtual double[] InitialGuess(ProtocolFamily family) => new double[family.ParameterCount];

    /// <summary>
    /// Projects parameters of a piecewise-linear family into the control box (each knot value is clamped,
    /// and the interior is a convex combination of knots, so it stays inside too). Other families are left alone.
    /// </summary>
    public void Project(ProtocolFamily family, Span<double> theta)
    {
        if (family is not PiecewiseLinearFamily knots) return;
        for (int c = 0; c < ControlCount; c++)
            for (int j = 0; j < knots.Knots; j++)
            {
                double line = Start[c] + (End[c] - Start[c]) * j / (knots.Knots - 1.0);
                int p = c * knots.Knots + j;
                theta[p] = Math.Clamp(line + theta[p], LowerBounds[c], UpperBounds[c]) - line;
            }
    }

    /// <summary>Checks that a protocol has this task's controls, duration and endpoints.</summary>
    public void Validate(IProtocol protocol, string source)
    {
        if (protocol.ControlCount != ControlCount)
            throw new InvalidInputException($"{source}: the protocol has {protocol.ControlCount} controls but task '{Name}' has {ControlCount} ({string.Join(", ", ControlNames)}).");
        if (Math.Abs(protocol.Duration - Duration) > 1e-9 * Duration)
            throw new InvalidInputException($"{source}: the protocol lasts tau = {protocol.Duration} but the task runs for tau = {Duration}.");
        var start = new double[ControlCount];
        var end = new double[ControlCount];
        protocol.Evaluate(0, start);
        protocol.Evaluate(protocol.Duration, end);
        for (int c = 0; c < ControlCount; c++)
        {
            if (Math.Abs(start[c] - Start[c]) > 1e-9 * (1 + Math.Abs(Start[c])))
                throw new InvalidInputException($"{source}: control '{ControlNames[c]}' starts at {start[c]} but task '{Name}' fixes lambda(0) = {Start[c]}.");
            if (Math.Abs(end[c] - End[c]) > 1e-9 * (1 + Math.Abs(End[c])))
                throw new InvalidInputException($"{source}: control '{ControlNames[c]}' ends at {end[c]} but task '{Name}' fixes lambda(tau) = {End[c]}.");
        }
    }

    /// <summary>Likelihood-ratio estimate of L and dL/dtheta from <paramref name="trajectories"/> fresh paths of stream <paramref name="seed"/>.</summary>
    public GradientEstimate EstimateGradient(ParameterisedProtocol protocol, double alpha, ulong seed, int trajectories, int maxDegreeOfParallelism = -1)
    {
        Validate(protocol, "protocol");
        // the previous iteration's path arrays, taken so that concurrent calls never share them
        var spare = Interlocked.Exchange(ref _spareSample, null);
        var sample = Simulate(DiscreteProtocol.From(protocol, Steps), seed, trajectories, gradients: true, maxDegreeOfParallelism, reuse: spare);
        var estimate = GradientEstimators.LikelihoodRatio(sample, alpha, seed);
        Volatile.Write(ref _spareSample, sample);
        return estimate;
    }

    /// <summary>The last gradient batch's per-path arrays, overwritten by the next batch of the same size (the estimate keeps none of them).</summary>
    private PathSample? _spareSample;

    /// <summary>Pathwise (reparameterisation) estimate of d&lt;W&gt;/dtheta, the reference for the likelihood ratio.</summary>
    public GradientEstimate EstimatePathwiseWorkGradient(ParameterisedProtocol protocol, ulong seed, int trajectories, int maxDegreeOfParallelism = -1)
    {
        Validate(protocol, "protocol");
        var sample = SimulatePathwise(DiscreteProtocol.From(protocol, Steps), seed, trajectories, maxDegreeOfParallelism);
        return GradientEstimators.Pathwise(sample, seed);
    }

    /// <summary>
    /// Measures &lt;W&gt;, the error and the task's references for any protocol with the task's endpoints, extrapolated to
    /// dt -&gt; 0 (docs/control.md, "Accuracy of the step"). With h = <see cref="Dt"/> (the optimiser's step), the paths run
    /// at h, h/2 and h/4 from the same initial states along the same Brownian path, and each path contributes
    /// 2 A_(h/4) - A_(h/2) (Richardson). The chains' means are off the continuous ones by a h + O(h^2) (weak order 1), so the
    /// extrapolated means keep O(h^2) from the chains at h/2 and h/4, a sixteenth of what the pair (h, h/2) would leave.
    /// <see cref="ProtocolMeasurement.AtStep"/> holds the chain at h (what the optimiser's iterations see) and its bias.
    /// Costs 7 chains at h's worth of steps.
    /// </summary>
    public ProtocolMeasurement Measure(IProtocol protocol, double alpha, ulong seed, int trajectories, int maxDegreeOfParallelism = -1) =>
        Measure(protocol, alpha, seed, trajectories, maxDegreeOfParallelism, noiseSubsteps: 1);

    /// <summary>
    /// <see cref="Measure(IProtocol, double, ulong, int, int)"/> with all three chains coupled to a run of
    /// <paramref name="noiseSubsteps"/> x 4 x <see cref="Steps"/> steps on the same seed (1: the public measurement), so a
    /// finer reference run can be compared with it path by path.
    /// </summary>
    internal ProtocolMeasurement Measure(IProtocol protocol, double alpha, ulong seed, int trajectories, int maxDegreeOfParallelism, int noiseSubsteps)
    {
        Validate(protocol, "protocol");
        var (atStep, half, quarter) = MeasurementChains(protocol, seed, trajectories, maxDegreeOfParallelism, noiseSubsteps);
        var chain = GradientEstimators.Measure(atStep, alpha, seed);
        var estimate = GradientEstimators.Extrapolate(quarter, half, alpha, seed);
        var step = new StepMeasurement(Steps, Dt, chain.Work, chain.Error, chain.Objective, GradientEstimators.StepBias(atStep, quarter, half));
        return new ProtocolMeasurement(estimate.Work, estimate.Error, estimate.Objective, trajectories, seed, References(quarter, half, estimate), step);
    }

    /// <summary>The coupled chains of a measurement: <see cref="Steps"/>, 2 x and 4 x as many steps.</summary>
    internal (PathSample AtStep, PathSample Half, PathSample Quarter) MeasurementChains(IProtocol protocol, ulong seed, int trajectories,
        int maxDegreeOfParallelism, int noiseSubsteps = 1)
    {
        if (4L * Steps > int.MaxValue) throw new InvalidInputException($"{Name}: steps = {Steps} is too many to measure at a quarter of the step (at most {int.MaxValue / 4}).");
        var atStep = Simulate(DiscreteProtocol.From(protocol, Steps), seed, trajectories, gradients: false, maxDegreeOfParallelism, 4 * noiseSubsteps);
        var half = Simulate(DiscreteProtocol.From(protocol, 2 * Steps), seed, trajectories, gradients: false, maxDegreeOfParallelism, 2 * noiseSubsteps);
        var quarter = Simulate(DiscreteProtocol.From(protocol, 4 * Steps), seed, trajectories, gradients: false, maxDegreeOfParallelism, noiseSubsteps);
        return (atStep, half, quarter);
    }

    /// <summary>The straight-line protocol between the endpoints (the baseline every result is compared with).</summary>
    public ParameterisedProtocol LinearRamp() => KnotFamily(2).WithParameters(new double[ControlCount * 2]);

    /// <summary>
    /// The explicit scheme's stability limit on the step dt = <see cref="Duration"/> / <see cref="Steps"/> under
    /// <paramref name="protocol"/> (the largest drift curvature along it, at initial states): null when none is found.
    /// A dt past <see cref="Simulation.SimulationHealth.StabilityLimit.MaxDt"/> gives wrong numbers or a blow-up.
    /// </summary>
    public abstract Simulation.SimulationHealth.StabilityLimit? StabilityLimit(IProtocol protocol);

    /// <summary>dt = <see cref="Duration"/> / <see cref="Steps"/>.</summary>
    public double Dt => Duration / Steps;

    /// <summary>Paths under <paramref name="protocol"/>; <paramref name="noiseSubsteps"/> &gt; 1 couples them to a run of that many times the steps (<see cref="Simulation.Kernels.LaneRun.NoiseSubsteps"/>).</summary>
    internal abstract PathSample Simulate(DiscreteProtocol protocol, ulong seed, int trajectories, bool gradients, int maxDegreeOfParallelism, int noiseSubsteps = 1,
        PathSample? reuse = null);

    internal abstract PathSample SimulatePathwise(DiscreteProtocol protocol, ulong seed, int trajectories, int maxDegreeOfParallelism);

    /// <summary>
    /// The task's reference values (optimum, bounds) for a measurement from the coupled chains at h/2 (<paramref name="fine"/>)
    /// and h (<paramref name="coarse"/>), with the extrapolated <paramref name="estimate"/>.
    /// </summary>
    internal virtual TaskReferences References(PathSample fine, PathSample coarse, GradientEstimate estimate) => new();
}

/// <summary>A task over a concrete struct potential: the kernels are instantiated for it.</summary>
public abstract class PotentialTask<TPotential> : ControlTask where TPotential : struct, ILaneDifferentiableField
{
    protected PotentialTask(string name, double duration, LangevinDynamics dynamics, int steps, TPotential potential,
        string[] controlNames, double[] start, double[] end, double[] lower, double[] upper)
        : base(name, duration, dynamics, steps, controlNames, start, end, lower, upper)
    {
        Potential = potential;
    }

    public TPotential Potential { get; }

    internal abstract InitialStateSampler Initial { get; }
    internal abstract EndpointFunctional ErrorFunctional { get; }

    public override Simulation.SimulationHealth.StabilityLimit? StabilityLimit(IProtocol protocol)
    {
        var discrete = DiscreteProtocol.From(protocol, Steps);
        var table = new double[(discrete.Steps + 1) * discrete.Controls];
        discrete.Lambda.CopyTo(table, 0);
        discrete.End.CopyTo(table, discrete.Steps * discrete.Controls);
        return Simulation.SimulationHealth.ControlLimit(Potential, Dynamics, table, discrete.Controls, Initial);
    }

    internal override PathSample Simulate(DiscreteProtocol protocol, ulong seed, int trajectories, bool gradients, int maxDegreeOfParallelism, int noiseSubsteps = 1,
        PathSample? reuse = null) =>
        PathKernel.Run(Potential, Dynamics, protocol, Initial, ErrorFunctional, seed, trajectories, gradients, maxDegreeOfParallelism, noiseSubsteps: noiseSubsteps, reuse: reuse);

    internal override PathSample SimulatePathwise(DiscreteProtocol protocol, ulong seed, int trajectories, int maxDegreeOfParallelism) =>
        PathKernel.RunPathwise(Potential, Dynamics, protocol, Initial, ErrorFunctional, seed, trajectories, maxDegreeOfParallelism);
}

/// <summary>Reference values of a task: each is null where it does not apply.</summary>
/// <param name="OptimumWork">Known optimal &lt;W&gt; (Schmiedl-Seifert, translate-trap).</param>
/// <param name="LandauerBound">T (ln 2 - H_2(error)) (erase).</param>
/// <param name="FiniteTimeBound">Delta F_neq + gamma W_2^2 / tau (erase; Proesmans, Ehrich &amp; Bechhoefer, PRL 125, 100602, 2020).</param>
/// <param name="Wasserstein2">W_2(p_0, p_tau) from the sample quantiles.</param>
/// <param name="NonequilibriumFreeEnergyChange">Delta F_neq = F[p_tau] - F[p_0], F[p] = &lt;V&gt; + T &lt;ln p&gt;.</param>
/// <param name="OverdampedObjectiveBound">flip: the least objective any overdamped 1-D protocol can reach, alpha / 2
/// (error &gt;= 1/2 by order preservation, &lt;W&gt; &gt;= Delta F = 0; see <see cref="FlipTask"/>).</param>
public sealed record TaskReferences(double? OptimumWork = null, double? LandauerBound = null, double? FiniteTimeBound = null,
    double? Wasserstein2 = null, double? NonequilibriumFreeEnergyChange = null, double? OverdampedObjectiveBound = null);

/// <summary>
/// A protocol measured on <paramref name="Trajectories"/> fresh paths of stream <paramref name="Seed"/>: means with standard
/// errors extrapolated to dt -&gt; 0 (<see cref="ControlTask.Measure(IProtocol, double, ulong, int, int)"/>), the task's references, and the chain at the task's
/// step (<paramref name="AtStep"/>).
/// </summary>
public sealed record ProtocolMeasurement(MeanEstimate Work, MeanEstimate Error, MeanEstimate Objective, int Trajectories, ulong Seed,
    TaskReferences References, StepMeasurement AtStep);

/// <summary>
/// The same paths' chain at the task's step dt = tau / <paramref name="Steps"/> (what the optimiser's iterations measure):
/// its means, and <paramref name="WorkBias"/>, its &lt;W&gt; minus the extrapolated one (per path W_dt - (2 W_(dt/4) - W_(dt/2));
/// the chains are coupled, so its standard error is smaller than either mean's).
/// </summary>
public sealed record StepMeasurement(int Steps, double Dt, MeanEstimate Work, MeanEstimate Error, MeanEstimate Objective, MeanEstimate WorkBias);
