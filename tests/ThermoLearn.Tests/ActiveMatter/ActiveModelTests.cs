using ThermoLearn.ActiveMatter;
using Xunit;

namespace ThermoLearn.Tests.ActiveMatter;

public class ActiveModelTests
{
    private static string TempFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "thermolearn-active-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    internal static ActiveModel Mips(int n = 512) => new()
    {
        Kind = ActiveModelKind.Aoup, Particles = n, PackingFraction = 0.5, V0 = 0.25, Gamma = 0.01, Epsilon = 0, K = 1,
    };

    [Fact]
    public void SameSeedSameBitsForAnyThreadCount()
    {
        var model = Mips(4608);
        var options = new ActiveRunOptions { Dt = 0.1, Frames = 3, SaveEvery = 2, Seed = 5 };
        var serial = ActiveSimulator.Run(model, options with { MaxDegreeOfParallelism = 1 });
        var parallel = ActiveSimulator.Run(model, options with { MaxDegreeOfParallelism = -1 });
        Assert.Equal(serial.Data, parallel.Data);
        var other = ActiveSimulator.Run(model, options with { Seed = 6 });
        Assert.NotEqual(serial.Data, other.Data);
    }

    /// <summary>
    /// The noise is drawn eight particles at a time, one stream per SIMD lane: four or eight lanes and one or all threads
    /// give the same bits, for every noise layout (AOUP 2-D and 3-D with thermal noise on x, ABP with D_t &gt; 0: an odd
    /// number of normals per particle) and an N that leaves a partial last block (4,101 = 512 blocks of 8 + 5). On AVX-512
    /// the AOUP 2-D run takes its own eight-lane step (normals permuted in registers), checked here against four lanes.
    /// </summary>
    [Fact]
    public void NoiseIsTheSameAtFourAndEightLanesAndAnyThreadCount()
    {
        var models = new[]
        {
            Mips(4101) with { Epsilon = 0.05 },
            Mips(4101) with { Dimension = 3, PackingFraction = 0.3, Epsilon = 0.05 },
            new ActiveModel { Kind = ActiveModelKind.Abp, Particles = 4101, PackingFraction = 0.4, V0 = 1, K = 1, TranslationalDiffusion = 0.1, RotationalDiffusion = 0.5 },
        };
        foreach (var model in models)
        {
            var eight = new ActiveSystem(model, 0.01, 9, maxDegreeOfParallelism: -1);
            var four = new ActiveSystem(model, 0.01, 9, maxDegreeOfParallelism: 1) { FourLanes = true };
            eight.Step(5);
            four.Step(5);
            Assert.Equal(four.Positions, eight.Positions);
            Assert.Equal(four.Active, eight.Active);
            Assert.Contains(eight.Positions, v => v != 0);
        }
    }

    [Fact]
    public void AbpRunsAndKeepsParticlesInTheBox()
    {
        var model = new ActiveModel { Kind = ActiveModelKind.Abp, Particles = 200, PackingFraction = 0.4, V0 = 1, K = 1, TranslationalDiffusion = 0.1, RotationalDiffusion = 0.5 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.01, Frames = 5, SaveEvery = 10, Seed = 1 });
        double l = model.Box!.Value;
        Assert.Equal(3, s.Columns);
        for (int f = 0; f < s.Frames; f++)
            for (int i = 0; i < s.Particles; i++)
                for (int a = 0; a < 2; a++) Assert.InRange(s.Position(f, i, a), 0, l);
    }

    [Fact]
    public void OuUpdateKeepsGStandardNormal()
    {
        // g's exact OU update leaves N(0, 1) invariant: over 2048 particles x 2 axes x 40 frames (correlated in time,
        // gamma dt = 0.2 between frames), the sample variance is 1 within a few percent. Its standard error is about
        // sqrt(2 / n_eff) with n_eff ~ 4096 x 40 / 10 = 16k: 0.011; 6% is over 5 standard errors (false failure < 1e-6).
        var model = Mips(2048) with { K = 0, Gamma = 0.2 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 1, Frames = 40, Seed = 2 });
        double sum = 0, sum2 = 0; long count = 0;
        for (int f = 0; f < s.Frames; f++)
            for (int i = 0; i < s.Particles; i++)
                for (int a = 0; a < 2; a++) { double g = s.ActiveState(f, i, a); sum += g; sum2 += g * g; count++; }
        double variance = sum2 / count - (sum / count) * (sum / count);
        Assert.InRange(variance, 0.94, 1.06);
    }

    [Fact]
    public void BadParametersAreClearErrors()
    {
        Assert.Contains("phi", Assert.Throws<InvalidInputException>(() => (Mips() with { PackingFraction = 1.0 }).Validate()).Message);
        Assert.Contains("smaller than twice the interaction cutoff", Assert.Throws<InvalidInputException>(() => (Mips(4) with { PackingFraction = 0.5 }).Validate()).Message);
        Assert.Contains("two-dimensional", Assert.Throws<InvalidInputException>(() => new ActiveModel { Kind = ActiveModelKind.Abp, Dimension = 3 }.Validate()).Message);
        Assert.Contains("gamma", Assert.Throws<InvalidInputException>(() => (Mips() with { Gamma = 0 }).Validate()).Message);
    }

    /// <summary>
    /// Noise (eps = 1) drives equilibrium WCA discs into each other's cores: at dt = 0.01 within a few steps one is pushed so
    /// close that its force would throw it further than its radius in one step, and the run stops naming the step and the
    /// remedy (before the check, such a run went on and saved positions that wrapping had turned into 0 and 256). The same
    /// seed at dt = 0.002 resolves the repulsion for 1,000 steps.
    /// </summary>
    [Fact]
    public void AKickLargerThanARadiusStopsTheRun()
    {
        var model = new ActiveModel { Particles = 64, V0 = 0, Epsilon = 1, Interaction = PairInteraction.Wca, PackingFraction = 0.5 };
        var e = Assert.Throws<InvalidInputException>(() => ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.01, Frames = 11, SaveEvery = 100, Seed = 3 }));
        Assert.Contains("step ", e.Message);
        Assert.Contains("wca repulsion", e.Message);
        Assert.Contains("use a smaller dt", e.Message);
        var resolved = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.002, Frames = 11, SaveEvery = 100, Seed = 3 });
        Assert.All(resolved.Data, v => Assert.True(double.IsFinite(v)));
        double box = model.Box!.Value;
        for (long q = 0; q < resolved.Data.Length; q += 4) Assert.InRange(resolved.Data[q], 0, box);
    }

    [Fact]
    public void OverlappingInitialParticlesAreBadInput()
    {
        var model = Mips(16) with { PackingFraction = 0.05, Interaction = PairInteraction.Wca };
        var initial = new double[16 * 4];
        double l = model.Box!.Value;
        for (int i = 0; i < 16; i++) { initial[i * 4] = (i % 4 + 0.5) * l / 4; initial[i * 4 + 1] = (i / 4 + 0.5) * l / 4; }
        initial[5 * 4] = initial[9 * 4] + 0.3;   // particle 5 sits 0.3 from particle 9 (contact at 2)
        initial[5 * 4 + 1] = initial[9 * 4 + 1];
        var e = Assert.Throws<InvalidInputException>(() => new ActiveSystem(model, 0.01, 1, initial));
        Assert.Contains("overlap", e.Message);
        Assert.Contains("5", e.Message);
        Assert.Contains("9", e.Message);
        var positionsOnly = Assert.Throws<InvalidInputException>(() => new ActiveSystem(model, 0.01, 1, new double[16 * 2]));
        Assert.Contains("the active state g is missing", positionsOnly.Message);
    }

    [Theory]
    [InlineData("s.h5")]
    [InlineData("s.npy")]
    public void SnapshotsRoundTripBitExact(string name)
    {
        string path = Path.Combine(TempFolder(), name);
        var model = Mips(64) with { PackingFraction = 0.2, A = 0.5, Epsilon = 0.1 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.05, Frames = 4, SaveEvery = 3, Seed = 11 });
        ActiveSnapshotFile.Write(path, s);
        Assert.True(ActiveSnapshotFile.IsSnapshotFile(path));
        var back = ActiveSnapshotFile.Read(path);
        Assert.Equal(s.Data, back.Data);
        Assert.Equal(s.Model, back.Model);
        Assert.Equal(s.FrameDt, back.FrameDt);
        Assert.Equal(s.StepDt, back.StepDt);
        Assert.Equal(s.Seed, back.Seed);
    }

    [Fact]
    public void SnapshotsWithoutGColumnsAreBadInput()
    {
        string folder = TempFolder();
        string path = Path.Combine(folder, "x.npy");
        var model = Mips(64) with { PackingFraction = 0.2 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.05, Frames = 2, Seed = 1 });
        ActiveSnapshotFile.Write(path, s);
        // Overwrite the array with positions only, as a user who saved x alone would.
        var positions = new double[2 * 64 * 2];
        for (int f = 0; f < 2; f++) for (int i = 0; i < 64; i++) for (int a = 0; a < 2; a++) positions[(f * 64 + i) * 2 + a] = s.Position(f, i, a);
        ThermoLearn.IO.NpyFormat.WriteArray(path, positions, [2, 64, 2]);
        var e = Assert.Throws<InvalidInputException>(() => ActiveSnapshotFile.Read(path));
        Assert.Contains("g columns are missing", e.Message);
    }

    /// <summary>
    /// A snapshot sidecar with a frame spacing that is not positive is refused naming the sidecar; one that names the snapshot format but
    /// is not valid JSON (NaN written by hand) is still recognised as a snapshot file, and reading it says the sidecar is malformed
    /// (it was taken for a trajectory file, and `estimate --method identity` answered that the method is unknown).
    /// </summary>
    [Fact]
    public void BrokenSnapshotSidecarsAreNamed()
    {
        string path = Path.Combine(TempFolder(), "b.npy"), sidecar = ActiveSnapshotFile.SidecarPath(path);
        var s = ActiveSimulator.Run(Mips(64) with { PackingFraction = 0.2 }, new ActiveRunOptions { Dt = 0.05, Frames = 2, Seed = 1 });
        ActiveSnapshotFile.Write(path, s);
        string text = File.ReadAllText(sidecar);
        var header = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
        header["dt"] = 0.0;
        File.WriteAllText(sidecar, header.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => ActiveSnapshotFile.Read(path));
        Assert.Contains($"{sidecar}: the frame spacing 'dt' must be a positive number (got 0)", e.Message);
        header["dt"] = 0.05;
        File.WriteAllText(sidecar, header.ToJsonString().Replace("0.05", "NaN"));
        Assert.True(ActiveSnapshotFile.IsSnapshotFile(path));
        e = Assert.Throws<InvalidInputException>(() => ActiveSnapshotFile.Read(path));
        Assert.Contains("malformed JSON sidecar", e.Message);
    }

    /// <summary>
    /// The box side is recomputed from n, phi, d and r0 on reading; a sidecar whose stored side disagrees (phi edited from 0.2 to
    /// 0.3, the side edited, a null side for a box) was read with the recomputed box and gave another rate with exit code 0. It is
    /// refused naming the sidecar and both sides; the unedited sidecar still reads.
    /// </summary>
    [Theory]
    [InlineData("phi", "0.3")]
    [InlineData("box", "5")]
    [InlineData("box", "null")]
    public void ASidecarWhoseBoxDisagreesWithItsParametersIsRefused(string key, string value)
    {
        string path = Path.Combine(TempFolder(), "box.npy"), sidecar = ActiveSnapshotFile.SidecarPath(path);
        var s = ActiveSimulator.Run(Mips(64) with { PackingFraction = 0.2 }, new ActiveRunOptions { Dt = 0.05, Frames = 2, Seed = 1 });
        ActiveSnapshotFile.Write(path, s);
        Assert.Equal(s.Data, ActiveSnapshotFile.Read(path).Data);
        var header = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject();
        header["parameters"]![key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        File.WriteAllText(sidecar, header.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => ActiveSnapshotFile.Read(path));
        Assert.Contains(sidecar, e.Message);
        Assert.Contains("disagrees with the parameters", e.Message);
    }

    /// <summary>
    /// A NaN in a snapshot file is named by frame, particle and column in both formats. The .npy reader named it with the
    /// trajectory words ("trajectory 2, frame 7, coordinate 3" for frame 2, particle 7, column gy).
    /// </summary>
    [Theory]
    [InlineData("n.npy")]
    [InlineData("n.h5")]
    public void ANaNInASnapshotFileIsNamedByFrameParticleAndColumn(string name)
    {
        string path = Path.Combine(TempFolder(), name);
        var model = Mips(64) with { PackingFraction = 0.2 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.05, Frames = 3, Seed = 1 });
        var data = (double[])s.Data.Clone();
        data[(2L * 64 + 7) * s.Columns + 3] = double.NaN;
        ActiveSnapshotFile.Write(path, new ActiveSnapshots(model, 3, s.FrameDt, data, s.Seed, s.StepDt));
        var e = Assert.Throws<InvalidInputException>(() => ActiveSnapshotFile.Read(path));
        Assert.Contains("at frame 2, particle 7, column 'gy'", e.Message);
    }

    /// <summary>
    /// Two interacting particles at the same place have no pair direction (f / r is infinite): the file is refused, naming the pair and
    /// the frame, across the periodic boundary too (one copy shifted by the box side). Without interactions the same file reads.
    /// </summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void CoincidentInteractingParticlesAreBadInput(double shiftInBoxes)
    {
        string path = Path.Combine(TempFolder(), "c.npy");
        var model = Mips(64) with { PackingFraction = 0.2 };
        var s = ActiveSimulator.Run(model, new ActiveRunOptions { Dt = 0.05, Frames = 3, Seed = 1 });
        ActiveSnapshotFile.Write(path, s);
        var data = (double[])s.Data.Clone();
        int columns = s.Columns;
        long row7 = (2L * 64 + 7) * columns, row3 = (2L * 64 + 3) * columns;
        data[row7] = data[row3] + shiftInBoxes * model.Box!.Value;
        data[row7 + 1] = data[row3 + 1];
        ThermoLearn.IO.NpyFormat.WriteArray(path, data, [3, 64, columns]);
        var e = Assert.Throws<InvalidInputException>(() => ActiveSnapshotFile.Read(path));
        Assert.Contains("particles 3 and 7 are at the same place in frame 2", e.Message);

        var free = model with { K = 0 };
        ActiveSnapshotFile.Write(path, new ActiveSnapshots(free, 3, s.FrameDt, data, s.Seed, s.StepDt));
        Assert.Equal(data, ActiveSnapshotFile.Read(path).Data);
    }
}

public class ActiveObservablesTests
{
    [Fact]
    public void ClustersAndLocalDensityOfAKnownConfiguration()
    {
        // 12 particles in a box of side 40: a chain of 5 touching discs (spacing 2), a pair, and 5 isolated ones.
        var model = new ActiveModel { Particles = 12, PackingFraction = 12 * Math.PI / 1600, K = 0 };
        Assert.Equal(40, model.Box!.Value, 10);
        var xy = new List<(double, double)>();
        for (int i = 0; i < 5; i++) xy.Add((5 + 2 * i, 5));
        xy.Add((30, 30)); xy.Add((31.9, 30));
        for (int i = 0; i < 5; i++) xy.Add((3 + 7 * i, 20 + (i % 2) * 8));
        var data = xy.SelectMany(p => new[] { p.Item1, p.Item2, 0.0, 0.0 }).ToArray();
        var s = new ActiveSnapshots(model, 1, 1, data);
        Assert.Equal(new[] { 5, 2, 1, 1, 1, 1, 1 }, ActiveObservables.ClusterSizes(s, 0));
        var (centres, density) = ActiveObservables.LocalDensityHistogram(s, bins: 10);
        Assert.Equal(1.0, density.Sum() / 10, 12);          // a probability density on [0, 1]
        // Within R = 5: the middle disc of the chain sees 4 others -> (4 + 1) / 25 = 0.2 -> bin 2; isolated ones 1/25 -> bin 0.
        Assert.True(density[0] > 0 && density[2] > 0);
        Assert.Equal(0.05, centres[0], 12);
    }
}
