using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using ThermoLearn.Processes;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Processes;

public class ProcessCliTests
{
    [Fact]
    public void InfoForRrxorReportsExactMeasuresAndCounts()
    {
        var (code, output, error) = Run("process", "info", "--process", "rrxor", "--depth", "11", "--json");
        Assert.True(code == 0, error);
        var j = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(2.0 / 3, j["entropy_rate"]!.GetValue<double>(), 1e-12);
        Assert.Equal(2.251629, j["statistical_complexity"]!.GetValue<double>(), 1e-6);
        Assert.Equal(2.25163, j["excess_entropy"]!.GetValue<double>(), 1e-5);
        Assert.Equal(36, j["msp_states"]!.GetValue<int>());
        Assert.Equal(5, j["msp_recurrent"]!.GetValue<int>());
        Assert.Equal(1723, j["msp_tree_nodes"]!.GetValue<long>());
        Assert.Equal(0.578185, j["ce_floor_nats"]!.GetValue<double>(), 1e-6);
        Assert.True(j["block_entropies"]!.AsArray().Count >= 12);
    }

    [Fact]
    public void InfoForMess3HasNullComplexityAndTheNeuripsFloor()
    {
        var (code, output, error) = Run("process", "info", "--process", "mess3", "--set", "x=0.05", "--set", "a=0.85", "--depth", "6", "--n-ctx", "10", "--json");
        Assert.True(code == 0, error);
        var j = JsonNode.Parse(output)!.AsObject();
        Assert.Null(j["statistical_complexity"]);
        Assert.Null(j["msp_recurrent"]);
        Assert.Equal(1093, j["msp_states"]!.GetValue<int>()); // 1 + 3 + ... + 3^6
        Assert.Equal(0.802512, j["ce_floor_nats"]!.GetValue<double>(), 1e-6);
        Assert.Equal(1.144717, j["entropy_rate"]!.GetValue<double>(), 1e-6);
    }

    [Fact]
    public void InfoReadsProcessFiles()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("tl-cli").FullName, "z1r.json");
        ProcessFile.Write(path, StandardProcesses.Z1R());
        var (code, output, _) = Run("process", "info", "--process", path, "--json");
        Assert.Equal(0, code);
        var j = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(Math.Log2(3), j["statistical_complexity"]!.GetValue<double>(), 1e-12);
        Assert.Equal(7, j["msp_total_states"]!.GetValue<int>());
        Assert.Equal(3, j["msp_recurrent"]!.GetValue<int>());
    }

    [Fact]
    public void InfoSaysWhyComplexityIsUndefinedForANonErgodicProcess()
    {
        // Two absorbing states mixed 1:3: the presentation is finite (3 states, 2 recurrent); the text said "not finite".
        string path = Path.Combine(Directory.CreateTempSubdirectory("tl-cli").FullName, "mixture.json");
        File.WriteAllText(path, "{\"name\": \"mixture\", \"tokens\": 2, \"states\": 2, \"T\": [[[1,0],[0,0]], [[0,0],[0,1]]], \"stationary\": [0.25, 0.75]}");
        var (code, output, error) = Run("process", "info", "--process", path, "--depth", "4");
        Assert.True(code == 0, error);
        Assert.Contains("not ergodic", output);
        Assert.DoesNotContain("is not finite", output);
        Assert.Contains("finite presentation: 3 mixed states, 2 recurrent", output);
    }

    [Theory]
    [InlineData("process", "info", "--process", "nope", "--json")]
    [InlineData("process", "info", "--process", "mess3", "--set", "x=0.7")]
    [InlineData("process", "info", "--process", "mess3", "--set", "p=0.1")]
    [InlineData("process", "info", "--process", "/no/such/file.json")]
    [InlineData("process", "info", "--process", "mess3", "--depth", "-1")]
    [InlineData("process", "sample", "--process", "mess3", "--out", "/no/such/folder/x.npy")]
    [InlineData("process", "sample", "--process", "mess3", "--out", "x.txt")]
    [InlineData("process", "sample", "--process", "mess3", "--sequences", "0", "--out", "x.npy")]
    public void BadInputExitsWith2AndAMessage(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", output);
        Assert.StartsWith("error:", error);
    }

    [Fact]
    public void BadProcessFileExitsWith2NamingTheRow()
    {
        string folder = Directory.CreateTempSubdirectory("tl-cli").FullName;
        string path = Path.Combine(folder, "bad.json");
        File.WriteAllText(path, "{\"tokens\":1,\"states\":2,\"T\":[[[0.5,0.4],[0,1]]]}");
        var (code, _, error) = Run("process", "info", "--process", path);
        Assert.Equal(2, code);
        Assert.Contains("leaving state 0", error);
        Assert.Contains("0.9", error);
    }

    [Fact]
    public void MisspelledKeyInAProcessFileExitsWith2NamingTheKeyTheFileAndTheKeys()
    {
        // The misspelled key used to be dropped: the reducible chain below then failed on "no unique stationary law"
        // (or, with a unique one, a process was built without the law the file meant to give).
        string folder = Directory.CreateTempSubdirectory("tl-cli").FullName;
        string path = Path.Combine(folder, "mixture.json");
        File.WriteAllText(path, "{\"name\": \"mixture\", \"tokens\": 2, \"states\": 2, \"T\": [[[1,0],[0,0]], [[0,0],[0,1]]], \"stationry\": [0.25, 0.75]}");
        var (code, output, error) = Run("process", "info", "--process", path);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", output);
        Assert.Contains(path, error);
        Assert.Contains("'stationry' is not a key", error);
        Assert.Contains("\"stationary\"", error);
        Assert.Contains("\"generalized\"", error);
    }

    [Fact]
    public void SampleWritesNpyTokensAndBeliefs()
    {
        string folder = Directory.CreateTempSubdirectory("tl-cli").FullName;
        string tokens = Path.Combine(folder, "tokens.npy"), beliefs = Path.Combine(folder, "beliefs.npy");
        var (code, output, error) = Run("process", "sample", "--process", "mess3", "--sequences", "64", "--length", "11", "--seed", "3",
            "--out", tokens, "--beliefs", beliefs, "--json");
        Assert.True(code == 0, error);
        Assert.Equal(64, JsonNode.Parse(output)!["sequences"]!.GetValue<int>());
        var bytes = File.ReadAllBytes(tokens);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<i8'", header);
        Assert.Contains("'shape': (64, 11)", header);
        Assert.Equal(0, (10 + headerLength) % 64);
        var expected = new ProcessSampler(StandardProcesses.Mess3()).Sample(64, 11, 3);
        for (int k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k], BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10 + headerLength + 8 * k)));
        var b = File.ReadAllBytes(beliefs);
        int bh = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8));
        Assert.Contains("'shape': (64, 11, 3)", Encoding.ASCII.GetString(b, 10, bh));
        Assert.Equal(10 + bh + 64 * 11 * 3 * 8, b.Length);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }
}
