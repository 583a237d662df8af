using MathNet.Numerics.LinearAlgebra;

namespace ThermoLearn.Statistics;

/// <summary>
/// The row-major layout of <see cref="DenseMatrix"/> (element (i, j) at i * Columns + j) with its shape attached: how
/// the library holds sample-by-feature tables (one row per sample: a prefix's activation vector or belief) while it
/// computes on them. Internal: public signatures take and return MathNet.Numerics <see cref="Matrix{T}"/>
/// (<see cref="From"/> and <see cref="ToMatrix"/> copy across, the same values). Rows x columns, values in <see cref="Data"/>.
/// </summary>
internal sealed class RowMatrix
{
    public RowMatrix(int rows, int columns, double[] data)
    {
        if (rows < 0 || columns < 0) throw new InvalidInputException($"a matrix needs non-negative dimensions, not {rows} x {columns}.");
        if (data.Length != (long)rows * columns)
            throw new InvalidInputException($"a {rows} x {columns} matrix needs {(long)rows * columns} values, but {data.Length} were given.");
        Rows = rows;
        Columns = columns;
        Data = data;
    }

    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Row-major values: element (i, j) is <c>Data[i * Columns + j]</c>.</summary>
    public double[] Data { get; }

    public double this[int row, int column] => Data[row * Columns + column];

    public ReadOnlySpan<double> Row(int row) => Data.AsSpan(row * Columns, Columns);

    /// <summary>The values of <paramref name="matrix"/> in row-major order (a copy).</summary>
    public static RowMatrix From(Matrix<double> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return new RowMatrix(matrix.RowCount, matrix.ColumnCount, matrix.ToRowMajorArray());
    }

    /// <summary>A dense MathNet matrix with these values (a copy; MathNet stores columns contiguously).</summary>
    public Matrix<double> ToMatrix() => Matrix<double>.Build.DenseOfRowMajor(Rows, Columns, Data);

    public static RowMatrix FromArray(double[,] values) => new(values.GetLength(0), values.GetLength(1), DenseMatrix.ToRowMajor(values));

    /// <summary>The rows at <paramref name="indices"/>, in that order.</summary>
    public RowMatrix SelectRows(IReadOnlyList<int> indices)
    {
        var data = new double[indices.Count * Columns];
        for (int i = 0; i < indices.Count; i++) Row(indices[i]).CopyTo(data.AsSpan(i * Columns, Columns));
        return new RowMatrix(indices.Count, Columns, data);
    }

    /// <summary>Side-by-side concatenation [A | B | ...] of matrices with the same rows (e.g. all layers' residual streams).</summary>
    public static RowMatrix ConcatenateColumns(IReadOnlyList<RowMatrix> parts)
    {
        if (parts.Count == 0) throw new InvalidInputException("nothing to concatenate: give at least one matrix.");
        int rows = parts[0].Rows;
        int columns = 0;
        foreach (var p in parts)
        {
            if (p.Rows != rows) throw new InvalidInputException($"cannot concatenate matrices with {rows} and {p.Rows} rows.");
            columns += p.Columns;
        }
        var data = new double[(long)rows * columns];
        for (int i = 0; i < rows; i++)
        {
            int offset = i * columns;
            foreach (var p in parts)
            {
                p.Row(i).CopyTo(data.AsSpan(offset, p.Columns));
                offset += p.Columns;
            }
        }
        return new RowMatrix(rows, columns, data);
    }

    /// <summary>Throws an <see cref="InvalidInputException"/> naming <paramref name="what"/> if any value is NaN or infinite.</summary>
    public void EnsureFinite(string what)
    {
        for (int k = 0; k < Data.Length; k++)
            if (!double.IsFinite(Data[k]))
                throw new InvalidInputException($"{what}: value at row {k / Columns}, column {k % Columns} is {Data[k]}; every value must be finite.");
    }
}
