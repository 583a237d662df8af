using ThermoLearn.Fuzz;
using Xunit;

namespace ThermoLearn.Tests.Fuzz;

/// <summary>
/// Replays the fuzzing corpus and every crash afl++ ever found (fuzz/corpus/TARGET, fuzz/crashes/TARGET) through the
/// readers: each input must be accepted or refused with <see cref="InvalidInputException"/>; any other exception fails.
/// Needs no afl++: this is the regression half of scripts/fuzz.sh, and runs in seconds.
/// </summary>
public sealed class CorpusReplayTests
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Targets() => new(FuzzTargets.Names);

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task EveryCorpusAndCrashInputIsAcceptedOrRefusedCleanly(string target)
    {
        string root = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");
        var files = new[] { "corpus", "crashes" }
            .Select(kind => Path.Combine(root, kind, target))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetFiles)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith("README.txt", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        string folder = Directory.CreateTempSubdirectory("thermolearn-replay-").FullName;
        try
        {
            foreach (string file in files)
            {
                // hangs are kept too: each input gets a time limit far above a clean read's (milliseconds) even on a loaded machine
                var run = Task.Run(() => FuzzTargets.Run(target, File.ReadAllBytes(file), folder));
                Assert.True(await Task.WhenAny(run, Task.Delay(HangLimit)) == run,
                    $"{target} on {Path.GetFileName(file)}: still running after {HangLimit.TotalSeconds} s (a hang)");
                var e = run.Exception?.InnerException;
                Assert.True(e is null, $"{target} on {Path.GetFileName(file)}: {e?.GetType().Name}: {e?.Message}");
            }
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
