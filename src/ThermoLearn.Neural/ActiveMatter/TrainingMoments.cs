namespace ThermoLearn.Neural.ActiveMatter;

/// <summary>
/// What the start of a score network needs from its training snapshots, summed snapshot range by snapshot range in snapshot
/// order: a long record's training snapshots need not be in memory at once, and the sums are those of one pass over all of
/// them, to the bit, however the record is cut. Per particle and axis row r of the particle basis phi (K features):
/// <list type="bullet">
/// <item>the linear head's moments M = sum_r phi_r phi_r^T and c = sum_r d phi_r / d g_r (<see cref="Linear"/>) and the largest
/// |phi_k| (<see cref="Bounds"/>, the head's clipping bounds);</item>
/// <item>sum |x|^2 (<see cref="PositionScale"/>), sum_t k sum_i div_i F_i (<see cref="GScoreScale"/>) and, with the contact fields,
/// sum g . c, sum tr P and sum |c|^2 (<see cref="ContactStart"/>).</item>
/// </list>
/// </summary>
internal sealed class TrainingMoments
{
    private readonly int _features;
    private readonly double[] _gram, _divergence, _bounds, _row;
    private double _squaredPositions, _forceDivergence, _gc, _trace, _cc;
    private long _positionValues;
    private bool _contacts, _divergences;

    /// <param name="features">K of the particle basis (0: no linear head).</param>
    public TrainingMoments(int features)
    {
        _features = features;
        _gram = new double[features * features];
        _divergence = new double[features];
        _bounds = new double[features];
        _row = new double[features];
    }

    /// <summary>Snapshots summed so far.</summary>
    public int Snapshots { get; private set; }

    /// <summary>N.</summary>
    public int Particles { get; private set; }

    /// <summary>The moments of <paramref name="data"/> alone.</summary>
    public static TrainingMoments Of(ScoreData data)
    {
        var moments = new TrainingMoments(data.BasisFeatures);
        moments.Add(data);
        return moments;
    }

    /// <summary>Adds the snapshots of <paramref name="data"/> (the next ones in time; every range with the same particles and fields).</summary>
    public void Add(ScoreData data)
    {
        if (Snapshots > 0 && (data.Particles != Particles || (data.Contacts is not null) != _contacts || (data.ForceDivergence is not null) != _divergences))
            throw new ArgumentException("every snapshot range of one training set needs the same particles and fields.", nameof(data));
        if (_features > 0 && (data.BasisFeatures != _features || data.Basis is null || data.BasisDivergence is null))
            throw new InvalidInputException("the linear start needs the particle basis of the snapshots (interacting or trapped AOUP data read from a snapshot file).");
        (Particles, _contacts, _divergences) = (data.Particles, data.Contacts is not null, data.ForceDivergence is not null);
        Snapshots += data.Snapshots;
        foreach (double v in data.Positions) _squaredPositions += v * v;
        _positionValues += data.Positions.LongLength;
        if (data.ForceDivergence is not null)
            foreach (double d in data.ForceDivergence) _forceDivergence += d;
        if (data.Contacts is not null) AddContacts(data);
        if (_features > 0) AddBasis(data);
    }

    /// <summary>c_i = P_i g_i + c0_i per particle (<see cref="ScoreData.Contacts"/>): sum g . c, sum tr P, sum |c|^2.</summary>
    private void AddContacts(ScoreData data)
    {
        int columns = ScoreData.ContactColumns;
        for (long row = 0; row < (long)data.Snapshots * data.Particles; row++)
        {
            ReadOnlySpan<double> p = data.Contacts.AsSpan((int)(row * columns), columns);
            double gx = data.G[2 * row], gy = data.G[2 * row + 1];
            double cx = p[0] * gx + p[1] * gy + p[3], cy = p[1] * gx + p[2] * gy + p[4];
            _gc += gx * cx + gy * cy;
            _trace += p[0] + p[2];
            _cc += cx * cx + cy * cy;
        }
    }

    private void AddBasis(ScoreData data)
    {
        int k = _features;
        float[] basis = data.Basis!, divergence = data.BasisDivergence!;
        long rows = (long)data.Snapshots * data.Particles * ScoreData.Dimension;
        for (long r = 0; r < rows; r++)
        {
            for (int p = 0; p < k; p++)
            {
                double a = basis[r * k + p];
                _row[p] = a;
                _bounds[p] = Math.Max(_bounds[p], Math.Abs(a));
            }
            for (int p = 0; p < k; p++)
            {
                double a = _row[p];
                for (int q = 0; q <= p; q++) _gram[p * k + q] += a * _row[q];
            }
            for (int p = 0; p < k; p++) _divergence[p] += divergence[r * k + p];
        }
    }

    /// <summary>Per particle, M = E[sum_{i,a} phi phi^T] and -c = -E[sum_i div_{g_i} phi_i].</summary>
    public (double[] Gram, double[] MinusDivergence) Linear()
    {
        int k = _features;
        if (k == 0) throw new InvalidInputException("the linear start needs the particle basis of the snapshots (interacting or trapped AOUP data read from a snapshot file).");
        double particles = (double)Snapshots * Particles;
        var gram = new double[k * k];
        for (int p = 0; p < k; p++)
            for (int q = 0; q <= p; q++) gram[p * k + q] = gram[q * k + p] = _gram[p * k + q] / particles;
        var divergence = new double[k];
        for (int p = 0; p < k; p++) divergence[p] = -_divergence[p] / particles;
        return (gram, divergence);
    }

    /// <summary>Largest |phi_k| component over the snapshots, per feature: the linear head's clipping bounds.</summary>
    public double[] Bounds => (double[])_bounds.Clone();

    /// <summary>Trap: the root-mean-square |x| component of the training data; box: 1 (not used).</summary>
    public double PositionScale(AoupParameters parameters) =>
        parameters.Trap <= 0 ? 1 : Math.Max(1e-12, Math.Sqrt(_squaredPositions / _positionValues));

    /// <summary>
    /// Scale of the s_g output. g ~ N(0, 1) marginally, so |s_g| is at least of order 1: unit scale, except for interacting
    /// particles at eps = 0, where sigma = gamma sum_i E|g_i + s_{g_i}|^2 equals identity 4, sigma = d A N - k E[sum_i div_i F_i],
    /// computable from the positions alone: there |s_g| per component is about (sigma / (gamma d N))^(1/2) (~80 at MIPS), and
    /// the output starts at that scale instead of having to grow by two orders of magnitude through the weights. A scale only:
    /// the rate is still the variational form, whose error -E|s_hat - s|_D^2 is not positive.
    /// </summary>
    public double GScoreScale(AoupParameters parameters)
    {
        if (parameters.Epsilon > 0 || !_divergences) return 1;
        double identity = 2 * parameters.Trap * Particles - _forceDivergence / Snapshots;
        return Math.Sqrt(Math.Max(1, identity / (parameters.Gamma * 2 * Particles)));
    }

    /// <summary>
    /// Scale and start of the contact term a(h_i) c_i (scale) of s_g. Scale: the s_g scale over the root-mean-square |c_i|
    /// component of the training data, so that a = O(1) moves s_g by its own scale (with the relaxed picture's 1 / (gamma v0)
    /// instead, c / (gamma v0) is ~10^4 at MIPS and Adam's steps of ~1e-3 in a moved s_g by ~20 against its scale ~80; measured at
    /// N = 1,024 MIPS this alone changed the held-out estimate by less than its standard error, docs/active-matter.md).
    /// Start: the best constant beta in s_g = -g + beta c, in closed form from
    /// the score-matching loss, quadratic in beta: gamma E|-g + beta c|^2 + 2 gamma E[-d + beta tr P] is least at
    /// beta = (E[g . c] - E[tr P]) / E|c|^2 (c = P g + c0, so div_g c = tr P); a starts at beta / scale.
    /// </summary>
    public (double Scale, double Coefficient) ContactStart(double gScale)
    {
        if (!_contacts || !(_cc > 0)) return (1, 0);
        double rms = Math.Sqrt(_cc / (2.0 * Snapshots * Particles));
        double scale = gScale / rms;
        return (scale, (_gc - _trace) / _cc / scale);
    }
}
