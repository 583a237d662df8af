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
}
