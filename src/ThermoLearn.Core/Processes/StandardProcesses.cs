using System.Globalization;

namespace ThermoLearn.Processes;

/// <summary>
/// The processes of the belief-geometry papers, built from their exact definitions
/// (Shai et al., NeurIPS 2024, arXiv:2405.15943; Shai, Amdahl-Culleton, Christensen et al.,
/// "Transformers learn factored representations", 2026). See docs/processes.md.
/// </summary>
public static class StandardProcesses
{
    /// <summary>
    /// Mess3(x, a): 3 states, 3 tokens, <c>T[k][i][j] = (j == i ? 1 - 2x : x) * (k == j ? a : (1 - a)/2)</c>.
    /// A non-unifilar HMM with uniform pi whose mixed states form a fractal in the 2-simplex. The hidden chain
    /// <c>sum_k T[k] = (1 - 3x) I + x J</c> is doubly stochastic with eigenvalues 1 and 1 - 3x (twice): pi is uniform
    /// for every x and unique exactly when x &gt; 0 (at x = 0 the chain never moves and is reducible).
    /// </summary>
    /// <param name="x">Probability of moving to each other state, in (0, 1/2].</param>
    /// <param name="a">Probability of emitting the token equal to the next state, in [0, 1].</param>
    public static HiddenMarkovProcess Mess3(double x = 0.15, double a = 0.6)
    {
        Require(x > 0 && x <= 0.5, "mess3", "x", x,
            "in (0, 0.5] (1 - 2x is the probability to stay; at x = 0 the hidden state never changes, so the chain is "
            + "reducible and has no unique stationary law)");
        Require(a >= 0 && a <= 1, "mess3", "a", a, "in [0, 1]");
        double y = 1 - 2 * x, b = (1 - a) / 2;
        var t = new double[27];
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    t[(k * 3 + i) * 3 + j] = (j == i ? y : x) * (k == j ? a : b);
        // pi is given, not solved for: it is exactly uniform, while the null vector of M^T - I loses accuracy as the
        // gap 3x closes (off by 8e-10 at x = 1e-8) and is refused below x ~ 3e-9.
        double[] uniform = [1.0 / 3, 1.0 / 3, 1.0 / 3];
        return new HiddenMarkovProcess($"mess3(x={F(x)},a={F(a)})", 3, 3, t, generalized: false, stationary: uniform, tau: null, validate: true);
    }

    /// <summary>
    /// RRXOR(p1, p2) (random, random, XOR): states {S, 0, 1, T, F} = 0..4, 2 tokens; from S emit a random bit
    /// (0 with p1), then a second random bit (0 with p2), then their XOR. pi = (2,1,1,1,1)/6 for p1 = p2 = 1/2.
    /// </summary>
    public static HiddenMarkovProcess Rrxor(double p1 = 0.5, double p2 = 0.5)
    {
        Require(p1 >= 0 && p1 <= 1, "rrxor", "p1", p1, "in [0, 1]");
        Require(p2 >= 0 && p2 <= 1, "rrxor", "p2", p2, "in [0, 1]");
        const int S = 0, Zero = 1, One = 2, True = 3, False = 4;
        var t = new double[2 * 5 * 5];
        void Set(int x, int i, int j, double v) => t[(x * 5 + i) * 5 + j] = v;
        Set(0, S, Zero, p1);
        Set(1, S, One, 1 - p1);
        Set(0, Zero, False, p2);
        Set(1, Zero, True, 1 - p2);
        Set(0, One, True, p2);
        Set(1, One, False, 1 - p2);
        Set(1, True, S, 1);
        Set(0, False, S, 1);
        return new HiddenMarkovProcess($"rrxor(p1={F(p1)},p2={F(p2)})", 2, 5, t, generalized: false, stationary: null, tau: null, validate: true);
    }

    /// <summary>
    /// Z1R(p) (zero, one, random): states {0, 1, R}, 2 tokens; emits 0, then 1, then a random bit (0 with
    /// probability p). pi = (1/3, 1/3, 1/3).
    /// </summary>
    public static HiddenMarkovProcess Z1R(double p = 0.5)
    {
        Require(p >= 0 && p <= 1, "z1r", "p", p, "in [0, 1]");
        var t = new double[2 * 3 * 3];
        t[(0 * 3 + 0) * 3 + 1] = 1;
        t[(1 * 3 + 1) * 3 + 2] = 1;
        t[(0 * 3 + 2) * 3 + 0] = p;
        t[(1 * 3 + 2) * 3 + 0] = 1 - p;
        return new HiddenMarkovProcess($"z1r(p={F(p)})", 2, 3, t, generalized: false, stationary: null, tau: null, validate: true);
    }

    /// <summary>
    /// TomQuantum(a, b): a 3-dimensional GHMM with 4 tokens (a qubit measured in two bases). With
    /// g2 = 1/(4(a^2+b^2)), c = 1/4, m = (a^2-b^2) g2, o = 2ab g2:
    /// <c>T[0]=[[c,0,o],[0,m,0],[o,0,c]]</c>, <c>T[1]=[[c,0,-o],[0,m,0],[-o,0,c]]</c>,
    /// <c>T[2]=[[c,o,0],[o,c,0],[0,0,m]]</c>, <c>T[3]=[[c,-o,0],[-o,c,0],[0,0,m]]</c>;
    /// sum_x T[x] = diag(1, r, r) with r = a^2/(a^2+b^2), tau = (3,0,0), pi = (1,0,0).
    /// </summary>
    public static HiddenMarkovProcess TomQuantum(double a = 1.0, double b = 4.3)
    {
        Require(double.IsFinite(a), "tom_quantum", "a", a, "finite");
        Require(double.IsFinite(b), "tom_quantum", "b", b, "finite");
        Require(a * a + b * b > 0, "tom_quantum", "a^2+b^2", a * a + b * b, "positive");
        double g2 = 1 / (4 * (a * a + b * b)), c = 0.25, m = (a * a - b * b) * g2, o = 2 * a * b * g2;
        double[][,] mats =
        [
            new[,] { { c, 0, o }, { 0, m, 0 }, { o, 0, c } },
            new[,] { { c, 0, -o }, { 0, m, 0 }, { -o, 0, c } },
            new[,] { { c, o, 0 }, { o, c, 0 }, { 0, 0, m } },
            new[,] { { c, -o, 0 }, { -o, c, 0 }, { 0, 0, m } },
        ];
        var t = new double[4 * 9];
        for (int x = 0; x < 4; x++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) t[(x * 3 + i) * 3 + j] = mats[x][i, j];
        return new HiddenMarkovProcess($"tom_quantum(a={F(a)},b={F(b)})", 4, 3, t, generalized: true, stationary: null, tau: null, validate: true);
    }

    internal static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static void Require(bool ok, string process, string parameter, double value, string what)
    {
        if (!ok || double.IsNaN(value))
            throw new InvalidInputException($"{process}: parameter {parameter} = {F(value)} must be {what}.");
    }
}
