namespace ThermoLearn.Processes.Geometry;

/// <summary>Dimension measures of a list of singular values s_k (non-negative).</summary>
public static class SpectralMeasures
{
    /// <summary><c>(sum s^2)^2 / sum s^4</c>: d for d equal singular values, 1 for a single one, 0 for none.</summary>
    public static double ParticipationRatio(IReadOnlyList<double> singularValues)
    {
        double s2 = 0, s4 = 0;
        foreach (double s in singularValues)
        {
            double q = s * s;
            s2 += q;
            s4 += q * q;
        }
        return s4 > 0 ? s2 * s2 / s4 : 0;
    }

    /// <summary>
    /// Effective rank of Roy &amp; Vetterli (EUSIPCO 2007): <c>exp(-sum p_k ln p_k)</c> with <c>p_k = s_k / sum s</c>;
    /// d for d equal singular values.
    /// </summary>
    public static double EffectiveRank(IReadOnlyList<double> singularValues)
    {
        double sum = singularValues.Sum();
        if (!(sum > 0)) return 0;
        double entropy = 0;
        foreach (double s in singularValues)
        {
            double p = s / sum;
            if (p > 0) entropy -= p * Math.Log(p);
        }
        return Math.Exp(entropy);
    }
}
