using MathNet.Numerics.LinearAlgebra;
using ThermoLearn.Randomness;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// Test data: exact discretisation of dx = -A x dt + sqrt(2D) dW (x_{n+1} = Phi x_n + xi, Phi = exp(-A dt),
/// Cov xi = C - Phi C Phi^T), started in the stationary state; and the exact EP rate tr(A^T D^-1 A C) - tr(C^-1 D).
/// </summary>
internal static class ExactLinearGenerator
{
    public static Matrix<double> Stationary(Matrix<double> a, Matrix<double> d)
    {
        int n = a.RowCount;
        var eye = Matrix<double>.Build.DenseIdentity(n);
        var k = eye.KroneckerProduct(a) + a.KroneckerProduct(eye); // vec(A C + C A^T) with row-major vec
        var rhs = Vector<double>.Build.Dense(n * n, i => 2 * d[i / n, i % n]);
        var c = k.Solve(rhs);
        return Matrix<double>.Build.Dense(n, n, (i, j) => c[i * n + j]);
    }

    public static double EntropyProduction(Matrix<double> a, Matrix<double> d)
    {
        var c = Stationary(a, d);
        return (a.Transpose() * d.Inverse() * a * c).Trace() - (c.Inverse() * d).Trace();
    }

    public static Matrix<double> Expm(Matrix<double> m)
    {
        int squarings = Math.Max(0, (int)Math.Ceiling(Math.Log2(Math.Max(1e-300, m.InfinityNorm()))) + 4);
        var s = m / Math.Pow(2, squarings);
        var result = Matrix<double>.Build.DenseIdentity(m.RowCount);
        var term = Matrix<double>.Build.DenseIdentity(m.RowCount);
        for (int k = 1; k < 24; k++) { term = term * s / k; result += term; }
        for (int i = 0; i < squarings; i++) result *= result;
        return result;
    }

    public static TrajectoryEnsemble Simulate(Matrix<double> a, Matrix<double> d, double dt, int trajectories, int frames, ulong seed, int observed = -1)
    {
        int n = a.RowCount, o = observed < 0 ? n : observed;
        var c = Stationary(a, d);
        var phi = Expm(-a * dt);
        var q = c - phi * c * phi.Transpose();
        var lq = q.Cholesky().Factor;
        var lc = c.Cholesky().Factor;
        var data = new double[(long)trajectories * frames * o];
        Parallel.For(0, trajectories, r =>
        {
            var random = RandomStream.For(seed, (ulong)r);
            var z = new double[n];
            var x = new double[n];
            var y = new double[n];
            random.FillGaussian(z);
            for (int i = 0; i < n; i++) { double s = 0; for (int j = 0; j <= i; j++) s += lc[i, j] * z[j]; x[i] = s; }
            for (int f = 0; f < frames; f++)
            {
                for (int i = 0; i < o; i++) data[((long)r * frames + f) * o + i] = x[i];
                random.FillGaussian(z);
                for (int i = 0; i < n; i++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += phi[i, j] * x[j];
                    for (int j = 0; j <= i; j++) s += lq[i, j] * z[j];
                    y[i] = s;
                }
                (x, y) = (y, x);
            }
        });
        return new TrajectoryEnsemble(trajectories, frames, o, dt, data);
    }

    /// <summary>Driven 2-D trap F = -k x + eps J x, mu = 1: A = [[k, eps], [-eps, k]] ... as a drift -A x.</summary>
    public static (Matrix<double> A, Matrix<double> D) DrivenTrap(double k = 1, double eps = 0.3, double mu = 1, double temperature = 0.5)
    {
        // J = [[0, -1], [1, 0]]: F = -k x + eps J x  => drift mu F = -A x with A = mu [[k, eps], [-eps, k]]
        var a = Matrix<double>.Build.DenseOfArray(new[,] { { mu * k, mu * eps }, { -mu * eps, mu * k } });
        return (a, Matrix<double>.Build.DenseDiagonal(2, mu * temperature));
    }

    /// <summary>Bead-spring chain: N beads, springs k to neighbours and walls, T linear from hot to cold, friction gamma.</summary>
    public static (Matrix<double> A, Matrix<double> D) BeadSpring(int beads, double k = 1, double gamma = 1, double hot = 10, double cold = 1)
    {
        var a = Matrix<double>.Build.Dense(beads, beads, (i, j) => i == j ? 2 * k / gamma : Math.Abs(i - j) == 1 ? -k / gamma : 0);
        var d = Matrix<double>.Build.DenseDiagonal(beads, beads, i => (hot + (cold - hot) * i / Math.Max(1, beads - 1)) / gamma);
        return (a, d);
    }
}
