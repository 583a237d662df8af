namespace ThermoLearn.Randomness;

/// <summary>
/// Constants of the vectorised Box-Muller transform of <see cref="GaussianLanes{TLanes, TDouble, TBits}"/> at 4 and
/// 8 lanes, so both widths evaluate the same polynomials in the same order and
/// produce the same numbers per lane. The minimax coefficients are those of fdlibm's e_log.c, k_sin.c and k_cos.c
/// (Sun Microsystems, 1993): on |s| &lt;= 0.1716, |2s + s R(s^2) - ln((1+s)/(1-s))| &lt; 2^-58.45, and on
/// |a| &lt;= pi/4 the sin and cos polynomials are within 2^-58 of the functions (versus 12, 8 and 9 Taylor terms
/// for the same accuracy).
/// </summary>
internal static class NormalPolynomials
{
    // R(z) = Lg1 z + Lg2 z^2 + ... + Lg7 z^7 ~ (ln((1+s)/(1-s)) - 2s) / s, z = s^2.
    public const double Lg1 = 6.666666666666735130e-01;
    public const double Lg2 = 3.999999999940941908e-01;
    public const double Lg3 = 2.857142874366239149e-01;
    public const double Lg4 = 2.222219843214978396e-01;
    public const double Lg5 = 1.818357216161805012e-01;
    public const double Lg6 = 1.531383769920937332e-01;
    public const double Lg7 = 1.479819860511658591e-01;

    // sin a ~ a + a z (S1 + S2 z + ... + S6 z^5), z = a^2.
    public const double S1 = -1.66666666666666324348e-01;
    public const double S2 = 8.33333333332248946124e-03;
    public const double S3 = -1.98412698298579493134e-04;
    public const double S4 = 2.75573137070700676789e-06;
    public const double S5 = -2.50507602534068634195e-08;
    public const double S6 = 1.58969099521155010221e-10;

    // cos a ~ 1 - (z/2 - z^2 (C1 + C2 z + ... + C6 z^5)).
    public const double C1 = 4.16666666666666019037e-02;
    public const double C2 = -1.38888888888741095749e-03;
    public const double C3 = 2.48015872894767294178e-05;
    public const double C4 = -2.75573143513906633035e-07;
    public const double C5 = 2.08757232129817482790e-09;
    public const double C6 = -1.13596475577881948265e-11;

    public const double Ln2 = 0.6931471805599453;
    public const double HalfPi = Math.PI / 2;   // exact: halving only changes the exponent

    /// <summary>1.5 x 2^52: adding it rounds a small double to an integer held in the low mantissa bits.</summary>
    public const double RoundingShift = 6755399441055744.0;
}
