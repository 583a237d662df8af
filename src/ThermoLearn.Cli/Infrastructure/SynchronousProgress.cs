namespace ThermoLearn.Cli.Infrastructure;

/// <summary>Reports on the training thread: <see cref="Progress{T}"/> would post to the thread pool and could print after the command returns.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
