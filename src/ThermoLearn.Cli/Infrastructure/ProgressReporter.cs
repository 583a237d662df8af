using System.Diagnostics;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// Progress for long work, on stderr: a redrawn line on a terminal, a plain line at most every few
/// seconds when stderr is redirected (logs, Slurm output files). Never writes to stdout.
/// </summary>
public sealed class ProgressReporter : IProgress<double>
{
    private readonly CliConsole _console;
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly double _interval;
    private double _lastReport = double.NegativeInfinity;
    private readonly object _gate = new();

    public ProgressReporter(CliConsole console, string label)
    {
        _console = console;
        _label = label;
        _interval = console.ErrorIsTerminal ? 0.2 : 5.0;
    }

    /// <summary>Reports a fraction done in [0, 1] with an optional detail (e.g. the current loss).</summary>
    public void Report(double fraction, string? detail)
    {
        lock (_gate)
        {
            double now = _clock.Elapsed.TotalSeconds;
            if (fraction < 1 && now - _lastReport < _interval) return;
            _lastReport = now;
            string eta = fraction > 0.001 && fraction < 1 ? $", ~{now * (1 - fraction) / fraction:F0} s left" : "";
            string line = $"{_label}: {fraction * 100,5:F1}% ({now:F1} s{eta}){(detail is null ? "" : " " + detail)}";
            if (_console.ErrorIsTerminal) _console.Error.Write("\r" + line + (fraction >= 1 ? Environment.NewLine : ""));
            else _console.Error.WriteLine(line);
        }
    }

    public void Report(double value) => Report(value, null);
}
