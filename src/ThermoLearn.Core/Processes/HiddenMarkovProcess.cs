using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Processes;

/// <summary>
/// A stationary edge-emitting hidden Markov process over V tokens and S hidden states, given by its
/// labelled transition tensor <c>T[x][i][j] = P(emit x, next state j | state i)</c> (shape V x S x S),
/// or a generalised HMM (GHMM) whose entries may be negative.
/// </summary>
/// <remarks>
/// <para>Beliefs (mixed states) eta are row vectors over the S states. With tau the right eigenvector of
/// <c>T = sum_x T[x]</c> for its principal eigenvalue (every T[x] is divided by that eigenvalue if it is
/// not 1), scaled so that <c>sum tau = S</c>:</para>
/// <para><c>P(x | eta) = (eta T[x] tau) / (eta tau)</c>, <c>eta' = eta T[x] / (eta T[x] tau)</c>,
/// <c>P(x1..xL) = pi T[x1]...T[xL] tau / (pi tau)</c>,</para>
/// <para>where pi, the root belief, is the left eigenvector of T for the same eigenvalue, normalised to
/// sum 1. For an HMM (non-negative entries, rows of T summing to 1) tau = (1,...,1) and these reduce to
/// the usual forward recursion. Updated beliefs satisfy <c>eta' tau = 1</c>, so for an HMM they are
/// probability vectors. Probabilities are dimensionless; nothing here has units.</para>
/// <para>Conventions follow Shai et al., "Transformers represent belief state geometry in their residual
/// stream", NeurIPS 2024 (arXiv:2405.15943), and Riechers &amp; Crutchfield, "Spectral simplicity of
/// apparent complexity" (Chaos 28, 033115, 2018) for mixed states.</para>
/// </remarks>
public sealed class HiddenMarkovProcess
{
    /// <summary>Tolerance on HMM normalisation: every state's outgoing probability sums to 1 within this.</summary>
    public const double NormalisationTolerance = 1e-9;

    /// <summary>
    /// Conditional token probabilities at or below this are treated as impossible when a tree or a
    /// presentation is expanded: for HMMs impossible tokens give exact zeros, for GHMMs cancellation
    /// leaves rounding noise of order 1e-16 that must not create spurious branches.
    /// </summary>
    public const double ZeroProbability = 1e-14;

    private readonly double[] _t;        // [x, i, j] row-major
    private readonly double[] _pi;       // root belief
    private readonly double[] _tau;      // right eigenvector, sum S
    private readonly double[] _tokenTau; // [x, i] = (T[x] tau)_i
    private readonly double _piTau;

    /// <summary>
    /// A process from its transition tensor <paramref name="transitions"/> (flat, index
    /// <c>(x * S + i) * S + j</c>). An HMM (<paramref name="generalized"/> false) must have non-negative
    /// entries whose sum over tokens and next states is 1 for every state; a GHMM only finite entries and
    /// a real, positive, simple principal eigenvalue of <c>sum_x T[x]</c>.
    /// </summary>
    /// <param name="name">Name used in outputs.</param>
    /// <param name="tokens">Vocabulary size V.</param>
    /// <param name="states">Number of hidden states S.</param>
    /// <param name="transitions">T, flat [V, S, S] (copied).</param>
    /// <param name="generalized">True for a GHMM (negative entries allowed).</param>
    /// <param name="stationary">Root belief pi; computed (and required to be unique) when null. Give it when
    /// the hidden chain has several stationary laws, e.g. a product of periodic factors.</param>
    /// <exception cref="InvalidInputException">Shapes, non-finite or negative entries, rows not summing to 1,
    /// no unique stationary law.</exception>
    public HiddenMarkovProcess(string name, int tokens, int states, double[] transitions, bool generalized = false, double[]? stationary = null)
        : this(name, tokens, states, (double[])(transitions ?? throw new ArgumentNullException(nameof(transitions))).Clone(), generalized, stationary, null, validate: true)
    {
    }

    internal HiddenMarkovProcess(string name, int tokens, int states, double[] transitions, bool generalized,
        double[]? stationary, double[]? tau, bool validate)
    {
        ArgumentNullException.ThrowIfNull(transitions);
        Name = string.IsNullOrWhiteSpace(name) ? "process" : name;
        if (tokens < 1) throw new InvalidInputException($"process '{Name}': the number of tokens must be >= 1 (got {tokens}).");
        if (states < 1) throw new InvalidInputException($"process '{Name}': the number of states must be >= 1 (got {states}).");
        long expected = (long)tokens * states * states;
        if (transitions.LongLength != expected)
            throw new InvalidInputException($"process '{Name}': T has {transitions.LongLength} entries but tokens x states x states = {tokens} x {states} x {states} = {expected} were expected.");
        Tokens = tokens;
        States = states;
        FactorTokens = [tokens];
        FactorStates = [states];
        _t = transitions;
        if (validate) Validate(generalized);
        IsGeneralized = generalized;

        if (generalized)
        {
            double lambda = PrincipalEigenvalue();
            if (Math.Abs(lambda - 1) > 1e-13)
                for (int k = 0; k < _t.Length; k++) _t[k] /= lambda;
        }

        _tau = tau ?? (generalized ? RightEigenvector() : Enumerable.Repeat(1.0, states).ToArray());
        FactorTaus = [(double[])_tau.Clone()];
        _pi = stationary is null ? LeftEigenvector() : CheckStationary(stationary);
        _tokenTau = new double[tokens * states];
        for (int x = 0; x < tokens; x++)
            for (int i = 0; i < states; i++)
            {
                double s = 0;
                int row = (x * states + i) * states;
                for (int j = 0; j < states; j++) s += _t[row + j] * _tau[j];
                _tokenTau[x * states + i] = s;
            }
        _piTau = Dot(_pi, _tau);
        if (!(Math.Abs(_piTau) > 1e-12))
            throw new InvalidInputException($"process '{Name}': the root belief pi has pi . tau = {_piTau}; a GHMM needs pi . tau != 0 to define word probabilities.");
    }

    /// <summary>Name used in outputs (e.g. "mess3(x=0.05,a=0.85)").</summary>
    public string Name { get; }

    /// <summary>Vocabulary size V.</summary>
    public int Tokens { get; }

    /// <summary>Number of hidden states S.</summary>
    public int States { get; }

    /// <summary>
    /// Token alphabet sizes of the factors when the process lives on a product space (radix code, factor 0
    /// most significant: <c>token = t0*(V1*...*V_{F-1}) + ... + t_{F-1}</c>); a single entry V otherwise.
    /// </summary>
    public IReadOnlyList<int> FactorTokens { get; internal init; } = Array.Empty<int>();

    /// <summary>State-space sizes of the factors (same radix layout as <see cref="FactorTokens"/>); a single entry S otherwise.</summary>
    public IReadOnlyList<int> FactorStates { get; internal init; } = Array.Empty<int>();

    /// <summary>
    /// The factors' tau vectors (same layout as <see cref="FactorStates"/>): what a factor's marginal belief is contracted
    /// with (<see cref="ProcessComposition.MarginalBelief"/>). All ones for HMM factors; for a noise- or chain-coupled
    /// GHMM the joint tau is not a Kronecker product and these (the uncoupled factors', variant 0 for a chain) define the
    /// marginals used to test factored geometry. A single entry (this process's tau) otherwise.
    /// </summary>
    public IReadOnlyList<double[]> FactorTaus { get; internal init; } = Array.Empty<double[]>();

    /// <summary>
    /// The factors when this is an independent product (<see cref="ProcessComposition.Product"/>), else empty.
    /// Block entropies, h_mu, E and C_mu of an independent product are the sums of the factors'.
    /// </summary>
    public IReadOnlyList<HiddenMarkovProcess> IndependentFactors { get; internal init; } = Array.Empty<HiddenMarkovProcess>();

    /// <summary>True for a generalised HMM (entries may be negative; tau need not be all ones).</summary>
    public bool IsGeneralized { get; }

    /// <summary>The transition tensor, flat with index <c>(x * S + i) * S + j</c>.</summary>
    public ReadOnlySpan<double> Transitions => _t;

    /// <summary>The S x S matrix T[x] (row-major).</summary>
    public ReadOnlySpan<double> Matrix(int token) => _t.AsSpan(token * States * States, States * States);

    /// <summary>T[x][i][j].</summary>
    public double this[int token, int from, int to] => _t[(token * States + from) * States + to];

    /// <summary>Root belief pi (left eigenvector of sum_x T[x], sum 1): the stationary law for an HMM.</summary>
    public ReadOnlySpan<double> Stationary => _pi;

    /// <summary>tau: right eigenvector of sum_x T[x], sum S (all ones for an HMM).</summary>
    public ReadOnlySpan<double> Tau => _tau;

    /// <summary>The vectors T[x] tau, flat [x, i]: <c>P(x | eta) = eta . (T[x] tau) / (eta . tau)</c>.</summary>
    internal ReadOnlySpan<double> TokenTau => _tokenTau;

    /// <summary>A copy of the root belief pi.</summary>
    public double[] RootBelief() => (double[])_pi.Clone();

    /// <summary>eta . tau: the normaliser of a belief (1 for HMM probability vectors and for every updated belief).</summary>
    public double Normaliser(ReadOnlySpan<double> belief) => Dot(belief, _tau);

    /// <summary>Next-token law <c>P(x | eta) = (eta T[x] tau)/(eta tau)</c> into <paramref name="law"/> (length V).</summary>
    public void NextTokenLaw(ReadOnlySpan<double> belief, Span<double> law)
    {
        CheckBelief(belief);
        if (law.Length != Tokens) throw new ArgumentException($"law needs length {Tokens}.", nameof(law));
        double norm = Dot(belief, _tau);
        int s = States;
        for (int x = 0; x < Tokens; x++) law[x] = Dot(belief, _tokenTau.AsSpan(x * s, s)) / norm;
    }

    /// <summary>The next-token law as a new array.</summary>
    public double[] NextTokenLaw(ReadOnlySpan<double> belief)
    {
        var law = new double[Tokens];
        NextTokenLaw(belief, law);
        return law;
    }

    /// <summary>
    /// Belief update <c>eta' = eta T[x] / (eta T[x] tau)</c> into <paramref name="next"/>; returns
    /// <c>P(x | eta)</c>. When that probability is at most <see cref="ZeroProbability"/> the token is
    /// impossible, <paramref name="next"/> is filled with NaN and 0 is returned.
    /// </summary>
    public double Update(ReadOnlySpan<double> belief, int token, Span<double> next)
    {
        CheckBelief(belief);
        if ((uint)token >= (uint)Tokens) throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside 0..{Tokens - 1}.");
        if (next.Length != States) throw new ArgumentException($"next needs length {States}.", nameof(next));
        double norm = Dot(belief, _tau);
        double joint = Dot(belief, _tokenTau.AsSpan(token * States, States));
        double p = joint / norm;
        if (!(p > ZeroProbability))
        {
            next.Fill(double.NaN);
            return 0;
        }
        MultiplyRow(belief, token, next);
        double inv = 1.0 / joint;
        for (int j = 0; j < States; j++) next[j] *= inv;
        return p;
    }

    /// <summary>The belief after <paramref name="word"/> starting from pi.</summary>
    /// <exception cref="InvalidInputException">The word has probability 0 (no belief follows it) or a token is out of range.</exception>
    public double[] BeliefAfter(ReadOnlySpan<int> word)
    {
        var eta = RootBelief();
        var next = new double[States];
        for (int k = 0; k < word.Length; k++)
        {
            CheckToken(word[k], k);
            if (Update(eta, word[k], next) == 0)
                throw new InvalidInputException($"process '{Name}': the word [{string.Join(",", word.ToArray())}] has probability 0 (token {word[k]} at position {k} is impossible), so it has no belief.");
            (eta, next) = (next, eta);
        }
        return eta;
    }

    /// <summary>Word probability <c>P(x1..xL) = pi T[x1]...T[xL] tau / (pi tau)</c>; the empty word has probability 1.</summary>
    public double WordProbability(ReadOnlySpan<int> word)
    {
        var eta = RootBelief();
        var next = new double[States];
        for (int k = 0; k < word.Length; k++)
        {
            CheckToken(word[k], k);
            MultiplyRow(eta, word[k], next);
            (eta, next) = (next, eta);
        }
        return Dot(eta, _tau) / _piTau;
    }

    /// <summary>
    /// Beliefs along many sequences: for tokens [n, L] (row-major) returns beliefs [n, L, S] where
    /// entry (s, t) is the belief after tokens x1..x_{t+1} of sequence s, rooted at pi.
    /// </summary>
    /// <exception cref="InvalidInputException">A token is out of range or a sequence has probability 0.</exception>
    public double[] BeliefsAlong(ReadOnlySpan<int> tokens, int sequences, int length)
    {
        if (sequences < 0 || length < 0 || (long)sequences * length != tokens.Length)
            throw new InvalidInputException($"process '{Name}': {tokens.Length} tokens cannot be {sequences} sequences of length {length}.");
        var result = new double[(long)sequences * length * States];
        var eta = new double[States];
        for (int s = 0; s < sequences; s++)
        {
            _pi.CopyTo(eta, 0);
            for (int t = 0; t < length; t++)
            {
                int x = tokens[s * length + t];
                CheckToken(x, s * length + t);
                var dest = result.AsSpan(((s * length) + t) * States, States);
                if (Update(eta, x, dest) == 0)
                    throw new InvalidInputException($"process '{Name}': sequence {s} has probability 0 (token {x} at position {t} is impossible).");
                dest.CopyTo(eta);
            }
        }
        return result;
    }

    /// <summary>dest = eta T[x] (unnormalised).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void MultiplyRow(ReadOnlySpan<double> eta, int token, Span<double> dest)
    {
        int s = States;
        dest.Clear();
        var m = _t.AsSpan(token * s * s, s * s);
        for (int i = 0; i < s; i++)
        {
            double e = eta[i];
            if (e == 0) continue;
            var row = m.Slice(i * s, s);
            for (int j = 0; j < s; j++) dest[j] += e * row[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    private void CheckBelief(ReadOnlySpan<double> belief)
    {
        if (belief.Length != States) throw new ArgumentException($"a belief of process '{Name}' has {States} entries (got {belief.Length}).", nameof(belief));
    }

    private void CheckToken(int token, int position)
    {
        if ((uint)token >= (uint)Tokens)
            throw new InvalidInputException($"process '{Name}': token {token} at position {position} is outside 0..{Tokens - 1}.");
    }

    private void Validate(bool generalized)
    {
        int s = States;
        for (int k = 0; k < _t.Length; k++)
        {
            double v = _t[k];
            if (!double.IsFinite(v))
                throw new InvalidInputException($"process '{Name}': T[{k / (s * s)}][{k / s % s}][{k % s}] = {v} is not a finite number.");
            if (!generalized && v < 0)
                throw new InvalidInputException($"process '{Name}': T[{k / (s * s)}][{k / s % s}][{k % s}] = {v} is negative; an HMM needs probabilities >= 0 (declare the process generalized for a GHMM).");
        }
        if (generalized) return;
        for (int i = 0; i < s; i++)
        {
            double sum = 0;
            for (int x = 0; x < Tokens; x++)
                for (int j = 0; j < s; j++) sum += _t[(x * s + i) * s + j];
            if (Math.Abs(sum - 1) > NormalisationTolerance)
                throw new InvalidInputException($"process '{Name}': the probabilities leaving state {i} (sum over tokens x and next states j of T[x][{i}][j]) sum to {sum:R}, but must sum to 1.");
        }
    }

    private Matrix<double> StateMatrix()
    {
        int s = States;
        var m = Matrix<double>.Build.Dense(s, s);
        for (int x = 0; x < Tokens; x++)
            for (int i = 0; i < s; i++)
                for (int j = 0; j < s; j++) m[i, j] += _t[(x * s + i) * s + j];
        return m;
    }

    private double PrincipalEigenvalue()
    {
        var values = StateMatrix().Evd().EigenValues;
        var best = values[0];
        foreach (var v in values)
            if (v.Magnitude > best.Magnitude + 1e-12 || (Math.Abs(v.Magnitude - best.Magnitude) <= 1e-12 && v.Real > best.Real)) best = v;
        if (Math.Abs(best.Imaginary) > 1e-9 || !(best.Real > 0))
            throw new InvalidInputException($"process '{Name}': the principal eigenvalue of sum_x T[x] is {best.Real:G6}{(best.Imaginary >= 0 ? "+" : "")}{best.Imaginary:G6}i; a GHMM needs it real and positive.");
        return best.Real;
    }

    /// <summary>The one-dimensional null space of A (a unit vector), or null when it is not one-dimensional.</summary>
    private static double[]? NullVector(Matrix<double> a)
    {
        var svd = a.Svd(computeVectors: true);
        var sv = svd.S;
        int n = sv.Count;
        double scale = Math.Max(1.0, sv[0]);
        // Singular values come sorted descending: the smallest must vanish, the next must not.
        if (sv[n - 1] > 1e-10 * scale) return null;
        if (n > 1 && sv[n - 2] <= 1e-8 * scale) return null;
        return svd.VT.Row(n - 1).ToArray();
    }

    private double[] LeftEigenvector()
    {
        var a = StateMatrix().Transpose() - Matrix<double>.Build.DenseIdentity(States);
        var v = NullVector(a) ?? throw new InvalidInputException(
            $"process '{Name}': sum_x T[x] has no unique stationary (left) eigenvector for eigenvalue 1 (the hidden chain is reducible or not normalised); give the stationary law explicitly (\"stationary\" in a process file).");
        double sum = v.Sum();
        if (!(Math.Abs(sum) > 1e-12))
            throw new InvalidInputException($"process '{Name}': the left eigenvector of sum_x T[x] sums to 0 and cannot be normalised to a root belief.");
        for (int i = 0; i < v.Length; i++) v[i] /= sum;
        if (!IsGeneralized && v.Any(p => p < -1e-12))
            throw new InvalidInputException($"process '{Name}': the stationary law has negative entries; check T.");
        if (!IsGeneralized) for (int i = 0; i < v.Length; i++) v[i] = Math.Max(v[i], 0);
        return v;
    }

    private double[] RightEigenvector()
    {
        var a = StateMatrix() - Matrix<double>.Build.DenseIdentity(States);
        var v = NullVector(a) ?? throw new InvalidInputException(
            $"process '{Name}': sum_x T[x] has no unique right eigenvector tau for its principal eigenvalue; a GHMM needs it simple.");
        double sum = v.Sum();
        if (!(Math.Abs(sum) > 1e-12))
            throw new InvalidInputException($"process '{Name}': the right eigenvector tau sums to 0 and cannot be scaled to sum S.");
        for (int i = 0; i < v.Length; i++) v[i] *= States / sum;
        return v;
    }

    private double[] CheckStationary(double[] pi)
    {
        if (pi.Length != States)
            throw new InvalidInputException($"process '{Name}': the stationary law has {pi.Length} entries but the process has {States} states.");
        if (pi.Any(p => !double.IsFinite(p)))
            throw new InvalidInputException($"process '{Name}': the stationary law has a non-finite entry.");
        double sum = pi.Sum();
        if (Math.Abs(sum - 1) > NormalisationTolerance)
            throw new InvalidInputException($"process '{Name}': the stationary law sums to {sum:R}; it must sum to 1.");
        if (!IsGeneralized && pi.Any(p => p < 0))
            throw new InvalidInputException($"process '{Name}': the stationary law has a negative entry.");
        var image = new double[States];
        var tmp = new double[States];
        for (int x = 0; x < Tokens; x++)
        {
            MultiplyRow(pi, x, tmp);
            for (int j = 0; j < States; j++) image[j] += tmp[j];
        }
        for (int j = 0; j < States; j++)
            if (Math.Abs(image[j] - pi[j]) > 1e-9)
                throw new InvalidInputException($"process '{Name}': the given stationary law is not invariant: (pi T)[{j}] = {image[j]:R} but pi[{j}] = {pi[j]:R}.");
        return (double[])pi.Clone();
    }

    public override string ToString() => $"{Name} ({Tokens} tokens, {States} states{(IsGeneralized ? ", generalised" : "")})";
}
