using System.Globalization;

namespace ThermoLearn.Resources;

/// <summary>
/// Memory checked before it is allocated: a computation states what it needs, worked out from its arguments, and is
/// refused with that figure, the machine's available memory and what to do instead, rather than failing late with
/// "Out of memory" or growing until the machine swaps. Available memory is the smaller of the GC's limit
/// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>, which honours container limits) and Linux's
/// <c>MemAvailable</c> (/proc/meminfo: free memory plus reclaimable caches) at the time of the check.
/// A request is refused above <see cref="UsableFraction"/> of that, which leaves room for the rest of the process.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Share of the available memory one request may take.</summary>
    public const double UsableFraction = 0.8;

    /// <summary>Bytes available to this process now.</summary>
    public static long AvailableBytes()
    {
        long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long available = gc > 0 ? gc : long.MaxValue;
        if (MemAvailable() is { } proc) available = Math.Min(available, proc);
        return available;
    }

    /// <summary>
    /// Refuses a request of <paramref name="bytes"/> (a double, so that products of large counts cannot overflow) that does not fit.
    /// </summary>
    /// <param name="bytes">The memory the request needs.</param>
    /// <param name="what">What needs the memory, with the arguments it follows from, e.g. "2000000000 trajectories x 10 numbers".</param>
    /// <param name="instead">What the user can do instead, e.g. $"use fewer {InputParameter.Trajectories}" (parameters as
    /// <see cref="InputParameter"/> arguments, which a front end renders in its own terms).</param>
    /// <exception cref="InvalidInputException">The request exceeds <see cref="UsableFraction"/> of the available memory.</exception>
    public static void Require(double bytes, string what, FormattableString instead)
    {
        long available = AvailableBytes();
        if (bytes <= UsableFraction * available) return;
        throw InvalidInputException.Naming($"{what} needs about {Format(bytes)} of memory, but this machine has {Format(available)} available; {instead}.");
    }

    /// <summary>A byte count for people: "3.2 GB".</summary>
    public static string Format(double bytes) => bytes switch
    {
        >= 1e12 => (bytes / 1e12).ToString("G3", CultureInfo.InvariantCulture) + " TB",
        >= 1e9 => (bytes / 1e9).ToString("G3", CultureInfo.InvariantCulture) + " GB",
        >= 1e6 => (bytes / 1e6).ToString("G3", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1e3).ToString("G3", CultureInfo.InvariantCulture) + " kB",
    };

    private static long? MemAvailable()
    {
        try
        {
            if (!File.Exists("/proc/meminfo")) return null;
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kb)) return kb * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
