using ThermoLearn.Models;
using ThermoLearn.Randomness;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Simulation;

/// <summary>
/// Numerical blow-up of explicit schemes: a stability limit estimated from the model before a run, and a scan of a
/// run's states that refuses non-finite or runaway values. Kept apart from the kernels so that it holds for every
/// scheme and kernel.
/// <para>Stability: Euler-Maruyama and Heun applied to the linearised drift x' = J x are stable only while
/// |1 + dt lambda| &lt; 1 (Heun: |1 + z + z^2/2| &lt; 1) for every eigenvalue lambda of J; for real negative lambda both need
/// dt &lt; 2 / |lambda|. BAOAB's Verlet part needs dt &lt; 2 / omega with omega^2 the largest eigenvalue of the force
/// Jacobian over the mass. The largest |lambda| (the largest curvature of the potential times the mobility, or the
/// rotation rate of a non-conservative force) is estimated by power iteration on finite-difference Jacobians at
/// initial states drawn from the model, at t = 0 and at the run's midpoint; it is a local estimate, so a run can still
/// blow up elsewhere, which the scan then reports.</para>
/// <para>Runaway: a value that is not finite, or whose magnitude exceeds <see cref="RunawayFactor"/> times
/// max(1, largest |coordinate| of that trajectory's initial state) (<see cref="RunawayBound"/>): a per-trajectory bound,
/// so the verdict does not depend on how the ensemble is split into shards, lanes or threads.</para>
/// <para>The engine watches the states while it runs (<see cref="BlowUpWatch"/>, every <see cref="BlowUpWatch.CheckEvery"/>
/// steps) and stops at the first blow-up; <see cref="Check"/> scans the saved frames after a run as a backstop.</para>
/// </summary>
public static class SimulationHealth
{
    /// <summary>Growth over the initial scale taken as a runaway state.</summary>
    public const double RunawayFactor = 1e8;

    /// <summary>A scheme's stability limit for a model: dt must stay below <see cref="MaxDt"/>.</summary>
    /// <param name="Rate">Largest |eigenvalue| of the drift Jacobian (overdamped), or the largest angular frequency omega (underdamped).</param>
    /// <param name="MaxDt">The limit 2 / Rate.</param>
    /// <param name="Description">The limit in words, e.g. "dt &lt; 2 / 4 = 0.5 (euler-maruyama; largest drift curvature 4)".</param>
    public sealed record StabilityLimit(double Rate, double MaxDt, string Description);

    /// <summary>The stability limit of <paramref name="scheme"/> for <paramref name="model"/>, or null for exact samplers and models without an explicit drift.</summary>
    public static StabilityLimit? Limit(StochasticModel model, string scheme, double tEnd = 0)
    {
        if (scheme == "exact") return null;
        switch (model)
        {
            case OverdampedModel m:
            {
                int d = m.Dimension;
                double rate = LargestRate(d, (x, t, f) => m.Drift(x, t, f), (ref RandomStream r, Span<double> x) => m.SampleInitial(ref r, x), tEnd);
                if (!(rate > 0) || !double.IsFinite(rate)) return null;
                return new StabilityLimit(rate, 2 / rate, $"dt < 2 / {rate:G3} = {2 / rate:G3} ({scheme}; {rate:G3} is the largest |eigenvalue| of the drift Jacobian, mobility x curvature)");
            }
            case UnderdampedModel m:
            {
                int d = m.Dimension;
                double rate = LargestRate(d, (x, t, f) => m.Force(x, t, f), (ref RandomStream r, Span<double> x) =>
                {
                    Span<double> v = stackalloc double[x.Length];
                    m.SampleInitial(ref r, x, v);
                }, tEnd);
                double omega = Math.Sqrt(rate / m.Mass);
                if (!(omega > 0) || !double.IsFinite(omega)) return null;
                return new StabilityLimit(omega, 2 / omega, $"dt < 2 / omega = {2 / omega:G3} ({scheme}; omega = sqrt(curvature / mass) = {omega:G3})");
            }
            default:
                return null;
        }
    }

    /// <summary>
    /// The stability limit of a controlled run: Euler-Maruyama (overdamped) or semi-implicit Euler (underdamped) in
    /// <paramref name="potential"/> under the control values <paramref name="lambda"/> (rows of <paramref name="controls"/>
    /// values; the largest rate over the first, middle and last rows), from initial states drawn by <paramref name="initial"/>.
    /// </summary>
    internal static StabilityLimit? ControlLimit(IPotential potential, Control.LangevinDynamics dynamics, double[] lambda, int controls,
        Control.InitialStateSampler initial)
    {
        int d = potential.Dimension, rows = lambda.Length / Math.Max(1, controls);
        double[] times = rows <= 1 ? [0] : [0, (rows - 1) / 2, rows - 1];
        double scale = dynamics.Mass is { } mass ? 1 / mass : dynamics.Mobility;
        double rate = LargestRate(d, (x, t, f) =>
        {
            potential.Force(x, lambda.AsSpan((int)t * controls, controls), f);
            for (int i = 0; i < d; i++) f[i] *= scale;
        }, (ref RandomStream r, Span<double> x) =>
        {
            Span<double> v = stackalloc double[x.Length];
            initial(ref r, x, v);
        }, times);
        if (dynamics.Mass is null)
            return rate > 0 && double.IsFinite(rate)
                ? new StabilityLimit(rate, 2 / rate, $"dt < 2 / {rate:G3} = {2 / rate:G3} (euler-maruyama; {rate:G3} is the largest |eigenvalue| of the drift Jacobian, mobility x curvature, along the protocol)")
                : null;
        double omega = Math.Sqrt(Math.Max(0, rate)), g = dynamics.Friction / dynamics.Mass!.Value;
        double maxDt = SemiImplicitMaxDt(omega * omega, g);
        return double.IsFinite(omega) && maxDt > 0 && double.IsFinite(maxDt)
            ? new StabilityLimit(omega, maxDt, $"dt < 4 / (gamma/m + sqrt((gamma/m)^2 + 4 omega^2)) = {maxDt:G3} (semi-implicit euler; omega = sqrt(curvature / mass) = {omega:G3} along the protocol, gamma/m = {g:G3})")
            : null;
    }

    /// <summary>
    /// The largest stable step of semi-implicit Euler (v first, then x) for m dv = (-kappa x - gamma v) dt + noise:
    /// one step maps (x, v) by [[1 - w h^2, a h], [-w h, a]] with w = <paramref name="omegaSquared"/> = kappa / m and
    /// a = 1 - g h, g = <paramref name="frictionOverMass"/> = gamma / m; its determinant is a and its trace 1 + a - w h^2, so
    /// (Schur-Cohn) both eigenvalues lie inside the unit circle iff |a| &lt; 1 and w h^2 &lt; 2 (1 + a), i.e. iff
    /// w h^2 + 2 g h &lt; 4: h &lt; 4 / (g + sqrt(g^2 + 4 w)). Without friction this is 2 / omega; without curvature 2 m / gamma
    /// (past it 1 - gamma h / m &lt; -1 and the velocity grows at every step, whatever the potential).
    /// </summary>
    internal static double SemiImplicitMaxDt(double omegaSquared, double frictionOverMass) =>
        4 / (frictionOverMass + Math.Sqrt(frictionOverMass * frictionOverMass + 4 * Math.Max(0, omegaSquared)));

    private delegate void Field(ReadOnlySpan<double> x, double t, Span<double> f);

    private delegate void Sampler(ref RandomStream random, Span<double> x);

    /// <summary>Largest |eigenvalue| of the Jacobian of <paramref name="field"/> over a few initial states and two times.</summary>
    private static double LargestRate(int d, Field field, Sampler sample, double tEnd) => LargestRate(d, field, sample, [0, tEnd / 2]);

    /// <summary>Largest |eigenvalue| of the Jacobian of <paramref name="field"/> over a few initial states at each of <paramref name="times"/>.</summary>
    private static double LargestRate(int d, Field field, Sampler sample, double[] times)
    {
        if (d > 512) return double.NaN; // d^2 force evaluations per probe: leave very large systems to the scan
        double best = 0;
        var x = new double[d];
        var jacobian = new double[d * d];
        var plus = new double[d];
        var minus = new double[d];
        var probe = new double[d];
        for (int s = 0; s < 4; s++)
        {
            var random = RandomStream.For(0, (ulong)s, RandomPurposes.SimulationHealthProbe);
            sample(ref random, x);
            foreach (double t in times)
            {
                for (int j = 0; j < d; j++)
                {
                    double h = 1e-5 * Math.Max(1, Math.Abs(x[j]));
                    x.CopyTo(probe, 0);
                    probe[j] = x[j] + h;
                    field(probe, t, plus);
                    probe[j] = x[j] - h;
                    field(probe, t, minus);
                    for (int i = 0; i < d; i++) jacobian[i * d + j] = (plus[i] - minus[i]) / (2 * h);
                }
                best = Math.Max(best, SpectralRadius(jacobian, d));
            }
        }
        return best;
    }

    /// <summary>rho(J) from power iteration: the geometric mean of the growth ||J^k v|| over the last steps (complex pairs rotate, their modulus does not).</summary>
    private static double SpectralRadius(double[] j, int d)
    {
        var v = new double[d];
        var w = new double[d];
        for (int i = 0; i < d; i++) v[i] = 1 + 0.37 * i % 1.0;
        Normalise(v);
        double logSum = 0;
        int counted = 0;
        for (int k = 0; k < 80; k++)
        {
            for (int r = 0; r < d; r++)
            {
                double s = 0;
                for (int c = 0; c < d; c++) s += j[r * d + c] * v[c];
                w[r] = s;
            }
            double norm = Math.Sqrt(w.Sum(a => a * a));
            if (!(norm > 0) || !double.IsFinite(norm)) return k == 0 ? 0 : Math.Exp(logSum / Math.Max(1, counted));
            if (k >= 40) { logSum += Math.Log(norm); counted++; }
            for (int i = 0; i < d; i++) v[i] = w[i] / norm;
        }
        return Math.Exp(logSum / counted);
    }

    private static void Normalise(double[] v)
    {
        double n = Math.Sqrt(v.Sum(a => a * a));
        for (int i = 0; i < v.Length; i++) v[i] /= n;
    }

    /// <summary>The runaway bound of one trajectory: <see cref="RunawayFactor"/> x max(1, largest |coordinate| of its initial state).</summary>
    public static double RunawayBound(ReadOnlySpan<double> initial)
    {
        double scale = 1;
        foreach (double v in initial)
            if (double.IsFinite(v)) scale = Math.Max(scale, Math.Abs(v));
        return RunawayFactor * scale;
    }

    /// <summary>What to do about a blow-up of <paramref name="scheme"/> at step size <paramref name="dt"/>: the stability limit, and whether dt is past it.</summary>
    internal static FormattableString Advice(StochasticModel model, string scheme, double dt, double tEnd)
    {
        var limit = Limit(model, scheme, tEnd);
        if (limit is null) return $"use a smaller {InputParameter.Dt}.";
        if (limit.MaxDt < dt) return $"dt = {dt:G3} is past the scheme's stability limit {limit.Description}; use a smaller {InputParameter.Dt}.";
        return $"the stability limit estimated at the initial states is {limit.Description}, but the run left that region; use a smaller {InputParameter.Dt}.";
    }

    /// <summary>"became NaN" or "ran away to 1.2E+34 (more than 1E+08 x its initial scale)".</summary>
    internal static string Describe(double value, double bound) =>
        double.IsFinite(value) ? $"ran away to {value:G3} (more than {RunawayFactor:G1} x its initial scale {bound / RunawayFactor:G3})" : $"became {value}";

    /// <summary>
    /// Throws when a simulated ensemble holds a non-finite or runaway value: the message names the first frame (and the
    /// step it was saved at) where one appears, the lowest trajectory index there, the value, and the stability limit.
    /// </summary>
    /// <exception cref="InvalidInputException">The run blew up.</exception>
    public static void Check(SimulationResult result)
    {
        var e = result.Trajectories;
        var o = result.Options;
        int d = e.Dimension, frames = e.Frames;
        var data = e.Data;
        var bounds = new double[e.Trajectories];
        for (int t = 0; t < e.Trajectories; t++) bounds[t] = RunawayBound(e.Frame(t, 0));
        for (int f = 0; f < frames; f++)
            for (int t = 0; t < e.Trajectories; t++)
            {
                long offset = ((long)t * frames + f) * d;
                for (int k = 0; k < d; k++)
                {
                    double v = data[offset + k];
                    if (Math.Abs(v) <= bounds[t]) continue;
                    long step = (long)f * o.SaveEvery;
                    throw InvalidInputException.Naming($"the simulation blew up ({result.Scheme}): trajectory {result.FirstTrajectory + t}, coordinate {k} ",
                        $"{Describe(v, bounds[t])} by step {step} (t = {step * o.Dt:G6}, saved frame {f}); nothing was written; ",
                        Advice(result.Model, result.Scheme, o.Dt, o.Steps * o.Dt));
                }
            }
    }
}

/// <summary>
/// Watches a run for blow-up while it runs, so a run that blows up stops early instead of computing (and saving) NaN
/// to the end. Every <see cref="CheckEvery"/> steps (and after the last) each worker tests its trajectories' states
/// against <see cref="SimulationHealth.RunawayBound"/> (non-finite values fail too) and reports the first failure.
/// The run's verdict is the failure with the lowest check step, then the lowest trajectory: once one is reported,
/// every worker still runs to that check step (so an equal or earlier failure elsewhere is found) and stops there, so
/// the message does not depend on thread timing, lane width or shard split. Checking per block of steps keeps the
/// cost off the hot loop (one comparison per coordinate every 16 steps).
/// </summary>
internal sealed class BlowUpWatch
{
    private readonly string _what, _scheme;
    private readonly double _dt;
    private readonly int _steps;
    private readonly long _firstTrajectory;
    private readonly Func<FormattableString> _advice;

    /// <summary>The watch of a simulation of <paramref name="model"/> (the advice names the model's stability limit).</summary>
    public BlowUpWatch(StochasticModel model, string scheme, SimulationOptions options, long firstTrajectory)
        : this("the simulation", scheme, options.Dt, options.Steps, firstTrajectory, () => SimulationHealth.Advice(model, scheme, options.Dt, options.Steps * options.Dt))
    {
    }

    /// <summary>A watch over <paramref name="steps"/> steps of size <paramref name="dt"/>; <paramref name="advice"/> (called only on a blow-up) says what to do.</summary>
    public BlowUpWatch(string what, string scheme, double dt, int steps, long firstTrajectory, Func<FormattableString> advice)
    {
        _what = what;
        _scheme = scheme;
        _dt = dt;
        _steps = steps;
        _firstTrajectory = firstTrajectory;
        _advice = advice;
    }

    /// <summary>Steps between checks (even: the lane kernel advances two steps at a time).</summary>
    public const int CheckEvery = 16;

    private long _stopStep = long.MaxValue;
    private readonly object _gate = new();
    private (long Step, long Trajectory, int Coordinate, double Value, double Bound)? _first;

    /// <summary>True after step index <paramref name="stepsDone"/> (states after that many steps) when the states are to be checked.</summary>
    public bool IsCheckStep(int stepsDone) => stepsDone % CheckEvery == 0 || stepsDone == _steps;

    /// <summary>True when a worker that has checked its states after <paramref name="stepsDone"/> steps is to stop.</summary>
    public bool ShouldStop(int stepsDone) => stepsDone >= Volatile.Read(ref _stopStep);

    /// <summary>Index of the first coordinate of <paramref name="state"/> that is non-finite or beyond <paramref name="bound"/>, or -1.</summary>
    public static int FirstBad(ReadOnlySpan<double> state, double bound)
    {
        for (int k = 0; k < state.Length; k++)
            if (!(Math.Abs(state[k]) <= bound)) return k;
        return -1;
    }

    /// <summary>Checks one trajectory's state after <paramref name="stepsDone"/> steps; false (and reported) when it blew up.</summary>
    public bool Check(ReadOnlySpan<double> state, double bound, int stepsDone, int localTrajectory)
    {
        int k = FirstBad(state, bound);
        if (k < 0) return true;
        Report(stepsDone, localTrajectory, k, state[k], bound);
        return false;
    }

    /// <summary>Records a blow-up of trajectory <paramref name="localTrajectory"/> seen after <paramref name="stepsDone"/> steps.</summary>
    public void Report(int stepsDone, int localTrajectory, int coordinate, double value, double bound)
    {
        long trajectory = _firstTrajectory + localTrajectory;
        lock (_gate)
        {
            if (_first is { } f && (f.Step < stepsDone || f.Step == stepsDone && f.Trajectory <= trajectory)) return;
            _first = (stepsDone, trajectory, coordinate, value, bound);
            Volatile.Write(ref _stopStep, Math.Min(_stopStep, stepsDone));
        }
    }

    /// <summary>Throws the blow-up seen during the run, if any: trajectory, coordinate, the window of steps, the stability limit.</summary>
    /// <exception cref="InvalidInputException">The run blew up.</exception>
    public void ThrowIfBlownUp()
    {
        if (_first is not { } f) return;
        long from = (f.Step - 1) / CheckEvery * CheckEvery + 1;   // one past the previous check, where the state was sound
        double dt = _dt;
        throw InvalidInputException.Naming($"{_what} blew up ({_scheme}): trajectory {f.Trajectory}, coordinate {f.Coordinate} ",
            $"{SimulationHealth.Describe(f.Value, f.Bound)} between steps {from} and {f.Step} (t = {from * dt:G6} to {f.Step * dt:G6}; states are checked ",
            $"every {CheckEvery} steps), the first trajectory to do so; the run stopped there and nothing was written; ",
            _advice());
    }
}
