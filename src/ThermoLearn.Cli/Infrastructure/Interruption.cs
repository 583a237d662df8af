using System.Runtime.InteropServices;
using ThermoLearn.IO;

namespace ThermoLearn.Cli.Infrastructure;

/// <summary>
/// Ctrl-C (SIGINT), SIGTERM and SIGHUP end the tool at once and cleanly: the temporary files of writes in progress
/// (<see cref="OutputFile"/>) are removed, so no hidden <c>.NAME.PID.GUID.tmp</c> is left behind, a finished output is
/// never half-replaced, and the exit code is the shell's convention 128 + signal number (130 for Ctrl-C, 143 for SIGTERM).
/// Installed by the tool's entry point only: tests call <see cref="CliApp.Run"/> in-process without it.
/// </summary>
internal static class Interruption
{
    private static readonly List<PosixSignalRegistration> Registrations = [];

    public static void Install(CliConsole console)
    {
        foreach (var (signal, code) in new[] { (PosixSignal.SIGINT, 130), (PosixSignal.SIGTERM, 143), (PosixSignal.SIGHUP, 129) })
        {
            try
            {
                Registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;   // the default would end the process without cleaning up
                    int removed = OutputFile.DeleteUnfinished();
                    try
                    {
                        console.Error.WriteLine($"interrupted ({signal}){(removed > 0 ? $": removed {removed} unfinished temporary file(s)" : "")}.");
                        console.Error.Flush();
                    }
                    catch (IOException) { }
                    Environment.Exit(code);
                }));
            }
            catch (PlatformNotSupportedException) { }
        }
    }
}
