using ThermoLearn.Statistics;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// The prefixes over which a next-token model with context n_ctx is validated and probed, one row per prefix:
/// its length, parent row (the prefix one token shorter; rows form a prefix tree), last token, weight, belief
/// (the mixed state after it, rooted at pi) and exact next-token law.
/// <para>Exact datasets (<see cref="FromPrefixTree"/>) hold every positive-probability prefix of length 1..n_ctx
/// with weight P(w); then the validation loss
/// <c>CE = (1/n_ctx) sum_w P(w) sum_y P(y|w) (-ln q(y|w))</c> is exact and its minimum is the cross-entropy floor.
/// Sampled datasets (<see cref="Sample"/>) hold N sequences drawn from the process, every position a row of
/// weight 1/N: unbiased estimates for processes whose prefix tree is too large (e.g. 27^10 words).</para>
/// </summary>
public sealed class BeliefDataset
{
    private readonly double[] _laws;

    private BeliefDataset(int vocabulary, int length, int[] position, int[] parent, int[] token, double[] weights, int[] sequence,
        int sequenceCount, double[] beliefs, int states, double[] laws, bool exact, IReadOnlyList<int> factorStates, IReadOnlyList<int> factorTokens, IReadOnlyList<double[]> factorTaus)
    {
        Vocabulary = vocabulary;
        Length = length;
        RowPosition = position;
        RowParent = parent;
        RowTokens = token;
        RowWeights = weights;
        RowSequence = sequence;
        SequenceCount = sequenceCount;
        _laws = laws;
        Exact = exact;
        FactorStates = factorStates;
        FactorTokens = factorTokens;
        FactorTaus = factorTaus;
        var matrix = new RowMatrix(weights.Length, states, beliefs);
        matrix.EnsureFinite("beliefs");
        Beliefs = matrix;
    }

    public int Vocabulary { get; }

    /// <summary>Dimension of a belief (number of hidden states, or of the GHMM's vector space).</summary>
    public int States => Beliefs.Columns;

    /// <summary>Context length n_ctx: prefixes have lengths 1..n_ctx.</summary>
    public int Length { get; }

    public int RowCount => RowWeights.Length;

    /// <summary>Position (0-based) at which each row's prefix ends: its length minus 1.</summary>
    public int[] RowPosition { get; }

    /// <summary>Row of the prefix one token shorter (-1 for length-1 prefixes).</summary>
    public int[] RowParent { get; }

    /// <summary>Last token of each row's prefix.</summary>
    public int[] RowTokens { get; }

    /// <summary>Weight of each row: P(prefix) for an exact dataset, 1/N for a sample; they sum to 1 at every position.</summary>
    public double[] RowWeights { get; }

    /// <summary>For a sampled dataset, the sequence each row belongs to (the unit of independence for standard errors); 0 for exact rows.</summary>
    public int[] RowSequence { get; }

    /// <summary>Number of sampled sequences (1 for an exact dataset).</summary>
    public int SequenceCount { get; }

    /// <summary>Belief after each row's prefix (rows x States).</summary>
    internal RowMatrix Beliefs { get; }

    /// <summary>Belief after a row's prefix (<see cref="States"/> values).</summary>
    public ReadOnlySpan<double> RowBelief(int row) => Beliefs.Row(row);

    /// <summary>True when the rows are every positive-probability prefix with its probability.</summary>
    public bool Exact { get; }

    /// <summary>State counts of the factors of a product process (Kronecker order); a single entry otherwise.</summary>
    public IReadOnlyList<int> FactorStates { get; }

    /// <summary>Token alphabet sizes of the factors (radix code, factor 0 most significant, as <see cref="HiddenMarkovProcess.FactorTokens"/>); a single entry otherwise.</summary>
    public IReadOnlyList<int> FactorTokens { get; }

    /// <summary>The factors' tau vectors (<see cref="HiddenMarkovProcess.FactorTaus"/>): all ones for HMM factors.</summary>
    public IReadOnlyList<double[]> FactorTaus { get; }

    /// <summary>Next-token law after a row's prefix.</summary>
    public ReadOnlySpan<double> RowNextTokenLaw(int row) => _laws.AsSpan(row * Vocabulary, Vocabulary);

    /// <summary>
    /// Each factor's next-token law, side by side (rows x sum_i V_i): the joint law marginalised onto each digit of the
    /// product token (<see cref="FactorTokens"/>). For a single process, the next-token law itself.
    /// </summary>
    internal RowMatrix FactorNextTokenLaws()
    {
        int f = FactorTokens.Count, total = FactorTokens.Sum();
        var result = new double[(long)RowCount * total];
        for (int r = 0; r < RowCount; r++)
        {
            var law = RowNextTokenLaw(r);
            var row = result.AsSpan(r * total, total);
            for (int t = 0; t < law.Length; t++)
            {
                int rest = t, offset = total;
                for (int i = f - 1; i >= 0; i--)
                {
                    offset -= FactorTokens[i];
                    row[offset + rest % FactorTokens[i]] += law[t];
                    rest /= FactorTokens[i];
                }
            }
        }
        return new RowMatrix(RowCount, total, result);
    }

    /// <summary>Every prefix of length 1..<paramref name="nCtx"/> of an enumerated prefix tree, level by level.</summary>
    public static BeliefDataset FromPrefixTree(PrefixTree tree, int nCtx)
    {
        if (nCtx < 1 || nCtx > tree.MaxDepth)
            throw new InvalidInputException($"context length {nCtx} must be in 1..{tree.MaxDepth} (the enumerated depth).");
        var process = tree.Process;
        int rows = 0;
        for (int d = 1; d <= nCtx; d++) rows += tree.Level(d).Count;
        int s = process.States, v = process.Tokens;
        var position = new int[rows];
        var parent = new int[rows];
        var token = new int[rows];
        var weights = new double[rows];
        var beliefs = new double[(long)rows * s];
        var laws = new double[(long)rows * v];
        int offset = 0, previousOffset = 0;
        for (int d = 1; d <= nCtx; d++)
        {
            var level = tree.Level(d);
            for (int k = 0; k < level.Count; k++)
            {
                int r = offset + k;
                position[r] = d - 1;
                parent[r] = d == 1 ? -1 : previousOffset + level.Parent[k];
                token[r] = level.LastToken[k];
                weights[r] = level.Probability[k];
            }
            level.Beliefs.AsSpan(0, level.Count * s).CopyTo(beliefs.AsSpan(offset * s));
            level.NextTokenLaw.AsSpan(0, level.Count * v).CopyTo(laws.AsSpan(offset * v));
            previousOffset = offset;
            offset += level.Count;
        }
        return new BeliefDataset(v, nCtx, position, parent, token, weights, new int[rows], 1, beliefs, s, laws, exact: true, process.FactorStates, process.FactorTokens, process.FactorTaus);
    }

    /// <summary>
    /// <paramref name="sequences"/> sequences of length <paramref name="nCtx"/> drawn from the process with
    /// <paramref name="seed"/>; every position is a row of weight 1/N with its exact belief and next-token law.
    /// </summary>
    public static BeliefDataset Sample(HiddenMarkovProcess process, int nCtx, int sequences, ulong seed)
    {
        if (nCtx < 1) throw new InvalidInputException($"context length must be at least 1, not {nCtx}.");
        if (sequences < 2) throw new InvalidInputException($"a sampled dataset needs at least 2 sequences, not {sequences}.");
        long rowsLong = (long)sequences * nCtx;
        if (rowsLong * Math.Max(process.States, process.Tokens) > Array.MaxLength)
            throw new InvalidInputException($"{sequences} sequences of length {nCtx} are too many to hold in memory.");
        int rows = (int)rowsLong, s = process.States, v = process.Tokens;
        var tokens = new ProcessSampler(process).Sample(sequences, nCtx, seed);
        var beliefs = process.BeliefsAlong(tokens, sequences, nCtx);
        var laws = new double[rowsLong * v];
        var position = new int[rows];
        var parent = new int[rows];
        var sequence = new int[rows];
        var weights = new double[rows];
        Parallel.For(0, sequences, n =>
        {
            for (int j = 0; j < nCtx; j++)
            {
                int r = n * nCtx + j;
                position[r] = j;
                parent[r] = j == 0 ? -1 : r - 1;
                sequence[r] = n;
                weights[r] = 1.0 / sequences;
                process.NextTokenLaw(beliefs.AsSpan(r * s, s), laws.AsSpan(r * v, v));
            }
        });
        return new BeliefDataset(v, nCtx, position, parent, tokens, weights, sequence, sequences, beliefs, s, laws, exact: false, process.FactorStates, process.FactorTokens, process.FactorTaus);
    }

    /// <summary>
    /// Entropy of the next-token laws averaged like the validation loss, in nats: the cross-entropy floor
    /// (mean of h(L) over L = 2..n_ctx+1) when <see cref="Exact"/>, an unbiased estimate of it otherwise.
    /// </summary>
    public double CrossEntropyFloor()
    {
        double sum = 0;
        for (int r = 0; r < RowCount; r++)
        {
            double entropy = 0;
            foreach (double p in RowNextTokenLaw(r))
                if (p > 0) entropy -= p * Math.Log(p);
            sum += RowWeights[r] * entropy;
        }
        return sum / Length;
    }
}
