using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Cli.Plotting;
using ThermoLearn.Control;
using ThermoLearn.Control.Tasks;
using ThermoLearn.Protocols;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// <c>thermolearn optimize</c>: finds the protocol minimising &lt;W&gt; + alpha * error for a task from
/// likelihood-ratio (fluctuation-response) gradients, compares it with the linear ramp on common random numbers
/// and with the task's references, optionally sweeping tau (W(tau) ~ W_inf + B / tau) or alpha (Pareto front).
/// </summary>
public static class OptimizeCommand
{
    public static Command Create(CliConsole console)
    {
        var task = new Option<string>("--task") { Description = "Task: " + string.Join(", ", TaskCatalog.Names) + ".", Required = true };
        var tau = new Option<double>("--tau") { Description = "Protocol duration tau (> 0).", Required = true };
        var set = new Option<string[]>("--set") { Description = "Task setting name=value (repeatable), e.g. k=1, gamma=0.2, barrier=4, steps=1000.", AllowMultipleArgumentsPerToken = false };
        var alpha = new Option<double?>("--alpha") { Description = "Weight of the error in <W> + alpha * error (task default if omitted)." };
        var knots = new Option<int?>("--knots") { Description = "Knots per control of the piecewise-linear protocol (task default if omitted); with --basis sine, the number of sine modes." };
        var basis = new Option<string>("--basis") { Description = "Protocol family: piecewise-linear (default) or sine.", DefaultValueFactory = _ => "piecewise-linear" };
        var iterations = new Option<int>("--iterations") { Description = "Most optimiser iterations.", DefaultValueFactory = _ => 200 };
        var trajectories = new Option<int>("--trajectories") { Description = "Largest batch of trajectories per gradient (the first is 1/8 of it); also the size of the final measurements.", DefaultValueFactory = _ => 16000 };
        var learningRate = new Option<double?>("--learning-rate") { Description = "Adam step in units of the controls (task default if omitted)." };
        var seed = SharedOptions.Seed("Random seed.", 1);
        var output = new Option<string?>("--out") { Description = "Write the optimised protocol (JSON) here." };
        var plot = new Option<string?>("--plot") { Description = "Figure (.png or .svg): lambda(t) (against the known optimum), or W vs tau / the Pareto front when sweeping." };
        var sweepTau = new Option<string?>("--sweep-tau") { Description = "Comma-separated durations: optimise at each and fit W(tau) = W_inf + B / tau." };
        var sweepAlpha = new Option<string?>("--sweep-alpha") { Description = "Comma-separated alphas: optimise at each and report the work-error Pareto front." };
        var json = SharedOptions.Json();
        var command = new Command("optimize", "Optimise a control protocol from fluctuation responses (likelihood-ratio gradients) and compare it with the linear ramp and the task's bounds; the final measurements are extrapolated to dt -> 0 (work_at_dt: at the optimiser's dt).")
        {
            task, tau, set, alpha, knots, basis, iterations, trajectories, learningRate, seed, output, plot, sweepTau, sweepAlpha, json,
        };
        command.SetAction(parse =>
        {
            string taskName = parse.GetValue(task)!;
            var settings = ParseSettings(parse.GetValue(set));
            string? plotPath = parse.GetValue(plot), outPath = parse.GetValue(output);
            if (plotPath is not null) PlotFile.Validate(plotPath);
            if (outPath is not null) CheckFolder(outPath);
            var run = new RunSettings(parse.GetValue(alpha), parse.GetValue(knots), parse.GetValue(basis)!, parse.GetValue(iterations),
                parse.GetValue(trajectories), parse.GetValue(learningRate), parse.GetValue(seed));
            run.Validate();
            double tauValue = parse.GetValue(tau);
            var first = TaskCatalog.Create(taskName, tauValue, settings);
            var taus = ParseList(parse.GetValue(sweepTau), "--sweep-tau");
            var alphas = ParseList(parse.GetValue(sweepAlpha), "--sweep-alpha");
            if (taus is not null && alphas is not null) throw new InvalidInputException("give either --sweep-tau or --sweep-alpha, not both.");
            foreach (double t in taus ?? []) TaskCatalog.Create(taskName, t, settings);
            foreach (double a in alphas ?? [])
                if (!(a >= 0) || !double.IsFinite(a)) throw new InvalidInputException($"--sweep-alpha: alpha must be a finite number >= 0 (got {a}).");

            JsonObject result;
            if (taus is not null)
            {
                var points = taus.Select(t => Optimise(console, TaskCatalog.Create(taskName, t, settings), run, $"tau={t}")).ToList();
                result = SweepJson(points, "tau");
                var fit = InverseTauFit.Of(points.Select(p => p.Task.Duration).ToList(), points.Select(p => p.Final.Work.Mean).ToList());
                result["fit"] = new JsonObject { ["w_inf"] = JsonOutput.Number(fit.WInf), ["b"] = JsonOutput.Number(fit.B) };
                if (plotPath is not null) PlotWorkVersusTau(points, fit, plotPath);
                if (!parse.GetValue(json))
                    foreach (var p in points) console.Out.WriteLine($"tau = {p.Task.Duration,8:G4}: W = {p.Final.Work.Mean:F4} +- {p.Final.Work.StandardError:F4}, error = {p.Final.Error.Mean:F4}");
            }
            else if (alphas is not null)
            {
                var points = alphas.Select(a => Optimise(console, first, run with { Alpha = a }, $"alpha={a}")).ToList();
                result = SweepJson(points, "alpha");
                if (plotPath is not null) PlotPareto(points, plotPath);
                if (!parse.GetValue(json))
                    foreach (var p in points) console.Out.WriteLine($"alpha = {p.Alpha,8:G4}: W = {p.Final.Work.Mean:F4} +- {p.Final.Work.StandardError:F4}, error = {p.Final.Error.Mean:F4}");
            }
            else
            {
                var outcome = Optimise(console, first, run, "optimize");
                result = OutcomeJson(outcome, includeLog: true);
                if (outPath is not null) ProtocolFile.Write(outPath, Document(outcome));
                if (plotPath is not null) PlotProtocol(outcome, plotPath);
                if (!parse.GetValue(json)) WriteText(console, outcome);
            }
            if (parse.GetValue(json)) JsonOutput.Write(console, result);
            return CliApp.ExitOk;
        });
        return command;
    }

    internal sealed record RunSettings(double? Alpha, int? Knots, string Basis, int Iterations, int Trajectories, double? LearningRate, ulong Seed)
    {
        public void Validate()
        {
            if (Basis is not ("piecewise-linear" or "sine")) throw new InvalidInputException($"--basis must be piecewise-linear or sine (got '{Basis}').");
            if (Iterations < 1) throw new InvalidInputException($"--iterations must be >= 1 (got {Iterations}).");
            if (Trajectories < 16) throw new InvalidInputException($"--trajectories must be >= 16 (got {Trajectories}).");
            if (Knots is { } k && (k < (Basis == "sine" ? 0 : 2) || k > 200)) throw new InvalidInputException($"--knots must be between {(Basis == "sine" ? 0 : 2)} and 200 (got {k}).");
            if (Alpha is { } a && (!(a >= 0) || !double.IsFinite(a))) throw new InvalidInputException($"--alpha must be a finite number >= 0 (got {a}).");
            if (LearningRate is { } r && (!(r > 0) || !double.IsFinite(r))) throw new InvalidInputException($"--learning-rate must be positive (got {r}).");
        }
    }

    internal sealed record Outcome(ControlTask Task, double Alpha, OptimizationResult Result, ProtocolMeasurement Final, ProtocolMeasurement Baseline);

    /// <summary>
    /// Class 4 of issue 15, before running: a step dt = tau / steps past the explicit scheme's stability limit gives wrong
    /// numbers or a blow-up (which the run then reports), so it is said on stderr first.
    /// </summary>
    internal static void WarnIfPastStabilityLimit(CliConsole console, ControlTask task, ThermoLearn.Protocols.IProtocol protocol, string what)
    {
        if (task.StabilityLimit(protocol) is not { } limit || !(task.Dt > limit.MaxDt)) return;
        // steps are capped at 10^7 (TaskCatalog): past that, only a shorter tau or a softer task helps
        double needed = Math.Ceiling(2 * task.Duration / limit.MaxDt);
        string remedy = needed <= 10_000_000
            ? $"Use --set steps={needed:F0} or more."
            : $"It would take {needed:G3} steps, more than the 10^7 allowed: use a shorter --tau or a softer task.";
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warning: {what}: dt = tau / steps = {task.Dt:G3} is past the stability limit {limit.Description}; the paths will be wrong or blow up. {remedy}"));
    }

    /// <summary>Class 5 of issue 15: says on stderr when <paramref name="trajectorySteps"/> of the control kernel are estimated to take more than a minute.</summary>
    internal static void AnnounceTime(CliConsole console, double trajectorySteps, string what)
    {
        double seconds = ThermoLearn.Resources.TimeEstimate.Seconds(trajectorySteps, ThermoLearn.Resources.TimeEstimate.ControlStepsPerCpuSecond);
        if (ThermoLearn.Resources.TimeEstimate.Announcement(seconds, what) is { } line) console.Error.WriteLine("note: " + line);
    }

    private static Outcome Optimise(CliConsole console, ControlTask task, RunSettings run, string label)
    {
        WarnIfPastStabilityLimit(console, task, task.LinearRamp(), label);
        WarnIfTrapReferenceBiased(console, task, label);
        // at most: every iteration at the largest batch, then the final measurements (optimised protocol and ramp, each at
        // steps, 2 x steps and 4 x steps: ControlTask.Measure)
        AnnounceTime(console, ((double)run.Iterations + 14) * run.Trajectories * task.Steps,
            $"{label}: up to {run.Iterations} iterations of up to {run.Trajectories} paths x {task.Steps} steps");
        ProtocolFamily family = run.Basis == "sine" ? task.SineFamily(run.Knots ?? 4) : task.KnotFamily(run.Knots ?? task.DefaultKnots);
        double alpha = run.Alpha ?? task.DefaultAlpha;
        var options = new OptimizerOptions
        {
            Alpha = alpha,
            Iterations = run.Iterations,
            MaxTrajectories = run.Trajectories,
            InitialTrajectories = Math.Max(16, run.Trajectories / 8),
            LearningRate = run.LearningRate ?? task.DefaultLearningRate,
            Seed = run.Seed,
        };
        var progress = new ProgressReporter(console, label);
        var result = ProtocolOptimizer.Run(task, family, task.InitialGuess(family), options, step => progress.Report(
            (step.Iteration + 1.0) / run.Iterations,
            string.Create(CultureInfo.InvariantCulture, $"it {step.Iteration}: L = {step.Objective.Mean:F4}, W = {step.Work.Mean:F4} +- {step.Work.StandardError:F4}, error = {step.Error.Mean:F4}, |grad| = {step.GradientNorm:F3} (noise {step.GradientNoise:F3}), M = {step.Trajectories}")));
        progress.Report(1, result.StopReason);
        // Common random numbers: the optimised protocol and the baseline are measured on the same paths' noise.
        ulong evaluation = ProtocolOptimizer.EvaluationSeed(run.Seed);
        var final = task.Measure(result.Protocol, alpha, evaluation, run.Trajectories);
        var baseline = task.Measure(task.LinearRamp(), alpha, evaluation, run.Trajectories);
        return new Outcome(task, alpha, result, final, baseline);
    }

    /// <summary>
    /// translate-trap's continuous-time references (W_lin; W* is optimum_work) and the exact means of lambda* and of the
    /// ramp on the simulated chain, which is what the estimates converge to at the run's time step.
    /// </summary>
    internal static void AddTrapReferences(JsonObject json, TranslateTrapTask trap)
    {
        json["linear_ramp_work"] = JsonOutput.Number(trap.LinearRampWork);
        json["optimum_work_at_dt"] = JsonOutput.Number(trap.OptimalWorkAtStep);
        json["optimum_work_extrapolated"] = JsonOutput.Number(trap.OptimalWorkExtrapolated);
        json["linear_ramp_work_at_dt"] = JsonOutput.Number(trap.LinearRampWorkAtStep);
    }

    /// <summary>
    /// translate-trap: says on stderr when the time step moves the simulated chain's mean work of lambda* more than 0.5 %
    /// off W* (Euler-Maruyama's bias, about -k dt / (2 gamma) relative), so the iterations' estimates are not compared with
    /// W* as if they measured it; the final measurements are extrapolated to dt -&gt; 0, and their exact value is said too.
    /// </summary>
    internal static void WarnIfTrapReferenceBiased(CliConsole console, ControlTask task, string what)
    {
        if (task is not TranslateTrapTask trap || !(trap.OptimalWork > 0)) return;
        double exact = trap.OptimalWork, chain = trap.OptimalWorkAtStep;
        if (!double.IsFinite(chain) || Math.Abs(chain - exact) <= 0.005 * exact) return;   // not finite: past stability, said above
        double extrapolated = trap.OptimalWorkExtrapolated;
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warning: {what}: at dt = tau / steps = {task.Dt:G3} (k dt / gamma = {trap.Stiffness * task.Dt / task.Dynamics.Friction:G3}) the simulated chain's exact <W> of the optimum is {chain:G5}, "
            + $"not W* = {exact:G5} ({100 * (chain / exact - 1):+0.0;-0.0} %); the iterations and work_at_dt carry this bias (optimum_work_at_dt, linear_ramp_work_at_dt), "
            + $"the measurements extrapolated to dt -> 0 ('work') {100 * (extrapolated / exact - 1):+0.000;-0.000} % (optimum_work_extrapolated = {extrapolated:G5}). "
            + $"Use --set steps={TranslateTrapTask.DefaultSteps(task.Duration, trap.Stiffness, task.Dynamics.Friction)} or more."));
    }

    internal static JsonObject MeasurementJson(ProtocolMeasurement m)
    {
        var json = new JsonObject
        {
            ["work"] = JsonOutput.Number(m.Work.Mean),
            ["work_stderr"] = JsonOutput.Number(m.Work.StandardError),
            ["error"] = JsonOutput.Number(m.Error.Mean),
            ["error_stderr"] = JsonOutput.Number(m.Error.StandardError),
            ["objective"] = JsonOutput.Number(m.Objective.Mean),
            ["objective_stderr"] = JsonOutput.Number(m.Objective.StandardError),
            ["trajectories"] = m.Trajectories,
            ["seed"] = m.Seed,
        };
        var step = m.AtStep;
        json["steps"] = step.Steps;
        json["work_at_dt"] = JsonOutput.Number(step.Work.Mean);
        json["work_at_dt_stderr"] = JsonOutput.Number(step.Work.StandardError);
        json["error_at_dt"] = JsonOutput.Number(step.Error.Mean);
        json["error_at_dt_stderr"] = JsonOutput.Number(step.Error.StandardError);
        json["work_step_bias"] = JsonOutput.Number(step.WorkBias.Mean);
        json["work_step_bias_stderr"] = JsonOutput.Number(step.WorkBias.StandardError);
        var r = m.References;
        if (r.OptimumWork is { } w) json["optimum_work"] = JsonOutput.Number(w);
        if (r.LandauerBound is { } l) json["landauer_bound"] = JsonOutput.Number(l);
        if (r.FiniteTimeBound is { } f) json["finite_time_bound"] = JsonOutput.Number(f);
        if (r.Wasserstein2 is { } w2) json["wasserstein_2"] = JsonOutput.Number(w2);
        if (r.NonequilibriumFreeEnergyChange is { } df) json["delta_f_neq"] = JsonOutput.Number(df);
        if (r.OverdampedObjectiveBound is { } ob) json["overdamped_objective_bound"] = JsonOutput.Number(ob);
        return json;
    }

    private static JsonObject OutcomeJson(Outcome o, bool includeLog)
    {
        var json = new JsonObject
        {
            ["task"] = o.Task.Name,
            ["tau"] = o.Task.Duration,
            ["alpha"] = o.Alpha,
            ["settings"] = Settings(o.Task),
        };
        foreach (var (key, value) in MeasurementJson(o.Final)) json[key] = value?.DeepClone();
        if (o.Task is TranslateTrapTask trap) AddTrapReferences(json, trap);
        json["baseline"] = MeasurementJson(o.Baseline);
        var samples = o.Result.Protocol.Tabulate();
        json["protocol"] = new JsonObject
        {
            ["controls"] = new JsonArray(o.Task.ControlNames.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["t"] = JsonOutput.Array(samples.Times),
            ["lambda"] = new JsonArray(samples.Values.Select(v => (JsonNode?)JsonOutput.Array(v)).ToArray()),
            ["family"] = o.Result.Protocol.Family.Kind,
            ["theta"] = JsonOutput.Array(o.Result.Protocol.Parameters.ToArray()),
        };
        json["stop_reason"] = o.Result.StopReason;
        if (includeLog)
            json["iterations"] = new JsonArray(o.Result.Log.Select(s => (JsonNode?)new JsonObject
            {
                ["iteration"] = s.Iteration,
                ["trajectories"] = s.Trajectories,
                ["objective"] = JsonOutput.Number(s.Objective.Mean),
                ["work"] = JsonOutput.Number(s.Work.Mean),
                ["work_stderr"] = JsonOutput.Number(s.Work.StandardError),
                ["error"] = JsonOutput.Number(s.Error.Mean),
                ["gradient_norm"] = JsonOutput.Number(s.GradientNorm),
                ["gradient_noise"] = JsonOutput.Number(s.GradientNoise),
            }).ToArray());
        return json;
    }

    private static JsonObject SweepJson(List<Outcome> points, string over)
    {
        var first = points[0];
        return new JsonObject
        {
            ["task"] = first.Task.Name,
            ["sweep"] = over,
            ["settings"] = Settings(first.Task),
            ["points"] = new JsonArray(points.Select(p => (JsonNode?)OutcomeJson(p, includeLog: false)).ToArray()),
        };
    }

    private static JsonObject Settings(ControlTask task) =>
        new(task.Parameters.Select(kv => KeyValuePair.Create(kv.Key, JsonOutput.Number(kv.Value))));

    private static ProtocolDocument Document(Outcome o) => new(o.Task.Name, o.Task.Parameters, o.Task.ControlNames, o.Result.Protocol.Tabulate(),
        o.Result.Protocol.Family.Kind, o.Result.Protocol.Family.ParametersPerControl, o.Result.Protocol.Parameters.ToArray());

    private static void WriteText(CliConsole console, Outcome o)
    {
        var f = o.Final;
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{o.Task.Name}, tau = {o.Task.Duration}, alpha = {o.Alpha}: {o.Result.StopReason}"));
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  optimised: W = {f.Work.Mean:F4} +- {f.Work.StandardError:F4}, error = {f.Error.Mean:F4} +- {f.Error.StandardError:F4}"));
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  linear ramp: W = {o.Baseline.Work.Mean:F4} +- {o.Baseline.Work.StandardError:F4}, error = {o.Baseline.Error.Mean:F4}"));
        WriteReferences(console, o.Task, f);
    }

    /// <summary>The task's references for a measurement, one line each (text output of optimize and evaluate-protocol).</summary>
    internal static void WriteReferences(CliConsole console, ControlTask task, ProtocolMeasurement f)
    {
        var step = f.AtStep;
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  (W and error above are extrapolated to dt -> 0; the chain at dt = {step.Dt:G3}, {step.Steps} steps, as the iterations run: W = {step.Work.Mean:F4} +- {step.Work.StandardError:F4}, error = {step.Error.Mean:F4}, step bias of W {step.WorkBias.Mean:+0.0000;-0.0000} +- {step.WorkBias.StandardError:F4})"));
        if (f.References.OptimumWork is { } w && task is TranslateTrapTask trap)
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  optimum (Schmiedl-Seifert): W* = {w:F4} (W_lin = {trap.LinearRampWork:F4}; at this dt, exact: {trap.OptimalWorkAtStep:F4} and {trap.LinearRampWorkAtStep:F4})"));
        if (f.References.OverdampedObjectiveBound is { } ob) console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  any overdamped 1-D flip: success <= 1/2, objective >= alpha/2 = {ob:F4}"));
        if (f.References.LandauerBound is { } l) console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Landauer bound: {l:F4}; finite-time bound: {f.References.FiniteTimeBound:F4}"));
    }

    private static void PlotProtocol(Outcome o, string path)
    {
        var samples = o.Result.Protocol.Tabulate();
        var plot = PlotFile.Create($"{o.Task.Name}: optimised protocol (tau = {o.Task.Duration:G4})", "t", "lambda(t)");
        var t = samples.Times.ToArray();
        for (int c = 0; c < o.Task.ControlCount; c++)
        {
            var line = plot.Add.ScatterLine(t, samples.Values.Select(v => v[c]).ToArray());
            line.LegendText = $"{o.Task.ControlNames[c]} (optimised)";
        }
        if (o.Task is TranslateTrapTask trap)
        {
            var exact = TabulatedProtocol.Sample(trap.OptimalProtocol, 201);
            var line = plot.Add.ScatterLine(exact.Times.ToArray(), exact.Values.Select(v => v[0]).ToArray());
            line.LegendText = "lambda*(t) (Schmiedl-Seifert)";
            line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.ShowLegend();
        PlotFile.Save(plot, path);
    }

    private static void PlotWorkVersusTau(List<Outcome> points, InverseTauFit fit, string path)
    {
        var plot = PlotFile.Create($"{points[0].Task.Name}: optimised work vs duration", "tau", "<W>");
        var taus = points.Select(p => p.Task.Duration).ToArray();
        var measured = plot.Add.ScatterPoints(taus, points.Select(p => p.Final.Work.Mean).ToArray());
        measured.LegendText = "optimised <W>";
        plot.Add.ErrorBar(taus, points.Select(p => p.Final.Work.Mean).ToArray(), points.Select(p => 2 * p.Final.Work.StandardError).ToArray());
        var grid = Enumerable.Range(0, 100).Select(i => taus.Min() + (taus.Max() - taus.Min()) * i / 99.0).ToArray();
        var fitted = plot.Add.ScatterLine(grid, grid.Select(t => fit.WInf + fit.B / t).ToArray());
        fitted.LegendText = string.Create(CultureInfo.InvariantCulture, $"W_inf + B/tau = {fit.WInf:F3} + {fit.B:F3}/tau");
        if (points[0].Final.References.FiniteTimeBound is not null)
        {
            var bound = plot.Add.ScatterLine(taus, points.Select(p => p.Final.References.FiniteTimeBound ?? double.NaN).ToArray());
            bound.LegendText = "finite-time bound";
            bound.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        if (points[0].Task is TranslateTrapTask)
        {
            var exact = plot.Add.ScatterLine(grid, grid.Select(t => ((TranslateTrapTask)TaskCatalog.Create("translate-trap", t,
                points[0].Task.Parameters.Where(kv => kv.Key != "steps").ToDictionary())).OptimalWork).ToArray());
            exact.LegendText = "W* (Schmiedl-Seifert)";
            exact.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.ShowLegend();
        PlotFile.Save(plot, path);
    }

    private static void PlotPareto(List<Outcome> points, string path)
    {
        var plot = PlotFile.Create($"{points[0].Task.Name}: work-error Pareto front (tau = {points[0].Task.Duration:G4})", "error", "<W>");
        var front = plot.Add.ScatterLine(points.Select(p => p.Final.Error.Mean).ToArray(), points.Select(p => p.Final.Work.Mean).ToArray());
        front.LegendText = "optimised, one point per alpha";
        plot.ShowLegend();
        PlotFile.Save(plot, path);
    }

    internal static Dictionary<string, double> ParseSettings(string[]? values)
    {
        var settings = new Dictionary<string, double>();
        foreach (string item in values ?? [])
        {
            int eq = item.IndexOf('=');
            if (eq <= 0 || !double.TryParse(item[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new InvalidInputException($"--set expects name=value with a number, e.g. --set k=2 (got '{item}').");
            settings[item[..eq].Trim()] = value;
        }
        return settings;
    }

    private static double[]? ParseList(string? text, string option)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new InvalidInputException($"{option}: '{parts[i]}' is not a number (expected a comma-separated list such as 1,2,5).");
        if (values.Length == 0) throw new InvalidInputException($"{option}: give at least one value.");
        return values;
    }

    internal static void CheckFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is null || !Directory.Exists(folder)) throw new InvalidInputException($"{path}: the folder '{folder}' does not exist.");
    }
}
