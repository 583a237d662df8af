using ThermoLearn.Cli;
using ThermoLearn.Resources;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// Class 5 of issue 15: a command whose arguments need more memory than the machine has is refused before it allocates,
/// with the figure, the available memory and what to do instead. The sizes are far beyond any machine (hundreds of GB
/// to exabytes), so the refusals do not depend on where the tests run; each must also come back within seconds.
/// </summary>
public sealed class ResourceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-memory-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);


    private static void RefusedForMemory((int Code, string Out, string Error) r, string instead)
    {
        Assert.True(r.Code == CliApp.ExitBadInput, $"exit {r.Code}: {r.Error}");
        Assert.Contains("of memory, but this machine has", r.Error);
        Assert.Contains("available", r.Error);
        Assert.Contains(instead, r.Error);
    }

    [Fact]
    public void AvailableMemoryIsPositiveAndFormatted()
    {
        Assert.True(MemoryBudget.AvailableBytes() > 0);
        Assert.Equal("4.5 GB", MemoryBudget.Format(4.5e9));
    }

    [Fact]
    public void EvaluateProtocolWithTwoBillionTrajectoriesIsRefused()
    {
        Assert.Equal(0, Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "steps=20", "--iterations", "1", "--trajectories", "64",
            "--out", PathOf("p.json")).Code);
        RefusedForMemory(Run("evaluate-protocol", "--task", "translate-trap", "--protocol", PathOf("p.json"), "--trajectories", "2000000000"), "fewer --trajectories");
    }

    [Fact]
    public void OptimizeWithTwoBillionTrajectoriesIsRefused() =>
        RefusedForMemory(Run("optimize", "--task", "translate-trap", "--tau", "1", "--trajectories", "2000000000", "--iterations", "2"), "fewer --trajectories");

    [Fact]
    public void SimulateBeyondMemoryIsRefusedAndWritesNothing()
    {
        RefusedForMemory(Run("simulate", "--model", "driven-trap-2d", "--trajectories", "2000000000", "--steps", "4", "--dt", "0.01", "--out", PathOf("x.npy")), "--shard");
        Assert.False(File.Exists(PathOf("x.npy")));
    }

    [Fact]
    public void AHugePolynomialBasisIsRefusedBeforeItIsBuilt()
    {
        // 20-D data, poly:12: C(32, 12) = 225,792,840 functions, a Gram matrix of 5e17 numbers
        var data = new double[4 * 3 * 20];
        for (int i = 0; i < data.Length; i++) data[i] = Math.Sin(i);
        ThermoLearn.IO.NpyFormat.WriteArray(PathOf("d20.npy"), data, [4, 3, 20]);
        File.WriteAllText(PathOf("d20.npy.json"), "{\"dt\": 0.01}");
        RefusedForMemory(Run("estimate", "--in", PathOf("d20.npy"), "--basis", "poly:12"), "lower degree");
    }
}
