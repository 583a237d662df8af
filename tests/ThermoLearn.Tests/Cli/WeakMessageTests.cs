using System.Globalization;
using ThermoLearn.Cli;
using ThermoLearn.Cli.Infrastructure;
using ThermoLearn.IO;
using Xunit;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// Class 7 of issue 15, one test per weak message the sweep found: each case now says what is wrong, where, and what
/// to do (exit 2), or, where the input is valid, says how it was read.
/// </summary>
public sealed class WeakMessageTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-messages-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        var (console, output, error) = CliConsole.ForTesting();
        int code = CliApp.Run(args, console);
        return (code, output.ToString(), error.ToString());
    }

    private static void Refused((int Code, string Out, string Error) r, params string[] mentions)
    {
        Assert.True(r.Code == CliApp.ExitBadInput, $"exit {r.Code}: {r.Out}{r.Error}");
        foreach (string m in mentions) Assert.Contains(m, r.Error);
        Assert.DoesNotContain("   at ", r.Error);   // no stack trace
    }

    private string Simulated(string name, int trajectories = 10, int steps = 100)
    {
        string path = PathOf(name);
        var r = Run("simulate", "--model", "driven-trap-2d", "--trajectories", trajectories.ToString(CultureInfo.InvariantCulture),
            "--steps", steps.ToString(CultureInfo.InvariantCulture), "--dt", "0.01", "--out", path);
        Assert.True(r.Code == 0, r.Error);
        return path;
    }

    [Fact]
    public void ATwoDimensionalNpyIsReadWithItsLayoutNamed()
    {
        string path = PathOf("two.npy");
        var random = new Random(3);
        NpyFormat.WriteArray(path, Enumerable.Range(0, 10 * 50).Select(_ => random.NextDouble()).ToArray(), [10, 50]);
        foreach (var r in new[] { Run("estimate", "--in", path, "--dt", "0.01"), Run("infer", "--in", path, "--dt", "0.01") })
        {
            Assert.True(r.Code == 0, r.Error);
            Assert.Contains($"note: {path} is a 2-D array of shape (10, 50): read as 10 trajectories x 50 frames of one coordinate", r.Error);
            Assert.Contains("save x[None]", r.Error);
        }
        // a 3-D array gets no note
        Assert.DoesNotContain("note:", Run("estimate", "--in", Simulated("three.npy")).Error);
    }

    [Fact]
    public void AHugeValueIsNamedWithItsPlaceNotAsABasisFunction()
    {
        string path = PathOf("huge.npy");
        var random = new Random(4);
        var values = Enumerable.Range(0, 10 * 50 * 2).Select(_ => random.NextDouble()).ToArray();
        values[(3 * 50 + 7) * 2 + 1] = 1e300;
        NpyFormat.WriteArray(path, values, [10, 50, 2]);
        // estimate streams the file (current method), infer reads it into memory: both name the value and where it is
        foreach (var r in new[] { Run("estimate", "--in", path, "--dt", "0.01"), Run("infer", "--in", path, "--dt", "0.01") })
            Refused(r, path, "value 1E+300 at trajectory 3, frame 7, coordinate 1 is too large to estimate with", "Rescale the coordinates");
    }

    [Fact]
    public void ADirectoryAsInputIsCalledAFolder()
    {
        string folder = PathOf("data.npy");
        Directory.CreateDirectory(folder);
        Refused(Run("estimate", "--in", folder, "--dt", "0.01"), $"--in {folder} is a folder; give a file.");
        Refused(Run("convert", "--in", folder, "--out", PathOf("x.h5")), "is a folder; give a file.");
    }

    [Fact]
    public void ARepeatedColumnIsNamedNotReportedAsASingularGramMatrix()
    {
        var r = Run("estimate", "--in", Simulated("c.npy"), "--columns", "0,0");
        Refused(r, "--columns '0,0': coordinate 0 is given twice");
        Assert.DoesNotContain("Gram", r.Error);
    }

    [Fact]
    public void AParameterOutOfRangeIsNamed()
    {
        Refused(Run("exact", "--model", "driven-trap-2d", "--set", "k=1e308"), "parameter k = 1E+308 is out of the range", "|k| must lie between 1E-100 and 1E+100");
        Refused(Run("optimize", "--task", "translate-trap", "--tau", "1", "--set", "lambda_f=1e300", "--iterations", "1", "--trajectories", "100"),
            "task 'translate-trap': setting lambda_f = 1E+300 is out of the range");
        Refused(Run("exact", "--model", "driven-trap-2d", "--set", "k=1e-200"), "parameter k = 1E-200 is out of the range");
        Refused(Run("exact", "--model", "linear", "--set", "A=[[1e300,0],[0,1]]"), "parameter A[0,0] = 1E+300 is out of the range");
        Assert.Equal(0, Run("exact", "--model", "driven-trap-2d", "--set", "k=1e3", "--set", "eps=0").Code);   // moderate values and 0 pass
    }

    [Fact]
    public void NaNInsideAJsonMatrixIsCalledNonFinite()
    {
        Refused(Run("estimate", "--in", Simulated("n.npy"), "--diffusion", "[[1,NaN],[0,1]]"), "has a non-finite entry (NaN or Infinity)");
        Refused(Run("exact", "--model", "linear", "--set", "A=[[1,NaN],[0,1]]"), "parameter A", "non-finite entry");
        string hmm = PathOf("h.json");
        File.WriteAllText(hmm, "{\"states\": 2, \"symbols\": 2, \"transitions\": [[[0.5, NaN], [0.5, 0]], [[0, 0.5], [0, 0.5]]]}");
        var r = Run("process", "info", "--process", hmm);
        Refused(r, hmm, "NaN and Infinity are not JSON numbers");
        Assert.DoesNotContain("square", r.Error);
    }

    [Fact]
    public void CsvErrorsCiteTheLineOfTheTrajectoryWhereTheyAre()
    {
        string csv = PathOf("run.csv");
        Assert.Equal(0, Run("convert", "--in", Simulated("r.npy", trajectories: 6, steps: 20), "--out", csv).Code);
        var lines = File.ReadAllLines(csv);
        int first4 = Array.FindIndex(lines, l => l.StartsWith("4,", StringComparison.Ordinal));   // 0-based: file line first4 + 1
        void Broken(string name, Action<string[]> edit, params string[] mentions)
        {
            var copy = (string[])lines.Clone();
            edit(copy);
            File.WriteAllLines(PathOf(name), copy);
            Refused(Run("estimate", "--in", PathOf(name), "--dt", "0.01"), mentions);
        }
        // the first line of trajectory 4 and the last of trajectory 3: the line numbers are the file's own (header = line 1)
        Broken("a.csv", c => c[first4] = string.Join(',', c[first4].Split(',')[..3]) + ",1e999", $"line {first4 + 1}: x1 = '1e999' is not a finite number");
        Broken("b.csv", c => c[first4 - 1] = "3,zz," + string.Join(',', c[first4 - 1].Split(',')[2..]), $"line {first4}: t = 'zz' is not a finite number");
        Broken("c.csv", c => c[first4] += ",5", $"line {first4 + 1}: 5 columns but the header has 4");
    }

    [Fact]
    public void AHandWrittenSidecarIsUsed()
    {
        string path = Simulated("s.npy");
        File.WriteAllText(path + ".json", "{\"dt\": 0.02}");
        var r = Run("infer", "--in", path, "--json");
        Assert.True(r.Code == 0, r.Error);
        Assert.Equal(0.02, System.Text.Json.Nodes.JsonNode.Parse(r.Out)!["dt"]!.GetValue<double>());
        Assert.DoesNotContain("sidecar", r.Error);
    }
}
