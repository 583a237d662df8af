using System.Text.Json.Nodes;
using ThermoLearn.Cli;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests;

public class BeliefsCliTests
{
    private static string[] TinyModel => ["--layers", "1", "--d-model", "16", "--heads", "1", "--d-head", "8", "--d-mlp", "32", "--n-ctx", "4", "--threads", "1"];

    [Fact]
    public void TrainThenAnalyzeWritesTheRunAndReportsGeometry()
    {
        string root = Path.Combine(Path.GetTempPath(), "thermolearn-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            string run = Path.Combine(root, "run");
            var train = Run([.. new[] { "beliefs", "train", "--process", "mess3", "--set", "x=0.05", "--set", "a=0.85", "--out", run, "--tokens", "25600",
                "--optimizer", "adam", "--lr", "0.01", "--checkpoints", "6400", "--seed", "3", "--json" }, .. TinyModel]);
            Assert.True(train.Code == 0, train.Error);
            var t = JsonNode.Parse(train.Out)!;
            Assert.Equal(25600, (long)t["tokens"]!);
            Assert.True((bool)t["exact_validation"]!);
            double floor = (double)t["ce_floor_nats"]!;
            Assert.True((double)t["val_ce"]! >= floor);
            Assert.Equal(2, t["checkpoints"]!.AsArray().Count);
            Assert.True(File.Exists(Path.Combine(run, "run.json")));
            Assert.True(File.Exists(Path.Combine(run, "training-log.csv")));

            string plots = Path.Combine(root, "plots");
            Directory.CreateDirectory(plots);
            var analyze = Run("beliefs", "analyze", "--run", run, "--plot-dir", plots, "--threads", "1", "--json");
            Assert.True(analyze.Code == 0, analyze.Error);
            var a = JsonNode.Parse(analyze.Out)!;
            Assert.Equal(floor, (double)a["ce_floor_nats"]!, 12);
            Assert.Equal((double)t["val_ce"]!, (double)a["val_ce_exact"]!, 9);
            var layers = a["layers"]!.AsArray();
            Assert.Equal(3, layers.Count);
            Assert.Equal("concat", (string)layers[2]!["layer"]!);
            double r2 = (double)a["r2_final"]!;
            Assert.InRange(r2, 0, 1);
            // Concatenating layers can only add regressors: in-sample R^2 cannot drop.
            Assert.True((double)a["r2_concat"]! >= r2 - 1e-9);
            Assert.Equal(2, a["checkpoints"]!.AsArray().Count);
            Assert.Null(a["factored"]);
            Assert.Null(a["factored_vs_joint"]);
            // The belief-conditioned centroids of one Mess3 live in its 2-dimensional simplex plane.
            Assert.InRange((int)a["centroids"]!["belief_explained"]!["d99"]!, 1, 2);
            Assert.True((double)a["centroids"]!["dimension_stderr"]! >= 0);
            foreach (var file in a["plots"]!.AsArray()) Assert.True(new FileInfo((string)file!).Length > 1000);
            Assert.Contains(a["plots"]!.AsArray(), f => ((string)f!).EndsWith("belief-simplex.png"));

            // The folder now exists: a second run into it is refused before any training.
            var again = Run([.. new[] { "beliefs", "train", "--process", "mess3", "--out", run, "--tokens", "640" }, .. TinyModel]);
            Assert.Equal(CliApp.ExitBadInput, again.Code);
            Assert.Contains("not empty", again.Error);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void AnalyzeOfAProductReportsTheVerdictWithItsMargin()
    {
        string root = Path.Combine(Path.GetTempPath(), "thermolearn-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            string run = Path.Combine(root, "run");
            string[] model = ["--layers", "1", "--d-model", "16", "--heads", "1", "--d-head", "8", "--d-mlp", "32", "--n-ctx", "3", "--threads", "1"];
            var train = Run([.. new[] { "beliefs", "train", "--process", "mess3*mess3", "--set", "x=0.05", "--set", "a=0.85", "--out", run, "--tokens", "19200",
                "--optimizer", "adam", "--lr", "0.01", "--checkpoints", "9600", "--seed", "3" }, .. model]);
            Assert.True(train.Code == 0, train.Error);
            string plots = Path.Combine(root, "plots");
            var analyze = Run("beliefs", "analyze", "--run", run, "--threads", "1", "--bootstrap", "5", "--rank-bootstrap", "2", "--plot-dir", plots, "--json");
            Assert.True(analyze.Code == 0, analyze.Error);
            var a = JsonNode.Parse(analyze.Out)!;
            // The scale-free rank's factored part cannot exceed the factor beliefs' rank 4; its bootstrap has the split too.
            var split = a["centroids"]!["rank_split"]!;
            Assert.InRange((int)split["factored"]!["rank"]!, 0, 4);
            Assert.True((int)split["factored"]!["rank_max"]! <= 4);
            var rankBootstrap = a["rank_bootstrap"]!;
            Assert.Equal(2, (int)rankBootstrap["replicates"]!);
            Assert.Equal((int)split["factored"]!["rank"]!, (int)rankBootstrap["factored"]!);
            Assert.True((double)rankBootstrap["rank_stderr"]! >= 0);
            var verdict = a["factored_vs_joint"]!;
            Assert.Contains((string)verdict["verdict"]!, new[] { "factored", "joint", "neither" });
            Assert.StartsWith((string)verdict["verdict"]!, (string)verdict["reason"]!);
            Assert.True((double)verdict["margin_stderr"]! > 0);
            Assert.Equal((double)verdict["r2_joint_held_out"]! - (double)verdict["r2_factored_held_out"]!, (double)verdict["margin"]!, 12);
            Assert.Equal(4, (int)verdict["factored_rank"]!);
            // The verdict rests on the split: the same factored part and excess share, printed in its reason with the margin.
            Assert.Equal((int)split["factored"]!["rank"]!, (int)verdict["factored_part"]!);
            Assert.Equal((double)split["excess_share"]!, (double)verdict["excess_share"]!, 12);
            Assert.Equal(4, (int)verdict["factored_prediction"]!);
            Assert.Contains("full-rank margin", (string)verdict["reason"]!);
            Assert.Contains(a["plots"]!.AsArray(), f => ((string)f!).EndsWith("rank-split.png") && new FileInfo((string)f!).Length > 1000);
            Assert.Equal(4, (int)a["centroids"]!["factored_dimension"]!);
            Assert.Equal(8, (int)a["centroids"]!["joint_dimension"]!);
            // The same measure on the true beliefs: rank bounds, and dimensions that cannot exceed them.
            var truth = a["true_geometry"]!;
            Assert.Equal(4, (int)truth["factored_rank"]!);
            Assert.Equal(8, (int)truth["joint_rank"]!);
            Assert.Equal(4, (int)truth["next_token_rank"]!);
            Assert.InRange((int)truth["factor_beliefs"]!["d99"]!, 1, 4);
            Assert.InRange((int)truth["joint_belief"]!["d99"]!, 1, 8);
            Assert.InRange((int)truth["next_token_laws"]!["d99"]!, 1, 4);
            Assert.True((double)truth["factor_beliefs"]!["d95_stderr"]! >= 0);
            Assert.Equal(2, a["belief_linked_checkpoints"]!.AsArray().Count);
            Assert.Equal(2, a["checkpoint_verdicts"]!.AsArray().Count);
            Assert.All(a["checkpoint_verdicts"]!.AsArray(), v => Assert.InRange((int)v!["factored_part"]!, 0, 4));
            var bad = Run("beliefs", "analyze", "--run", run, "--bootstrap", "1", "--json");
            Assert.Equal(CliApp.ExitBadInput, bad.Code);
            Assert.Contains("--bootstrap", bad.Error);
            var badRank = Run("beliefs", "analyze", "--run", run, "--rank-bootstrap", "1", "--json");
            Assert.Equal(CliApp.ExitBadInput, badRank.Code);
            Assert.Contains("--rank-bootstrap", badRank.Error);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TheRunFileOfAShortRunRendersInAReport()
    {
        string root = Path.Combine(Path.GetTempPath(), "thermolearn-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            string run = Path.Combine(root, "run");
            var train = Run([.. new[] { "beliefs", "train", "--process", "mess3", "--out", run, "--tokens", "640", "--seed", "1" }, .. TinyModel]);
            Assert.True(train.Code == 0, train.Error);
            string runFile = Path.Combine(run, "run.json");
            // Step 0 comes before any training step: its training loss was not measured, which the tool writes as null.
            var first = JsonNode.Parse(File.ReadAllText(runFile))!["log"]!.AsArray()[0]!.AsObject();
            Assert.Equal(0, (long)first["step"]!);
            Assert.True(first.ContainsKey("train_loss"));
            Assert.Null(first["train_loss"]);
            Assert.NotNull(first["validation_loss"]);
            Assert.Equal("", File.ReadAllLines(Path.Combine(run, "training-log.csv"))[1].Split(',')[3]);

            string html = Path.Combine(root, "report.html");
            var report = Run("report", "--in", runFile, "--out", html);
            Assert.True(report.Code == 0, report.Error);
            Assert.True(new FileInfo(html).Length > 0);

            // The run still loads for analysis.
            var analyze = Run("beliefs", "analyze", "--run", run, "--threads", "1", "--json");
            Assert.True(analyze.Code == 0, analyze.Error);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("--process", "no_such_process")]
    [InlineData("--optimizer", "rmsprop")]
    [InlineData("--lr", "-1")]
    [InlineData("--checkpoints", "10,abc")]
    [InlineData("--layers", "0")]
    [InlineData("--set", "x=nan")]
    [InlineData("--set", "x=0")]
    public void BadTrainingInputIsExitCode2WithoutAFolder(string option, string value)
    {
        string root = Path.Combine(Path.GetTempPath(), "thermolearn-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            string run = Path.Combine(root, "run");
            var args = new List<string> { "beliefs", "train", "--out", run, "--tokens", "640" };
            if (option != "--process") args.AddRange(["--process", "mess3"]);
            args.AddRange([option, value]);
            var result = Run([.. args]);
            Assert.Equal(CliApp.ExitBadInput, result.Code);
            Assert.StartsWith("error:", result.Error);
            Assert.Empty(Directory.GetFileSystemEntries(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void AnalyzeOfAFolderWithoutARunIsExitCode2()
    {
        var result = Run("beliefs", "analyze", "--run", Path.GetTempPath(), "--json");
        Assert.Equal(CliApp.ExitBadInput, result.Code);
        Assert.Contains("run.json", result.Error);
        Assert.Equal("", result.Out);
    }
}
