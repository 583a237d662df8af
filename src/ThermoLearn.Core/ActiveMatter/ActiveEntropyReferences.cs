namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Exact entropy-production rates of AOUP systems (docs/active-matter.md derives each). With z = (x, g), drift b,
/// diffusion D = diag(eps I, gamma I), score s = grad log rho and probability velocity v = b - D s, the steady-state
/// EP rate is sigma = E[v_x . v_x / eps + v_g . v_g / gamma] over the noisy coordinates; it splits into
/// sigma_x (positions) and sigma_g (active forces).
/// </summary>
public static class ActiveEntropyReferences
{
    /// <summary>
    /// Non-interacting AOUP in a trap (k = 0, A &gt; 0), per particle and per dimension:
    /// sigma = v0^2 gamma / (eps (A + gamma)); its g-part sigma_g = A gamma v0^2 / (eps (A + gamma)^2 + gamma v0^2)
    /// and sigma_x = sigma - sigma_g. With eps = 0: sigma = sigma_g = A (and sigma_x = 0).
    /// </summary>
    public static (double Total, double X, double G) TrappedFreeAoup(double v0, double gamma, double eps, double a)
    {
        if (!(a > 0) || !(gamma > 0) || !(eps >= 0) || !(v0 >= 0))
            throw new InvalidInputException($"the trapped AOUP reference needs A > 0, gamma > 0, eps >= 0, v0 >= 0 (got A = {a}, gamma = {gamma}, eps = {eps}, v0 = {v0}).");
        if (v0 == 0) return (0, 0, 0);
        if (eps == 0) return (a, 0, a);
        double total = v0 * v0 * gamma / (eps * (a + gamma));
        double g = a * gamma * v0 * v0 / (eps * (a + gamma) * (a + gamma) + gamma * v0 * v0);
        return (total, total - g, g);
    }

    /// <summary>
    /// Free AOUP on a torus (k = 0, A = 0), per particle: sigma = d v0^2 / eps, all of it in x (sigma_g = 0);
    /// with eps = 0 the rate is 0 although the probability current is not.
    /// </summary>
    public static (double Total, double X, double G) FreeAoupOnTorus(double v0, double eps, int dimension)
    {
        if (!(eps >= 0) || dimension < 1) throw new InvalidInputException($"the free AOUP reference needs eps >= 0 and d >= 1 (got eps = {eps}, d = {dimension}).");
        if (eps == 0 || v0 == 0) return (0, 0, 0);
        double total = dimension * v0 * v0 / eps;
        return (total, total, 0);
    }

    /// <summary>The exact rate of a model where one of the closed forms applies (whole system, all N particles), else null.</summary>
    public static (double Total, double X, double G)? For(ActiveModel m)
    {
        if (m.Kind != ActiveModelKind.Aoup) return m.V0 == 0 ? (0, 0, 0) : null;
        if (m.V0 == 0) return (0, 0, 0);                       // equilibrium (reference 3), with or without interactions
        if (m.Interacting) return null;
        int scale = m.Particles;
        if (m.A > 0)
        {
            var (t, x, g) = TrappedFreeAoup(m.V0, m.Gamma, m.Epsilon, m.A);
            return (t * scale * m.Dimension, x * scale * m.Dimension, g * scale * m.Dimension);
        }
        var (tt, tx, tg) = FreeAoupOnTorus(m.V0, m.Epsilon, m.Dimension);
        return (tt * scale, tx * scale, tg * scale);
    }
}
