namespace ThermoLearn.Inference.Bases;

/// <summary>
/// A basis in time for non-stationary data: Legendre polynomials P_0..P_K of u = 2 (t - t0)/(t1 - t0) - 1
/// on an interval [t0, t1] (the whole record, or one time window). A field d(x, t) is expanded in the
/// tensor product b_s(x) c_k(t), index a = s * (K + 1) + k, which the estimators form on the fly
/// (see <see cref="ThermoLearn.Inference.CurrentStatistics"/>), so a spatial basis never needs to know about time.
/// </summary>
public static class LegendreTimeBasis
{
    /// <summary>Writes P_0(u)..P_K(u) into <paramref name="values"/> (length K + 1).</summary>
    public static void Evaluate(double t, double t0, double t1, int degree, Span<double> values)
    {
        double u = 2 * (t - t0) / (t1 - t0) - 1;
        values[0] = 1.0;
        if (degree == 0) return;
        values[1] = u;
        for (int k = 1; k < degree; k++) values[k + 1] = ((2 * k + 1) * u * values[k] - k * values[k - 1]) / (k + 1);
    }

    /// <summary>Name of the tensor product, e.g. "poly:1*time:3".</summary>
    public static string TensorName(string spatial, int degree) => degree == 0 ? spatial : $"{spatial}*time:{degree}";
}
