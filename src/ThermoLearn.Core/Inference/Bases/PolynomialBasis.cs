using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Simd;

namespace ThermoLearn.Inference.Bases;

/// <summary>
/// All monomials prod_j x_j^{e_j} of total degree sum_j e_j &lt;= <see cref="Degree"/> in d dimensions,
/// ordered by degree (the constant first). Count = C(d + degree, d). The standard basis of linear-basis
/// force inference (Frishman &amp; Ronceray, PRX 10, 021009 (2020), doi:10.1103/PhysRevX.10.021009).
/// </summary>
public sealed class PolynomialBasis : IBasis
{
    private readonly int[] _exponents; // [Count * d]
    private readonly int[] _powerFunction; // [j * (Degree + 1) + k]: the function x_j^k (k >= 1)
    private readonly int[][] _factorFunctions; // [a]: the functions x_j^{e_j} with e_j > 0 whose product is function a, j ascending

    public PolynomialBasis(int dimension, int degree)
    {
        if (dimension < 1) throw new InvalidInputException($"A polynomial basis needs dimension >= 1 (got {dimension}).");
        if (degree < 0 || degree > 12) throw new InvalidInputException($"Polynomial degree must be between 0 and 12 (got {degree}).");
        Dimension = dimension;
        Degree = degree;
        double count = 1;
        for (int k = 1; k <= degree; k++) count = count * (dimension + k) / k;   // C(d + degree, degree)
        Resources.MemoryBudget.Require(count * (8.0 * count + 40 + 8.0 * dimension),
            $"basis poly:{degree} in {dimension} dimensions ({count:G4} functions; its Gram matrix alone holds {count:G4}^2 numbers)",
            $"use a lower degree or fewer coordinates ({InputParameter.Columns})");
        var list = new List<int[]>();
        for (int total = 0; total <= degree; total++) AddMonomials(new int[dimension], 0, total, list);
        Count = list.Count;
        _exponents = new int[Count * dimension];
        for (int a = 0; a < Count; a++) list[a].CopyTo(_exponents, a * dimension);
        int p = degree + 1;
        _powerFunction = new int[dimension * p];
        _factorFunctions = new int[Count][];
        for (int a = 0; a < Count; a++)
        {
            var nonzero = Enumerable.Range(0, dimension).Where(j => _exponents[a * dimension + j] != 0).ToArray();
            if (nonzero.Length == 1) _powerFunction[nonzero[0] * p + _exponents[a * dimension + nonzero[0]]] = a;
            _factorFunctions[a] = nonzero.Select(j => j * p + _exponents[a * dimension + j]).ToArray();
        }
        // from power slots to the functions that are those powers (every x_j^k with k <= degree is one)
        foreach (var factors in _factorFunctions)
            for (int f = 0; f < factors.Length; f++) factors[f] = _powerFunction[factors[f]];
    }

    public int Dimension { get; }
    public int Degree { get; }
    public int Count { get; }
    public string Name => $"poly:{Degree}";

    /// <summary>Exponent of x_j in function a.</summary>
    public int Exponent(int a, int j) => _exponents[a * Dimension + j];

    public void Evaluate(ReadOnlySpan<double> x, Span<double> values)
    {
        int d = Dimension, p = Degree + 1;
        Span<double> powers = stackalloc double[d * p];
        FillPowers(x, powers);
        var e = _exponents;
        for (int a = 0; a < Count; a++)
        {
            double v = 1.0;
            int row = a * d;
            for (int j = 0; j < d; j++) v *= powers[j * p + e[row + j]];
            values[a] = v;
        }
    }

    /// <summary>
    /// Column by column. Every power x_j^k with 1 &lt;= k &lt;= <see cref="Degree"/> is itself a function of the basis, so its
    /// column is formed first, as <see cref="FillPowers"/> forms the power (x_j copied from the points, x_j^k = x_j^{k-1} * x_j),
    /// and every other monomial is the product of those columns, 1 * x_0^{e_0} * x_1^{e_1} * ... in the order <see cref="Evaluate"/>
    /// multiplies (factors x_j^0 = 1.0 left out: multiplying by 1.0 is exact), so the values are the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IBasis.EvaluateColumns(ReadOnlySpan<double> x, int points, Span<double> values, int stride)
    {
        int d = Dimension, p = Degree + 1;
        if (x.Length < points * d) throw new ArgumentException("fewer values than points x dimension", nameof(x));
        if (values.Length < (Count - 1) * stride + points) throw new ArgumentException("fewer values than functions x stride", nameof(values));
        var power = _powerFunction;
        if (p > 1)
        {
            ref double source = ref MemoryMarshal.GetReference(x);
            int gathered = 0;
            if (d == 2)
                gathered = PlaneColumns.Split(ref source, points, ref MemoryMarshal.GetReference(values.Slice(power[1] * stride, points)),
                    ref MemoryMarshal.GetReference(values.Slice(power[p + 1] * stride, points)));
            for (int j = 0; j < d; j++)
            {
                // coordinate j is every d-th value: a strided gather, without bounds checks inside the span
                ref double xj = ref Unsafe.Add(ref source, j);
                ref double into = ref MemoryMarshal.GetReference(values.Slice(power[j * p + 1] * stride, points));
                for (int i = gathered; i < points; i++) Unsafe.Add(ref into, i) = Unsafe.Add(ref xj, i * d); // 1.0 * x is x
                for (int k = 2; k < p; k++)
                    Multiply(values.Slice(power[j * p + k - 1] * stride, points), values.Slice(power[j * p + 1] * stride, points), values.Slice(power[j * p + k] * stride, points));
            }
        }
        for (int a = 0; a < Count; a++)
        {
            var factors = _factorFunctions[a];
            if (factors.Length == 0) values.Slice(a * stride, points).Fill(1.0);
            else if (factors.Length > 1)
            {
                var column = values.Slice(a * stride, points);
                Multiply(values.Slice(factors[0] * stride, points), values.Slice(factors[1] * stride, points), column);
                for (int f = 2; f < factors.Length; f++) Multiply(column, values.Slice(factors[f] * stride, points), column);
            }
        }
    }

    /// <summary>into[i] = a[i] * b[i] (lane-wise products, the same bits as the scalar ones).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> into)
    {
        int i = 0, n = into.Length;
        if (a.Length < n || b.Length < n) throw new ArgumentException("spans shorter than the output");
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pb = ref MemoryMarshal.GetReference(b);
        ref double pi = ref MemoryMarshal.GetReference(into);
        for (; i <= n - 4; i += 4)
            (Vector256.LoadUnsafe(ref pa, (nuint)i) * Vector256.LoadUnsafe(ref pb, (nuint)i)).StoreUnsafe(ref pi, (nuint)i);
        for (; i < n; i++) into[i] = a[i] * b[i];
    }

    public void EvaluateGradient(ReadOnlySpan<double> x, Span<double> gradient)
    {
        int d = Dimension, p = Degree + 1;
        Span<double> powers = stackalloc double[d * p];
        FillPowers(x, powers);
        var e = _exponents;
        for (int a = 0; a < Count; a++)
        {
            int row = a * d;
            for (int j = 0; j < d; j++)
            {
                int ej = e[row + j];
                if (ej == 0) { gradient[row + j] = 0; continue; }
                double v = ej * powers[j * p + ej - 1];
                for (int k = 0; k < d; k++)
                    if (k != j) v *= powers[k * p + e[row + k]];
                gradient[row + j] = v;
            }
        }
    }

    public string Describe(int index)
    {
        var parts = new List<string>();
        for (int j = 0; j < Dimension; j++)
        {
            int ej = Exponent(index, j);
            if (ej == 1) parts.Add($"x{j}");
            else if (ej > 1) parts.Add($"x{j}^{ej}");
        }
        return parts.Count == 0 ? "1" : string.Join("*", parts);
    }

    private void FillPowers(ReadOnlySpan<double> x, Span<double> powers)
    {
        int p = Degree + 1;
        for (int j = 0; j < Dimension; j++)
        {
            double v = 1.0;
            for (int k = 0; k < p; k++) { powers[j * p + k] = v; v *= x[j]; }
        }
    }

    /// <summary>Appends the exponent vectors of total degree <paramref name="remaining"/>, lexicographic with e_0 largest first.</summary>
    internal static void AddMonomials(int[] current, int position, int remaining, List<int[]> into)
    {
        // Lexicographic in (e_0, e_1, ...) with e_0 largest first: x0^2, x0*x1, x1^2, ...
        if (position == current.Length - 1)
        {
            current[position] = remaining;
            into.Add((int[])current.Clone());
            return;
        }
        for (int e = remaining; e >= 0; e--)
        {
            current[position] = e;
            AddMonomials(current, position + 1, remaining - e, into);
        }
    }
}
