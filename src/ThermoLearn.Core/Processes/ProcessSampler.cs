using System.Runtime.CompilerServices;
using ThermoLearn.Randomness;

namespace ThermoLearn.Processes;

/// <summary>
/// Draws token sequences from a process, each started from the root belief pi (a hidden state drawn from pi
/// for an HMM). Sequence n of seed s uses <c>RandomStream.For(s, n)</c>, so a batch is the same whatever the
/// thread count or the split into batches (the firstSequence argument offsets the index).
/// </summary>
/// <remarks>
/// HMMs are sampled through their hidden state: (x, j) is drawn jointly from <c>T[x][i][j]</c> by inverting the
/// cumulative row of state i (one uniform per token). GHMMs have no hidden-state sampler; they are sampled
/// through their beliefs, x ~ P(x | eta), eta &lt;- update (cost S^2 V per token), the uniform inverting the
/// cumulative next-token law in token order.
/// <para>An independent product with a GHMM factor (<see cref="HiddenMarkovProcess.IndependentFactors"/>) is sampled
/// through its factors' beliefs: its joint belief is the Kronecker product of theirs and its next-token law the product
/// of their laws, so inverting the composite law in radix order (factor 0 most significant) with one uniform u is
/// inverting factor 0's law with u, then factor 1's with the rescaled remainder (u - C_0(x_0 - 1)) / P_0(x_0), and so on.
/// Same law and, but for a uniform within round-off of a cumulative boundary, the same tokens as the joint belief
/// sampler; cost sum_i S_i^2 V_i per token instead of (prod_i S_i)^2 prod_i V_i (3 Mess3 x 2 TomQuantum: 243 states,
/// 432 tokens, docs/beliefs.md).</para>
/// </remarks>
public sealed class ProcessSampler
{
    private readonly HiddenMarkovProcess _process;
    private readonly double[] _initial;   // cumulative pi
    private readonly double[] _rows;      // [i, x*S+j] cumulative over (x, j)
    private readonly int _width;
    private readonly HiddenMarkovProcess[] _factors; // an independent product GHMM's factors, else empty

    public ProcessSampler(HiddenMarkovProcess process)
    {
        _process = process ?? throw new ArgumentNullException(nameof(process));
        int s = process.States, v = process.Tokens;
        _width = v * s;
        _factors = process.IsGeneralized && process.IndependentFactors.Count > 1 ? process.IndependentFactors.ToArray() : [];
        if (process.IsGeneralized)
        {
            _initial = [];
            _rows = [];
            return;
        }
        _initial = Cumulative(process.Stationary);
        _rows = new double[s * _width];
        var t = process.Transitions;
        for (int i = 0; i < s; i++)
        {
            var row = new double[_width];
            for (int x = 0; x < v; x++)
                for (int j = 0; j < s; j++) row[x * s + j] = t[(x * s + i) * s + j];
            Cumulative(row).CopyTo(_rows, i * _width);
        }
    }

    public HiddenMarkovProcess Process => _process;

    /// <summary>
    /// Samples <paramref name="sequences"/> sequences of <paramref name="length"/> tokens: a new array [sequences, length] row-major.
    /// </summary>
    public int[] Sample(int sequences, int length, ulong seed, long firstSequence = 0)
    {
        if (sequences < 0 || length < 0) throw new InvalidInputException($"sampling: sequences ({sequences}) and length ({length}) must be >= 0.");
        if ((long)sequences * length > Array.MaxLength) throw new InvalidInputException($"sampling: {sequences} x {length} tokens do not fit in one array.");
        var tokens = GC.AllocateUninitializedArray<int>(sequences * length);
        Sample(tokens, sequences, length, seed, firstSequence);
        return tokens;
    }

    /// <summary>Samples into <paramref name="destination"/> ([sequences, length] row-major). Large batches run in parallel.</summary>
    public void Sample(int[] destination, int sequences, int length, ulong seed, long firstSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if ((long)sequences * length != destination.Length)
            throw new ArgumentException($"destination has {destination.Length} entries; {sequences} x {length} were expected.", nameof(destination));
        if (firstSequence < 0) throw new ArgumentOutOfRangeException(nameof(firstSequence));
        long tokens = (long)sequences * length;
        if (tokens < 200_000 || Environment.ProcessorCount == 1)
        {
            SampleRange(destination, 0, sequences, length, seed, firstSequence);
            return;
        }
        int chunks = Environment.ProcessorCount * 4;
        Parallel.For(0, chunks, k =>
        {
            int from = (int)((long)sequences * k / chunks), to = (int)((long)sequences * (k + 1) / chunks);
            SampleRange(destination, from, to, length, seed, firstSequence);
        });
    }

    private void SampleRange(int[] destination, int from, int to, int length, ulong seed, long firstSequence)
    {
        if (_factors.Length > 0)
        {
            SampleFactorBeliefs(destination, from, to, length, seed, firstSequence);
            return;
        }
        if (_process.IsGeneralized)
        {
            SampleBeliefs(destination, from, to, length, seed, firstSequence);
            return;
        }
        int s = _process.States;
        int w = _width;
        var rows = _rows;
        var initial = _initial;
        for (int n = from; n < to; n++)
        {
            var rng = RandomStream.For(seed, (ulong)(firstSequence + n));
            int state = Find(initial, 0, initial.Length, rng.NextDouble());
            var output = destination.AsSpan(n * length, length);
            for (int t = 0; t < output.Length; t++)
            {
                int k = Find(rows, state * w, w, rng.NextDouble());
                output[t] = k / s;
                state = k - output[t] * s;
            }
        }
    }

    private void SampleBeliefs(int[] destination, int from, int to, int length, ulong seed, long firstSequence)
    {
        int v = _process.Tokens, s = _process.States;
        var eta = new double[s];
        var next = new double[s];
        var law = new double[v];
        for (int n = from; n < to; n++)
        {
            var rng = RandomStream.For(seed, (ulong)(firstSequence + n));
            _process.Stationary.CopyTo(eta);
            for (int t = 0; t < length; t++)
            {
                _process.NextTokenLaw(eta, law);
                int x = Invert(law, rng.NextDouble(), out _);
                destination[n * length + t] = x;
                _process.Update(eta, x, next);
                (eta, next) = (next, eta);
            }
        }
    }

    private void SampleFactorBeliefs(int[] destination, int from, int to, int length, ulong seed, long firstSequence)
    {
        int f = _factors.Length;
        var eta = _factors.Select(p => new double[p.States]).ToArray();
        var next = _factors.Select(p => new double[p.States]).ToArray();
        var law = _factors.Select(p => new double[p.Tokens]).ToArray();
        for (int n = from; n < to; n++)
        {
            var rng = RandomStream.For(seed, (ulong)(firstSequence + n));
            for (int i = 0; i < f; i++) _factors[i].Stationary.CopyTo(eta[i]);
            for (int t = 0; t < length; t++)
            {
                double u = rng.NextDouble();
                int token = 0;
                for (int i = 0; i < f; i++)
                {
                    var p = _factors[i];
                    var l = law[i];
                    p.NextTokenLaw(eta[i], l);
                    int x = Invert(l, u, out double below);
                    // The remainder within x's interval, uniform on [0, 1) given x (clamped against round-off).
                    u = Math.Clamp((u - below) / l[x], 0, Math.BitDecrement(1.0));
                    token = token * p.Tokens + x;
                    p.Update(eta[i], x, next[i]);
                    (eta[i], next[i]) = (next[i], eta[i]);
                }
                destination[n * length + t] = token;
            }
        }
    }

    /// <summary>
    /// The token x whose interval of the cumulative law holds <paramref name="u"/> (tokens at or below
    /// <see cref="HiddenMarkovProcess.ZeroProbability"/> skipped), and <paramref name="below"/> the cumulative law below it;
    /// u beyond the rounded total gives the last possible token.
    /// </summary>
    private static int Invert(double[] law, double u, out double below)
    {
        double c = 0;
        below = 0;
        int lastPossible = 0;
        for (int y = 0; y < law.Length; y++)
        {
            if (!(law[y] > HiddenMarkovProcess.ZeroProbability)) continue;
            lastPossible = y;
            below = c;
            c += law[y];
            if (u < c) return y;
        }
        below = c - law[lastPossible];
        return lastPossible;
    }

    /// <summary>First index k in [offset, offset+count) with cdf[k] &gt; u (cdf non-decreasing, last entry 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Find(double[] cdf, int offset, int count, double u)
    {
        if (count <= 16)
        {
            for (int k = 0; k < count - 1; k++)
                if (u < cdf[offset + k]) return k;
            // u < 1 and every entry from the last positive one on is 1: falling through means the last entry has positive width.
            return count - 1;
        }
        int lo = 0, hi = count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (u < cdf[offset + mid]) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Cumulative sums with the last positive entry and everything after it set to exactly 1.</summary>
    private static double[] Cumulative(ReadOnlySpan<double> p)
    {
        var c = new double[p.Length];
        double sum = 0;
        int lastPositive = 0;
        for (int k = 0; k < p.Length; k++)
        {
            sum += p[k];
            c[k] = sum;
            if (p[k] > 0) lastPositive = k;
        }
        for (int k = 0; k < p.Length; k++) c[k] /= sum;
        for (int k = lastPositive; k < p.Length; k++) c[k] = 1.0;
        return c;
    }
}
