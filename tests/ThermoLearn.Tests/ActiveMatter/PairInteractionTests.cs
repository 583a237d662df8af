using ThermoLearn.ActiveMatter;
using ThermoLearn.Randomness;
using Xunit;

namespace ThermoLearn.Tests.ActiveMatter;

public class PairInteractionTests
{
    public static TheoryData<string> Potentials => new() { "softplus", "wca", "harmonic" };

    private static IPairPotential Make(string name) => name switch
    {
        "softplus" => new SoftplusRepulsion(1, 7.5),
        "wca" => new WcaRepulsion(2 / Math.Pow(2, 1.0 / 6), 1),
        _ => new HarmonicRepulsion(2, 3),
    };

    [Fact]
    public void DilogarithmMatchesKnownValues()
    {
        // Li2(-1) = -pi^2/12, Li2(1/2) = pi^2/12 - ln(2)^2/2, Li2(1) = pi^2/6, Li2(-e^u) ~ -u^2/2 - pi^2/6 for large u.
        Assert.Equal(-Math.PI * Math.PI / 12, Dilogarithm.OfMinusExp(0), 14);
        Assert.Equal(Math.PI * Math.PI / 12 - 0.5 * Math.Log(2) * Math.Log(2), Dilogarithm.OfUnitInterval(0.5), 14);
        Assert.Equal(Math.PI * Math.PI / 6, Dilogarithm.OfUnitInterval(1), 14);
        double u = 30;
        Assert.Equal(-u * u / 2 - Math.PI * Math.PI / 6 + Math.Exp(-u), Dilogarithm.OfMinusExp(u), 10);
        // Li2(-z) = -z + z^2/4 - ... for small z.
        double z = Math.Exp(-20);
        Assert.True(Math.Abs(-z + z * z / 4 - Dilogarithm.OfMinusExp(-20)) < 1e-15 * z);
    }

    [Fact]
    public void SoftplusIsTruncatedWhereTheForceFallsTo1e8()
    {
        var p = new SoftplusRepulsion(1, 7.5);
        Assert.Equal(4.187437024788013, p.Cutoff, 12);   // 2 - log(expm1(7.5e-8)) / 7.5 (numpy): ln(1 + e^u) / beta = 1e-8 <=> e^u = e^(7.5e-8) - 1
        double justInside = p.Cutoff * (1 - 1e-12);
        Assert.Equal(SoftplusRepulsion.TruncationForce, p.Force(justInside), 1e-16);
        Assert.Equal(0, p.Force(p.Cutoff));
        Assert.Equal(Math.Log(2) / 7.5, p.Force(2), 15);   // softplus_beta(0) = ln 2 / beta at contact
        Assert.Equal(0, p.Energy(p.Cutoff));
    }

    /// <summary>
    /// The force sweep's table of g = f(r) / r against r^2: at 200,000 random distances in (0, r_c) the force it gives,
    /// r g, is within 2 Tolerance + 4e-15 |f| of the potential's f (the build checks each interval at three points; the
    /// cubic's error peaks near the middle one, so twice the checked tolerance bounds it, and where f is large, as in WCA's
    /// core, the cubic's rounding, a few ulp of its largest term, stays below 4e-15 |f|), and the
    /// softplus of the benchmarks keeps its table down to r = 1.2 (only closer pairs take the exact formula).
    /// </summary>
    [Theory]
    [MemberData(nameof(Potentials))]
    public void ForceTableMatchesThePotential(string name)
    {
        var p = Make(name);
        double worst = 0;
        switch (p)
        {
            case SoftplusRepulsion s: worst = TableError(s); Assert.True(PairForceTable.For(s).ExactIntervals * s.Cutoff * s.Cutoff / PairForceTable.Intervals < 1.2 * 1.2); break;
            case WcaRepulsion w: worst = TableError(w); break;
            case HarmonicRepulsion h: worst = TableError(h); break;
        }
        Assert.True(worst <= 1, $"{name}: worst error {worst} of the bound");
    }

    /// <summary>Largest |r g(r^2) - f(r)| / (2 Tolerance + 4e-15 |f|) over random r in (0, r_c).</summary>
    private static double TableError<T>(T potential) where T : struct, IPairPotential
    {
        var table = PairForceTable.For(potential);
        var rng = RandomStream.For(21, 0);
        double worst = 0;
        for (int k = 0; k < 200_000; k++)
        {
            double r = potential.Cutoff * rng.NextDoubleNonZero() * (1 - 1e-12), f = potential.Force(r);
            double error = Math.Abs(r * table.ForceOverDistance(potential, r * r) - f);
            worst = Math.Max(worst, error / (2 * PairForceTable.Tolerance + 4e-15 * Math.Abs(f)));
        }
        return worst;
    }

    [Theory]
    [MemberData(nameof(Potentials))]
    public void ForceIsMinusTheDerivativeOfTheEnergy(string name)
    {
        var p = Make(name);
        for (double fraction = 0.45; fraction < 0.999; fraction += 0.037)
        {
            double r = fraction * p.Cutoff, h = 1e-6 * p.Cutoff;
            double numeric = -(p.Energy(r + h) - p.Energy(r - h)) / (2 * h);
            double scale = Math.Max(1e-6, Math.Abs(p.Force(r)));
            Assert.True(Math.Abs(numeric - p.Force(r)) < 1e-6 * scale + 1e-9, $"{name} at r = {r}: -U' = {numeric}, f = {p.Force(r)}");
            double numericDerivative = (p.Force(r + h) - p.Force(r - h)) / (2 * h);
            double derivativeScale = Math.Max(1e-6, Math.Abs(p.ForceDerivative(r)));
            Assert.True(Math.Abs(numericDerivative - p.ForceDerivative(r)) < 1e-5 * derivativeScale + 1e-8, $"{name} at r = {r}: f' = {p.ForceDerivative(r)}, numeric {numericDerivative}");
            // f'' and f''' against central differences of f' and f''
            var (second, third) = p.ForceHigherDerivatives(r);
            double numericSecond = (p.ForceDerivative(r + h) - p.ForceDerivative(r - h)) / (2 * h);
            double numericThird = (p.ForceHigherDerivatives(r + h).Second - p.ForceHigherDerivatives(r - h).Second) / (2 * h);
            Assert.True(Math.Abs(numericSecond - second) < 1e-5 * Math.Max(1e-6, Math.Abs(second)) + 1e-8, $"{name} at r = {r}: f'' = {second}, numeric {numericSecond}");
            Assert.True(Math.Abs(numericThird - third) < 1e-5 * Math.Max(1e-6, Math.Abs(third)) + 1e-8, $"{name} at r = {r}: f''' = {third}, numeric {numericThird}");
        }
    }

    /// <summary>Random positions: uniform in a box of side <paramref name="side"/> (periodic or open).</summary>
    internal static double[] RandomPositions(int n, int d, double side, ulong seed)
    {
        var rng = RandomStream.For(seed, 0);
        var x = new double[n * d];
        for (int q = 0; q < x.Length; q++) x[q] = side * rng.NextDouble();
        return x;
    }

    /// <summary>O(N^2) reference: all pairs with the minimum image.</summary>
    private static double[] AllPairsForces(IPairPotential p, double[] x, int d, double? box)
    {
        int n = x.Length / d;
        var f = new double[x.Length];
        var delta = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                if (i == j) continue;
                double r2 = 0;
                for (int a = 0; a < d; a++)
                {
                    double v = x[i * d + a] - x[j * d + a];
                    if (box is { } l) v -= l * Math.Round(v / l);
                    delta[a] = v;
                    r2 += v * v;
                }
                double r = Math.Sqrt(r2);
                if (r >= p.Cutoff) continue;
                for (int a = 0; a < d; a++) f[i * d + a] += p.Force(r) * delta[a] / r;
            }
        return f;
    }

    private static PairForceField<T> Field<T>(T p, int n, int d, double? box) where T : struct, IPairPotential => new(p, n, d, box);

    private static (double[] Forces, double Energy) Evaluate(IPairPotential p, double[] x, int d, double? box, int threads)
    {
        int n = x.Length / d;
        var f = new double[x.Length];
        double e;
        switch (p)
        {
            case SoftplusRepulsion s: { var field = Field(s, n, d, box); field.Forces(x, f, threads); e = field.Energy(x); break; }
            case WcaRepulsion w: { var field = Field(w, n, d, box); field.Forces(x, f, threads); e = field.Energy(x); break; }
            case HarmonicRepulsion h: { var field = Field(h, n, d, box); field.Forces(x, f, threads); e = field.Energy(x); break; }
            default: throw new ArgumentException(p.GetType().Name);
        }
        return (f, e);
    }

    [Theory]
    [InlineData("softplus", 2, true)]
    [InlineData("softplus", 3, false)]
    [InlineData("wca", 2, false)]
    [InlineData("wca", 3, true)]
    [InlineData("harmonic", 2, true)]
    [InlineData("harmonic", 3, true)]
    public void CellListAgreesWithAllPairsAndObeysNewtonsThirdLaw(string name, int d, bool periodic)
    {
        var p = Make(name);
        int n = d == 2 ? 400 : name == "wca" ? 40 : 300;
        // Density near contact so that most particles have neighbours; the 3-D periodic box holds 3 or more cells per axis.
        double side = d == 2 ? 40 : 3.2 * p.Cutoff;
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var x = RandomPositions(n, d, side, seed);
            if (name == "wca") x = Spread(x, d, periodic ? side : null, 0.75 * p.Cutoff); // no r -> 0 singularities
            double? box = periodic ? side : null;
            var (f, _) = Evaluate(p, x, d, box, threads: -1);
            var reference = AllPairsForces(p, x, d, box);
            double scale = 0, total0 = 0, total1 = 0, total2 = 0;
            for (int q = 0; q < f.Length; q++)
            {
                scale = Math.Max(scale, Math.Abs(reference[q]));
                Assert.True(Math.Abs(f[q] - reference[q]) <= 1e-12 * Math.Max(1, Math.Abs(reference[q])), $"component {q}: cell list {f[q]}, all pairs {reference[q]}");
            }
            for (int i = 0; i < n; i++) { total0 += f[i * d]; total1 += f[i * d + 1]; if (d == 3) total2 += f[i * d + 2]; }
            Assert.True(scale > 0, "the configuration has interacting pairs");
            foreach (double t in new[] { total0, total1, total2 })
                Assert.True(Math.Abs(t) < 1e-11 * scale * n, $"total force {t} (largest component {scale})");
        }
    }

    /// <summary>Moves particles apart until no pair is closer than <paramref name="minimum"/> (simple rejection resampling).</summary>
    private static double[] Spread(double[] x, int d, double? box, double minimum)
    {
        int n = x.Length / d;
        var rng = RandomStream.For(99, 0);
        double side = box ?? x.Max() + 1e-9;
        var kept = new List<double[]>();
        for (int i = 0; i < n; i++)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                var c = Enumerable.Range(0, d).Select(_ => side * rng.NextDouble()).ToArray();
                bool ok = kept.All(o =>
                {
                    double r2 = 0;
                    for (int a = 0; a < d; a++) { double v = c[a] - o[a]; if (box is { } l) v -= l * Math.Round(v / l); r2 += v * v; }
                    return r2 >= minimum * minimum;
                });
                if (ok) { kept.Add(c); break; }
            }
        }
        if (kept.Count != n) throw new InvalidOperationException($"placed only {kept.Count} of {n} particles");
        return kept.SelectMany(c => c).ToArray();
    }

    [Theory]
    [MemberData(nameof(Potentials))]
    public void ForcesAreMinusTheGradientOfTheTotalEnergy(string name)
    {
        var p = Make(name);
        foreach (int d in new[] { 2, 3 })
        {
            int n = name == "wca" ? 30 : 60;
            double side = Math.Max(d == 2 ? 14 : 7, 2.1 * p.Cutoff);
            var x = RandomPositions(n, d, side, 7);
            if (name == "wca") x = Spread(x, d, side, 0.8 * p.Cutoff);
            var (f, _) = Evaluate(p, x, d, side, threads: 1);
            double h = 1e-6;
            for (int q = 0; q < x.Length; q += 7)
            {
                var plus = (double[])x.Clone(); plus[q] += h;
                var minus = (double[])x.Clone(); minus[q] -= h;
                double numeric = -(Evaluate(p, plus, d, side, 1).Energy - Evaluate(p, minus, d, side, 1).Energy) / (2 * h);
                Assert.True(Math.Abs(numeric - f[q]) < 1e-5 * Math.Max(1, Math.Abs(f[q])), $"{name}, d = {d}, component {q}: -dE/dx = {numeric}, F = {f[q]}");
            }
        }
    }

    [Fact]
    public void ForcesDoNotDependOnTheThreadCount()
    {
        var p = new SoftplusRepulsion(1, 7.5);
        int n = 8192;
        double side = Math.Sqrt(n * Math.PI / 0.5);
        var x = RandomPositions(n, 2, side, 3);
        var one = Evaluate(p, x, 2, side, threads: 1).Forces;
        var many = Evaluate(p, x, 2, side, threads: -1).Forces;
        var two = Evaluate(p, x, 2, side, threads: 2).Forces;
        Assert.Equal(one, many);
        Assert.Equal(one, two);
    }

    /// <summary>
    /// The half-list sweep (each pair in one row, its term added to both particles; strips of cell slabs run even then
    /// odd) against all pairs, with enough particles and slabs for several strips and the parallel path: the forces
    /// agree to round-off (the sums differ only in order) and have the same bits on 1, 2 and 4 threads.
    /// </summary>
    [Theory]
    [InlineData("softplus", 2, true)]
    [InlineData("wca", 2, false)]
    [InlineData("harmonic", 3, true)]
    public void HalfListForcesMatchAllPairsAndDoNotDependOnTheThreadCount(string name, int d, bool periodic)
    {
        var p = Make(name);
        int n = d == 2 ? 4096 : 3000;
        double side = d == 2 ? Math.Sqrt(n * Math.PI / 0.5) : 8 * p.Cutoff;
        double? box = periodic ? side : null;
        var x = RandomPositions(n, d, side, 11);
        if (name == "wca") x = Spread(x, d, box, 0.75 * p.Cutoff);
        var reference = AllPairsForces(p, x, d, box);
        var (one, _) = Evaluate(p, x, d, box, threads: 1);
        var (two, _) = Evaluate(p, x, d, box, threads: 2);
        var (four, _) = Evaluate(p, x, d, box, threads: 4);
        Assert.Equal(one, two);
        Assert.Equal(one, four);
        double scale = reference.Max(Math.Abs);
        Assert.True(scale > 0, "the configuration has interacting pairs");
        for (int q = 0; q < one.Length; q++)
            Assert.True(Math.Abs(one[q] - reference[q]) <= 1e-12 * Math.Max(1, Math.Abs(reference[q])), $"component {q}: half list {one[q]}, all pairs {reference[q]}");
    }

    /// <summary>
    /// Moves every particle by a random displacement (wrapped into a periodic box) and checks the force sweep after each
    /// move against a field built fresh at the new positions and against all pairs: the neighbour list kept since an
    /// earlier build must find the same pairs. Moves below half the skin must not rebuild the lists; a move above must.
    /// </summary>
    [Theory]
    [InlineData("softplus", 2, true)]
    [InlineData("wca", 3, false)]
    [InlineData("harmonic", 3, true)]
    public void NeighbourListsKeptBetweenBuildsGiveTheForcesOfAFreshCellList(string name, int d, bool periodic)
    {
        var p = Make(name);
        int n = d == 2 ? 400 : name == "wca" ? 40 : 300;
        double side = d == 2 ? 40 : 3.2 * p.Cutoff;
        double? box = periodic ? side : null;
        var x = RandomPositions(n, d, side, 11);
        if (name == "wca") x = Spread(x, d, box, 0.75 * p.Cutoff);
        var rng = RandomStream.For(12, 0);
        var kept = Fresh(p, n, d, box, x).Field;
        long builds = Builds(kept);
        double halfSkin = 0.5 * Skin(kept);
        for (int move = 0; move < 12; move++)
        {
            // moves 0-9 stay below skin / 2 in total (each component below halfSkin / (10 sqrt d)); move 10 exceeds it
            double step = move < 10 ? 0.999 * halfSkin / (10 * Math.Sqrt(d)) : 1.01 * halfSkin;
            for (int q = 0; q < x.Length; q++)
            {
                x[q] += step * (move < 10 ? 2 * rng.NextDouble() - 1 : 1);
                if (box is { } l) x[q] -= l * Math.Floor(x[q] / l);
            }
            var f = Forces(kept, x);
            var (_, fresh) = Fresh(p, n, d, box, x);
            var reference = AllPairsForces(p, x, d, box);
            for (int q = 0; q < f.Length; q++)
            {
                Assert.True(Math.Abs(f[q] - fresh[q]) <= 1e-12 * Math.Max(1, Math.Abs(fresh[q])), $"move {move}, component {q}: kept lists {f[q]}, fresh lists {fresh[q]}");
                Assert.True(Math.Abs(f[q] - reference[q]) <= 1e-12 * Math.Max(1, Math.Abs(reference[q])), $"move {move}, component {q}: kept lists {f[q]}, all pairs {reference[q]}");
            }
            Assert.Equal(builds + (move < 10 ? 0 : move - 9), Builds(kept));
        }
    }

    /// <summary>
    /// A coordinate that turns non-finite after a build makes the next force call rebuild (the refresh counts it as an
    /// infinite displacement, on the eight-lane 2-D path as on the scalar one), and the rebuild names the particle.
    /// </summary>
    [Theory]
    [InlineData(2, true, double.NaN)]
    [InlineData(2, false, double.PositiveInfinity)]
    [InlineData(3, true, double.NaN)]
    public void ACoordinateThatTurnsNonFiniteAfterABuildIsNamed(int d, bool periodic, double bad)
    {
        var p = Make("softplus");
        int n = 403;
        double side = d == 2 ? 40 : 3.2 * p.Cutoff;
        double? box = periodic ? side : null;
        var x = RandomPositions(n, d, side, 13);
        var field = Fresh(p, n, d, box, x).Field;
        x[d * 123 + 1] = bad;
        var error = Assert.Throws<InvalidInputException>(() => Forces(field, x));
        Assert.Contains("particle 123 ", error.Message);
    }

    private static long Builds(object field) => field switch
    {
        PairForceField<SoftplusRepulsion> s => s.Neighbours.Builds,
        PairForceField<WcaRepulsion> w => w.Neighbours.Builds,
        PairForceField<HarmonicRepulsion> h => h.Neighbours.Builds,
        _ => throw new ArgumentException(field.GetType().Name),
    };

    private static double Skin(object field) => field switch
    {
        PairForceField<SoftplusRepulsion> s => s.Neighbours.Skin,
        PairForceField<WcaRepulsion> w => w.Neighbours.Skin,
        PairForceField<HarmonicRepulsion> h => h.Neighbours.Skin,
        _ => throw new ArgumentException(field.GetType().Name),
    };

    private static double[] Forces(object field, double[] x, int threads = -1, bool scalar = false)
    {
        var f = new double[x.Length];
        switch (field)
        {
            case PairForceField<SoftplusRepulsion> s: s.Neighbours.ScalarForces = scalar; s.Forces(x, f, threads); break;
            case PairForceField<WcaRepulsion> w: w.Neighbours.ScalarForces = scalar; w.Forces(x, f, threads); break;
            case PairForceField<HarmonicRepulsion> h: h.Neighbours.ScalarForces = scalar; h.Forces(x, f, threads); break;
            default: throw new ArgumentException(field.GetType().Name);
        }
        return f;
    }

    /// <summary>A new field (lists built at <paramref name="x"/>, by the scalar fill where <paramref name="scalar"/>) and its forces there.</summary>
    private static (object Field, double[] Forces) Fresh(IPairPotential p, int n, int d, double? box, double[] x, bool scalar = false)
    {
        object field = p switch
        {
            SoftplusRepulsion s => Field(s, n, d, box),
            WcaRepulsion w => Field(w, n, d, box),
            HarmonicRepulsion h => Field(h, n, d, box),
            _ => throw new ArgumentException(p.GetType().Name),
        };
        return (field, Forces(field, x, scalar: scalar));
    }

    /// <summary>
    /// The vectorised force sweep (eight pairs at a time on AVX-512) and the scalar path add the same terms in the same
    /// order, on all threads and on one, so they give the same bits (on a machine without AVX-512 every run takes the
    /// scalar path and only the thread-count part is tested there). The scalar path runs on the vector fill's pair arrays
    /// and, in a second field, on its own fill's. WCA in a dense 3-D box reaches the intervals near its core where the table
    /// falls back to the exact formula.
    /// </summary>
    [Theory]
    [InlineData("softplus", 2, true)]
    [InlineData("wca", 3, true)]
    [InlineData("harmonic", 2, false)]
    public void VectorAndScalarForceSweepsGiveTheSameBits(string name, int d, bool periodic)
    {
        var p = Make(name);
        int n = d == 2 ? 3000 : 400;
        double side = d == 2 ? Math.Sqrt(n * Math.PI / 0.5) : 3.2 * p.Cutoff;
        double? box = periodic ? side : null;
        var x = RandomPositions(n, d, side, 5);
        var (field, _) = Fresh(p, n, d, box, x);
        var vector = Forces(field, x, threads: -1);
        var oneThread = Forces(field, x, threads: 1);
        var scalar = Forces(field, x, threads: 1, scalar: true);
        var scalarBuilt = Fresh(p, n, d, box, x, scalar: true).Forces;   // pair arrays from the scalar fill too
        Assert.Equal(vector, oneThread);
        Assert.Equal(vector, scalar);
        Assert.Equal(vector, scalarBuilt);
        Assert.Contains(vector, v => v != 0);
    }

    /// <summary>
    /// The list rows filled straight from the cell list (eight candidates at a time, hits compressed in slot order, in
    /// parallel over blocks of cells) are the rows the kernel sweep fills: the same neighbours in the same order, so the
    /// forces have the same bits (on a machine without AVX-512 both fields use the kernel sweep and the test holds
    /// trivially). Moves past half the skin rebuild both lists.
    /// </summary>
    [Theory]
    [InlineData("softplus", 2, true)]
    [InlineData("softplus", 2, false)]
    [InlineData("wca", 3, true)]
    [InlineData("harmonic", 3, false)]
    public void ListRowsFilledFromTheCellListMatchTheKernelSweep(string name, int d, bool periodic)
    {
        var p = Make(name);
        int n = d == 2 ? 3000 : name == "wca" ? 80 : 400;
        double side = d == 2 ? Math.Sqrt(n * Math.PI / 0.5) : 4 * p.Cutoff;   // >= 3 cells of r_c + skin per axis
        double? box = periodic ? side : null;
        var x = RandomPositions(n, d, side, 21);
        if (name == "wca") x = Spread(x, d, box, 0.75 * p.Cutoff);
        var direct = Fresh(p, n, d, box, x).Field;
        var swept = Fresh(p, n, d, box, x).Field;
        var rng = RandomStream.For(22, 0);
        for (int move = 0; move < 3; move++)
        {
            SetKernelFill(swept, true);
            var expected = Forces(swept, x, threads: 1);
            Assert.Equal(expected, Forces(direct, x, threads: -1));
            Assert.Contains(expected, v => v != 0);
            for (int q = 0; q < x.Length; q++)
            {
                x[q] += 0.6 * Skin(direct) * (2 * rng.NextDouble() - 1);
                if (box is { } l) x[q] -= l * Math.Floor(x[q] / l);
            }
        }
        Assert.Equal(Builds(swept), Builds(direct));
        Assert.True(Builds(direct) > 1);
    }

    private static void SetKernelFill(object field, bool kernel)
    {
        switch (field)
        {
            case PairForceField<SoftplusRepulsion> s: s.Neighbours.KernelFill = kernel; break;
            case PairForceField<WcaRepulsion> w: w.Neighbours.KernelFill = kernel; break;
            case PairForceField<HarmonicRepulsion> h: h.Neighbours.KernelFill = kernel; break;
            default: throw new ArgumentException(field.GetType().Name);
        }
    }

    /// <summary>
    /// The parallel cell build (one block of particles per worker) gives the serial stable counting sort's slots and
    /// positions, and names the same particle when a coordinate is not finite.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void CellBuildInParallelIsTheSerialSort(int d)
    {
        int n = 20_000;
        double side = d == 2 ? Math.Sqrt(n * Math.PI / 0.5) : Math.Cbrt(n * 4.0);
        var x = RandomPositions(n, d, side, 31);
        for (int q = 0; q < x.Length; q += 7) x[q] += side * (q % 3 - 1);   // some coordinates outside [0, L)
        var serial = new CellList(n, d, 5.2, side);
        var parallel = new CellList(n, d, 5.2, side);
        serial.Build(x);
        parallel.BuildInParallel(x, -1);
        Assert.Equal(serial.SortedIndex, parallel.SortedIndex);
        var a = Forces(serial, d);
        Assert.Equal(a, Forces(parallel, d));
        x[d * 15_000 + d - 1] = double.NaN;
        x[d * 12_345] = double.PositiveInfinity;
        var expected = Assert.Throws<InvalidInputException>(() => serial.Build(x)).Message;
        Assert.Equal(expected, Assert.Throws<InvalidInputException>(() => parallel.BuildInParallel(x, -1)).Message);
        Assert.Contains("particle 12345", expected);

        static double[] Forces(CellList cells, int d)
        {
            var f = new double[cells.Particles * d];
            cells.Sweep(new SumKernel(f, d), 1);
            return f;
        }
    }

    /// <summary>Sum of the separations to the neighbours: depends on every pair and on the order they are visited in.</summary>
    private struct SumKernel(double[] sums, int d) : INeighbourKernel
    {
        private double _x, _y, _z;

        public void Begin(int i) => _x = _y = _z = 0;

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            _x += dx * r2;
            _y += dy * r2;
            _z += dz * r2;
        }

        public void End(int i)
        {
            sums[i * d] = _x;
            sums[i * d + 1] = _y;
            if (d == 3) sums[i * d + 2] = _z;
        }
    }

    [Fact]
    public void ABoxSmallerThanTwiceTheCutoffIsBadInput()
    {
        var e = Assert.Throws<InvalidInputException>(() => new CellList(10, 2, 4.1875, 8.0));
        Assert.Contains("smaller than twice the interaction cutoff", e.Message);
    }
}
