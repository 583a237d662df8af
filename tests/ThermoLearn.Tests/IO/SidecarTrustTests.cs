using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.IO;

/// <summary>
/// Class 2 of issue 15: metadata is used only while it describes the data. Sidecars record shape, dtype, byte size
/// and a fingerprint of the values and are refused when any differs; an explicit dt that disagrees with a stored
/// one is an error unless the caller says it wins; a hand-written {"dt": ...} sidecar is the user's dt.
/// </summary>
public sealed class SidecarTrustTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-sidecar-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static TrajectoryEnsemble Ensemble(int n = 3, int frames = 11, int dim = 2, double dt = 0.01)
    {
        var data = new double[n * frames * dim];
        for (int i = 0; i < data.Length; i++) data[i] = Math.Sin(0.37 * i);
        return new TrajectoryEnsemble(n, frames, dim, dt, data, new TrajectoryMetadata("driven-trap-2d", null, 7));
    }


    [Fact]
    public void SidecarRecordsShapeDtypeBytesAndFingerprint()
    {
        var e = Ensemble();
        TrajectoryFile.Write(PathOf("r.npy"), e);
        var json = JsonNode.Parse(File.ReadAllText(PathOf("r.npy.json")))!;
        Assert.Equal(3, (int)json["trajectories"]!);
        Assert.Equal("float64", (string)json["data"]!["dtype"]!);
        Assert.Equal(new FileInfo(PathOf("r.npy")).Length, (long)json["data"]!["bytes"]!);
        Assert.Equal(DataFingerprint.Of(e.Data), (string)json["data"]!["fingerprint"]!);
    }

    [Fact]
    public void FingerprintSeesEveryValueAndNotTheFormat()
    {
        var e = Ensemble();
        string f = DataFingerprint.Of(e.Data);
        Assert.StartsWith("tlfp1:", f);
        for (int i = 0; i < e.Data.Length; i++)
        {
            var copy = (double[])e.Data.Clone();
            copy[i] = Math.BitIncrement(copy[i]);   // one ulp in any one value
            Assert.NotEqual(f, DataFingerprint.Of(copy));
        }
        Assert.NotEqual(f, DataFingerprint.Of(e.Data.AsSpan(0, e.Data.Length - 1)));
        Assert.NotEqual(DataFingerprint.Of([0.0, 0.0]), DataFingerprint.Of([0.0, 0.0, 0.0]));
        TrajectoryFile.Write(PathOf("a.npy"), e);
        TrajectoryFile.Write(PathOf("a.csv"), e);
        Assert.Equal((string)JsonNode.Parse(File.ReadAllText(PathOf("a.npy.json")))!["data"]!["fingerprint"]!,
            (string)JsonNode.Parse(File.ReadAllText(PathOf("a.csv.json")))!["data"]!["fingerprint"]!);
    }

    /// <summary>The reproduction: x[:, ::10] re-saved over the data; the old sidecar's dt must not be applied.</summary>
    [Fact]
    public void ResavedSlicedDataMakeTheSidecarStale()
    {
        var e = Ensemble(frames: 21);
        TrajectoryFile.Write(PathOf("run.npy"), e);
        var sliced = new List<double>();
        for (int t = 0; t < e.Trajectories; t++)
            for (int f = 0; f < e.Frames; f += 10) sliced.AddRange(e.Frame(t, f).ToArray());
        var resaved = new TrajectoryEnsemble(e.Trajectories, 3, e.Dimension, 0.1, sliced.ToArray());
        NpyFormat.WriteArray(PathOf("run.npy"), resaved.Data, [3, 3, 2]);   // numpy's np.save: no sidecar update
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("run.npy"), 0.1));
        Assert.Contains("run.npy.json does not describe", error.Message);
        Assert.Contains("21 frames", error.Message);
        var (code, _, stderr) = Run("estimate", "--in", PathOf("run.npy"), "--dt", "0.1");
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("does not describe", stderr);
    }

    [Fact]
    public void SameShapeEditedValuesAreCaughtByTheFingerprint()
    {
        var e = Ensemble();
        TrajectoryFile.Write(PathOf("run.npy"), e);
        var edited = (double[])e.Data.Clone();
        edited[17] *= 2;
        NpyFormat.WriteArray(PathOf("run.npy"), edited, [3, 11, 2]);
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("run.npy")));
        Assert.Contains("fingerprint", error.Message);
    }

    [Fact]
    public void Float32ResaveIsCaughtByTheByteSize()
    {
        var e = Ensemble();
        TrajectoryFile.Write(PathOf("run.npy"), e);
        using (var s = File.Create(PathOf("run.npy")))
        {
            s.Write(NpyFormat.Header([3, 11, 2], "<f4"));
            foreach (double v in e.Data) s.Write(BitConverter.GetBytes((float)v));
        }
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("run.npy")));
        Assert.Contains("bytes", error.Message);
    }

    [Fact]
    public void ASidecarWithTheWrongShapeIsRefused()
    {
        TrajectoryFile.Write(PathOf("run.npy"), Ensemble());
        var json = JsonNode.Parse(File.ReadAllText(PathOf("run.npy.json")))!.AsObject();
        json["trajectories"] = 999; json["frames"] = 3; json["dimension"] = 7;
        File.WriteAllText(PathOf("run.npy.json"), json.ToJsonString());
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("run.npy")));
        Assert.Contains("999 trajectories x 3 frames x 7", error.Message);
        Assert.Contains("3 x 11 x 2", error.Message);
    }

    [Fact]
    public void AHandWrittenDtSidecarIsTheUsersDt()
    {
        var e = Ensemble();
        NpyFormat.WriteArray(PathOf("x.npy"), e.Data, [3, 11, 2]);
        File.WriteAllText(PathOf("x.npy.json"), "{\"dt\": 0.05}");
        var read = TrajectoryFile.Read(PathOf("x.npy"));
        Assert.Equal(0.05, read.Dt);
        Assert.Null(read.Metadata.Model);
        // a hand-written shape is checked too
        File.WriteAllText(PathOf("x.npy.json"), "{\"dt\": 0.05, \"frames\": 12}");
        Assert.Contains("12 frames", Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("x.npy"))).Message);
        // unknown keys and a missing dt get a message listing what a sidecar holds
        File.WriteAllText(PathOf("x.npy.json"), "{\"dt\": 0.05, \"temperature\": 1}");
        Assert.Contains("'temperature'", Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("x.npy"))).Message);
        File.WriteAllText(PathOf("x.npy.json"), "{\"frames\": 11}");
        Assert.Contains("no \"dt\"", Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("x.npy"))).Message);
        File.WriteAllText(PathOf("x.npy.json"), "{\"dt\": -1}");
        Assert.Contains("positive", Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf("x.npy"))).Message);
    }

    [Theory]
    [InlineData("run.npy")]
    [InlineData("run.csv")]
    [InlineData("run.h5")]
    [InlineData("run.parquet")]
    public void AnExplicitDtThatDisagreesWithTheStoredOneIsRefusedUnlessOverridden(string name)
    {
        TrajectoryFile.Write(PathOf(name), Ensemble(dt: 0.01));
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(PathOf(name), 0.1));
        // the library names its parameters (dt, dtOverrides); the CLI renders them as its flags (next test)
        Assert.Contains("dt 0.1 disagrees with the frame spacing dt = 0.01", error.Message);
        Assert.Contains("add dtOverrides", error.Message);
        Assert.Equal(new[] { InputParameter.Dt, InputParameter.DtOverrides }, error.Parameters);
        Assert.Equal(0.01, TrajectoryFile.Read(PathOf(name), 0.01).Dt);
        Assert.Equal(0.1, TrajectoryFile.Read(PathOf(name), 0.1, dtOverrides: true).Dt);
    }

    [Fact]
    public void ConvertAndEstimateRefuseAConflictingDtAndHonourTheOverride()
    {
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "4", "--steps", "40", "--dt", "0.01", "--out", PathOf("s.h5")).Code);
        var (code, _, error) = Run("convert", "--in", PathOf("s.h5"), "--out", PathOf("s.npy"), "--dt", "0.1");
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("--dt-override", error);
        Assert.False(File.Exists(PathOf("s.npy")));
        Assert.Equal(0, Run("convert", "--in", PathOf("s.h5"), "--out", PathOf("s.npy"), "--dt", "0.1", "--dt-override").Code);
        Assert.Equal(0.1, TrajectoryFile.Read(PathOf("s.npy")).Dt);
        Assert.Equal(CliApp.ExitBadInput, Run("estimate", "--in", PathOf("s.h5"), "--dt", "0.1").Code);
        var ok = Run("estimate", "--in", PathOf("s.h5"), "--dt", "0.1", "--dt-override", "--json");
        Assert.True(ok.Code == 0, ok.Error);
        Assert.Equal(0.1, (double)JsonNode.Parse(ok.Out)!["dt"]!);
        Assert.Equal(CliApp.ExitBadInput, Run("estimate", "--in", PathOf("s.h5"), "--dt-override").Code);
    }
}
