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

    [Fact]
    public void BeliefsTrainBeyondMemoryIsRefusedBeforeAllocating()
    {
        // 200 blocks of d_model 60,000 and d_mlp 1e6: 2.4e13 parameters, hundreds of TB with gradients and Adam moments
        string run = PathOf("run");
        RefusedForMemory(Run("beliefs", "train", "--process", "mess3", "--out", run, "--layers", "200", "--d-model", "60000", "--d-mlp", "1000000",
            "--tokens", "1000"), "use a smaller --batch, --d-model");
        Assert.False(Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any());
        // the default shape is small: weights, gradients and two moments of 4.6e5 float32 numbers plus a 64 x 10 batch's activations
        var config = new ThermoLearn.Neural.Transformers.TransformerConfig { Vocabulary = 3 };
        Assert.InRange(config.TrainingBytes(64), 16 * config.Parameters(), 64e6);
    }

    [Fact]
    public void ALongRunIsAnnouncedWithItsEstimatedTimeBeforeItStarts()
    {
        // 1e4 trajectories x 1e7 steps (2e11 coordinate-steps: minutes at 2e8 per core-second); dt = 1e6 blows up within 16 steps,
        // so the run stops at once after the announcement
        var r = Run("simulate", "--model", "driven-trap-2d", "--scheme", "euler-maruyama", "--trajectories", "10000", "--steps", "10000000",
            "--save-every", "10000000", "--dt", "1e6", "--out", PathOf("long.npy"));
        Assert.Equal(CliApp.ExitBadInput, r.Code);
        int note = r.Error.IndexOf("note: simulate: 10000 trajectories x 10000000 steps x 2 coordinates is estimated to take about", StringComparison.Ordinal);
        Assert.True(note >= 0 && note < r.Error.IndexOf("error: the simulation blew up", StringComparison.Ordinal), r.Error);
        // optimize likewise: tau = 1e5 in 2e5 steps of 0.5 with k = 1e4 (limit dt < 2e-4) blows up within 16 steps of its first batch
        var o = Run("optimize", "--task", "translate-trap", "--tau", "100000", "--set", "steps=200000", "--set", "k=1e4", "--iterations", "50");
        Assert.Equal(CliApp.ExitBadInput, o.Code);
        Assert.Contains("note: optimize: up to 50 iterations of up to 16000 paths x 200000 steps is estimated to take about", o.Error);
        // a short run says nothing
        Assert.DoesNotContain("estimated to take", Run("simulate", "--model", "driven-trap-2d", "--trajectories", "10", "--steps", "10", "--dt", "0.01",
            "--out", PathOf("short.npy")).Error);
    }

    [Fact]
    public void TimeEstimatesFollowTheMeasuredRates()
    {
        // 2e8 coordinate-steps per core-second: 2.4e11 on 2 cores is 600 s
        Assert.Equal(600, TimeEstimate.Seconds(2.4e11, TimeEstimate.SimulationStepsPerCpuSecond, 2), 6);
        Assert.Null(TimeEstimate.Announcement(59, "x"));
        Assert.Equal("10 min", TimeEstimate.Format(600));
        Assert.Equal("3.2 h", TimeEstimate.Format(3.2 * 3600));
        Assert.Equal("45 s", TimeEstimate.Format(45));
        // 1.5e7 particle-steps per core-second: 4096 particles x 1e6 steps on 2 cores is about 1.4e2 s
        Assert.Equal(4096 * 1e6 / 3e7, TimeEstimate.Seconds(4096 * 1e6, TimeEstimate.ActiveParticleStepsPerCpuSecond, 2), 6);
        // the default transformer (143,075 parameters) at 6.9e9 parameter-tokens per core-second: 48,223 tokens per core-second
        Assert.Equal(143075 / 6.9e9, TimeEstimate.Seconds(143075, TimeEstimate.TransformerParameterTokensPerCpuSecond, 1), 15);
    }

    [Fact]
    public void ALongTrainingBudgetIsAnnouncedBeforeItStarts()
    {
        // 1e12 tokens is years at the measured rate; the checkpoint beyond the run then stops the command before training
        var r = Run("beliefs", "train", "--process", "mess3", "--tokens", "1000000000000", "--checkpoints", "2000000000000", "--out", PathOf("never"));
        Assert.Equal(CliApp.ExitBadInput, r.Code);
        int note = r.Error.IndexOf("note: beliefs train: 1E+12 tokens on 1.43E+05 parameters is estimated to take about", StringComparison.Ordinal);
        Assert.True(note >= 0 && note < r.Error.IndexOf("error:", StringComparison.Ordinal), r.Error);
        Assert.False(Directory.Exists(PathOf("never")));
        // a short budget says nothing
        Assert.DoesNotContain("estimated to take", Run("beliefs", "train", "--process", "mess3", "--tokens", "1000", "--checkpoints", "2000",
            "--out", PathOf("never2")).Error);
    }
}
