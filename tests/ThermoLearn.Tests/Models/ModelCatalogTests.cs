using ThermoLearn.Models;
using Xunit;

namespace ThermoLearn.Tests.Models;

public class ModelCatalogTests
{
    [Fact]
    public void EveryModelBuildsWithItsDefaults()
    {
        foreach (var description in ModelCatalog.All)
        {
            var model = ModelCatalog.Create(description.Name, new Dictionary<string, string>());
            Assert.Equal(description.Name, model.Name);
            Assert.Equal(description.Parameters.Select(p => p.Name).OrderBy(s => s, StringComparer.Ordinal),
                model.Parameters.Keys.OrderBy(s => s, StringComparer.Ordinal));
        }
    }

    [Fact]
    public void ParametersComeFromSetAssignments()
    {
        var parameters = ModelCatalog.ParseAssignments(["A=[[2,0.5],[-0.5,2]]", "D=[[1,0],[0,1]]"]);
        var model = (LinearModel)ModelCatalog.Create("linear", parameters);
        Assert.Equal(2 * 0.25 / 2, model.EntropyProductionRateValue, 12);
        var chain = (LinearModel)ModelCatalog.Create("bead-spring", ModelCatalog.ParseAssignments(["n=5"]));
        Assert.Equal(0.629817, chain.EntropyProductionRateValue, 6);
    }

    [Theory]
    [InlineData("no-such-model", new string[0], "known models")]
    [InlineData("driven-trap-2d", new[] { "kk=1" }, "has no parameter 'kk'")]
    [InlineData("driven-trap-2d", new[] { "k=abc" }, "not a finite number")]
    [InlineData("driven-trap-2d", new[] { "k=-1" }, "must be a positive")]
    [InlineData("linear", new[] { "A=[[1,0],[0,-1]]" }, "not stable")]
    [InlineData("linear", new[] { "D=[[1,2],[2,1]]" }, "positive definite")]
    [InlineData("linear", new[] { "D=[[1,0.5],[0,1]]" }, "symmetric")]
    [InlineData("linear", new[] { "A=[[1,0]]" }, "square matrix")]
    [InlineData("bead-spring", new[] { "n=2.5" }, "not an integer")]
    [InlineData("underdamped-driven-trap", new[] { "eps=2" }, "unstable")]
    public void BadParametersAreInvalidInputNamingTheProblem(string name, string[] sets, string message)
    {
        var e = Assert.Throws<InvalidInputException>(() => ModelCatalog.Create(name, ModelCatalog.ParseAssignments(sets)));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("k")]
    [InlineData("=1")]
    [InlineData("k=")]
    public void MalformedAssignmentsAreInvalidInput(string text)
    {
        Assert.Throws<InvalidInputException>(() => ModelCatalog.ParseAssignments([text]));
    }
}
