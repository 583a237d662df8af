using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Processes;

/// <summary>
/// The mixed-state presentation (MSP) of a process: the tree of beliefs rooted at pi with a child per token of
/// positive probability, with equal beliefs identified. Two beliefs are the same mixed state when every entry
/// agrees after rounding to the nearest multiple of <see cref="Tolerance"/> (default 1e-9; beliefs carry
/// rounding errors near 1e-15, far below it, and distinct mixed states of the processes here differ by far more).
/// </summary>
/// <remarks>
/// <para>Counts per depth L: <see cref="WordCounts"/> (positive-probability words of length L: paths of the
/// presentation, counted without merging), <see cref="DistinctPerDepth"/> (distinct beliefs among them) and
/// <see cref="CumulativeDistinct"/> (distinct beliefs at depths 0..L). <see cref="TreeNodes"/> = words of length
/// 0..depth.</para>
/// <para>When the set of mixed states closes within the exploration budget the presentation is finite
/// (<see cref="IsFinite"/>): a unifilar HMM whose recurrent part (the states of its closed strongly connected
/// components) gives, after merging predictively equivalent states, the causal states (epsilon-machine). Then
/// <see cref="StatisticalComplexity"/> C_mu = H[stationary law over causal states] and the entropy rate
/// h_mu = sum_s p_s H[P(.|s)] are exact (bits). Otherwise they are null. A set that closes only because the grid
/// identified beliefs that differ by more than rounding (<see cref="ExactMergeGap"/>; e.g. Mess3(0.3, 0.2), whose beliefs
/// contract below the tolerance within ten tokens) is not finite: its "causal states" and C_mu would depend on the
/// tolerance.</para>
/// <para>Crutchfield, Riechers &amp; Ellison, "Exact complexity: the spectral decomposition of intrinsic
/// computation", Phys. Lett. A 380, 998 (2016); Shai et al., NeurIPS 2024.</para>
/// </remarks>
public sealed class MixedStatePresentation
{
    private readonly HiddenMarkovProcess _process;
    private readonly List<double[]> _beliefs = new();
    private readonly List<double[]> _laws = new();
    private readonly List<int[]?> _children = new();
    private readonly Dictionary<BeliefKey, int> _index = new();
    private HashSet<int>? _recurrent;
    private double _largestMergeGap;

    /// <summary>
    /// Largest difference (relative to the belief's largest entry, at least 1) between two beliefs identified as one
    /// mixed state that still counts as rounding; equal beliefs reached along different words differ by ~1e-15.
    /// </summary>
    internal const double ExactMergeGap = 1e-12;

    private MixedStatePresentation(HiddenMarkovProcess process, double tolerance)
    {
        _process = process;
        Tolerance = tolerance;
    }

    /// <summary>Grid spacing used to identify beliefs.</summary>
    public double Tolerance { get; }

    /// <summary>Depth to which the counts were taken: the requested depth, or less when a level would have
    /// exceeded 2 million words x tokens (e.g. products with large vocabularies).</summary>
    public int Depth { get; private set; }

    /// <summary>Positive-probability words of length L = 0..Depth (1 at L = 0).</summary>
    public IReadOnlyList<long> WordCounts { get; private set; } = [];

    /// <summary>Distinct beliefs among the words of length L = 0..Depth.</summary>
    public IReadOnlyList<int> DistinctPerDepth { get; private set; } = [];

    /// <summary>Distinct beliefs among the words of length 0..L, for L = 0..Depth.</summary>
    public IReadOnlyList<int> CumulativeDistinct { get; private set; } = [];

    /// <summary>Nodes of the (unmerged) tree through Depth: the sum of <see cref="WordCounts"/>.</summary>
    public long TreeNodes => WordCounts.Sum();

    /// <summary>Distinct beliefs found (through Depth and, when finite, the whole closed set).</summary>
    public int StateCount => _beliefs.Count;

    /// <summary>True when every mixed state's successors are known: the presentation is finite.</summary>
    public bool IsFinite { get; private set; }

    /// <summary>Number of recurrent mixed states (in closed strongly connected components); null when not finite.</summary>
    public int? RecurrentStates { get; private set; }

    /// <summary>Number of causal states: recurrent mixed states after merging predictively equivalent ones; null when not defined.</summary>
    public int? CausalStates { get; private set; }

    /// <summary>C_mu in bits: entropy of the stationary law over the recurrent causal states; null unless the presentation is finite with one recurrent component.</summary>
    public double? StatisticalComplexity { get; private set; }

    /// <summary>Exact entropy rate h_mu in bits from the recurrent causal states; null unless finite with one recurrent component.</summary>
    public double? EntropyRate { get; private set; }

    /// <summary>True when <paramref name="state"/> lies in a closed strongly connected component (only for finite presentations).</summary>
    public bool IsRecurrent(int state) => _recurrent is not null && _recurrent.Contains(state);

    /// <summary>Belief of mixed state <paramref name="state"/> (state 0 is pi).</summary>
    public ReadOnlySpan<double> Belief(int state) => _beliefs[state];

    /// <summary>Next-token law of mixed state <paramref name="state"/>.</summary>
    public ReadOnlySpan<double> NextTokenLaw(int state) => _laws[state];

    /// <summary>The successor of <paramref name="state"/> on <paramref name="token"/>, or -1 when the token is impossible or the successor was not explored.</summary>
    public int Successor(int state, int token) => _children[state] is { } c ? c[token] : -1;

    /// <summary>
    /// Builds the presentation: counts through <paramref name="depth"/>, then explores further (at most
    /// <paramref name="closureBudget"/> more mixed states) to decide whether the set of mixed states is finite.
    /// </summary>
    /// <exception cref="InvalidInputException">Negative depth or non-positive tolerance.</exception>
    public static MixedStatePresentation Build(HiddenMarkovProcess process, int depth, double tolerance = 1e-9, int closureBudget = 20_000)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (depth < 0) throw new InvalidInputException($"mixed-state presentation: the depth must be >= 0 (got {depth}).");
        if (!(tolerance > 0) || !double.IsFinite(tolerance)) throw new InvalidInputException($"mixed-state presentation: the tolerance must be positive (got {tolerance}).");
        var msp = new MixedStatePresentation(process, tolerance);
        msp.AddState(process.RootBelief());
        msp.CountLevels(depth);
        msp.Close(closureBudget);
        if (msp._largestMergeGap > ExactMergeGap) msp.IsFinite = false;
        if (msp.IsFinite) msp.AnalyseRecurrent();
        return msp;
    }

    private int AddState(double[] belief)
    {
        var key = new BeliefKey(belief, Tolerance);
        if (_index.TryGetValue(key, out int id))
        {
            var known = _beliefs[id];
            double gap = 0, scale = 1;
            for (int i = 0; i < belief.Length; i++)
            {
                gap = Math.Max(gap, Math.Abs(belief[i] - known[i]));
                scale = Math.Max(scale, Math.Abs(known[i]));
            }
            _largestMergeGap = Math.Max(_largestMergeGap, gap / scale);
            return id;
        }
        id = _beliefs.Count;
        _index.Add(key, id);
        _beliefs.Add(belief);
        _laws.Add(_process.NextTokenLaw(belief));
        _children.Add(null);
        return id;
    }

    private int[] Children(int state)
    {
        if (_children[state] is { } known) return known;
        int v = _process.Tokens;
        var c = new int[v];
        var law = _laws[state];
        for (int x = 0; x < v; x++)
        {
            if (!(law[x] > HiddenMarkovProcess.ZeroProbability)) { c[x] = -1; continue; }
            var next = new double[_process.States];
            _process.Update(_beliefs[state], x, next);
            c[x] = AddState(next);
        }
        _children[state] = c;
        return c;
    }

    private void CountLevels(int depth)
    {
        const long MaxLevel = 2_000_000;
        var words = new List<long> { 1 };
        var distinct = new List<int> { 1 };
        var cumulative = new List<int> { 1 };
        var level = new Dictionary<int, long> { [0] = 1 };
        int reached = 0;
        for (int d = 1; d <= depth; d++)
        {
            if ((long)level.Count * _process.Tokens > MaxLevel) break; // the next level could exceed the budget: stop at d - 1
            var next = new Dictionary<int, long>();
            foreach (var (state, count) in level)
            {
                foreach (int c in Children(state))
                {
                    if (c < 0) continue;
                    next[c] = next.TryGetValue(c, out long n) ? n + count : count;
                }
            }
            level = next;
            words.Add(level.Values.Sum());
            distinct.Add(level.Count);
            cumulative.Add(_beliefs.Count);
            reached = d;
        }
        // States are created only when a level is expanded, so after expanding level d-1 the count is exactly
        // the number of distinct beliefs at depths 0..d.
        Depth = reached;
        WordCounts = words;
        DistinctPerDepth = distinct;
        CumulativeDistinct = cumulative;
    }

    private void Close(int budget)
    {
        int limit = _beliefs.Count + Math.Max(0, budget);
        for (int s = 0; s < _beliefs.Count; s++)
        {
            if (_beliefs.Count > limit) { IsFinite = false; return; }
            Children(s);
        }
        IsFinite = true;
    }

    private void AnalyseRecurrent()
    {
        int n = _beliefs.Count;
        var components = StronglyConnectedComponents(n);
        var bottom = new List<List<int>>();
        foreach (var comp in components)
        {
            var set = new HashSet<int>(comp);
            bool closed = comp.All(s => _children[s]!.All(c => c < 0 || set.Contains(c)));
            if (closed) bottom.Add(comp);
        }
        RecurrentStates = bottom.Sum(b => b.Count);
        _recurrent = bottom.SelectMany(b => b).ToHashSet();
        if (bottom.Count != 1) return; // several ergodic components: C_mu of a non-ergodic mixture is not defined here

        var states = bottom[0];
        states.Sort();
        var classOf = MergeEquivalent(states);
        int k = classOf.Values.Max() + 1;
        CausalStates = k;
        // A representative per class, its law and successor classes define the epsilon-machine.
        var rep = new int[k];
        foreach (var (s, c) in classOf) rep[c] = s;
        var p = Matrix<double>.Build.Dense(k, k);
        for (int c = 0; c < k; c++)
        {
            int s = rep[c];
            for (int x = 0; x < _process.Tokens; x++)
            {
                int t = _children[s]![x];
                if (t >= 0) p[c, classOf[t]] += _laws[s][x];
            }
        }
        var stationary = StationaryLaw(p);
        double cmu = 0, hmu = 0;
        for (int c = 0; c < k; c++)
        {
            double w = stationary[c];
            if (w > 0) cmu -= w * Math.Log2(w);
            hmu += w * Entropy.Bits(_laws[rep[c]]);
        }
        StatisticalComplexity = cmu;
        EntropyRate = hmu;
    }

    /// <summary>Moore partition refinement: states with the same next-token law and equivalent successors are one causal state.</summary>
    private Dictionary<int, int> MergeEquivalent(List<int> states)
    {
        var classOf = new Dictionary<int, int>();
        var lawClasses = new Dictionary<BeliefKey, int>();
        foreach (int s in states)
        {
            var key = new BeliefKey(_laws[s], Tolerance);
            if (!lawClasses.TryGetValue(key, out int c)) lawClasses[key] = c = lawClasses.Count;
            classOf[s] = c;
        }
        int count = lawClasses.Count;
        while (true)
        {
            var signatures = new Dictionary<string, int>();
            var next = new Dictionary<int, int>();
            foreach (int s in states)
            {
                string sig = classOf[s] + ":" + string.Join(",", _children[s]!.Select(c => c < 0 ? -1 : classOf[c]));
                if (!signatures.TryGetValue(sig, out int c)) signatures[sig] = c = signatures.Count;
                next[s] = c;
            }
            classOf = next;
            if (signatures.Count == count) return classOf;
            count = signatures.Count;
        }
    }

    /// <summary>Stationary law of a row-stochastic matrix P (unique for an irreducible chain): null vector of P^T - I, normalised.</summary>
    internal static double[] StationaryLaw(Matrix<double> p)
    {
        int k = p.RowCount;
        var a = p.Transpose() - Matrix<double>.Build.DenseIdentity(k);
        var svd = a.Svd(computeVectors: true);
        var v = svd.VT.Row(k - 1).ToArray();
        double sum = v.Sum();
        for (int i = 0; i < k; i++) v[i] = Math.Max(0, v[i] / sum);
        double total = v.Sum();
        for (int i = 0; i < k; i++) v[i] /= total;
        return v;
    }

    /// <summary>Tarjan's algorithm, iterative (the presentation can be deep).</summary>
    private List<List<int>> StronglyConnectedComponents(int n)
    {
        var index = new int[n];
        var low = new int[n];
        var onStack = new bool[n];
        Array.Fill(index, -1);
        var stack = new Stack<int>();
        var result = new List<List<int>>();
        int counter = 0;
        var work = new Stack<(int Node, int Edge)>();
        for (int root = 0; root < n; root++)
        {
            if (index[root] >= 0) continue;
            work.Push((root, 0));
            while (work.Count > 0)
            {
                var (v, e) = work.Pop();
                if (e == 0)
                {
                    index[v] = low[v] = counter++;
                    stack.Push(v);
                    onStack[v] = true;
                }
                var children = _children[v]!;
                bool descended = false;
                for (int k = e; k < children.Length; k++)
                {
                    int w = children[k];
                    if (w < 0) continue;
                    if (index[w] < 0)
                    {
                        work.Push((v, k + 1));
                        work.Push((w, 0));
                        descended = true;
                        break;
                    }
                    if (onStack[w]) low[v] = Math.Min(low[v], index[w]);
                }
                if (descended) continue;
                if (low[v] == index[v])
                {
                    var comp = new List<int>();
                    int w;
                    do
                    {
                        w = stack.Pop();
                        onStack[w] = false;
                        comp.Add(w);
                    } while (w != v);
                    result.Add(comp);
                }
                if (work.Count > 0)
                {
                    int parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[v]);
                }
            }
        }
        return result;
    }
}
