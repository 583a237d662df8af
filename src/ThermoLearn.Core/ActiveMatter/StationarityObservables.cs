namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Per-frame observables of an AOUP record whose steady-state means are fixed, for the stationarity check
/// (<see cref="StationarityCheck"/>, docs/active-matter.md "Is the record stationary?") beside identity 4, which cannot see every
/// transient: in a trap without interactions the identity is the constant d A N at every frame, whatever the positions.
/// <list type="bullet">
/// <item>"mean_squared_position" (traps, A &gt; 0): (1/N) sum_i |x_i|^2, the particles' spread about the trap's centre. A record started
/// without burn-in from the initial patch of packing fraction phi (a disc or ball of the triangular or fcc lattice) relaxes to the stationary spread at
/// the rate 2 A and shows it here; in a periodic box the positions wrap and the spread has no meaning, so it is left out.</item>
/// <item>"mean_squared_g": (1/N) sum_i |g_i|^2, d in the steady state (g_i ~ N(0, I)); an initial state with g off its law (all
/// particles given one g) relaxes at the rate 2 gamma.</item>
/// </list>
/// </summary>
public static class StationarityObservables
{
    public const string MeanSquaredPosition = "mean_squared_position";
    public const string MeanSquaredG = "mean_squared_g";

    /// <summary>The observables that apply to <paramref name="snapshots"/> (AOUP only; none for ABP), each with its value at every frame.</summary>
    public static IReadOnlyList<(string Name, double[] Series)> For(ActiveSnapshots snapshots)
    {
        var m = snapshots.Model;
        if (m.Kind != ActiveModelKind.Aoup) return [];
        int n = m.Particles, d = m.Dimension, frames = snapshots.Frames;
        bool trap = !m.Periodic;
        var position = trap ? new double[frames] : null;
        var g2 = new double[frames];
        var x = new double[n * d];
        var g = new double[n * d];
        for (int f = 0; f < frames; f++)
        {
            snapshots.CopyFrame(f, x, g);
            double sx = 0, sg = 0;
            for (int r = 0; r < n * d; r++) { sx += x[r] * x[r]; sg += g[r] * g[r]; }
            if (position is not null) position[f] = sx / n;
            g2[f] = sg / n;
        }
        return position is null ? [(MeanSquaredG, g2)] : [(MeanSquaredPosition, position), (MeanSquaredG, g2)];
    }

    /// <summary>
    /// Each observable of <paramref name="snapshots"/> on frames <paramref name="first"/>..<paramref name="second"/> - 1 against
    /// <paramref name="second"/> to the last (<see cref="StationarityCheck.Of"/>); none where a stretch has fewer than 2 frames.
    /// </summary>
    public static IReadOnlyList<StationarityCheck> Check(ActiveSnapshots snapshots, int first, int second, int blocks = BlockStatistics.DefaultBlocks) =>
        [.. For(snapshots).Select(o => StationarityCheck.Of(o.Name, o.Series, first, second, blocks)).OfType<StationarityCheck>()];
}
