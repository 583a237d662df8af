namespace ThermoLearn.Processes;

/// <summary>
/// Processes built from others: independent products, noise coupling and chain (dependency) coupling by the token
/// or through the hidden state,
/// as in Shai, Amdahl-Culleton, Christensen et al., "Transformers learn factored representations" (2026).
/// Composite tokens and states use a radix code with factor 0 most significant:
/// <c>token = t0*(V1*...*V_{F-1}) + t1*(V2*...*V_{F-1}) + ... + t_{F-1}</c>, likewise for states.
/// </summary>
public static class ProcessComposition
{
    /// <summary>
    /// The independent product: <c>T^(t0..t_{F-1}) = T0[t0] (x) ... (x) T_{F-1}[t_{F-1}]</c> (Kronecker), root belief
    /// and tau the Kronecker products of the factors'. The joint belief after any word is the Kronecker product
    /// of the factor beliefs after the factor words.
    /// </summary>
    public static HiddenMarkovProcess Product(params HiddenMarkovProcess[] factors)
    {
        RequireFactors(factors, "product");
        if (factors.Length == 1) return factors[0];
        var vs = factors.Select(f => f.Tokens).ToArray();
        var ss = factors.Select(f => f.States).ToArray();
        var t = BuildJoint(vs, ss, (tokens, f) => factors[f].Matrix(tokens[f]));
        double[] pi = factors[0].RootBelief(), tau = factors[0].Tau.ToArray();
        for (int f = 1; f < factors.Length; f++)
        {
            pi = Kronecker(pi, factors[f].Stationary);
            tau = Kronecker(tau, factors[f].Tau);
        }
        string name = string.Join(" x ", factors.Select(f => f.Name));
        return new HiddenMarkovProcess(name, vs.Aggregate(1, (a, b) => a * b), ss.Aggregate(1, (a, b) => a * b), t,
            factors.Any(f => f.IsGeneralized), pi, tau, validate: false)
        {
            FactorTokens = FlattenFactors(factors, p => p.FactorTokens),
            FactorStates = FlattenFactors(factors, p => p.FactorStates),
            FactorTaus = factors.SelectMany(p => p.FactorTaus).ToArray(),
            IndependentFactors = factors.ToArray(),
        };
    }

    /// <summary>
    /// Noise coupling: every T[x] mixed with the uniform tensor, <c>T'[x] = (1 - e) T[x] + e/(V S) 1 1^T</c>.
    /// For an HMM the result is an HMM (each state's outgoing mass stays 1); the radix factor layout is kept,
    /// but beliefs no longer factor. The root belief is recomputed.
    /// </summary>
    /// <param name="process">The process to couple (usually a product).</param>
    /// <param name="noise">e in [0, 1].</param>
    public static HiddenMarkovProcess WithNoise(HiddenMarkovProcess process, double noise)
    {
        ArgumentNullException.ThrowIfNull(process);
        if (!(noise >= 0 && noise <= 1))
            throw new InvalidInputException($"noise coupling: e = {StandardProcesses.F(noise)} must be in [0, 1].");
        int v = process.Tokens, s = process.States;
        var t = process.Transitions.ToArray();
        double add = noise / ((double)v * s);
        for (int k = 0; k < t.Length; k++) t[k] = (1 - noise) * t[k] + add;
        return new HiddenMarkovProcess($"noise(e={StandardProcesses.F(noise)}; {process.Name})", v, s, t, process.IsGeneralized,
            stationary: null, tau: null, validate: true)
        {
            FactorTokens = process.FactorTokens,
            FactorStates = process.FactorStates,
            FactorTaus = process.FactorTaus,
        };
    }

    /// <summary>
    /// Chain (dependency) coupling: factor i &gt; 0 has several parameter variants, and the variant it uses at a
    /// step is chosen by the token factor i-1 emits at that same step:
    /// <c>T^(t0..t_{F-1}) = T0[t0] (x) T1^(c1(t0))[t1] (x) ... (x) T_{F-1}^(c_{F-1}(t_{F-2}))[t_{F-1}]</c>.
    /// Summing over the composite token shows the result is an HMM when every variant is one.
    /// </summary>
    /// <param name="variants">variants[i] lists factor i's variants (same tokens and states); variants[0] must have one entry.</param>
    /// <param name="controlMaps">controlMaps[i][t] = variant of factor i used when factor i-1 emits t (entry 0 ignored);
    /// null for the identity map, which needs factor i to have exactly V_{i-1} variants.</param>
    public static HiddenMarkovProcess Chain(IReadOnlyList<IReadOnlyList<HiddenMarkovProcess>> variants, IReadOnlyList<int[]?>? controlMaps = null)
    {
        var (vs, ss, maps) = ChainLayout(variants, controlMaps, "chain coupling", "token", p => p.Tokens);
        var t = BuildJoint(vs, ss, (tokens, i) => variants[i][i == 0 ? 0 : maps[i][tokens[i - 1]]].Matrix(tokens[i]));
        string name = "chain(" + string.Join("; ", variants.Select((vv, i) => $"{i}: " + string.Join(" | ", vv.Select(p => p.Name)))) + ")";
        bool generalized = variants.Any(vv => vv.Any(p => p.IsGeneralized));
        return new HiddenMarkovProcess(name, vs.Aggregate(1, (a, b) => a * b), ss.Aggregate(1, (a, b) => a * b), t, generalized,
            stationary: null, tau: null, validate: true)
        {
            FactorTokens = vs,
            FactorStates = ss,
            FactorTaus = variants.Select(vv => vv[0].Tau.ToArray()).ToArray(),
        };
    }

    /// <summary>
    /// Chain coupling through the hidden state: factor i &gt; 0 has several parameter variants, and the variant it uses
    /// at a step is chosen by the state factor i-1 is in at the start of that step, which the observer does not see:
    /// <c>T^(t0..t_{F-1})[(s0..), (s0'..)] = T0[t0][s0, s0'] * prod_{i&gt;0} T_i^(c_i(s_{i-1}))[t_i][s_i, s_i']</c>.
    /// Each factor's outgoing mass is 1 whatever the variant, so the result is an HMM. Unlike the token chain
    /// (<see cref="Chain"/>), the update does not map Kronecker products to Kronecker products: the likelihood of
    /// factor i's token depends on s_{i-1} through the variant, so the joint belief couples the factors (docs/beliefs.md).
    /// HMM factors only (a GHMM's states are not events a variant could be chosen by).
    /// </summary>
    /// <param name="variants">variants[i] lists factor i's variants (same tokens and states); variants[0] must have one entry.</param>
    /// <param name="controlMaps">controlMaps[i][s] = variant of factor i used while factor i-1 is in state s (entry 0 ignored);
    /// null for the identity map, which needs factor i to have exactly S_{i-1} variants.</param>
    public static HiddenMarkovProcess StateChain(IReadOnlyList<IReadOnlyList<HiddenMarkovProcess>> variants, IReadOnlyList<int[]?>? controlMaps = null)
    {
        var (vs, ss, maps) = ChainLayout(variants, controlMaps, "state chain coupling", "state", p => p.States);
        for (int i = 0; i < variants.Count; i++)
            for (int k = 0; k < variants[i].Count; k++)
                if (variants[i][k].IsGeneralized)
                    throw new InvalidInputException($"state chain coupling: variant {k} of factor {i} ({variants[i][k].Name}) is a generalised HMM; the coupling chooses variants by hidden states, which needs HMM factors.");
        int f = vs.Length;
        var (v, s) = JointSize(vs, ss);
        var t = new double[v * s * s];
        var tokens = new int[f];
        var from = new int[f];
        var to = new int[f];
        for (int token = 0; token < v; token++)
        {
            Digits(token, vs, tokens);
            for (int a = 0; a < s; a++)
            {
                Digits(a, ss, from);
                for (int b = 0; b < s; b++)
                {
                    Digits(b, ss, to);
                    double e = 1;
                    for (int i = 0; i < f && e != 0; i++)
                    {
                        var m = variants[i][i == 0 ? 0 : maps[i][from[i - 1]]].Matrix(tokens[i]);
                        e *= m[from[i] * ss[i] + to[i]];
                    }
                    t[(token * s + a) * s + b] = e;
                }
            }
        }
        string name = "statechain(" + string.Join("; ", variants.Select((vv, i) => $"{i}: " + string.Join(" | ", vv.Select(p => p.Name)))) + ")";
        return new HiddenMarkovProcess(name, (int)v, (int)s, t, generalized: false, stationary: null, tau: null, validate: true)
        {
            FactorTokens = vs,
            FactorStates = ss,
            FactorTaus = ss.Select(n => Enumerable.Repeat(1.0, n).ToArray()).ToArray(),
        };
    }

    /// <summary>
    /// Composite token and state counts prod_i V_i and prod_i S_i of the radix layout; refuses a transition tensor
    /// V S^2 above 2^28 entries.
    /// </summary>
    private static (long Tokens, long States) JointSize(int[] vs, int[] ss)
    {
        long v = 1, s = 1;
        foreach (int x in vs) v *= x;
        foreach (int x in ss) s *= x;
        if (v * s * s > 1L << 28)
            throw new InvalidInputException($"the composite process would have {v} tokens and {s} states ({v * s * s} transition entries); the limit is {1L << 28}.");
        return (v, s);
    }

    /// <summary>Digits of <paramref name="code"/> in the radix layout <paramref name="radix"/> (factor 0 most significant).</summary>
    private static void Digits(long code, int[] radix, int[] digits)
    {
        for (int i = radix.Length - 1; i >= 0; i--) { digits[i] = (int)(code % radix[i]); code /= radix[i]; }
    }

    /// <summary>
    /// Checks a chain's variants and control maps: factor 0 has one variant, every variant of a factor has its tokens
    /// and states, and factor i's map has one entry per <paramref name="parentUnit"/> of factor i-1
    /// (<paramref name="parentCount"/>) naming an existing variant. Returns tokens and states per factor and the maps.
    /// </summary>
    private static (int[] Tokens, int[] States, int[][] Maps) ChainLayout(IReadOnlyList<IReadOnlyList<HiddenMarkovProcess>> variants, IReadOnlyList<int[]?>? controlMaps,
        string what, string parentUnit, Func<HiddenMarkovProcess, int> parentCount)
    {
        ArgumentNullException.ThrowIfNull(variants);
        if (variants.Count < 2) throw new InvalidInputException($"{what} needs at least 2 factors (got {variants.Count}).");
        if (variants[0].Count != 1) throw new InvalidInputException($"{what}: factor 0 has no parent and takes exactly 1 variant (got {variants[0].Count}).");
        int f = variants.Count;
        var vs = new int[f];
        var ss = new int[f];
        var maps = new int[f][];
        for (int i = 0; i < f; i++)
        {
            if (variants[i].Count == 0) throw new InvalidInputException($"{what}: factor {i} has no variant.");
            vs[i] = variants[i][0].Tokens;
            ss[i] = variants[i][0].States;
            for (int k = 1; k < variants[i].Count; k++)
                if (variants[i][k].Tokens != vs[i] || variants[i][k].States != ss[i])
                    throw new InvalidInputException($"{what}: variant {k} of factor {i} has {variants[i][k].Tokens} tokens and {variants[i][k].States} states; variant 0 has {vs[i]} and {ss[i]}; all variants of a factor must match.");
            if (i == 0) { maps[0] = [0]; continue; }
            int parents = parentCount(variants[i - 1][0]);
            int[]? map = controlMaps is not null && i < controlMaps.Count ? controlMaps[i] : null;
            if (map is null)
            {
                if (variants[i].Count != parents)
                    throw new InvalidInputException($"{what}: factor {i} has {variants[i].Count} variants; without a control map it needs one per {parentUnit} of factor {i - 1} ({parents}).");
                map = Enumerable.Range(0, parents).ToArray();
            }
            if (map.Length != parents)
                throw new InvalidInputException($"{what}: the control map of factor {i} has {map.Length} entries; it needs one per {parentUnit} of factor {i - 1} ({parents}).");
            foreach (int k in map)
                if ((uint)k >= (uint)variants[i].Count)
                    throw new InvalidInputException($"{what}: the control map of factor {i} names variant {k}, but the factor has variants 0..{variants[i].Count - 1}.");
            maps[i] = map;
        }
        return (vs, ss, maps);
    }

    /// <summary>Kronecker product of two vectors: (a (x) b)[i * |b| + j] = a[i] b[j].</summary>
    public static double[] Kronecker(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var r = new double[a.Length * b.Length];
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++) r[i * b.Length + j] = a[i] * b[j];
        return r;
    }

    /// <summary>
    /// The marginal belief of factor <paramref name="factor"/> from a joint belief over a product state space
    /// (radix layout <paramref name="factorStates"/>): the joint belief contracted with the other factors' tau vectors,
    /// <c>m[i_f] = sum over the other digits of eta[i_0..i_{F-1}] prod_{g != f} tau_g[i_g]</c>. For an HMM every tau is
    /// (1,...,1) and this is the plain sum over the other factors' states; for a GHMM factor (tau not all ones) the
    /// contraction is what makes <c>m tau_f = eta tau = 1</c>. For an independent product, eta = eta_0 (x) ... (x) eta_{F-1}
    /// and <c>m = eta_f / (eta_f tau_f)</c>: the factor belief, exactly.
    /// </summary>
    /// <param name="joint">Joint belief, length prod_g S_g.</param>
    /// <param name="factorStates">S_g per factor, factor 0 most significant.</param>
    /// <param name="factor">Which factor's marginal.</param>
    /// <param name="factorTaus">tau_g per factor (<see cref="HiddenMarkovProcess.FactorTaus"/>); null for HMM factors (all ones).</param>
    public static double[] MarginalBelief(ReadOnlySpan<double> joint, IReadOnlyList<int> factorStates, int factor, IReadOnlyList<double[]>? factorTaus = null)
    {
        ArgumentNullException.ThrowIfNull(factorStates);
        if ((uint)factor >= (uint)factorStates.Count) throw new ArgumentOutOfRangeException(nameof(factor));
        int total = factorStates.Aggregate(1, (a, b) => a * b);
        if (joint.Length != total) throw new ArgumentException($"a joint belief over {total} states was expected (got {joint.Length}).", nameof(joint));
        if (factorTaus is not null)
        {
            if (factorTaus.Count != factorStates.Count)
                throw new ArgumentException($"{factorStates.Count} factors but {factorTaus.Count} tau vectors.", nameof(factorTaus));
            for (int g = 0; g < factorStates.Count; g++)
                if (factorTaus[g].Length != factorStates[g])
                    throw new ArgumentException($"tau of factor {g} has {factorTaus[g].Length} entries; the factor has {factorStates[g]} states.", nameof(factorTaus));
        }
        int size = factorStates[factor];
        var m = new double[size];
        for (int k = 0; k < joint.Length; k++)
        {
            // Digits of k in the radix layout, least significant (last factor) first.
            int rest = k, own = 0;
            double weight = 1;
            for (int g = factorStates.Count - 1; g >= 0; g--)
            {
                int digit = rest % factorStates[g];
                rest /= factorStates[g];
                if (g == factor) own = digit;
                else if (factorTaus is not null) weight *= factorTaus[g][digit];
            }
            m[own] += joint[k] * weight;
        }
        return m;
    }

    private static void RequireFactors(HiddenMarkovProcess[] factors, string what)
    {
        ArgumentNullException.ThrowIfNull(factors);
        if (factors.Length == 0) throw new InvalidInputException($"a {what} needs at least one factor.");
        foreach (var f in factors) ArgumentNullException.ThrowIfNull(f);
    }

    private static int[] FlattenFactors(HiddenMarkovProcess[] factors, Func<HiddenMarkovProcess, IReadOnlyList<int>> sizes) =>
        factors.SelectMany(sizes).ToArray();

    private delegate ReadOnlySpan<double> FactorMatrix(int[] tokens, int factor);

    /// <summary>
    /// The joint tensor whose block for composite token (t0..t_{F-1}) is the Kronecker product of the matrices
    /// <paramref name="matrix"/>(tokens, f), each S_f x S_f.
    /// </summary>
    private static double[] BuildJoint(int[] vs, int[] ss, FactorMatrix matrix)
    {
        int f = vs.Length;
        var (v, s) = JointSize(vs, ss);
        var t = new double[v * s * s];
        var tokens = new int[f];
        var block = new double[s * s];
        var next = new double[s * s];
        for (int token = 0; token < v; token++)
        {
            Digits(token, vs, tokens);
            // Kronecker of the factor matrices, built left to right.
            block[0] = 1;
            int n = 1;
            for (int i = 0; i < f; i++)
            {
                var m = matrix(tokens, i);
                int k = ss[i], nn = n * k;
                for (int a = 0; a < n; a++)
                    for (int b = 0; b < n; b++)
                    {
                        double e = block[a * n + b];
                        for (int c = 0; c < k; c++)
                            for (int d = 0; d < k; d++)
                                next[(a * k + c) * nn + b * k + d] = e * m[c * k + d];
                    }
                (block, next) = (next, block);
                n = nn;
            }
            Array.Copy(block, 0, t, token * s * s, s * s);
        }
        return t;
    }
}
