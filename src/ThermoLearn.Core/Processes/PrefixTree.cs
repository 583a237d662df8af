namespace ThermoLearn.Processes;

/// <summary>
/// Every positive-probability prefix (word) of length 0..<see cref="MaxDepth"/> of a process, with its exact
/// probability, belief and next-token law: the mixed-state tree rooted at pi, without merging equal beliefs.
/// </summary>
/// <remarks>
/// <para>Level d holds the words x1..xd in lexicographic order (parent index, then token), each with
/// <c>P(w) = pi T[x1]...T[xd] tau / (pi tau)</c>, belief <c>eta_w</c> (see <see cref="HiddenMarkovProcess"/>) and
/// <c>P(x | w)</c>. A child exists for token x when <c>P(x | w) &gt; </c><see cref="HiddenMarkovProcess.ZeroProbability"/>.</para>
/// <para>This is the ground truth for next-token models trained on sequences of length n_ctx + 1 that start from
/// pi (Shai et al., NeurIPS 2024): the prediction at input position j (0-based) of a causal model is a function
/// of the prefix of length j + 1, so the exact validation cross-entropy is
/// <c>(1/n_ctx) sum_{d=1..n_ctx} sum_{w in level d} P(w) sum_x P(x|w) (-ln q(x|w))</c>
/// (<see cref="CrossEntropy"/>), the same as weighting all length-n_ctx inputs by their probabilities, and its
/// minimum is <see cref="CrossEntropyFloor"/> (nats).</para>
/// </remarks>
public sealed class PrefixTree
{
    private readonly PrefixLevel[] _levels;

    private PrefixTree(HiddenMarkovProcess process, PrefixLevel[] levels)
    {
        Process = process;
        _levels = levels;
    }

    /// <summary>The process the tree enumerates.</summary>
    public HiddenMarkovProcess Process { get; }

    /// <summary>Longest word length enumerated.</summary>
    public int MaxDepth => _levels.Length - 1;

    /// <summary>Words of length <paramref name="depth"/> (0 = the empty word, whose belief is pi).</summary>
    internal PrefixLevel Level(int depth) => _levels[depth];

    /// <summary>Total number of nodes (words of length 0..MaxDepth).</summary>
    public long NodeCount => _levels.Sum(l => (long)l.Count);

    /// <summary>
    /// Enumerates the tree to <paramref name="maxDepth"/>. Cost O(nodes x V x S^2); Mess3 to depth 10
    /// (88,573 nodes) takes a few milliseconds. Levels above a few thousand nodes run in parallel; results do
    /// not depend on the thread count.
    /// </summary>
    /// <param name="process">The process.</param>
    /// <param name="maxDepth">Longest word length (n_ctx for a model with context n_ctx).</param>
    /// <param name="maxNodes">Refuse trees with more nodes than this (memory: about (S + V + 2) x 8 bytes per node).</param>
    /// <exception cref="InvalidInputException">A negative depth, or more than <paramref name="maxNodes"/> nodes.</exception>
    /// <param name="parallel">Expand large levels on several threads (set false when the caller is already parallel).</param>
    public static PrefixTree Enumerate(HiddenMarkovProcess process, int maxDepth, long maxNodes = 20_000_000, bool parallel = true)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (maxDepth < 0) throw new InvalidInputException($"prefix tree: the depth must be >= 0 (got {maxDepth}).");
        int s = process.States, v = process.Tokens;
        var levels = new PrefixLevel[maxDepth + 1];

        var rootBelief = process.RootBelief();
        var rootLaw = process.NextTokenLaw(rootBelief);
        levels[0] = new PrefixLevel(0, 1, s, v, [1.0], rootBelief, rootLaw, [-1], [-1]);
        long total = 1;
        var tt = process.TokenTau.ToArray();
        var tau = process.Tau.ToArray();
        var t = process.Transitions.ToArray();

        for (int d = 1; d <= maxDepth; d++)
        {
            var parent = levels[d - 1];
            int pn = parent.Count;
            // Children per parent, then offsets: a deterministic layout for any thread count.
            var offsets = new int[pn + 1];
            long count = 0;
            for (int p = 0; p < pn; p++)
            {
                offsets[p] = (int)Math.Min(count, int.MaxValue);
                var law = parent.NextTokenLaw.AsSpan(p * v, v);
                for (int x = 0; x < v; x++) if (law[x] > HiddenMarkovProcess.ZeroProbability) count++;
            }
            total += count;
            if (count > int.MaxValue / Math.Max(s, v) || total > maxNodes)
                throw new InvalidInputException($"prefix tree of '{process.Name}': depth {d} alone has {count} words ({total} nodes so far); the limit is {maxNodes} nodes. Use a smaller depth.");
            offsets[pn] = (int)count;
            int n = (int)count;
            var prob = GC.AllocateUninitializedArray<double>(n);
            var beliefs = GC.AllocateUninitializedArray<double>(n * s);
            var laws = GC.AllocateUninitializedArray<double>(n * v);
            var parents = GC.AllocateUninitializedArray<int>(n);
            var last = GC.AllocateUninitializedArray<int>(n);

            long work = (long)n * s * (s + v);
            var job = new Expansion(s, v, t, tau, tt, offsets, parent.Probability, parent.Beliefs, parent.NextTokenLaw, prob, beliefs, laws, parents, last);
            if (!parallel || work < 200_000 || Environment.ProcessorCount == 1) job.Run(0, pn);
            else
            {
                int chunks = Math.Min(pn, Environment.ProcessorCount * 4);
                Parallel.For(0, chunks, k => job.Run((int)((long)pn * k / chunks), (int)((long)pn * (k + 1) / chunks)));
            }
            levels[d] = new PrefixLevel(d, n, s, v, prob, beliefs, laws, parents, last) { Previous = parent };
        }
        return new PrefixTree(process, levels);
    }

    /// <summary>One level's expansion: the arrays it reads and the disjoint ranges it writes.</summary>
    private sealed record Expansion(int S, int V, double[] T, double[] Tau, double[] TokenTau, int[] Offsets,
        double[] ParentProbability, double[] ParentBeliefs, double[] ParentLaws,
        double[] Probability, double[] Beliefs, double[] Laws, int[] Parents, int[] Last)
    {
        /// <summary>Children of parents [from, to): child = eta T[x] / (eta T[x] tau), P(child) = P(parent) P(x | eta), and the child's law.</summary>
        public unsafe void Run(int from, int to)
        {
            int s = S, v = V;
            fixed (double* t = T, tau = Tau, tt = TokenTau, pprob = ParentProbability, peta = ParentBeliefs, plaw = ParentLaws,
                prob = Probability, beliefs = Beliefs, laws = Laws)
            fixed (int* offsets = Offsets, parents = Parents, last = Last)
            {
                for (int p = from; p < to; p++)
                {
                    int c = offsets[p];
                    double* law = plaw + (long)p * v;
                    double* eta = peta + (long)p * s;
                    double pp = pprob[p];
                    for (int x = 0; x < v; x++)
                    {
                        double px = law[x];
                        if (!(px > HiddenMarkovProcess.ZeroProbability)) continue;
                        double* child = beliefs + (long)c * s;
                        double* m = t + (long)x * s * s;
                        for (int j = 0; j < s; j++) child[j] = 0;
                        for (int i = 0; i < s; i++)
                        {
                            double e = eta[i];
                            if (e == 0) continue;
                            double* row = m + i * s;
                            for (int j = 0; j < s; j++) child[j] += e * row[j];
                        }
                        double joint = 0;
                        for (int j = 0; j < s; j++) joint += child[j] * tau[j];
                        double inv = 1.0 / joint, norm = 0;
                        for (int j = 0; j < s; j++)
                        {
                            child[j] *= inv;
                            norm += child[j] * tau[j];
                        }
                        // P(y | child) = child . (T[y] tau) / (child . tau); child . tau = 1 up to rounding.
                        double* childLaw = laws + (long)c * v;
                        double invNorm = 1.0 / norm;
                        for (int y = 0; y < v; y++)
                        {
                            double* u = tt + (long)y * s;
                            double a = 0;
                            for (int j = 0; j < s; j++) a += child[j] * u[j];
                            childLaw[y] = a * invNorm;
                        }
                        prob[c] = pp * px;
                        parents[c] = p;
                        last[c] = x;
                        c++;
                    }
                }
            }
        }
    }

    /// <summary>
    /// For each word of length <paramref name="depth"/>, the index in level <paramref name="toDepth"/> of its first
    /// (lexicographically smallest) positive-probability extension: feed that sequence to a causal model and read
    /// position depth - 1 to get the model's state after the word (one row per distinct prefix).
    /// </summary>
    internal int[] FirstExtension(int depth, int toDepth)
    {
        if (toDepth < 0 || toDepth > MaxDepth || depth < 0 || depth > toDepth)
            throw new ArgumentOutOfRangeException(nameof(depth), $"need 0 <= depth <= toDepth <= {MaxDepth}.");
        var level = _levels[toDepth];
        var anc = level.AncestorIndices(depth);
        var first = new int[_levels[depth].Count];
        Array.Fill(first, -1);
        for (int k = 0; k < anc.Length; k++)
            if (first[anc[k]] < 0) first[anc[k]] = k;
        return first;
    }

    /// <summary>
    /// Cross-entropy floor of a next-token model with context <paramref name="nCtx"/> (no BOS), in nats:
    /// <c>(1/n_ctx) sum_{d=1..n_ctx} sum_{w in level d} P(w) H[P(.|w)]</c> = mean of h(L) over L = 2..n_ctx+1.
    /// Needs MaxDepth &gt;= n_ctx.
    /// </summary>
    public double CrossEntropyFloor(int nCtx)
    {
        CheckContext(nCtx);
        double sum = 0;
        for (int d = 1; d <= nCtx; d++) sum += _levels[d].ConditionalEntropy();
        return sum / nCtx;
    }

    /// <summary>
    /// Exact expected cross-entropy (nats) of a model's predictions: <paramref name="logProbabilities"/>(d) returns
    /// natural-log predictions ln q(x | w) for level d as a flat [Count_d, V] array (d = 1..n_ctx). Result:
    /// <c>(1/n_ctx) sum_d sum_w P(w) sum_x P(x|w) (-ln q(x|w))</c>; it is &gt;= <see cref="CrossEntropyFloor"/>.
    /// </summary>
    public double CrossEntropy(int nCtx, Func<int, float[]> logProbabilities)
    {
        ArgumentNullException.ThrowIfNull(logProbabilities);
        CheckContext(nCtx);
        double sum = 0;
        for (int d = 1; d <= nCtx; d++) sum += _levels[d].CrossEntropy(logProbabilities(d));
        return sum / nCtx;
    }

    private void CheckContext(int nCtx)
    {
        if (nCtx < 1 || nCtx > MaxDepth)
            throw new InvalidInputException($"prefix tree: context length {nCtx} must be in 1..{MaxDepth} (the enumerated depth).");
    }
}

/// <summary>
/// The words of one length d of a <see cref="PrefixTree"/>, as flat row-major arrays (do not modify them):
/// <see cref="Probability"/> [Count], <see cref="Beliefs"/> [Count, S], <see cref="NextTokenLaw"/> [Count, V],
/// <see cref="Parent"/> and <see cref="LastToken"/> [Count]; the token matrix [Count, d] on demand.
/// </summary>
internal sealed class PrefixLevel
{
    private int[]? _tokens;

    internal PrefixLevel(int depth, int count, int states, int tokens, double[] probability, double[] beliefs,
        double[] nextTokenLaw, int[] parent, int[] lastToken)
    {
        Depth = depth;
        Count = count;
        States = states;
        Tokens = tokens;
        Probability = probability;
        Beliefs = beliefs;
        NextTokenLaw = nextTokenLaw;
        Parent = parent;
        LastToken = lastToken;
    }

    internal PrefixLevel? Previous { get; init; }

    /// <summary>Word length d.</summary>
    public int Depth { get; }

    /// <summary>Number of positive-probability words of length d.</summary>
    public int Count { get; }

    public int States { get; }
    public int Tokens { get; }

    /// <summary>P(w) for each word; they sum to 1.</summary>
    public double[] Probability { get; }

    /// <summary>Belief after each word, [Count, S] row-major.</summary>
    public double[] Beliefs { get; }

    /// <summary>P(x | w), [Count, V] row-major.</summary>
    public double[] NextTokenLaw { get; }

    /// <summary>Index of w's prefix of length d-1 in the previous level (-1 at the root).</summary>
    public int[] Parent { get; }

    /// <summary>The last token x_d of each word (-1 at the root).</summary>
    public int[] LastToken { get; }

    /// <summary>The words themselves, [Count, d] row-major (computed once, on first use).</summary>
    public int[] TokenMatrix()
    {
        if (_tokens is not null) return _tokens;
        var m = new int[Count * Depth];
        if (Depth > 0)
        {
            var prev = Previous!.TokenMatrix();
            int d = Depth;
            for (int k = 0; k < Count; k++)
            {
                Array.Copy(prev, Parent[k] * (d - 1), m, k * d, d - 1);
                m[k * d + d - 1] = LastToken[k];
            }
        }
        return _tokens = m;
    }

    /// <summary>For each word, the index of its prefix of length <paramref name="depth"/> (0..d) in that level.</summary>
    public int[] AncestorIndices(int depth)
    {
        if (depth < 0 || depth > Depth) throw new ArgumentOutOfRangeException(nameof(depth), $"an ancestor depth must be in 0..{Depth}.");
        var idx = Enumerable.Range(0, Count).ToArray();
        var level = this;
        while (level.Depth > depth)
        {
            for (int k = 0; k < idx.Length; k++) idx[k] = level.Parent[idx[k]];
            level = level.Previous!;
        }
        return idx;
    }

    /// <summary><c>sum_w P(w) H[P(.|w)]</c> in nats: the conditional entropy of the next token given a word of length d, h(d+1).</summary>
    public double ConditionalEntropy()
    {
        double h = 0;
        for (int k = 0; k < Count; k++)
        {
            double inner = 0;
            var law = NextTokenLaw.AsSpan(k * Tokens, Tokens);
            foreach (double p in law) if (p > 0) inner -= p * Math.Log(p);
            h += Probability[k] * inner;
        }
        return h;
    }

    /// <summary>
    /// <c>sum_w P(w) sum_x P(x|w) (-ln q(x|w))</c> in nats for model log-predictions <paramref name="logProbabilities"/>
    /// [Count, V] (natural log).
    /// </summary>
    public double CrossEntropy(ReadOnlySpan<float> logProbabilities) => CrossEntropyCore(logProbabilities, null);

    /// <summary>As <see cref="CrossEntropy(ReadOnlySpan{float})"/> for double-precision log-predictions.</summary>
    public double CrossEntropy(ReadOnlySpan<double> logProbabilities) => CrossEntropyCore(default, logProbabilities.ToArray());

    private double CrossEntropyCore(ReadOnlySpan<float> logProbabilities, double[]? logDouble)
    {
        int length = logDouble?.Length ?? logProbabilities.Length;
        if (length != Count * Tokens)
            throw new ArgumentException($"level {Depth}: {Count} x {Tokens} log-probabilities were expected (got {length}).", nameof(logProbabilities));
        double ce = 0;
        for (int k = 0; k < Count; k++)
        {
            double inner = 0;
            for (int x = 0; x < Tokens; x++)
            {
                double p = NextTokenLaw[k * Tokens + x];
                if (p > 0) inner -= p * (logDouble is null ? logProbabilities[k * Tokens + x] : logDouble[k * Tokens + x]);
            }
            ce += Probability[k] * inner;
        }
        return ce;
    }
}
