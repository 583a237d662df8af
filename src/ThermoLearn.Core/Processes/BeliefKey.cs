namespace ThermoLearn.Processes;

/// <summary>
/// A belief rounded to a grid of spacing <c>tolerance</c> (each entry to the nearest multiple): two beliefs are
/// the same mixed state when all their rounded entries agree. Used as a hash key.
/// </summary>
internal readonly struct BeliefKey : IEquatable<BeliefKey>
{
    private readonly long[] _q;
    private readonly int _hash;

    public BeliefKey(ReadOnlySpan<double> belief, double tolerance)
    {
        _q = new long[belief.Length];
        var hash = new HashCode();
        for (int i = 0; i < belief.Length; i++)
        {
            // +0.0 folds -0.0 and tiny negative rounding noise onto the same cell as 0.
            long q = (long)Math.Round(belief[i] / tolerance + 0.0, MidpointRounding.AwayFromZero);
            _q[i] = q;
            hash.Add(q);
        }
        _hash = hash.ToHashCode();
    }

    public bool Equals(BeliefKey other) => _hash == other._hash && _q.AsSpan().SequenceEqual(other._q);

    public override bool Equals(object? obj) => obj is BeliefKey k && Equals(k);

    public override int GetHashCode() => _hash;
}
