using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>Map (estimate --statistics-out per shard) and reduce against the estimate of the merged file.</summary>
public class ReduceCommandTests
{
    private static JsonObject Json(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, error);
        return JsonNode.Parse(output)!.AsObject();
    }

    [Fact]
    public void ShardsMappedAndReducedGiveTheMergedFilesEstimate()
    {
        string folder = Directory.CreateTempSubdirectory("tl-reduce").FullName;
        string[] common = ["--model", "driven-trap-2d", "--trajectories", "60", "--steps", "400", "--dt", "0.005", "--save-every", "4", "--seed", "11"];
        var shards = new List<string>();
        var stats = new List<string>();
        for (int k = 1; k <= 3; k++)
        {
            string shard = Path.Combine(folder, $"shard-{k}.h5");
            Assert.Equal(0, Run(["simulate", .. common, "--shard", $"{k}/3", "--out", shard]).Code);
            shards.Add(shard);
            stats.Add(Path.Combine(folder, $"part-{k}.stats"));
            Json("estimate", "--in", shard, "--batches", "30", "--chunk-mb", "1", "--statistics-out", stats[^1], "--json");
        }
        string merged = Path.Combine(folder, "merged.h5");
        Assert.Equal(0, Run(["merge", "--out", merged, .. shards]).Code);
        var single = Json("estimate", "--in", merged, "--batches", "30", "--json");
        var reduced = Json(["reduce", .. stats, "--json"]);
        // the same JSON as estimate's (rendered by the same code): every key but the input file, with the same value
        foreach (var key in new[] { "ep_rate", "stderr", "ep_rate_debiased", "ep_rate_uncorrected", "n_frames", "n_transitions", "errors", "method", "basis",
                     "exact_ep_rate", "exact_of_quantity", "exact_comparison", "quantity", "quantity_description", "model" })
            Assert.True(single.ContainsKey(key) && reduced.ContainsKey(key), key);
        // (basis_check refits the file in a richer basis: estimate alone reads the data again, reduce holds only the parts' statistics)
        foreach (var (key, value) in single.Where(p => p.Key is not "input" and not "warning" and not "basis_check"))
            Assert.True(reduced.ContainsKey(key) && value?.ToJsonString() == reduced[key]?.ToJsonString(), $"{key}: {value?.ToJsonString()} vs {reduced[key]?.ToJsonString()}");
        Assert.Equal(3, (int)reduced["n_parts"]!);

        var byParts = Json(["reduce", .. stats, "--batches", "parts", "--json"]);
        Assert.Equal("jackknife over 3 parts (statistics files)", (string)byParts["errors"]!);

        // a part estimated with other settings is refused, naming the setting
        string other = Path.Combine(folder, "other.stats");
        Json("estimate", "--in", shards[2], "--batches", "30", "--basis", "poly:1", "--statistics-out", other, "--json");
        var (code, _, error) = Run("reduce", stats[0], stats[1], other);
        Assert.Equal(2, code);
        Assert.Contains("the basis is poly:1", error);
        (code, _, error) = Run("reduce", stats[0], stats[2]);
        Assert.Equal(2, code);
        Assert.Contains("missing", error);
    }

    [Fact]
    public void StatisticsOutNeedsAStreamedMethodAndAStatsName()
    {
        string folder = Directory.CreateTempSubdirectory("tl-reduce").FullName, file = Path.Combine(folder, "x.npy");
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "4", "--steps", "50", "--dt", "0.01", "--out", file).Code);
        var (code, _, error) = Run("estimate", "--in", file, "--method", "underdamped", "--statistics-out", Path.Combine(folder, "p.stats"));
        Assert.Equal(2, code);
        Assert.Contains("--statistics-out needs --method current or tur", error);
        (code, _, error) = Run("estimate", "--in", file, "--statistics-out", Path.Combine(folder, "p.json"));
        Assert.Equal(2, code);
        Assert.Contains(".stats", error);
        Assert.False(File.Exists(Path.Combine(folder, "p.stats")));
    }

    [Fact]
    public void EmptyOrTruncatedPartsAreExit2NamingTheFirstBadFile()
    {
        // The parts are read in parallel: a bad file's error must still reach the user as exit 2, not as an unhandled AggregateException.
        string folder = Directory.CreateTempSubdirectory("tl-reduce").FullName, file = Path.Combine(folder, "x.npy");
        Assert.Equal(0, Run("simulate", "--model", "driven-trap-2d", "--trajectories", "4", "--steps", "50", "--dt", "0.01", "--out", file).Code);
        string good = Path.Combine(folder, "good.stats"), empty = Path.Combine(folder, "empty.stats"), cut = Path.Combine(folder, "cut.stats");
        Assert.Equal(0, Run("estimate", "--in", file, "--statistics-out", good).Code);
        File.WriteAllText(empty, "");
        File.WriteAllBytes(cut, File.ReadAllBytes(good)[..100]);
        var (code, output, error) = Run("reduce", good, empty, cut);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Equal("", output);
        Assert.Contains("empty.stats: not a ThermoLearn statistics file", error);
        Assert.DoesNotContain("cut.stats", error);
        (code, _, error) = Run("reduce", cut, good);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("cut.stats: truncated statistics file", error);
    }
}
