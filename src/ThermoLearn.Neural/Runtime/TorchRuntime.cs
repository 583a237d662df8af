using TorchSharp;

namespace ThermoLearn.Neural.Runtime;

/// <summary>
/// One place that prepares libtorch for ThermoLearn: loads the native library (the build makes it
/// loadable on older libstdc++, see docs/torchsharp.md) and fixes the intra-op thread count, since
/// CPU results are bit-reproducible only for a fixed thread count.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static int _threads;

    /// <summary>Loads libtorch (once) and sets the number of intra-op CPU threads.</summary>
    /// <param name="threads">Threads for libtorch's CPU kernels; 1 gives bit-identical results run to run.</param>
    public static void Initialise(int threads = 1)
    {
        if (threads < 1)
        {
            throw new InvalidInputException($"torch threads must be at least 1, got {threads}.");
        }
        lock (Gate)
        {
            if (_threads != threads)
            {
                torch.set_num_threads(threads);
                _threads = threads;
            }
        }
    }

    /// <summary>
    /// A message for people when <paramref name="error"/> (or an inner exception) is TorchSharp failing to load
    /// libtorch, else null: which platform, what ThermoLearn ships, what to do, and what the loader said.
    /// </summary>
    public static string? LoadFailureMessage(Exception error)
    {
        // The deepest loader exception about TorchSharp or libtorch carries the loader's own words.
        Exception? found = null;
        for (var e = error; e is not null; e = e.InnerException)
            if (e is DllNotFoundException or TypeInitializationException or NotSupportedException
                && (e.Message.Contains("TorchSharp", StringComparison.Ordinal) || e.Message.Contains("libtorch", StringComparison.OrdinalIgnoreCase)))
                found = e;
        if (found is null) return null;
        var lines = found.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // The first line, and the first missing dependency other than the bridge itself (often the real cause).
        string said = lines.Length == 0 ? found.GetType().Name : lines[0];
        string? cause = lines.Skip(1).FirstOrDefault(l => l.Contains("cannot open", StringComparison.Ordinal) && !l.Contains("LibTorchSharp", StringComparison.Ordinal));
        if (cause is not null) said += " " + cause;
        return $"libtorch could not be loaded on {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}: the neural commands need "
            + "libtorch for linux-x64 (ThermoLearn.Neural references libtorch-cpu-linux-x64 and the thermolearn tool carries it); on another "
            + "platform build from source with that platform's libtorch package; on linux-x64 reinstall the tool (docs/torchsharp.md). "
            + $"The loader said: {said}";
    }
}
