using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Processes.Geometry;

/// <summary>
/// Principal angles between two subspaces with orthonormal bases Q_a, Q_b (columns): the singular values
/// s_k of <c>Q_a^T Q_b</c> are the cosines of the angles; <c>overlap = sum s_k^2 / min(dim_a, dim_b)</c>
/// is 0 for orthogonal subspaces and 1 when one contains the other; the participation ratio
/// <c>(sum s^2)^2 / sum s^4</c> counts how many directions are shared.
/// Björck &amp; Golub, Math. Comp. 27 (1973) 579, doi:10.1090/S0025-5718-1973-0348991-3.
/// </summary>
public sealed record SubspaceComparison(int DimensionA, int DimensionB, IReadOnlyList<double> Cosines, double Overlap, double ParticipationRatio);

public static class SubspaceOverlap
{
    /// <summary>
    /// Orthonormal basis (columns) of the column space of <paramref name="matrix"/> (rows = ambient dimension):
    /// left singular vectors with singular value above <paramref name="relativeTolerance"/> times the largest.
    /// </summary>
    public static double[,] OrthonormalBasis(double[,] matrix, double relativeTolerance = 1e-8)
    {
        int n = matrix.GetLength(0), m = matrix.GetLength(1);
        if (n == 0 || m == 0) throw new InvalidInputException($"subspace: empty matrix ({n} x {m}).");
        var a = Matrix<double>.Build.DenseOfArray(matrix);
        foreach (double v in a.Enumerate())
            if (!double.IsFinite(v)) throw new InvalidInputException("subspace: the matrix has a NaN or infinite entry.");
        var svd = a.Svd(computeVectors: true);
        var s = svd.S;
        double max = s.Count > 0 ? s[0] : 0;
        int rank = max > 0 ? s.Count(v => v > max * relativeTolerance) : 0;
        var basis = new double[n, rank];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < rank; k++) basis[i, k] = svd.U[i, k];
        return basis;
    }

    /// <summary>Compares two orthonormal bases with the same ambient dimension.</summary>
    public static SubspaceComparison Compare(double[,] basisA, double[,] basisB)
    {
        int n = basisA.GetLength(0);
        if (basisB.GetLength(0) != n)
            throw new InvalidInputException($"subspaces live in {n} and {basisB.GetLength(0)} dimensions; they must match.");
        int da = basisA.GetLength(1), db = basisB.GetLength(1);
        if (da == 0 || db == 0) return new SubspaceComparison(da, db, [], 0, 0);
        var qa = Matrix<double>.Build.DenseOfArray(basisA);
        var qb = Matrix<double>.Build.DenseOfArray(basisB);
        var s = qa.TransposeThisAndMultiply(qb).Svd(computeVectors: false).S.ToArray();
        // Cosines cannot exceed 1; round-off can push them a hair above.
        for (int k = 0; k < s.Length; k++) s[k] = Math.Min(1, Math.Max(0, s[k]));
        double overlap = s.Sum(v => v * v) / Math.Min(da, db);
        return new SubspaceComparison(da, db, s, overlap, SpectralMeasures.ParticipationRatio(s));
    }
}
