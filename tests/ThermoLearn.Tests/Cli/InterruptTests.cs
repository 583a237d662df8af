using System.Diagnostics;
using System.Text;
using ThermoLearn.Cli;
using Xunit;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// Class 6 of issue 15: a signal during a write removes the temporary file and exits with 128 + signal.
/// Runs the real tool (thermolearn.dll next to the tests) as a child process writing a large CSV, waits until its
/// temporary file appears, and signals it at once (a blocking poll on this thread: a Task.Delay loop can be starved
/// by the other tests running in parallel and miss the write).
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-signal-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Theory]
    [InlineData(15, 143)]   // SIGTERM
    [InlineData(2, 130)]    // SIGINT (Ctrl-C)
    public void ASignalDuringAWriteLeavesNoTemporaryFile(int signal, int expectedCode)
    {
        if (!OperatingSystem.IsLinux()) return;
        string tool = typeof(CliApp).Assembly.Location;
        // 300 x 2001 frames x 2 coordinates: a CSV of about 30 MB, seconds to write at CSV speed (5-8 MB/s, docs/formats.md),
        // so the signal, sent within milliseconds of the temporary file appearing, lands mid-write; the simulation before it
        // takes a fraction of a second (the test's time is mostly the child's start).
        // env --default-signal: a test host may start children with SIGINT ignored, which exec keeps.
        var start = new ProcessStartInfo("env", ["--default-signal=INT,TERM", "dotnet", tool, "simulate", "--model", "driven-trap-2d",
            "--trajectories", "300", "--steps", "2000", "--dt", "0.01", "--threads", "1", "--out", Path.Combine(_folder, "big.csv")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        var stderr = new StringBuilder();
        using var child = new Process { StartInfo = start };
        child.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        child.OutputDataReceived += (_, _) => { };
        child.Start();
        child.BeginErrorReadLine();
        child.BeginOutputReadLine();
        var watch = Stopwatch.StartNew();
        bool signalled = false;
        while (!child.HasExited && watch.Elapsed < TimeSpan.FromSeconds(180))
        {
            if (Directory.GetFiles(_folder, "*.tmp").Length > 0)
            {
                signalled = Kill(child.Id, signal) == 0;
                break;
            }
            Thread.Sleep(2);
        }
        Assert.True(signalled, "the child finished before its temporary file was seen: " + stderr);
        Assert.True(child.WaitForExit(60_000), "the child did not exit after the signal");
        child.WaitForExit();
        Assert.True(child.ExitCode == expectedCode, $"exit {child.ExitCode}: {stderr}");
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
        Assert.False(File.Exists(Path.Combine(_folder, "big.csv")));
        Assert.Contains("interrupted", stderr.ToString());
    }
}
