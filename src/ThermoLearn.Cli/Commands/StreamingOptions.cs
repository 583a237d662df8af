using System.CommandLine;
using System.Text.Json.Nodes;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.Inference;
using ThermoLearn.Inference.Bases;
using ThermoLearn.IO;

namespace ThermoLearn.Cli.Commands;

/// <summary>
/// How <c>estimate</c> reads its file: in chunks of <c>--chunk-mb</c> (two held at a time), whatever the method (current, tur,
/// jump, underdamped and the neural ones, once per epoch; <c>--per-trajectory</c> and <c>--plot</c> with another pass), and
/// <c>--statistics-out</c>, the sufficient statistics of current and tur for <c>thermolearn reduce</c>.
/// </summary>
internal sealed class StreamingOptions
{
    public Option<int> ChunkMb { get; } = new("--chunk-mb")
    {
        Description = "Megabytes of the file held per chunk at most (two chunks are held: one accumulated while the next is read; current and tur take at most 8 MB, which stays in the processor's cache); every method reads the file in chunks (the neural ones once per epoch).",
        DefaultValueFactory = _ => 128,
    };

    public Option<string?> StatisticsOut { get; } = new("--statistics-out")
    {
        Description = "current, tur: also write the sufficient statistics (.stats) for thermolearn reduce; a shard of a run keeps the run's batches.",
    };

    public void AddTo(Command command)
    {
        command.Add(ChunkMb);
        command.Add(StatisticsOut);
    }

    /// <summary>Values held per chunk.</summary>
    public long ChunkValues(ParseResult parse) => (long)parse.GetValue(ChunkMb) * (1 << 20) / sizeof(double);

    public void Check(ParseResult parse, string method)
    {
        if (parse.GetValue(ChunkMb) is < 1 or > 65536) throw new InvalidInputException($"--chunk-mb must be between 1 and 65536 (got {parse.GetValue(ChunkMb)}).");
        if (parse.GetValue(StatisticsOut) is not { } path) return;
        if (!CurrentEstimateRequest.Methods.Contains(method))
            throw new InvalidInputException("--statistics-out needs --method current or tur (their statistics are the mergeable ones).");
        if (!path.EndsWith(".stats", StringComparison.OrdinalIgnoreCase))
            throw new InvalidInputException($"--statistics-out {path}: give a name ending in .stats.");
        SimulateCommand.CheckWritable(path);
    }

    /// <summary>Where --statistics-out writes (null path: not asked); the method fills in the part.</summary>
    public StatisticsOutput Output(ParseResult parse) => new(parse.GetValue(StatisticsOut));

    /// <summary>Writes the statistics when --statistics-out was given; returns the path written, or null.</summary>
    public static string? Write(StatisticsOutput output)
    {
        if (output.Path is not { } path || output.Part is null) return null;
        StatisticsFile.Write(path, output.Part);
        return path;
    }

    /// <summary>The command's outcome of a current or TUR estimate (also used by reduce).</summary>
    public static EstimateOutcome Outcome(CurrentEstimateResult r)
    {
        var extra = new JsonObject();
        if (r.Uncorrected is { } u)
        {
            extra["ep_rate_uncorrected"] = JsonOutput.Number(u.Rate);
            extra["stderr_uncorrected"] = JsonOutput.Number(u.StandardError);
        }
        if (r.MeasurementNoise is { } noise) extra["measurement_noise"] = InferCommand.MeasurementNoiseJson(noise);
        return new EstimateOutcome(r.Estimate, r.TimeSeries, r.Force, extra) { MeasurementNoise = r.MeasurementNoise };
    }

    /// <summary>The data's range (for rbf centres) from one pass over the file <paramref name="open"/> opens.</summary>
    internal static (double[] Lower, double[] Upper) Range(Func<TrajectoryReader> open, long chunkValues)
    {
        using var reader = open();
        int d = reader.Header.Dimension;
        var lower = Enumerable.Repeat(double.PositiveInfinity, d).ToArray();
        var upper = Enumerable.Repeat(double.NegativeInfinity, d).ToArray();
        foreach (var chunk in reader.Chunks(chunkValues, 0)) BasisSpec.Extend(chunk.Data.Data, d, lower, upper);
        return (lower, upper);
    }
}

/// <summary>--statistics-out: the path (null when not asked) and, once a current or TUR estimate has accumulated them, its statistics.</summary>
internal sealed class StatisticsOutput(string? path)
{
    public string? Path => path;

    public StatisticsPart? Part { get; set; }
}
