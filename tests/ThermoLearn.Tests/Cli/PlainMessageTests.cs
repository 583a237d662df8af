using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// A value of the wrong kind, on the command line or in a sidecar, is refused in the user's terms: the parser's message
/// named .NET types ("as expected type 'System.Nullable`1[System.Double]'") and so did the sidecar reader ("cannot be
/// converted to a 'System.UInt64'"), and the Python interface passed both on to notebooks as they were.
/// </summary>
public sealed class PlainMessageTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-plain-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly string[] DotNetWords = ["System.", "Double", "Int32", "Int64", "UInt64", "Nullable", "Boolean", "expected type"];

    private static void RefusedPlainly((int Code, string Out, string Error) r, string message)
    {
        Assert.True(r.Code == CliApp.ExitBadInput, $"exit {r.Code}: {r.Out}{r.Error}");
        Assert.Equal("", r.Out);
        Assert.Contains("error: " + message, r.Error);
        foreach (string word in DotNetWords) Assert.DoesNotContain(word, r.Error);
    }

    [Theory]
    [InlineData("--at", "abc", "--at 'abc' is not a number.")]
    [InlineData("--at", "0.5x", "--at '0.5x' is not a number.")]
    public void ANumberThatIsNotOneIsNamedWithItsOption(string option, string value, string message) =>
        RefusedPlainly(Run("exact", "--model", "linear", option, value), message);

    [Fact]
    public void ADecimalCommaIsRefusedNotReadAsAThousandsSeparator()
    {
        // the parser read '1,5' as 15 (digits with a thousands separator) and the command ran at t = 15 with exit 0
        RefusedPlainly(Run("exact", "--model", "linear", "--at", "1,5"), "--at '1,5' is not a number (write the decimal point as '.', e.g. 1.5).");
        var (code, output, error) = Run("exact", "--model", "linear", "--at", "1.5");
        Assert.True(code == 0, error);
        Assert.Contains("t = 1.5:", output);
    }

    [Fact]
    public void WholeNumbersAndSeedsSayWhatTheyTake()
    {
        string[] simulate = ["simulate", "--model", "linear", "--steps", "10", "--dt", "0.1", "--out", "never-written.npy"];
        RefusedPlainly(Run([.. simulate, "--trajectories", "2.5"]), "--trajectories '2.5' is not a whole number.");
        RefusedPlainly(Run([.. simulate, "--trajectories", "3000000000"]), "--trajectories '3000000000' is too large (at most 2147483647).");
        RefusedPlainly(Run([.. simulate, "--trajectories", "2", "--seed", "-1"]),
            "--seed '-1' is negative (give a whole number from 0 to 18446744073709551615).");
        Assert.False(File.Exists("never-written.npy"));
        RefusedPlainly(Run("estimate", "--in", "never-read.npy", "--dt", "abc"), "--dt 'abc' is not a number.");
        RefusedPlainly(Run("process", "info", "--process", "mess3", "--depth", "x"), "--depth 'x' is not a whole number.");
        // the other parse errors keep the library's messages (they name no type)
        var r = Run("simulate", "--model", "linear", "--trajectories", "2", "--steps", "10", "--dt", "0.1", "--energetics");
        Assert.Equal(CliApp.ExitBadInput, r.Code);
        Assert.Contains("error: Option '--out' is required.", r.Error);
        Assert.Contains("'--energetics'", r.Error);
    }

    [Fact]
    public void ASidecarValueOfTheWrongKindNamesItsKey()
    {
        string data = Path.Combine(_folder, "run.npy");
        var made = Run("simulate", "--model", "driven-trap-2d", "--trajectories", "2", "--steps", "20", "--dt", "0.01", "--seed", "4", "--out", data);
        Assert.True(made.Code == 0, made.Error);
        string sidecar = data + ".json";
        string written = File.ReadAllText(sidecar);
        var json = JsonNode.Parse(written)!.AsObject();
        foreach (var (key, value, kind) in new (string, JsonNode, string)[]
        {
            ("seed", JsonValue.Create(-1), "a whole number from 0 to 18446744073709551615"),
            ("seed", JsonValue.Create(1.5), "a whole number from 0 to 18446744073709551615"),
            ("model", JsonValue.Create(5), "a string"),
            ("dt", JsonValue.Create("0.01"), "a number"),
        })
        {
            var edited = json.DeepClone().AsObject();
            edited[key] = value;
            File.WriteAllText(sidecar, edited.ToJsonString());
            RefusedPlainly(Run("estimate", "--in", data), $"{sidecar}: \"{key}\" is {value.ToJsonString()}; it must be {kind} (or null).");
        }
        // a hand-written sidecar too
        File.WriteAllText(sidecar, "{\"dt\": \"0.01\"}");
        RefusedPlainly(Run("estimate", "--in", data), $"{sidecar}: \"dt\" is \"0.01\"; it must be a number (or null).");
        File.WriteAllText(sidecar, written);
        Assert.True(Run("estimate", "--in", data).Code == 0);
    }

    [Fact]
    public void AWideMatrixIsShownByItsSizeNotWrittenOut()
    {
        // 29 increments of 40 coordinates: the estimated diffusion matrix has rank 29, not positive definite; its message
        // held all 1,600 entries (11,968 characters from Python; 278,581 for 200 coordinates), and --diffusion echoed its text
        string path = Path.Combine(_folder, "wide.npy");
        var random = new Random(5);
        var walk = new double[30 * 40];
        for (int f = 1; f < 30; f++)
            for (int c = 0; c < 40; c++) walk[f * 40 + c] = walk[(f - 1) * 40 + c] + random.NextDouble() - 0.5;
        ThermoLearn.IO.NpyFormat.WriteArray(path, walk, [1, 30, 40]);
        var inferred = Run("infer", "--in", path, "--dt", "0.01", "--basis", "poly:0");
        Assert.Equal(CliApp.ExitBadInput, inferred.Code);
        Assert.Contains("The estimated diffusion matrix must be symmetric positive definite (got a 40 x 40 matrix with diagonal [", inferred.Error);
        Assert.True(inferred.Error.Length < 400, inferred.Error);
        string zeros = "[" + string.Join(",", Enumerable.Repeat("[" + string.Join(",", Enumerable.Repeat("0", 40)) + "]", 40)) + "]";
        var given = Run("estimate", "--in", path, "--dt", "0.01", "--basis", "poly:1", "--diffusion", zeros);
        Assert.Equal(CliApp.ExitBadInput, given.Code);
        Assert.Contains("--diffusion '[[0,0,0,", given.Error);
        Assert.True(given.Error.Length < 400, given.Error);
    }
}
