using ThermoLearn.Randomness;

namespace ThermoLearn.Control.Tasks;

/// <summary>
/// Exact-in-the-limit sampler of a 1-D Boltzmann density p(x) = exp(-V(x)/T) / Z on [-L, L]: the CDF is
/// tabulated by the trapezoid rule on a fine grid and inverted by linear interpolation, one uniform per draw.
/// Also gives ln Z and the entropy S = -int p ln p of the same density (for free energies F = -T ln Z).
/// </summary>
internal sealed class EquilibriumSampler1D
{
    private readonly double[] _grid;
    private readonly double[] _cdf;

    public EquilibriumSampler1D(Func<double, double> energy, double temperature, double halfWidth = 3.0, int points = 6001)
    {
        _grid = new double[points];
        var weight = new double[points];
        double dx = 2 * halfWidth / (points - 1), vMin = double.PositiveInfinity;
        for (int i = 0; i < points; i++)
        {
            _grid[i] = -halfWidth + i * dx;
            vMin = Math.Min(vMin, energy(_grid[i]));
        }
        for (int i = 0; i < points; i++) weight[i] = Math.Exp(-(energy(_grid[i]) - vMin) / temperature);
        _cdf = new double[points];
        for (int i = 1; i < points; i++) _cdf[i] = _cdf[i - 1] + 0.5 * (weight[i] + weight[i - 1]) * dx;
        double z = _cdf[^1];
        for (int i = 0; i < points; i++) _cdf[i] /= z;
        LogPartition = Math.Log(z) - vMin / temperature;
        double meanEnergy = 0;
        for (int i = 1; i < points; i++)
            meanEnergy += 0.5 * dx * (weight[i] * energy(_grid[i]) + weight[i - 1] * energy(_grid[i - 1])) / z;
        MeanEnergy = meanEnergy;
        Entropy = LogPartition + meanEnergy / temperature;
    }

    /// <summary>ln Z.</summary>
    public double LogPartition { get; }

    /// <summary>&lt;V&gt; in equilibrium.</summary>
    public double MeanEnergy { get; }

    /// <summary>S = -&lt;ln p&gt; = ln Z + &lt;V&gt;/T.</summary>
    public double Entropy { get; }

    public double Draw(ref RandomStream random)
    {
        double u = random.NextDouble();
        int hi = Array.BinarySearch(_cdf, u);
        if (hi >= 0) return _grid[hi];
        hi = ~hi;
        if (hi <= 0) return _grid[0];
        if (hi >= _cdf.Length) return _grid[^1];
        double w = (u - _cdf[hi - 1]) / (_cdf[hi] - _cdf[hi - 1]);
        return _grid[hi - 1] + w * (_grid[hi] - _grid[hi - 1]);
    }
}
