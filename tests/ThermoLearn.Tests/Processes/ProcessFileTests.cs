using ThermoLearn.Processes;
using Xunit;
using static ThermoLearn.Tests.Processes.ProcessDefinitionTests;

namespace ThermoLearn.Tests.Processes;

/// <summary>Process files: round trips and clear errors for bad input (spec section 2, issue point 8).</summary>
public class ProcessFileTests
{
    private static string Z1RJson(string t) => "{\"name\":\"z1r-file\",\"tokens\":2,\"states\":3,\"T\":" + t + "}";
    private const string Z1RT = "[[[0,1,0],[0,0,0],[0.5,0,0]],[[0,0,0],[0,0,1],[0.5,0,0]]]";

    [Fact]
    public void ParsesAnHmmAndReproducesTheBuiltInProcess()
    {
        var p = ProcessFile.Parse(Z1RJson(Z1RT));
        Assert.Equal("z1r-file", p.Name);
        AssertVector(StandardProcesses.Z1R().Transitions.ToArray(), p.Transitions);
        Assert.Equal(1.0 / 12, p.WordProbability([1, 0, 0, 1, 1, 0]), Exact);
    }

    [Fact]
    public void WriteThenReadGivesTheSameTensorForHmmsAndGhmms()
    {
        string folder = Directory.CreateTempSubdirectory("tl-proc").FullName;
        try
        {
            foreach (var p in new[] { StandardProcesses.Mess3(0.05, 0.85), StandardProcesses.TomQuantum(1, 4.3), ProcessComposition.Product(StandardProcesses.Z1R(), StandardProcesses.Z1R()) })
            {
                string path = Path.Combine(folder, "p.json");
                ProcessFile.Write(path, p);
                var q = ProcessFile.Read(path);
                Assert.Equal(p.Name, q.Name);
                Assert.Equal(p.IsGeneralized, q.IsGeneralized);
                AssertVector(p.Transitions.ToArray(), q.Transitions, 0);
                AssertVector(p.Stationary.ToArray(), q.Stationary);
            }
        }
        finally { Directory.Delete(folder, true); }
    }

    [Theory]
    [InlineData("{\"tokens\":2,\"states\":3", "not valid JSON")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("{\"states\":3,\"T\":[]}", "\"tokens\"")]
    [InlineData("{\"tokens\":2.5,\"states\":3,\"T\":[]}", "positive integer")]
    [InlineData("{\"tokens\":2,\"states\":3}", "missing \"T\"")]
    [InlineData("{\"tokens\":3,\"states\":3,\"T\":" + Z1RT + "}", "\"T\" has 2 matrices but \"tokens\" is 3")]
    [InlineData("{\"tokens\":2,\"states\":3,\"T\":[[[0,1,0],[0,0,0]],[[0,0,0],[0,0,1],[0.5,0,0]]]}", "T[0] must be a 3 x 3 matrix")]
    [InlineData("{\"tokens\":2,\"states\":3,\"T\":[[[0,1,0],[0,0],[0.5,0,0]],[[0,0,0],[0,0,1],[0.5,0,0]]]}", "T[0][1] must be a row of 3 numbers")]
    [InlineData("{\"tokens\":2,\"states\":3,\"T\":[[[0,1,0],[0,0,\"a\"],[0.5,0,0]],[[0,0,0],[0,0,1],[0.5,0,0]]]}", "T[0][1][2] must be a number")]
    [InlineData("{\"tokens\":2,\"states\":3,\"T\":[[[0,1,0],[0,0,0],[0.6,0,0]],[[0,0,0],[0,0,1],[0.5,0,0]]]}", "leaving state 2 (sum over tokens x and next states j of T[x][2][j]) sum to 1.1")]
    [InlineData("{\"tokens\":2,\"states\":3,\"T\":[[[0,1,0],[0,0,0],[0.7,0,-0.2]],[[0,0,0],[0,0,1],[0.5,0,0]]]}", "T[0][2][2] = -0.2 is negative")]
    [InlineData("{\"tokens\":2,\"states\":3,\"generalized\":\"yes\",\"T\":" + Z1RT + "}", "\"generalized\" must be true or false")]
    [InlineData("{\"tokens\":2,\"states\":3,\"stationary\":[0.5,0.5,0],\"T\":" + Z1RT + "}", "not invariant")]
    [InlineData("{\"tokens\":2,\"states\":3,\"stationry\":[0.5,0.5,0],\"T\":" + Z1RT + "}", "'stationry' is not a key of a process file; it may hold \"name\", \"tokens\", \"states\", \"T\", \"generalized\", \"stationary\"")]
    [InlineData("{\"tokens\":2,\"states\":3,\"t\":" + Z1RT + ",\"comment\":\"z1r\"}", "'t', 'comment' are not keys of a process file")]
    public void BadFilesGiveClearErrors(string json, string expected)
    {
        var e = Assert.Throws<InvalidInputException>(() => ProcessFile.Parse(json, "bad.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("bad.json", e.Message);
    }

    [Fact]
    public void ReducibleChainsNeedAnExplicitStationaryLaw()
    {
        // Two disconnected absorbing states: every mixture is stationary.
        string t = "[[[1,0],[0,0]],[[0,0],[0,1]]]";
        var e = Assert.Throws<InvalidInputException>(() => ProcessFile.Parse("{\"tokens\":2,\"states\":2,\"T\":" + t + "}"));
        Assert.Contains("stationary", e.Message);
        var p = ProcessFile.Parse("{\"tokens\":2,\"states\":2,\"stationary\":[0.25,0.75],\"T\":" + t + "}");
        Assert.Equal(0.75, p.WordProbability([1, 1]), Exact);
    }

    [Fact]
    public void MissingAndEmptyFiles()
    {
        Assert.Contains("not found", Assert.Throws<InvalidInputException>(() => ProcessFile.Read("/no/such/process.json")).Message);
        string path = Path.GetTempFileName();
        try { Assert.Contains("empty", Assert.Throws<InvalidInputException>(() => ProcessFile.Read(path)).Message); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void CatalogAppliesSettingsPerFactorAndRejectsUnknownNames()
    {
        var p = ProcessCatalog.Create("mess3", ["x=0.05", "a=0.85"]);
        AssertVector(StandardProcesses.Mess3(0.05, 0.85).Transitions.ToArray(), p.Transitions);
        var product = ProcessCatalog.Create("mess3*rrxor*mess3", ["x=0.05", "2:a=0.7", "p1=0.3"]);
        var expected = ProcessComposition.Product(StandardProcesses.Mess3(0.05, 0.6), StandardProcesses.Rrxor(0.3, 0.5), StandardProcesses.Mess3(0.05, 0.7));
        AssertVector(expected.Transitions.ToArray(), product.Transitions);
        var noisy = ProcessCatalog.Create("z1r*z1r", ["noise=0.1"]);
        AssertVector(ProcessComposition.WithNoise(ProcessComposition.Product(StandardProcesses.Z1R(), StandardProcesses.Z1R()), 0.1).Transitions.ToArray(), noisy.Transitions);
        Assert.Contains("unknown process 'mess4'", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess4")).Message);
        Assert.Contains("does not apply", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("z1r", ["x=0.1"])).Message);
        Assert.Contains("name=value", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("z1r", ["p"])).Message);
        Assert.Contains("not a finite number", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("z1r", ["p=abc"])).Message);
        Assert.Contains("x = 0.9", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3", ["x=0.9"])).Message);
    }

    [Fact]
    public void CatalogBuildsChainsWithPerVariantSettings()
    {
        // mess3>mess3: factor 1 has one variant per factor-0 token; 1.k:a sets variant k, 1:x every variant of factor 1.
        var chain = ProcessCatalog.Create("mess3>mess3", ["x=0.05", "0:a=0.85", "1:x=0.1", "1.0:a=0.9", "1.2:a=0.3"]);
        var expected = ProcessComposition.Chain([[StandardProcesses.Mess3(0.05, 0.85)],
            [StandardProcesses.Mess3(0.1, 0.9), StandardProcesses.Mess3(0.1, 0.6), StandardProcesses.Mess3(0.1, 0.3)]]);
        AssertVector(expected.Transitions.ToArray(), chain.Transitions);
        Assert.Equal([3, 3], chain.FactorStates);
        Assert.Contains("not both", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3>mess3*mess3")).Message);
        Assert.Contains("variant 3", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3>mess3", ["1.3:a=0.5"])).Message);
        Assert.Contains("only in a chain", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3*mess3", ["1.0:a=0.5"])).Message);
        Assert.Contains("variant index", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3>mess3", ["1.x:a=0.5"])).Message);
        // mess3>>mess3: the chain through the hidden state, one variant per factor-0 state.
        var stateChain = ProcessCatalog.Create("mess3>>mess3", ["x=0.05", "0:a=0.85", "1.0:a=0.9", "1.2:a=0.3"]);
        var expectedState = ProcessComposition.StateChain([[StandardProcesses.Mess3(0.05, 0.85)],
            [StandardProcesses.Mess3(0.05, 0.9), StandardProcesses.Mess3(0.05, 0.6), StandardProcesses.Mess3(0.05, 0.3)]]);
        AssertVector(expectedState.Transitions.ToArray(), stateChain.Transitions);
        Assert.Contains("not both", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3>>mess3>mess3")).Message);
        Assert.Contains("not both", Assert.Throws<InvalidInputException>(() => ProcessCatalog.Create("mess3>>mess3*mess3")).Message);
    }
}
