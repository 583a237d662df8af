using ThermoLearn.Randomness;
using ThermoLearn.Simulation;
using ThermoLearn.Statistics;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Models;

/// <summary>One Gillespie path: the state held from Times[k] until Times[k+1] (or the end) is States[k].</summary>
public sealed record JumpPath(int[] States, double[] Times, double Duration);

/// <summary>
/// A continuous-time Markov jump process on n states with rates w_ij (i -> j, i != j; the diagonal is ignored).
/// Generator Q_ij = w_ij, Q_ii = -sum_j w_ij; stationary law p Q = 0; exact EP rate
/// sigma = 1/2 sum_ij (p_i w_ij - p_j w_ji) ln(p_i w_ij / (p_j w_ji)) (Schnakenberg, Rev. Mod. Phys. 48, 571 (1976)),
/// finite only when every allowed jump has an allowed reverse. Sampled exactly either event by event
/// (Gillespie, J. Phys. Chem. 81, 2340 (1977)) or on a fixed time grid with P(dt) = exp(Q dt); frames store the
/// state index as a number.
/// </summary>
public sealed class MarkovJumpProcess : StochasticModel
{
    private readonly double[,] _rates;
    private readonly double[] _exitRates;
    private readonly double[] _stationary;

    public MarkovJumpProcess(double[,] rates, string name = "mjp", IReadOnlyDictionary<string, string>? parameters = null)
        : base(name, parameters ?? new Dictionary<string, string> { ["W"] = Format(rates) })
    {
        int n = rates.GetLength(0);
        if (n < 2 || rates.GetLength(1) != n)
            throw new InvalidInputException($"{name}: the rate matrix must be square with at least 2 states (got {rates.GetLength(0)} x {rates.GetLength(1)}).");
        _rates = new double[n, n];
        _exitRates = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double w = rates[i, j];
                if (!(w >= 0) || !double.IsFinite(w))
                    throw new InvalidInputException($"{name}: rate w[{i},{j}] = {w} must be a non-negative finite number.");
                if ((w > 0) != (rates[j, i] > 0))
                    throw new InvalidInputException($"{name}: w[{i},{j}] = {w} but w[{j},{i}] = {rates[j, i]}; every allowed jump needs an allowed reverse for a finite entropy production.");
                _rates[i, j] = w;
                _exitRates[i] += w;
            }
        for (int i = 0; i < n; i++)
            if (_exitRates[i] == 0) throw new InvalidInputException($"{name}: state {i} has no outgoing rate (absorbing); the process must be irreducible.");
        _stationary = Stationary(n);
        double sigma = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double forward = _stationary[i] * _rates[i, j], backward = _stationary[j] * _rates[j, i];
                if (i != j && forward > 0) sigma += 0.5 * (forward - backward) * Math.Log(forward / backward);
            }
        EntropyProductionRateValue = sigma;
    }

    private double[] Stationary(int n)
    {
        // Solve Q^T p = 0 with the last equation replaced by sum p = 1.
        var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) m[j, i] = i == j ? -_exitRates[i] : _rates[i, j];
        for (int i = 0; i < n; i++) m[n - 1, i] = 1;
        var rhs = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(n);
        rhs[n - 1] = 1;
        var p = m.Solve(rhs).ToArray();
        if (p.Any(v => !(v > 1e-300)))
            throw new InvalidInputException($"{Name}: the rate matrix is not irreducible (no unique positive stationary law).");
        return p;
    }

    public int States => _exitRates.Length;

    public override int StateDimension => 1;

    /// <summary>The stationary law p (a copy).</summary>
    public double[] StationaryDistribution => (double[])_stationary.Clone();

    /// <summary>Rate w_ij.</summary>
    public double Rate(int i, int j) => i == j ? 0 : _rates[i, j];

    public double EntropyProductionRateValue { get; }

    public override double? EntropyProductionRate(double t) => EntropyProductionRateValue;

    /// <summary>The generator Q (Q_ij = w_ij, Q_ii = -sum_j w_ij).</summary>
    public double[,] Generator()
    {
        int n = States;
        var q = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) q[i, j] = i == j ? -_exitRates[i] : _rates[i, j];
        return q;
    }

    /// <summary>P(dt) = exp(Q dt) by scaling and squaring of a 20-term Taylor series (rows sum to 1 to rounding).</summary>
    public double[,] TransitionMatrix(double dt)
    {
        if (!(dt > 0) || !double.IsFinite(dt)) throw new InvalidInputException($"{Name}: dt must be positive and finite (got {dt}).");
        int n = States;
        var q = Generator();
        double norm = _exitRates.Max() * 2 * dt;
        int squarings = Math.Max(0, (int)Math.Ceiling(Math.Log2(norm)) + 1);
        double scale = dt / Math.Pow(2, squarings);
        var term = DenseMatrix.Identity(n);
        var sum = DenseMatrix.Identity(n);
        for (int k = 1; k <= 20; k++)
        {
            term = DenseMatrix.Multiply(term, q);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    term[i, j] *= scale / k;
                    sum[i, j] += term[i, j];
                }
        }
        for (int s = 0; s < squarings; s++) sum = DenseMatrix.Multiply(sum, sum);
        return sum;
    }

    /// <summary>
    /// EP per unit time of the chain sampled every dt, sum_ij p_i P_ij ln(P_ij / P_ji) / dt with P = exp(Q dt): what counts at
    /// lag dt estimate without a generator fit. Below <see cref="EntropyProductionRateValue"/> (jumps undone within a frame are
    /// invisible) and equal to it as dt -> 0; for rates W of issue 20, 1.6916 at dt = 0.01 against 1.7920.
    /// </summary>
    public double SampledChainEntropyProductionRate(double dt)
    {
        var p = TransitionMatrix(dt);
        int n = States;
        double sum = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && p[i, j] > 0 && p[j, i] > 0) sum += _stationary[i] * p[i, j] * Math.Log(p[i, j] / p[j, i]);
        return sum / dt;
    }

    /// <summary>Draws a state from the stationary law.</summary>
    public int SampleStationary(ref RandomStream random) => DiscreteMarkovChain.Categorical(_stationary, random.NextDouble());

    /// <summary>
    /// An exact event-driven path of trajectory <paramref name="index"/> of <paramref name="seed"/> over [0, duration],
    /// started from <paramref name="initialState"/> or the stationary law.
    /// </summary>
    public JumpPath Gillespie(ulong seed, long index, double duration, int? initialState = null)
    {
        if (!(duration > 0) || !double.IsFinite(duration)) throw new InvalidInputException($"{Name}: duration must be positive and finite (got {duration}).");
        var random = RandomStream.For(seed, (ulong)index, RandomPurposes.SimulationInitial);
        int state = initialState ?? SampleStationary(ref random);
        if (state < 0 || state >= States) throw new InvalidInputException($"{Name}: initial state {state} is not in 0..{States - 1}.");
        var noise = RandomStream.For(seed, (ulong)index, RandomPurposes.SimulationNoise);
        var states = new List<int> { state };
        var times = new List<double> { 0 };
        double t = 0;
        while (true)
        {
            t += -Math.Log(noise.NextDoubleNonZero()) / _exitRates[state];
            if (t >= duration) break;
            double u = noise.NextDouble() * _exitRates[state], acc = 0;
            int next = -1;
            for (int j = 0; j < States; j++)
            {
                if (j == state) continue;
                acc += _rates[state, j];
                next = j;
                if (u < acc) break;
            }
            state = next;
            states.Add(state);
            times.Add(t);
        }
        return new JumpPath(states.ToArray(), times.ToArray(), duration);
    }

    /// <summary>
    /// States at t = 0, dt, 2 dt, ... (exact: steps of P(dt) = exp(Q dt)), trajectory i from the streams of (seed, i),
    /// starting from the stationary law. Honours the options' trajectories, steps, dt, save-every, seed and shard.
    /// </summary>
    public TrajectoryEnsemble SampleFixedStep(SimulationOptions options)
    {
        var p = TransitionMatrix(options.Dt);
        return DiscreteMarkovChain.SampleChain(this, p, _stationary, options);
    }
}

/// <summary>
/// A discrete-time Markov chain with transition matrix P (rows sum to 1), one step per unit of time. Stationary
/// law p = p P; exact EP per step sigma = sum_ij p_i P_ij ln(P_ij / P_ji) (needs P_ij &gt; 0 exactly when P_ji &gt; 0).
/// <see cref="FlashingRatchet"/> builds NEEP's discrete flashing ratchet (Kim et al., PRL 125, 140604 (2020)).
/// <see cref="StochasticModel.EntropyProductionRate"/> is per step.
/// </summary>
public sealed class DiscreteMarkovChain : StochasticModel
{
    private readonly double[,] _p;
    private readonly double[] _stationary;

    public DiscreteMarkovChain(double[,] transition, string name = "markov-chain", IReadOnlyDictionary<string, string>? parameters = null)
        : base(name, parameters ?? new Dictionary<string, string> { ["P"] = Format(transition) })
    {
        int n = transition.GetLength(0);
        if (n < 2 || transition.GetLength(1) != n)
            throw new InvalidInputException($"{name}: the transition matrix must be square with at least 2 states.");
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++)
            {
                double v = transition[i, j];
                if (!(v >= 0) || !double.IsFinite(v)) throw new InvalidInputException($"{name}: P[{i},{j}] = {v} is not a probability.");
                if ((v > 0) != (transition[j, i] > 0))
                    throw new InvalidInputException($"{name}: P[{i},{j}] = {v} but P[{j},{i}] = {transition[j, i]}; every transition needs its reverse for a finite EP.");
                row += v;
            }
            if (Math.Abs(row - 1) > 1e-9) throw new InvalidInputException($"{name}: row {i} of P sums to {row}; a stochastic matrix needs rows summing to 1.");
        }
        _p = (double[,])transition.Clone();
        // Stationary law: solve (P^T - I) p = 0 with sum p = 1.
        var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (i, j) => transition[j, i] - (i == j ? 1 : 0));
        for (int j = 0; j < n; j++) m[n - 1, j] = 1;
        var rhs = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(n);
        rhs[n - 1] = 1;
        _stationary = m.Solve(rhs).ToArray();
        if (_stationary.Any(v => !(v > 1e-300))) throw new InvalidInputException($"{name}: the chain is not irreducible (no unique positive stationary law).");
        double sigma = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (_p[i, j] > 0 && i != j) sigma += _stationary[i] * _p[i, j] * Math.Log(_p[i, j] / _p[j, i]);
        EntropyProductionPerStep = sigma;
    }

    /// <summary>
    /// NEEP's discrete flashing ratchet: states index = layer * 3 + position (layer 0: potential on, energies
    /// 0, V, 2V at positions 0, 1, 2 of a ring; layer 1: off, all 0). From each state the weight to each other position
    /// of the same layer is exp(-(E_j - E_i) / (2T)) and to the same position in the other layer r; probabilities are
    /// weights over their sum. EP per step 0.016376, 0.062364, 0.130566, 0.213069 for V = 0.5, 1, 1.5, 2 (T = r = 1).
    /// </summary>
    public static DiscreteMarkovChain FlashingRatchet(double v = 1, double temperature = 1, double r = 1)
    {
        const string name = "flashing-ratchet";
        RequireFinite(name, "V", v);
        RequirePositive(name, "T", temperature);
        RequirePositive(name, "r", r);
        var p = new double[6, 6];
        for (int layer = 0; layer < 2; layer++)
            for (int i = 0; i < 3; i++)
            {
                int s = layer * 3 + i;
                double total = r;
                for (int j = 0; j < 3; j++)
                    if (j != i) total += Math.Exp(-(Energy(layer, j, v) - Energy(layer, i, v)) / (2 * temperature));
                for (int j = 0; j < 3; j++)
                    if (j != i) p[s, layer * 3 + j] = Math.Exp(-(Energy(layer, j, v) - Energy(layer, i, v)) / (2 * temperature)) / total;
                p[s, (1 - layer) * 3 + i] = r / total;
            }
        return new DiscreteMarkovChain(p, name, new Dictionary<string, string> { ["V"] = Format(v), ["T"] = Format(temperature), ["r"] = Format(r) });
    }

    private static double Energy(int layer, int position, double v) => layer == 0 ? position * v : 0;

    /// <summary>Position on the ring (0, 1, 2) of a flashing-ratchet state: what a hidden-switch observer sees.</summary>
    public static int RatchetPosition(int state) => state % 3;

    public int States => _stationary.Length;

    public override int StateDimension => 1;

    public double[] StationaryDistribution => (double[])_stationary.Clone();

    public double Transition(int i, int j) => _p[i, j];

    /// <summary>Exact EP per step in the stationary state.</summary>
    public double EntropyProductionPerStep { get; }

    /// <summary>Per step (the chain's unit of time).</summary>
    public override double? EntropyProductionRate(double t) => EntropyProductionPerStep;

    /// <summary>Stationary paths: trajectory i from (seed, i); frames hold state indices; frame spacing dt x save-every.</summary>
    public TrajectoryEnsemble Sample(SimulationOptions options) => SampleChain(this, _p, _stationary, options);

    internal static int Categorical(ReadOnlySpan<double> probabilities, double u)
    {
        double acc = 0;
        for (int k = 0; k < probabilities.Length; k++)
        {
            acc += probabilities[k];
            if (u < acc) return k;
        }
        for (int k = probabilities.Length - 1; k >= 0; k--)
            if (probabilities[k] > 0) return k;  // u beyond the rounded total: the last possible state
        return probabilities.Length - 1;
    }

    internal static TrajectoryEnsemble SampleChain(StochasticModel model, double[,] p, double[] stationary, SimulationOptions o)
    {
        if (o.Trajectories < 1) throw new InvalidInputException($"trajectories must be >= 1 (got {o.Trajectories}).");
        if (o.Steps < 1) throw new InvalidInputException($"steps must be >= 1 (got {o.Steps}).");
        if (!(o.Dt > 0) || !double.IsFinite(o.Dt)) throw new InvalidInputException($"dt must be a positive finite number (got {o.Dt}).");
        if (o.SaveEvery < 1 || o.Steps % o.SaveEvery != 0)
            throw new InvalidInputException($"steps ({o.Steps}) must be a positive multiple of save-every ({o.SaveEvery}).");
        var (first, count) = o.Shard.Range(o.Trajectories);
        if (count < 1) throw new InvalidInputException($"shard {o.Shard} of {o.Trajectories} trajectories is empty; use fewer shards.");
        int n = stationary.Length, frames = o.Steps / o.SaveEvery + 1;
        if ((long)count * frames > Array.MaxLength) throw new InvalidInputException("too many values for one ensemble; save fewer frames or shard the run.");
        var rows = new double[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new double[n];
            for (int j = 0; j < n; j++) rows[i][j] = p[i, j];
        }
        var data = new double[(long)count * frames];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism }, local =>
        {
            long index = first + local;
            var init = RandomStream.For(o.Seed, (ulong)index, RandomPurposes.SimulationInitial);
            int state = Categorical(stationary, init.NextDouble());
            var noise = RandomStream.For(o.Seed, (ulong)index, RandomPurposes.SimulationNoise);
            long offset = (long)local * frames;
            data[offset] = state;
            for (int step = 1; step <= o.Steps; step++)
            {
                state = Categorical(rows[state], noise.NextDouble());
                if (step % o.SaveEvery == 0) data[offset + step / o.SaveEvery] = state;
            }
        });
        var metadata = new TrajectoryMetadata(model.Name, model.ParametersJson().ToJsonString(), o.Seed, first, o.Shard.Count > 1 ? o.Trajectories : null);
        return new TrajectoryEnsemble(count, frames, 1, o.Dt * o.SaveEvery, data, metadata);
    }
}
