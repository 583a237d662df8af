using ThermoLearn.Trajectories;

namespace ThermoLearn.Neural.Inference;

/// <summary>
/// Diffusion matrix from the second cumulant of increments, D = &lt;dx dx^T&gt; / (2 dt) (spec section 4),
/// whose bias from the drift is O(dt). Used when the caller gives no D.
/// </summary>
internal static class DiffusionFromIncrements
{
    public static double[,] Estimate(TrajectoryEnsemble data)
    {
        int d = data.Dimension;
        var sum = new double[d, d];
        long n = 0;
        for (int r = 0; r < data.Trajectories; r++)
        {
            ReadOnlySpan<double> path = data.Trajectory(r);
            for (int f = 0; f + 1 < data.Frames; f++, n++)
            {
                for (int i = 0; i < d; i++)
                {
                    double di = path[(f + 1) * d + i] - path[f * d + i];
                    for (int j = 0; j <= i; j++) sum[i, j] += di * (path[(f + 1) * d + j] - path[f * d + j]);
                }
            }
        }
        var result = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) result[i, j] = result[j, i] = sum[i, j] / (2 * data.Dt * n);
        return result;
    }

    /// <summary>Checks a user-given D: right shape, finite, symmetric, positive definite (Cholesky).</summary>
    public static void Validate(double[,] diffusion, int dimension)
    {
        if (diffusion.GetLength(0) != dimension || diffusion.GetLength(1) != dimension)
            throw new InvalidInputException($"the diffusion matrix is {diffusion.GetLength(0)}x{diffusion.GetLength(1)} but the data have dimension {dimension}.");
        var l = new double[dimension, dimension];
        for (int i = 0; i < dimension; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double a = diffusion[i, j];
                if (!double.IsFinite(a) || Math.Abs(a - diffusion[j, i]) > 1e-12 * (1 + Math.Abs(a)))
                    throw new InvalidInputException($"the diffusion matrix must be finite and symmetric (entry [{i},{j}] = {a}, [{j},{i}] = {diffusion[j, i]}).");
                double s = a;
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                if (i == j)
                {
                    if (!(s > 0)) throw new InvalidInputException("the diffusion matrix must be positive definite.");
                    l[i, i] = Math.Sqrt(s);
                }
                else l[i, j] = s / l[j, j];
            }
        }
    }
}
