using System.Globalization;

namespace ThermoLearn.Simulation;

/// <summary>
/// Part k of N (1-based) of an ensemble: the contiguous block of global trajectory indices
/// [floor(total (k-1) / N), floor(total k / N)). Because trajectory i draws its noise only from
/// (seed, i), running the N shards and concatenating them reproduces the single run bit for bit.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole ensemble (1/1).</summary>
    public static Shard Whole => new(1, 1);

    /// <summary>Parses "k/N".</summary>
    /// <exception cref="InvalidInputException">Not of the form k/N with 1 &lt;= k &lt;= N.</exception>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            || n < 1 || k < 1 || k > n)
            throw InvalidInputException.Naming($"{InputParameter.Shard} '{text}' is malformed; write k/N with 1 <= k <= N, e.g. {InputParameter.Shard} 2/4.");
        return new Shard(k, n);
    }

    /// <summary>First global index and count of this shard's trajectories out of <paramref name="total"/>.</summary>
    public (long First, int Count) Range(int total)
    {
        if (Index < 1 || Count < 1 || Index > Count)
            throw new InvalidInputException($"shard {Index}/{Count} is invalid; need 1 <= k <= N.");
        long first = (long)total * (Index - 1) / Count;
        long end = (long)total * Index / Count;
        return (first, (int)(end - first));
    }

    public override string ToString() => $"{Index}/{Count}";
}
