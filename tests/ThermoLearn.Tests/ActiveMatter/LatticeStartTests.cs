using ThermoLearn.ActiveMatter;
using Xunit;

namespace ThermoLearn.Tests.ActiveMatter;

/// <summary>
/// The start without --initial: the densest regular lattice that fits (triangular discs, fcc spheres), so any phi the
/// model accepts up to where a lattice of N sites still fits starts without overlap. Before session 24 the start was a
/// simple square / cubic lattice, which overlaps above phi = pi / 4 (discs) and pi / 6 (spheres).
/// </summary>
public class LatticeStartTests
{
    /// <summary>Smallest pair distance of the start (minimum image in a periodic box), by brute force over all pairs.</summary>
    private static double MinimumDistance(ActiveSystem s)
    {
        int n = s.Model.Particles, d = s.Model.Dimension;
        double box = s.Model.Box ?? 0, smallest = double.PositiveInfinity;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double r2 = 0;
                for (int c = 0; c < d; c++)
                {
                    double delta = s.Positions[i * d + c] - s.Positions[j * d + c];
                    if (box > 0) delta -= box * Math.Round(delta / box);
                    r2 += delta * delta;
                }
                smallest = Math.Min(smallest, Math.Sqrt(r2));
            }
        return smallest;
    }

    /// <summary>
    /// N = 418 discs fit a triangular lattice of 22 rows of 19 (up to phi 0.906 in the square box), N = 400 an oblique
    /// one stretched to the box (up to phi 0.867); 256 and 500 spheres fit 4^3 and 5^3 fcc cells exactly (0.7405).
    /// In a trap the patch is the lattice itself, so any accepted phi fits. The old square start put discs at
    /// 2 r0 sqrt(pi / (4 phi)) = 1.87 r0 at phi = 0.9, the cubic one spheres at 2 r0 (pi / (6 phi))^(1/3) = 1.82 r0 at phi = 0.7.
    /// </summary>
    [Theory]
    [InlineData(2, 418, 0.8, 0.0)]
    [InlineData(2, 418, 0.85, 0.0)]
    [InlineData(2, 418, 0.9, 0.0)]
    [InlineData(2, 400, 0.85, 0.0)]
    [InlineData(3, 256, 0.6, 0.0)]
    [InlineData(3, 256, 0.7, 0.0)]
    [InlineData(3, 500, 0.7, 0.0)]
    [InlineData(2, 400, 0.9, 1.0)]
    [InlineData(3, 300, 0.7, 1.0)]
    public void DenseStartsDoNotOverlap(int d, int n, double phi, double trap)
    {
        var model = new ActiveModel { Particles = n, Dimension = d, PackingFraction = phi, A = trap, Interaction = PairInteraction.Wca };
        foreach (ulong seed in new ulong[] { 1, 2 })
        {
            var s = new ActiveSystem(model, 0.001, seed);
            Assert.True(MinimumDistance(s) >= 2 * model.R0, $"d = {d}, n = {n}, phi = {phi}, A = {trap}, seed {seed}: closest pair at {MinimumDistance(s):G6} < 2 r0");
        }
    }

    /// <summary>
    /// WCA discs at phi = 0.9 and spheres at 0.7, active and without thermal noise, run 300 steps from the start: the
    /// kick check (k |F| dt &lt;= r0) does not fire and every coordinate stays in the box.
    /// </summary>
    [Theory]
    [InlineData(2, 418, 0.9)]
    [InlineData(3, 256, 0.7)]
    public void AHardCoreRunStartsAtHighPackingFraction(int d, int n, double phi)
    {
        var model = new ActiveModel { Particles = n, Dimension = d, PackingFraction = phi, V0 = 1, Gamma = 1, Epsilon = 0, K = 1, Interaction = PairInteraction.Wca };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.002, Frames = 4, SaveEvery = 100, Seed = 3 });
        double box = model.Box!.Value;
        int columns = 2 * d;
        for (long q = 0; q < s.Data.Length; q++)
            if (q % columns < d) Assert.InRange(s.Data[q], 0, box);
    }

    /// <summary>
    /// 400 discs: the start holds them apart up to phi = 0.8667 (22 rows of 19 sites, stretched to the box); at 0.9 neighbours
    /// start 1.963 r0 apart. At an ordinary dt WCA pushes them apart; where one step's kick exceeds r0 (dt = 2) the error says that
    /// the lattice start cannot hold this n apart, the largest phi it can, and the nearest n that fits (416).
    /// </summary>
    [Fact]
    public void AnOverlappingLatticeStartNamesTheLargestPhiAndAFittingN()
    {
        var model = new ActiveModel { Particles = 400, PackingFraction = 0.9, Interaction = PairInteraction.Wca };
        var e = Assert.Throws<InvalidInputException>(() => new ActiveSystem(model, 2, 1));
        Assert.Contains("lattice start of n = 400 discs at phi = 0.9 overlaps", e.Message);
        Assert.Contains("up to phi = 0.8667", e.Message);
        Assert.Contains("n = 416", e.Message);
        var s = new ActiveSystem(model, 0.001, 1);
        Assert.InRange(MinimumDistance(s), 1.8, 2);
    }
}
