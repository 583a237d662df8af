using System.Globalization;
using System.Text;
using ScottPlot;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.Models;
using ThermoLearn.Trajectories;
using Xunit;
using Xunit.Abstractions;

namespace ThermoLearn.Tests.Inference;

/// <summary>
/// The validation matrix of issue 20: estimator x model family x frame spacing (largest rate x dt = 0.005 ... 0.2), each cell
/// over <see cref="Seeds"/> independent data sets: bias (mean estimate - exact, with the standard error of that mean from the
/// spread over seeds), the mean reported stderr, and the coverage of the reported 1.96-stderr intervals. Diffusions are
/// integrated with Heun (overdamped) or BAOAB (underdamped) sub-steps of at most 0.005 / rate; jump data are exact (Gillespie,
/// then the state at each grid time). Writes matrix.csv, matrix.md and one figure per family (relative bias against rate x dt)
/// to $THERMOLEARN_MATRIX_OUT or artifacts/inference-matrix; scripts/validate-inference-matrix.sh runs it and copies them into docs/.
/// </summary>
[Trait("Category", "Validation")]
public class InferenceMatrixValidation(ITestOutputHelper output)
{
    public static readonly double[] RateTimesDt = [0.005, 0.02, 0.05, 0.1, 0.2];
    private const int Seeds = 8;

    /// <summary>One cell: estimates and reported stderrs over seeds, against the exact value of the quantity compared.</summary>
    private sealed record Cell(string Family, string Method, string Compared, double X, double Exact, List<double> Values, List<double> Errors)
    {
        public double Mean => Values.Average();
        public double SeedError => Math.Sqrt(Values.Sum(v => (v - Mean) * (v - Mean)) / (Values.Count - 1) / Values.Count);
        public double Coverage => Values.Zip(Errors).Count(p => Math.Abs(p.First - Exact) < 1.96 * p.Second) / (double)Values.Count;
    }

    private static string OutputFolder()
    {
        if (Environment.GetEnvironmentVariable("THERMOLEARN_MATRIX_OUT") is { Length: > 0 } folder) return Directory.CreateDirectory(folder).FullName;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ThermoLearn.sln"))) dir = dir.Parent;
        return Directory.CreateDirectory(Path.Combine(dir?.FullName ?? ".", "artifacts", "inference-matrix")).FullName;
    }

    private static Cell Add(List<Cell> cells, string family, string method, string compared, double x, double exact)
    {
        var cell = cells.FirstOrDefault(c => c.Family == family && c.Method == method && c.X == x);
        if (cell is null)
        {
            cell = new Cell(family, method, compared, x, exact, [], []);
            cells.Add(cell);
        }
        return cell;
    }

    private static void Record(List<Cell> cells, string family, string method, string compared, double x, double exact, EntropyProductionEstimate e)
    {
        var cell = Add(cells, family, method, compared, x, exact);
        cell.Values.Add(e.Debiased);
        cell.Errors.Add(e.StandardError);
    }

    [Fact]
    public void Diffusions()
    {
        var cells = new List<Cell>();
        var linear = new LinearModel(new double[,] { { 1.0, 0.8 }, { -0.4, 2.0 } }, new double[,] { { 1.0, 0.2 }, { 0.2, 0.5 } });
        var families = new (string Name, StochasticModel Model, double Rate, string Basis)[]
        {
            ("linear 2-D", linear, linear.A is var a ? MaxEigenvalueModulus(a) : 0, "poly:1"),
            ("driven trap", InferenceData.DrivenTrap(), MaxEigenvalueModulus(InferenceData.DrivenTrap().A), "poly:1"),
            ("bead chain n=2", InferenceData.BeadSpring(2), MaxEigenvalueModulus(InferenceData.BeadSpring(2).A), "poly:1"),
            ("mexican-hat swirl", new MexicanHatSwirlModel(), 4.5, "poly:3"),
        };
        foreach (var (name, model, rate, basisSpec) in families)
        {
            double exact = model.EntropyProductionRate(0)!.Value;
            foreach (double x in RateTimesDt)
            {
                double dt = x / rate;
                int substeps = Math.Max(2, (int)Math.Ceiling(x / 0.005));
                for (int s = 0; s < Seeds; s++)
                {
                    var data = InferenceData.Run(model, dt, substeps, 10, Frames(x), seed: 70_000 + (ulong)(1000 * s) + (ulong)(x * 1e4)).Trajectories;
                    var basis = BasisSpec.Parse(basisSpec, data);
                    Record(cells, name, "current (plain)", "continuous", x, exact, EntropyProductionEstimator.Current(data, basis, DiffusionSpec.Estimated).EntropyProduction);
                    Record(cells, name, "current (Richardson, default)", "continuous", x, exact, EntropyProductionEstimator.CoarseSamplingCorrected(data, basis, DiffusionSpec.Estimated));
                    Record(cells, name, "tur (lower bound)", "continuous", x, exact, EntropyProductionEstimator.Tur(data, basis));
                }
                Progress("diffusions", $"{name} x = {x}: done");
            }
        }
        var under = new UnderdampedDrivenTrap();
        foreach (double x in RateTimesDt)
        {
            int substeps = Math.Max(2, (int)Math.Ceiling(x / 0.005));
            for (int s = 0; s < Seeds; s++)
            {
                var run = InferenceData.Run(under, x, substeps, 10, Frames(x), seed: 80_000 + (ulong)(1000 * s) + (ulong)(x * 1e4)).Trajectories;
                Record(cells, "underdamped trap", "underdamped (positions)", "continuous", x, under.EntropyProductionRateValue,
                    UnderdampedEntropyProduction.Estimate(InferenceData.Coordinates(run, 2), new PolynomialBasis(2, 1)));
            }
        }
        var breathing = new BreathingTrapModel();
        const double breathingRate = 4; // mu k(t) at the end of the ramp
        foreach (double x in RateTimesDt)
        {
            double dt = x / breathingRate;
            int frames = (int)Math.Round(1 / dt) + 1, substeps = Math.Max(2, (int)Math.Ceiling(x / 0.005));
            for (int s = 0; s < Seeds; s++)
            {
                var data = InferenceData.Run(breathing, dt, substeps, 2_000, frames, seed: 90_000 + (ulong)(1000 * s) + (ulong)(x * 1e4)).Trajectories;
                var series = EntropyProductionEstimator.Windows(data, new PolynomialBasis(1, 1), DiffusionSpec.Estimated, windows: 5, timeDegree: 4, joint: true);
                // the record's mean rate (mean of the 5 window values) against the exact mean; coverage over windows
                double exactMean = series.Windows.Average(w => NonStationaryAndOtherEstimatorTests.WindowAverage(breathing, w.Start, w.End));
                var cell = Add(cells, "breathing trap", "current (joint x-t fit, 5 windows)", "continuous", x, exactMean);
                cell.Values.Add(series.Windows.Average(w => w.Debiased));
                cell.Errors.Add(Math.Sqrt(series.Windows.Sum(w => w.StandardError * w.StandardError)) / series.Windows.Count);
            }
        }
        Write(cells, "diffusions");
    }

    private const string Pooled = "random jump processes, 3-8 states pooled (estimate / exact)";

    [Fact]
    public void JumpProcesses()
    {
        var cells = new List<Cell>();
        for (int states = 3; states <= 8; states++)
        {
            var model = JumpContinuousTimeTests.RandomProcess(states, 4000 + (ulong)states); // not the fast tests' processes (2000 + n)
            double maxExit = Enumerable.Range(0, states).Max(i => -model.Generator()[i, i]);
            double exact = model.EntropyProductionRateValue;
            foreach (double x in RateTimesDt)
            {
                double dt = x / maxExit;
                double chainExact = model.SampledChainEntropyProductionRate(dt);
                for (int s = 0; s < Seeds; s++)
                {
                    var data = GridSampled(model, 50, (int)Math.Round(100 / x), dt, 60_000 + (ulong)(1000 * s) + (ulong)(x * 1e4));
                    string family = $"random jump process, {states} states";
                    JumpEntropyProductionResult r;
                    try { r = JumpEntropyProduction.Analyse(data, new ErrorOptions(Batches: 25)); }
                    catch (InvalidInputException e)
                    {
                        output.WriteLine($"{family} x = {x} seed {s}: no estimate: {e.Message}");
                        continue;
                    }
                    void Both(string method, string compared, double target, EntropyProductionEstimate e)
                    {
                        Record(cells, family, method, compared, x, target, e);
                        // pooled over the six processes: estimate / exact against 1
                        Record(cells, Pooled, method, compared, x, 1, e with { Debiased = e.Debiased / target, StandardError = e.StandardError / target });
                    }
                    if (r.Continuous is { } c) Both("jump: generator MLE", "continuous", exact, c);
                    else output.WriteLine($"{family} x = {x} seed {s}: {r.Note}");
                    if (r.SampledChain is { } chain)
                    {
                        Both("jump: sampled chain vs continuous", "continuous", exact, chain);
                        Both("jump: sampled chain vs its own exact", "sampled chain", chainExact, chain);
                    }
                    if (r.Richardson is { } rich) Both("jump: Richardson lags 1-3", "continuous", exact, rich);
                }
                Progress("jumps", $"{states} states x = {x}: done");
            }
        }
        Write(cells, "jumps");
    }

    /// <summary>Exact grid sampling: a Gillespie path per trajectory, then the state held at each t = k dt.</summary>
    private static TrajectoryEnsemble GridSampled(MarkovJumpProcess model, int trajectories, int frames, double dt, ulong seed)
    {
        var data = new double[(long)trajectories * frames];
        Parallel.For(0, trajectories, r =>
        {
            var path = model.Gillespie(seed, r, (frames - 1) * dt + dt / 2);
            int k = 0;
            for (int f = 0; f < frames; f++)
            {
                double t = f * dt;
                while (k + 1 < path.Times.Length && path.Times[k + 1] <= t) k++;
                data[(long)r * frames + f] = path.States[k];
            }
        });
        return new TrajectoryEnsemble(trajectories, frames, 1, dt, data, new TrajectoryMetadata(model.Name, model.ParametersJson().ToJsonString(), seed, 0, null));
    }

    /// <summary>
    /// Frames per trajectory (10 trajectories): the same observed time, 10 x 1000 / rate, at every spacing, so cells differ by dt only;
    /// 1e5 frames at rate x dt = 0.1, 2e6 at 0.005.
    /// </summary>
    private static int Frames(double x) => (int)Math.Round(1_000 / x);

    private static void Progress(string name, string line) =>
        File.AppendAllText(Path.Combine(OutputFolder(), $"progress-{name}.log"), $"{DateTime.UtcNow:HH:mm:ss} {line}\n");

    private static double MaxEigenvalueModulus(double[,] a) =>
        MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfArray(a).Evd().EigenValues.Max(z => z.Magnitude);

    private void Write(List<Cell> cells, string name)
    {
        string folder = OutputFolder();
        var csv = new StringBuilder("family,method,compared_with,rate_x_dt,exact,mean_estimate,bias,bias_stderr,relative_bias,mean_reported_stderr,coverage_1.96,seeds\n");
        var md = new StringBuilder("| family | method | rate x dt | exact | bias (+- stderr over seeds) | relative | mean reported stderr | coverage |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var c in cells)
        {
            double bias = c.Mean - c.Exact;
            csv.Append(string.Join(',', $"\"{c.Family}\"", $"\"{c.Method}\"", c.Compared, F(c.X), F(c.Exact), F(c.Mean), F(bias), F(c.SeedError),
                F(bias / c.Exact), F(c.Errors.Average()), F(c.Coverage), c.Values.Count)).Append('\n');
            md.Append($"| {c.Family} | {c.Method} | {c.X} | {c.Exact:G5} | {bias:+0.00000;-0.00000} +- {c.SeedError:0.00000} | {bias / c.Exact:+0.0%;-0.0%} | {c.Errors.Average():0.00000} | {c.Values.Count(v => true) * c.Coverage:0}/{c.Values.Count} |\n");
            output.WriteLine($"{c.Family} | {c.Method} | x {c.X} | exact {c.Exact:G5} | bias {bias:+0.00000;-0.00000} +- {c.SeedError:0.00000} ({bias / c.Exact:+0.0%;-0.0%}) | stderr {c.Errors.Average():0.00000} | coverage {c.Coverage:P0}");
        }
        File.WriteAllText(Path.Combine(folder, $"matrix-{name}.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(folder, $"matrix-{name}.md"), md.ToString());
        foreach (var family in cells.Select(c => c.Family).Distinct())
        {
            var plot = PlotFile.Create($"{family}: relative bias against frame spacing", "largest rate x dt", "(mean estimate - exact) / exact");
            int colour = 0;
            foreach (var method in cells.Where(c => c.Family == family).Select(c => c.Method).Distinct())
            {
                var series = cells.Where(c => c.Family == family && c.Method == method).OrderBy(c => c.X).ToArray();
                var xs = series.Select(c => Math.Log10(c.X)).ToArray();
                var ys = series.Select(c => (c.Mean - c.Exact) / c.Exact).ToArray();
                var bars = plot.Add.ErrorBar(xs, ys, series.Select(c => 1.96 * c.SeedError / c.Exact).ToArray());
                bars.Color = Colors.Category10[colour % 10];
                var line = plot.Add.Scatter(xs, ys, Colors.Category10[colour % 10]);
                line.LegendText = method;
                colour++;
            }
            plot.Add.HorizontalLine(0, 1, Colors.Black, LinePattern.Dotted);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                RateTimesDt.Select(Math.Log10).ToArray(), RateTimesDt.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
            plot.ShowLegend(Alignment.LowerLeft);
            PlotFile.Save(plot, Path.Combine(folder, "bias-" + Slug(family) + ".png"));
        }
    }

    private static string Slug(string text) => new(text.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) ? ch : '-').ToArray());

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
