namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// The inputs over which a next-token model is validated and probed: N input sequences of length
/// n_ctx with weights (their probabilities for an exact enumeration, 1/N for a sample), the exact
/// next-token law after every position, and one row per distinct prefix with its probability and
/// belief (the mixed state after that prefix, rooted at the stationary law).
/// <para>With exact enumeration the validation loss
/// <c>CE = (1/n_ctx) sum_s P(s) sum_j sum_y P(y | s_1..s_{j+1}) (-ln q(y | s_1..s_{j+1}))</c>
/// is exact, and the same sum with q = P gives the cross-entropy floor (mean myopic entropy h(2..n_ctx+1)).</para>
/// </summary>
public sealed class BeliefDataset
{
    private BeliefDataset(int vocabulary, int states, int length, int[] tokens, double[] sequenceWeights, double[] nextTokenLaws,
        int[] rowSequence, int[] rowPosition, int[] rowParent, double[] rowWeights, RowMatrix beliefs, bool exact, IReadOnlyList<int>? factorStates)
    {
        RowParent = rowParent;
        Vocabulary = vocabulary;
        States = states;
        Length = length;
        Tokens = tokens;
        SequenceWeights = sequenceWeights;
        NextTokenLaws = nextTokenLaws;
        RowSequence = rowSequence;
        RowPosition = rowPosition;
        RowWeights = rowWeights;
        Beliefs = beliefs;
        Exact = exact;
        FactorStates = factorStates;
    }

    public int Vocabulary { get; }

    /// <summary>Dimension of a belief (number of hidden states, or of the GHMM's vector space).</summary>
    public int States { get; }

    /// <summary>Input length n_ctx.</summary>
    public int Length { get; }

    public int SequenceCount => SequenceWeights.Length;

    /// <summary>Input tokens, sequence-major: token j of sequence s is <c>Tokens[s * Length + j]</c>.</summary>
    public int[] Tokens { get; }

    /// <summary>Probability of each whole input sequence (exact) or 1/N (sampled); sums to 1.</summary>
    public double[] SequenceWeights { get; }

    /// <summary><c>NextTokenLaws[(s * Length + j) * Vocabulary + y] = P(y | first j+1 tokens of s)</c>.</summary>
    public double[] NextTokenLaws { get; }

    /// <summary>For each analysis row: the sequence and position at which its prefix ends (the first occurrence).</summary>
    public int[] RowSequence { get; }
    public int[] RowPosition { get; }

    /// <summary>Row of the prefix one token shorter (-1 for length-1 prefixes): the rows form a prefix tree.</summary>
    public int[] RowParent { get; }

    /// <summary>Last token of each row's prefix.</summary>
    public int RowToken(int row) => Tokens[RowSequence[row] * Length + RowPosition[row]];

    /// <summary>Next-token law after each row's prefix.</summary>
    public ReadOnlySpan<double> RowNextTokenLaw(int row) => NextTokenLaws.AsSpan((RowSequence[row] * Length + RowPosition[row]) * Vocabulary, Vocabulary);

    /// <summary>Probability of each row's prefix (sums to 1 at every position, so to n_ctx over all rows).</summary>
    public double[] RowWeights { get; }

    /// <summary>Belief after each row's prefix (rows x States).</summary>
    public RowMatrix Beliefs { get; }

    public int RowCount => RowWeights.Length;

    /// <summary>True when the sequences are every positive-probability input with its probability.</summary>
    public bool Exact { get; }

    /// <summary>State counts of the factors of a product process (Kronecker order), or null.</summary>
    public IReadOnlyList<int>? FactorStates { get; }

    /// <summary>
    /// Builds the dataset from per-sequence data. When <paramref name="exact"/>, rows are the distinct prefixes
    /// (a prefix's weight is the summed probability of the sequences that start with it); otherwise every
    /// (sequence, position) is its own row with weight 1/N. Beliefs after each position are laid out as
    /// <c>beliefs[(s * length + j) * states + k]</c>, next-token laws likewise with the vocabulary.
    /// </summary>
    public static BeliefDataset Create(int vocabulary, int states, int length, int[] tokens, double[] sequenceWeights,
        double[] beliefs, double[] nextTokenLaws, bool exact, IReadOnlyList<int>? factorStates = null)
    {
        int n = sequenceWeights.Length;
        if (vocabulary < 1 || states < 1 || length < 1 || n < 1)
            throw new InvalidInputException($"belief dataset: need at least one sequence, token, state and position (got {n} sequences, vocabulary {vocabulary}, {states} states, length {length}).");
        if (tokens.Length != (long)n * length) throw new InvalidInputException($"belief dataset: {tokens.Length} tokens for {n} sequences of length {length}.");
        if (beliefs.Length != (long)n * length * states) throw new InvalidInputException($"belief dataset: {beliefs.Length} belief values, expected {(long)n * length * states}.");
        if (nextTokenLaws.Length != (long)n * length * vocabulary) throw new InvalidInputException($"belief dataset: {nextTokenLaws.Length} next-token probabilities, expected {(long)n * length * vocabulary}.");
        foreach (int t in tokens)
            if (t < 0 || t >= vocabulary) throw new InvalidInputException($"belief dataset: token {t} outside 0..{vocabulary - 1}.");
        double total = 0;
        foreach (double w in sequenceWeights)
        {
            if (!double.IsFinite(w) || w < 0) throw new InvalidInputException($"belief dataset: sequence weight {w} is not a probability.");
            total += w;
        }
        if (Math.Abs(total - 1) > 1e-9) throw new InvalidInputException($"belief dataset: sequence weights sum to {total}, not 1.");

        var rowSequence = new List<int>();
        var rowPosition = new List<int>();
        var rowWeights = new List<double>();
        var rowParent = new List<int>();
        if (exact)
        {
            // A prefix is identified by (length, base-V code); the first sequence carrying it is its representative.
            var index = new Dictionary<(int, long), int>();
            for (int s = 0; s < n; s++)
            {
                long code = 0;
                int parent = -1;
                for (int j = 0; j < length; j++)
                {
                    code = checked(code * vocabulary + tokens[s * length + j]);
                    if (index.TryGetValue((j, code), out int row)) rowWeights[row] += sequenceWeights[s];
                    else
                    {
                        row = rowWeights.Count;
                        index[(j, code)] = row;
                        rowSequence.Add(s);
                        rowPosition.Add(j);
                        rowParent.Add(parent);
                        rowWeights.Add(sequenceWeights[s]);
                    }
                    parent = row;
                }
            }
        }
        else
        {
            for (int s = 0; s < n; s++)
                for (int j = 0; j < length; j++)
                {
                    rowParent.Add(j == 0 ? -1 : rowWeights.Count - 1);
                    rowSequence.Add(s);
                    rowPosition.Add(j);
                    rowWeights.Add(sequenceWeights[s]);
                }
        }
        var rowBeliefs = new double[(long)rowWeights.Count * states];
        for (int r = 0; r < rowWeights.Count; r++)
            beliefs.AsSpan((rowSequence[r] * length + rowPosition[r]) * states, states).CopyTo(rowBeliefs.AsSpan(r * states, states));
        if (factorStates is not null && factorStates.Aggregate(1L, (a, s) => a * s) != states)
            throw new InvalidInputException($"belief dataset: factors with {string.Join(" x ", factorStates)} states do not make {states} joint states.");
        var matrix = new RowMatrix(rowWeights.Count, states, rowBeliefs);
        matrix.EnsureFinite("beliefs");
        return new BeliefDataset(vocabulary, states, length, tokens, sequenceWeights, nextTokenLaws,
            rowSequence.ToArray(), rowPosition.ToArray(), rowParent.ToArray(), rowWeights.ToArray(), matrix, exact, factorStates);
    }

    /// <summary>
    /// Entropy of the next-token laws averaged like the validation loss, in nats: the cross-entropy floor
    /// when <see cref="Exact"/>, an unbiased estimate of it otherwise.
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
