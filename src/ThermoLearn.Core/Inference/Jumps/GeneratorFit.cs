using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Statistics;

namespace ThermoLearn.Inference.Jumps;

/// <summary>
/// Maximum-likelihood generator of a continuous-time jump process observed on a grid: given counts n_ij at lag dt,
/// maximise L(Q) = sum_ij n_ij ln P_ij, P = exp(Q dt), over generators whose off-diagonal rates q_ij = exp(theta_ij) sit
/// on the support (pairs seen in both directions; a pair seen one way only is explained by paths through other states,
/// which exp(Q dt) allows). This is the exact likelihood of the sampled chain given its first frames, so the estimate is
/// consistent and efficient at any dt, unlike the matrix logarithm of the empirical P, which is biased by the noise
/// of the counts and often not a generator at all (Israel, Rosenthal &amp; Wei, Math. Finance 11, 245 (2001);
/// Metzner, Dittmer, Jahnke &amp; Schutte, J. Comput. Phys. 227, 353 (2007)). The logarithm, projected onto generators,
/// is the starting point; Fisher scoring with the analytic Jacobian dP/dtheta_ij = q_ij dt L(Q dt, e_i (e_j - e_i)^T)
/// (L: Frechet derivative of exp) does the rest.
/// </summary>
internal static class GeneratorFit
{
    /// <summary>Rates below this x 1/dt count as "the fit ran to zero" (a boundary of the generator set).</summary>
    public const double ZeroRateTimesDt = 1e-7;

    /// <summary>An exit rate above this x 1/dt: the chain forgets its state within a frame (the fit ran to infinite rates).</summary>
    public const double InfiniteRateTimesDt = 30;

    private const double MinLogRateTimesDt = -25, MaxLogRateTimesDt = 7; // exp: 1.4e-11 ... 1100 per frame

    public sealed record Result(double[] Rates, double LogLikelihood, int Iterations, bool Converged);

    /// <summary>Pairs (i &lt; j and j &gt; i both listed) with n_ij &gt; 0 and n_ji &gt; 0.</summary>
    public static (int I, int J)[] Support(double[] counts, int n)
    {
        var pairs = new List<(int, int)>();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && counts[i * n + j] > 0 && counts[j * n + i] > 0) pairs.Add((i, j));
        return pairs.ToArray();
    }

    /// <summary>
    /// Starting log-rates: ln of the matrix logarithm of P_hat = n_ij / n_i (series of ln(I + X), X = P_hat - I, when it
    /// converges fast, ||X||_inf &lt; 1/2; else X itself), divided by dt and projected onto generators (entries below a
    /// tenth of P_hat_ij / dt raised to it).
    /// </summary>
    public static double[] Seed(double[] counts, int n, double dt, (int I, int J)[] support)
    {
        var x = new double[n * n];
        double rowMax = 0;
        for (int i = 0; i < n; i++)
        {
            double total = 0, absRow = 0;
            for (int j = 0; j < n; j++) total += counts[i * n + j];
            for (int j = 0; j < n; j++)
            {
                x[i * n + j] = (total > 0 ? counts[i * n + j] / total : 0) - (i == j ? 1 : 0);
                absRow += Math.Abs(x[i * n + j]);
            }
            rowMax = Math.Max(rowMax, absRow);
        }
        var log = (double[])x.Clone();
        if (rowMax < 0.5)
        {
            var power = (double[])x.Clone();
            var next = new double[n * n];
            for (int k = 2; k <= 60; k++)
            {
                MatrixExponential.Multiply(power, x, next, n);
                (power, next) = (next, power);
                double sign = k % 2 == 0 ? -1 : 1;
                for (int m = 0; m < n * n; m++) log[m] += sign * power[m] / k;
            }
        }
        var theta = new double[support.Length];
        for (int p = 0; p < support.Length; p++)
        {
            var (i, j) = support[p];
            double floor = 0.1 * (x[i * n + j] > 0 ? x[i * n + j] : 1e-6);
            theta[p] = Math.Log(Math.Max(log[i * n + j], floor) / dt);
        }
        return theta;
    }

    /// <summary>Generator (row-major n x n) of log-rates theta on the support.</summary>
    public static double[] Generator(ReadOnlySpan<double> theta, (int I, int J)[] support, int n)
    {
        var q = new double[n * n];
        for (int p = 0; p < support.Length; p++)
        {
            var (i, j) = support[p];
            double rate = Math.Exp(theta[p]);
            q[i * n + j] = rate;
            q[i * n + i] -= rate;
        }
        return q;
    }

    /// <summary>Fisher scoring from <paramref name="theta"/> (updated in place) to the maximum of L.</summary>
    public static Result Maximise(double[] counts, int n, double dt, (int I, int J)[] support, double[] theta, int maxIterations = 200)
    {
        int p = support.Length;
        var rowTotals = new double[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) rowTotals[i] += counts[i * n + j];
        double lower = MinLogRateTimesDt - Math.Log(dt), upper = MaxLogRateTimesDt - Math.Log(dt);
        for (int k = 0; k < p; k++) theta[k] = Math.Clamp(theta[k], lower, upper);
        double current = LogLikelihood(counts, n, dt, support, theta);
        var jacobian = new double[p][];
        var e = new double[n * n];
        var trial = new double[p];
        int iteration = 0;
        bool converged = false;
        while (iteration < maxIterations && !converged)
        {
            iteration++;
            var a = Generator(theta, support, n);
            for (int k = 0; k < n * n; k++) a[k] *= dt;
            var prob = MatrixExponential.Exp(a, n);
            for (int k = 0; k < p; k++)
            {
                var (i, j) = support[k];
                Array.Clear(e);
                double scale = Math.Exp(theta[k]) * dt;
                e[i * n + j] = scale;
                e[i * n + i] = -scale;
                jacobian[k] = MatrixExponential.Frechet(a, e, n);
            }
            var gradient = Vector<double>.Build.Dense(p);
            var fisher = Matrix<double>.Build.Dense(p, p);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    int c = i * n + j;
                    double pij = Math.Max(prob[c], 1e-300);
                    for (int k = 0; k < p; k++)
                    {
                        double jk = jacobian[k][c];
                        if (jk == 0) continue;
                        gradient[k] += counts[c] / pij * jk;
                        double w = rowTotals[i] / pij * jk;
                        for (int l = k; l < p; l++) fisher[k, l] += w * jacobian[l][c];
                    }
                }
            for (int k = 0; k < p; k++)
            {
                for (int l = 0; l < k; l++) fisher[k, l] = fisher[l, k];
                fisher[k, k] += 1e-12 * (1 + fisher[k, k]); // parameters at a bound have no information
            }
            Vector<double> step;
            try { step = fisher.Cholesky().Solve(gradient); }
            catch (ArgumentException) { step = fisher.Svd().Solve(gradient); } // not positive definite to rounding
            double decrement = gradient.DotProduct(step);
            double largest = step.AbsoluteMaximum();
            double factor = largest > 2 ? 2 / largest : 1;
            bool improved = false;
            for (int halving = 0; halving < 40; halving++)
            {
                for (int k = 0; k < p; k++) trial[k] = Math.Clamp(theta[k] + factor * step[k], lower, upper);
                double value = LogLikelihood(counts, n, dt, support, trial);
                if (value >= current - 1e-12 * Math.Abs(current))
                {
                    improved = value > current;
                    Array.Copy(trial, theta, p);
                    current = value;
                    break;
                }
                factor /= 2;
            }
            converged = decrement < 1e-10 || !improved;
        }
        return new Result(Generator(theta, support, n), current, iteration, converged);
    }

    public static double LogLikelihood(double[] counts, int n, double dt, (int I, int J)[] support, ReadOnlySpan<double> theta)
    {
        var a = Generator(theta, support, n);
        for (int k = 0; k < n * n; k++) a[k] *= dt;
        var prob = MatrixExponential.Exp(a, n);
        double sum = 0;
        for (int c = 0; c < n * n; c++)
            if (counts[c] > 0) sum += counts[c] * (prob[c] > 0 ? Math.Log(prob[c]) : -1e300);
        return sum;
    }

    /// <summary>Stationary law pi Q = 0, sum pi = 1 of a generator (row-major), or null when it is not unique and positive.</summary>
    public static double[]? Stationary(double[] q, int n)
    {
        var m = Matrix<double>.Build.Dense(n, n, (i, j) => q[j * n + i]);
        for (int j = 0; j < n; j++) m[n - 1, j] = 1;
        var rhs = Vector<double>.Build.Dense(n);
        rhs[n - 1] = 1;
        var pi = m.Solve(rhs).ToArray();
        return pi.All(v => v > 0 && double.IsFinite(v)) ? pi : null;
    }

    /// <summary>
    /// Schnakenberg EP rate of generator q with stationary law pi: sum_{i&lt;j} (pi_i q_ij - pi_j q_ji) ln(pi_i q_ij / (pi_j q_ji))
    /// over pairs with both rates positive (pairs with both zero contribute nothing; the support has no one-way pairs).
    /// </summary>
    public static double EntropyProduction(double[] q, double[] pi, int n)
    {
        double sigma = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double forward = pi[i] * q[i * n + j], backward = pi[j] * q[j * n + i];
                if (forward > 0 && backward > 0) sigma += (forward - backward) * Math.Log(forward / backward);
            }
        return sigma;
    }
}
