using System.Text.Json.Nodes;
using ThermoLearn.ActiveMatter;
using ThermoLearn.Cli;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

public sealed class ActiveMatterCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("thermolearn-active-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);


    private string PathOf(string name) => Path.Combine(_folder, name);

    [Fact]
    public void ModelsListsTheActiveModels()
    {
        var (code, output, _) = Run("models", "--json");
        Assert.Equal(0, code);
        var names = JsonNode.Parse(output)!["models"]!.AsArray().Select(m => (string)m!["name"]!).ToArray();
        Assert.Contains("aoup", names);
        Assert.Contains("abp", names);
    }

    /// <summary>
    /// A per-particle map's colour scale runs from the least value to the 99.5th percentile (rank ceil(0.995 n)) and counts the
    /// particles above it: 1..1000 with one extreme particle (10^6) caps at 996 with five above; equal values keep a unit range.
    /// </summary>
    [Fact]
    public void ParticleMapsCapTheirColourScaleAtTheNinetyNinePointFifthPercentile()
    {
        var values = Enumerable.Range(1, 1000).Select(v => (double)v).Append(1e6).ToArray();
        var (low, high, above) = ThermoLearn.Cli.Plotting.ActiveMatterPlots.ColourRange(values);
        Assert.Equal(1, low);
        Assert.Equal(996, high);   // the ceil(0.995 x 1001) = 996th smallest
        Assert.Equal(5, above);    // 997..1000 and 10^6
        Assert.Equal((3.0, 4.0, 0), ThermoLearn.Cli.Plotting.ActiveMatterPlots.ColourRange([3, 3, 3]));
        // a few large values among many equal ones: the quantile is the common value, so the full range is kept
        Assert.Equal((0.0, 7.0, 0), ThermoLearn.Cli.Plotting.ActiveMatterPlots.ColourRange([.. Enumerable.Repeat(0.0, 999), 7]));
    }

    [Fact]
    public void SimulateThenEstimateBothMethods()
    {
        string h5 = PathOf("trap.h5"), npy = PathOf("trap.npy"), plot = PathOf("map.png"), local = PathOf("local.csv"), regions = PathOf("regions.csv");
        string[] model = ["--model", "aoup", "--set", "n=100", "--set", "phi=0.2", "--set", "A=1", "--set", "k=0", "--set", "eps=0"];
        var (code, output, error) = Run(["simulate", .. model, "--steps", "600", "--dt", "0.01", "--save-every", "2", "--burn-in", "300", "--seed", "3", "--out", h5, "--json"]);
        Assert.True(code == 0, error);
        var sim = JsonNode.Parse(output)!;
        Assert.Equal(301, (int)sim["frames"]!);
        Assert.Equal(0.02, (double)sim["frame_dt"]!, 12);
        Assert.Equal(0, Run(["simulate", .. model, "--steps", "600", "--dt", "0.01", "--save-every", "2", "--burn-in", "300", "--seed", "3", "--out", npy]).Code);
        Assert.Equal(ActiveSnapshotFile.Read(h5).Data, ActiveSnapshotFile.Read(npy).Data);

        // eps = 0 in a trap without interactions: the identity is exact, d A N = 200, with zero spread.
        (code, output, error) = Run("estimate", "--in", h5, "--method", "identity", "--json");
        Assert.True(code == 0, error);
        var identity = JsonNode.Parse(output)!;
        Assert.Equal(200, (double)identity["ep_rate"]!, 10);
        Assert.Equal(200, (double)identity["exact_ep_rate"]!, 10);
        Assert.Equal("same quantity", (string)identity["exact_comparison"]!);
        Assert.Equal("ep_rate", (string)identity["exact_compared"]!);
        Assert.Equal(0, (double)identity["difference_from_exact"]!, 8);

        (code, output, error) = Run("estimate", "--in", npy, "--method", "current", "--blocks", "10", "--local", local, "--regions", regions, "--plot", plot, "--json");
        Assert.True(code == 0, error);
        var current = JsonNode.Parse(output)!;
        Assert.Equal("current", (string)current["method"]!);
        Assert.Contains("current: 100.0%", error);   // progress on stderr, stdout holds the JSON alone
        // the exact rate is set against the jackknife-debiased rate, in the current estimate's standard errors
        Assert.Equal("ep_rate_debiased", (string)current["exact_compared"]!);
        Assert.Equal((double)current["ep_rate_debiased"]! - 200, (double)current["difference_from_exact"]!, 9);
        Assert.Equal((double)current["stderr"]!, (double)current["difference_from_exact_stderr"]!);
        Assert.Equal((double)current["ep_rate_debiased"]! / 200 - 1, (double)current["difference_from_exact_relative"]!, 9);
        Assert.True((double)current["stderr"]! > 0);
        Assert.Equal(0, (double)current["ep_rate_x"]!);   // eps = 0: the positions carry no noise
        // the block cross-validated rate: the exact force (g_i and x_i) is in the basis, so it agrees with d A N = 200 within 4 of its errors
        double heldOut = (double)current["ep_rate_heldout"]!, heldOutError = (double)current["stderr_heldout"]!;
        Assert.True(heldOutError > 0 && Math.Abs(heldOut - 200) < 4 * heldOutError, $"held out {heldOut} +- {heldOutError}");
        // the identity on the same frames is 200 with no spread: the ratio is the debiased estimate over 200, its error the estimate's over 200
        Assert.Equal(200, (double)current["identity_ep_rate"]!, 10);
        Assert.Equal((double)current["ep_rate_debiased"]! / 200, (double)current["ratio_to_identity"]!, 12);
        Assert.Equal((double)current["stderr"]! / 200, (double)current["ratio_to_identity_stderr"]!, 12);
        Assert.Equal(101, File.ReadAllLines(local).Length);
        Assert.Equal(16 * 16 + 1, File.ReadAllLines(regions).Length);
        Assert.True(new FileInfo(plot).Length > 1000);
    }

    /// <summary>
    /// With eps = 0 the identity is exact up to sampling error, so a learned estimate is printed against it on the frames it was
    /// scored on: all of them for the current estimator (then the identity equals --method identity's, bit for bit), the held-out
    /// ones for the score. Ratio r = e / i with the error sqrt((se_e / i)^2 + (r se_i / i)^2); with eps > 0 nothing is compared.
    /// </summary>
    [Fact]
    public void LearnedEstimatesAreSetAgainstTheIdentityOnTheFramesTheyScore()
    {
        string data = PathOf("mips.npy"), noisy = PathOf("noisy.npy");
        string[] model = ["--model", "aoup", "--set", "n=64", "--set", "phi=0.3", "--set", "v0=1", "--set", "k=1", "--set", "gamma=1"];
        string[] run = ["--steps", "400", "--dt", "0.01", "--save-every", "4", "--seed", "9"];
        Assert.Equal(0, Run(["simulate", .. model, "--set", "eps=0", .. run, "--out", data]).Code);
        Assert.Equal(0, Run(["simulate", .. model, "--set", "eps=0.1", .. run, "--out", noisy]).Code);

        var (code, output, error) = Run("estimate", "--in", data, "--method", "identity", "--blocks", "10", "--json");
        Assert.True(code == 0, error);
        var identity = JsonNode.Parse(output)!;
        double i = (double)identity["ep_rate"]!, si = (double)identity["stderr"]!;
        Assert.True(i > 0 && si > 0);

        (code, output, error) = Run("estimate", "--in", data, "--method", "current", "--blocks", "10", "--json");
        Assert.True(code == 0, error);
        var current = JsonNode.Parse(output)!;
        Assert.Equal(i, (double)current["identity_ep_rate"]!);
        Assert.Equal(si, (double)current["identity_stderr"]!);
        Assert.Equal([0, 100], current["identity_frames"]!.AsArray().Select(v => (int)v!));
        // the value set against the identity is the one set against exact rates: the jackknife-debiased rate
        Assert.Equal("ep_rate_debiased", (string)current["identity_compared"]!);
        double e = (double)current["ep_rate_debiased"]!, se = (double)current["stderr"]!, r = e / i;
        Assert.Equal(r, (double)current["ratio_to_identity"]!, 12);
        Assert.Equal(Math.Sqrt(Math.Pow(se / i, 2) + Math.Pow(r * si / i, 2)), (double)current["ratio_to_identity_stderr"]!, 12);
        Assert.Equal(e - i, (double)current["difference_from_identity"]!, 12);
        Assert.Equal(Math.Sqrt(se * se + si * si), (double)current["difference_from_identity_stderr"]!, 12);
        Assert.Equal((double)current["ep_rate_heldout"]! / i, (double)current["heldout_ratio_to_identity"]!, 12);

        (code, output, error) = Run("estimate", "--in", data, "--method", "current", "--blocks", "10");
        Assert.True(code == 0, error);
        Assert.Contains("identity (eps = 0", output);
        Assert.Contains("estimate / identity = ", output);

        (code, output, error) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "3", "--seed", "2", "--json");
        Assert.True(code == 0, error);
        Assert.Contains("score training: 100.0%", error);
        Assert.Contains("step 3/3", error);
        Assert.Contains("score: scoring the held-out snapshots: 100.0%", error);
        var score = JsonNode.Parse(output)!;
        int scored = (int)score["n_snapshots"]!;
        Assert.True(scored > 1 && scored < 101);
        Assert.Equal([101 - scored, 100], score["identity_frames"]!.AsArray().Select(v => (int)v!));
        double heldOutIdentity = IdentityEntropyProduction.PerSnapshot(ActiveSnapshotFile.Read(data))[(101 - scored)..].Average();
        Assert.Equal(heldOutIdentity, (double)score["identity_ep_rate"]!, 10);
        Assert.Equal((double)score["ep_rate"]! / heldOutIdentity, (double)score["ratio_to_identity"]!, 10);
        Assert.Null(score["heldout_ratio_to_identity"]);   // the score's estimate is its held-out one already

        (code, output, error) = Run("estimate", "--in", noisy, "--method", "current", "--json");
        Assert.True(code == 0, error);
        Assert.Null(JsonNode.Parse(output)!["identity_ep_rate"]);   // eps > 0: the identity does not hold
    }

    /// <summary>
    /// Identity 4 is sigma only in a steady state (sigma = identity + dS/dt), so every eps = 0 estimate checks its record: the
    /// identity on two stretches (the halves; a trained score's training against its held-out frames), z = difference / sqrt(se_1^2
    /// + se_2^2), each stretch over half the blocks. A trap without interactions has the constant d A N: z = 0. Discs started on a
    /// wide grid with g = (3, 0) each pile up against the trap's far side over the record, so the identity grows from about its
    /// contact-free d A N to several times that: a drift that the check must report. The same system settled for 20 persistence times must not (|z| &lt;= 3, probability
    /// 99.73% for a stationary record with correct errors).
    /// </summary>
    [Fact]
    public void EveryIdentityComparisonChecksThatItsRecordIsStationary()
    {
        Assert.Null(IdentityEntropyProduction.Stationarity([1, 2, 3], 0, 1));   // a stretch of one frame has no error
        Assert.Throws<ArgumentOutOfRangeException>(() => IdentityEntropyProduction.Stationarity([1, 2, 3, 4], 3, 2));   // not a split
        var flat = IdentityEntropyProduction.Stationarity([5, 5, 5, 5], 0, 2)!;
        Assert.Equal((0.0, 0.0, false), (flat.Difference, flat.Z, flat.Differs));

        string trap = PathOf("trap.npy"), piled = PathOf("piled.npy"), settled = PathOf("settled.npy"), initial = PathOf("aligned.npy");
        Assert.Equal(0, Run("simulate", "--model", "aoup", "--set", "n=100", "--set", "phi=0.2", "--set", "A=1", "--set", "k=0", "--set", "eps=0",
            "--steps", "400", "--dt", "0.01", "--save-every", "4", "--seed", "9", "--out", trap).Code);
        var (code, output, error) = Run("estimate", "--in", trap, "--method", "identity", "--json");
        Assert.True(code == 0, error);
        var check = JsonNode.Parse(output)!["stationarity"]!;
        Assert.Equal((0.0, 0.0, false), ((double)check["difference"]!, (double)check["z"]!, (bool)check["differs"]!));

        var state = new double[64 * 4];
        for (int i = 0; i < 64; i++) (state[4 * i], state[4 * i + 1], state[4 * i + 2]) = (2.5 * (i % 8 - 3.5), 2.5 * (i / 8 - 3.5), 3);
        ThermoLearn.IO.NpyFormat.WriteArray(initial, state, [64, 4]);
        string[] model = ["--model", "aoup", "--set", "n=64", "--set", "phi=0.3", "--set", "v0=1", "--set", "k=1", "--set", "gamma=1", "--set", "A=0.2", "--set", "eps=0"];
        Assert.Equal(0, Run(["simulate", .. model, "--steps", "200", "--dt", "0.01", "--save-every", "2", "--seed", "9", "--initial", initial, "--out", piled]).Code);
        Assert.Equal(0, Run(["simulate", .. model, "--steps", "400", "--dt", "0.01", "--save-every", "4", "--seed", "9", "--burn-in", "2000", "--out", settled]).Code);

        (code, output, error) = Run("estimate", "--in", piled, "--method", "identity", "--json");
        Assert.True(code == 0, error);
        check = JsonNode.Parse(output)!["stationarity"]!;
        var series = IdentityEntropyProduction.PerSnapshot(ActiveSnapshotFile.Read(piled));
        Assert.True(series[^1] > 3 * series[0], $"{series[0]} -> {series[^1]}");   // from the grid (softplus tails only) to the pile-up
        var first = BlockStatistics.Mean(series.AsSpan(0, 50), 10);
        var second = BlockStatistics.Mean(series.AsSpan(50), 10);
        Assert.Equal([0, 49, 50, 100], check["frames"]!.AsArray().SelectMany(f => f!.AsArray().Select(v => (int)v!)));
        Assert.Equal(second.Mean - first.Mean, (double)check["difference"]!, 10);
        double z = (second.Mean - first.Mean) / Math.Sqrt(first.StandardError * first.StandardError + second.StandardError * second.StandardError);
        Assert.Equal(z, (double)check["z"]!, 10);
        Assert.True(z > StationarityCheck.Threshold && (bool)check["differs"]!, $"z = {z}");
        Assert.Equal((second.Mean - first.Mean) / first.Mean, (double)check["relative_difference"]!, 10);
        (_, output, _) = Run("estimate", "--in", piled, "--method", "identity");
        Assert.Contains("stationarity (identity 4 is sigma only in a steady state)", output);
        Assert.Contains("they differ, by ", output);

        (code, output, error) = Run("estimate", "--in", settled, "--method", "current", "--json");
        Assert.True(code == 0, error);
        check = JsonNode.Parse(output)!["stationarity"]!;
        Assert.False((bool)check["differs"]!, $"z = {(double)check["z"]!}");

        // a score trained here: its training frames against the held-out ones it is compared on
        (code, output, error) = Run("estimate", "--in", settled, "--method", "score", "--score-steps", "2", "--seed", "2", "--json");
        Assert.True(code == 0, error);
        var score = JsonNode.Parse(output)!;
        int heldOut = (int)score["identity_frames"]![0]!;
        Assert.Equal([0, heldOut - 1, heldOut, 100], score["stationarity"]!["frames"]!.AsArray().SelectMany(f => f!.AsArray().Select(v => (int)v!)));

        // 0 steps with the linear head: the closed-form head alone (its training frames read in chunks), compared the same way
        (code, output, error) = Run("estimate", "--in", settled, "--method", "score", "--score-steps", "0", "--score-linear", "--score-validation", "0.25", "--json");
        Assert.True(code == 0, error);
        var head = JsonNode.Parse(output)!;
        Assert.Equal(0, (int)head["training_steps"]!);
        Assert.Equal(0, (int)head["best_step"]!);
        Assert.Single(head["validation_loss"]!.AsArray());
        Assert.Equal((double)head["ep_rate"]! / (double)head["identity_ep_rate"]!, (double)head["ratio_to_identity"]!, 12);
        Assert.Equal(heldOut, (int)head["identity_frames"]![0]!);
        // a ridge given is the ridge used (not one chosen on the validation frames)
        (code, output, error) = Run("estimate", "--in", settled, "--method", "score", "--score-steps", "0", "--score-linear", "--score-validation", "0.25",
            "--score-ridge", "0.003", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(0.003, (double)JsonNode.Parse(output)!["linear_start_ridge"]!);
    }

    /// <summary>
    /// In a trap without interactions identity 4 is the constant d A N, so a record started without burn-in passed the check: the
    /// particles start on the cube of packing fraction phi (side 39.6 for 100 discs at phi = 0.2, mean |x|^2 about 260) and shrink to
    /// the stationary spread 2 C_xx = 2 v0^2 / (A (A + gamma)) = 1 at the rate 2 A. The mean squared position over the two halves must
    /// now differ (and the estimate warn, not-stationary, for the identity and the current estimator alike), while the identity's own
    /// check still finds its constant (z = 0), and its z of the mean squared position is only about -1 (the transient spreads the first
    /// half's block means); against the second half's fluctuations it is about -190. Four records of the same trap after 20 time units
    /// of burn-in must not warn: each check's z = difference / sqrt(se_1^2 + se_2^2) over 10 blocks a half exceeds 3 with probability
    /// about 0.7-1.1% and its reference z exceeds 10 with 0.1-0.3% (docs/active-matter.md), so the 8 checks (|x|^2 and |g|^2 of 4
    /// records) fail together by chance in about 8% of seed choices; these seeds are fixed.
    /// </summary>
    [Fact]
    public void ARecordWithoutBurnInIsNotStationaryWhereTheIdentityIsConstant()
    {
        string[] model = ["--model", "aoup", "--set", "n=100", "--set", "phi=0.2", "--set", "A=1", "--set", "k=0", "--set", "eps=0"];
        string fresh = PathOf("fresh.npy");
        Assert.Equal(0, Run(["simulate", .. model, "--steps", "4000", "--dt", "0.01", "--save-every", "4", "--seed", "9", "--out", fresh]).Code);
        foreach (var method in new[] { "identity", "current" })
        {
            var (code, output, error) = Run("estimate", "--in", fresh, "--method", method, "--json");
            Assert.True(code == 0, error);
            var json = JsonNode.Parse(output)!;
            Assert.False((bool)json["stationarity"]!["differs"]!);   // the identity: d A N at every frame
            var position = json["stationarity_observables"]!.AsArray().Single(o => (string)o!["observable"]! == StationarityObservables.MeanSquaredPosition)!;
            Assert.True((bool)position["differs"]! && (double)position["z_reference"]! < -StationarityCheck.ReferenceThreshold, position.ToJsonString());
            var warning = json["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "not-stationary")!;
            Assert.Contains(StationarityObservables.MeanSquaredPosition, warning["observables"]!.AsArray().Select(o => (string)o!));
            Assert.Contains("warning: the record is not stationary: mean squared position", error);
        }

        foreach (int seed in new[] { 1, 2, 3, 4 })
        {
            string settled = PathOf($"settled{seed}.npy");
            Assert.Equal(0, Run(["simulate", .. model, "--steps", "4000", "--dt", "0.01", "--save-every", "4", "--burn-in", "2000", "--seed", $"{seed}", "--out", settled]).Code);
            var (code, output, error) = Run("estimate", "--in", settled, "--method", "identity", "--json");
            Assert.True(code == 0, error);
            var json = JsonNode.Parse(output)!;
            var checks = json["stationarity_observables"]!.AsArray();
            Assert.Equal(2, checks.Count);
            foreach (var c in checks) Assert.False((bool)c!["differs"]!, $"seed {seed}: {c.ToJsonString()}");
            Assert.Null(json["warnings"]);
        }
    }

    [Fact]
    public void ActiveSweepTakesTheErrorAtOnePhiFromTheSpreadOfItsRuns()
    {
        string[] model = ["--model", "aoup", "--set", "n=64", "--set", "v0=1", "--set", "k=1", "--set", "eps=0", "--set", "gamma=1"];
        var files = new List<string>();
        foreach (var (phi, seed) in new[] { ("0.3", 1), ("0.3", 2), ("0.3", 3), ("0.2", 4) })
        {
            string file = PathOf($"run{seed}.npy");
            var (c, _, e) = Run(["simulate", .. model, "--set", $"phi={phi}", "--steps", "400", "--dt", "0.01", "--save-every", "4", "--seed", $"{seed}", "--out", file]);
            Assert.True(c == 0, e);
            files.Add(file);
        }
        string plot = PathOf("sweep.svg");
        var (code, output, error) = Run(["active-sweep", .. files.SelectMany(f => new[] { "--in", f }), "--method", "identity", "--blocks", "5", "--plot", plot, "--json"]);
        Assert.True(code == 0, error);
        var json = JsonNode.Parse(output)!;
        var rows = json["rows"]!.AsArray().Select(r => (Phi: (double)r!["phi"]!, Rate: (double)r["ep_rate_per_particle"]!, Error: (double)r["stderr_per_particle"]!)).ToArray();
        var byPhi = json["by_phi"]!.AsArray().ToDictionary(r => (double)r!["phi"]!);
        Assert.Equal(2, byPhi.Count);

        // three runs at 0.3: their mean, and the standard error s / sqrt(3) of their spread
        double[] runs = rows.Where(r => r.Phi == 0.3).Select(r => r.Rate).ToArray();
        Assert.Equal(3, runs.Length);
        double mean = runs.Average(), s = Math.Sqrt(runs.Sum(x => (x - mean) * (x - mean)) / 2);
        Assert.True(s > 0);   // different seeds, different numbers: the spread is not zero
        var three = byPhi[0.3]!;
        Assert.Equal(3, (int)three["runs"]!);
        Assert.Equal(mean, (double)three["ep_rate_per_particle"]!, 12);
        Assert.Equal(s / Math.Sqrt(3), (double)three["stderr_per_particle"]!, 12);
        Assert.Equal("runs", (string)three["stderr_from"]!);

        // one run at 0.2: its own value and block error
        var single = rows.Single(r => r.Phi == 0.2);
        var one = byPhi[0.2]!;
        Assert.Equal(1, (int)one["runs"]!);
        Assert.Equal(single.Rate, (double)one["ep_rate_per_particle"]!);
        Assert.Equal(single.Error, (double)one["stderr_per_particle"]!);
        Assert.Equal("blocks", (string)one["stderr_from"]!);
        Assert.True(new FileInfo(plot).Length > 1000);

        // a file at 0.3 from another model (v0 = 2) is not a replica of these: refused, naming both files, nothing written
        string other = PathOf("other.npy"), refusedPlot = PathOf("refused.svg");
        string[] otherModel = [.. model.Select(a => a == "v0=1" ? "v0=2" : a)];
        Assert.Equal(0, Run(["simulate", .. otherModel, "--set", "phi=0.3", "--steps", "400", "--dt", "0.01", "--save-every", "4", "--out", other]).Code);
        (code, _, error) = Run("active-sweep", "--in", files[0], "--in", other, "--method", "identity", "--plot", refusedPlot);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("run1.npy", error);
        Assert.Contains("other.npy", error);
        Assert.False(File.Exists(refusedPlot));
    }

    /// <summary>
    /// Runs at one phi are averaged as independent replicas with the error s / sqrt(R) from their spread. The same file given
    /// twice, or a copy of a run (the same seed of the same model), agreed exactly and gave an error of 0 with exit code 0;
    /// both are refused, naming the files, with no figure written. Different seeds are still taken (the test above).
    /// </summary>
    [Fact]
    public void ActiveSweepRefusesTheSameRunTwice()
    {
        string[] model = ["--model", "aoup", "--set", "n=64", "--set", "phi=0.3", "--set", "k=1", "--set", "eps=0"];
        string run = PathOf("run.npy"), copy = PathOf("copy.npy"), plot = PathOf("sweep.svg");
        var (code, _, error) = Run(["simulate", .. model, "--steps", "100", "--dt", "0.01", "--save-every", "4", "--seed", "5", "--out", run]);
        Assert.True(code == 0, error);
        File.Copy(run, copy);
        File.Copy(run + ".json", copy + ".json");

        (code, _, error) = Run("active-sweep", "--in", run, "--in", run, "--method", "identity", "--blocks", "5", "--plot", plot);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("given twice", error);
        Assert.False(File.Exists(plot));

        (code, _, error) = Run("active-sweep", "--in", run, "--in", copy, "--method", "identity", "--blocks", "5", "--plot", plot);
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.Contains("same seed (5)", error);
        Assert.Contains("run.npy", error);
        Assert.Contains("copy.npy", error);
        Assert.False(File.Exists(plot));
    }

    /// <summary>
    /// --method identity on a snapshot file the tool cannot recognise (a .npy whose sidecar is missing, a truncated HDF5 file)
    /// said "--method 'identity' is unknown"; it now says what is wrong with the file, with exit code 2.
    /// </summary>
    [Fact]
    public void IdentityOnAnUnreadableSnapshotFileSaysWhatIsWrongWithIt()
    {
        string npy = PathOf("run.npy"), h5 = PathOf("run.h5"), cut = PathOf("cut.h5");
        string[] model = ["--model", "aoup", "--set", "n=64", "--set", "phi=0.3", "--set", "k=1", "--set", "eps=0"];
        Assert.Equal(0, Run(["simulate", .. model, "--steps", "100", "--dt", "0.01", "--save-every", "4", "--out", npy]).Code);
        Assert.Equal(0, Run(["simulate", .. model, "--steps", "100", "--dt", "0.01", "--save-every", "4", "--out", h5]).Code);
        File.Delete(npy + ".json");
        byte[] bytes = File.ReadAllBytes(h5);
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);

        var (code, _, error) = Run("estimate", "--in", npy, "--method", "identity");
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.DoesNotContain("unknown", error);
        Assert.Contains("sidecar", error);

        (code, _, error) = Run("estimate", "--in", cut, "--method", "identity");
        Assert.Equal(CliApp.ExitBadInput, code);
        Assert.DoesNotContain("unknown", error);
        Assert.Contains("cut.h5", error);
    }

    [Theory]
    [InlineData("phi=1", "must lie in (0, 0.9069] (got 1): above the densest packing of equal discs")]
    [InlineData("phi=0.95", "must lie in (0, 0.9069] (got 0.95): above the densest packing of equal discs")]   // was simulated with overlapping discs
    [InlineData("phi=0.75 --set d=3", "must lie in (0, 0.7405] (got 0.75): above the densest packing of equal spheres")]
    [InlineData("k=-1", "k (the strength of the pair force) must be non-negative (got -1)")]   // was simulated: the particles collapsed
    [InlineData("k=-1 --set A=1", "k (the strength of the pair force) must be non-negative (got -1)")]
    [InlineData("phi=0", "(got 0): a packing fraction is the positive share")]   // said "at phi >= 1 the discs cannot fit"
    [InlineData("phi=-0.1", "(got -0.1): a packing fraction is the positive share")]
    [InlineData("n=3", "smaller than twice the interaction cutoff")]
    [InlineData("potential=lj", "unknown pair potential")]
    public void BadModelParametersExitWithCode2AndWriteNothing(string set, string message)
    {
        string output = PathOf("bad.h5");
        var (code, _, error) = Run(["simulate", "--model", "aoup", "--set", .. set.Split(' '), "--steps", "10", "--dt", "0.1", "--out", output]);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.False(File.Exists(output));
    }

    /// <summary>
    /// --initial is read flat. An array of 8 rows of 4 for n = 16, d = 2 (rows missing) was told "the active state g is missing"
    /// (its 32 values are those of 16 positions), and one of 32 rows of 2 (64 values, as many as 16 rows of 4) was taken as 16
    /// particles with exit code 0. Both are refused naming the file's rows and columns and the 16 rows of 4 needed.
    /// </summary>
    [Theory]
    [InlineData(8, 4)]
    [InlineData(32, 2)]
    public void AnInitialStateOfTheWrongShapeIsRefusedWithItsShape(int rows, int columns)
    {
        string initial = PathOf("init.npy"), output = PathOf("o.h5");
        var state = new double[rows * columns];
        for (int q = 0; q < state.Length; q++) state[q] = 3.7 * q % 20;
        ThermoLearn.IO.NpyFormat.WriteArray(initial, state, [rows, columns]);
        var (code, _, error) = Run("simulate", "--model", "aoup", "--set", "n=16", "--set", "phi=0.1", "--set", "k=0", "--steps", "4", "--dt", "0.01",
            "--initial", initial, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains($"{rows} rows of {columns} values", error);
        Assert.Contains("needs 16 rows of 4 columns", error);
        Assert.DoesNotContain("missing", error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void OverlappingInitialParticlesAndTrajectoryFlagsAreBadInput()
    {
        // Two WCA discs 0.2 apart (contact at 2): rejected with both indices.
        string initial = PathOf("init.npy");
        var state = new double[16 * 4];
        for (int i = 0; i < 16; i++) { state[i * 4] = 4 * (i % 4) + 2; state[i * 4 + 1] = 4 * (i / 4) + 2; }
        state[3 * 4] = state[2 * 4] + 0.2;
        state[3 * 4 + 1] = state[2 * 4 + 1];
        ThermoLearn.IO.NpyFormat.WriteArray(initial, state, [16, 4]);
        var (code, _, error) = Run("simulate", "--model", "aoup", "--set", "n=16", "--set", "phi=0.1", "--set", "potential=wca", "--steps", "10", "--dt", "0.01",
            "--initial", initial, "--out", PathOf("o.h5"));
        Assert.Equal(2, code);
        Assert.Contains("particles 2 and 3 overlap", error);
        (code, _, error) = Run("simulate", "--model", "aoup", "--trajectories", "4", "--steps", "10", "--dt", "0.1", "--out", PathOf("o.h5"));
        Assert.Equal(2, code);
        Assert.Contains("--trajectories does not apply", error);
        Assert.False(File.Exists(PathOf("o.h5")));
        // a step too large for the WCA core under noise: stopped mid-run, exit code 2, nothing written
        (code, _, error) = Run("simulate", "--model", "aoup", "--set", "n=64", "--set", "v0=0", "--set", "eps=1", "--set", "potential=wca",
            "--steps", "1000", "--dt", "0.01", "--seed", "3", "--out", PathOf("o.h5"));
        Assert.Equal(2, code);
        Assert.Contains("more than its radius", error);
        Assert.False(File.Exists(PathOf("o.h5")));
    }

    [Fact]
    public void MissingGColumnsInSnapshotsOrInTheInitialStateAreBadInput()
    {
        string npy = PathOf("x-only.npy"), local = PathOf("local.csv");
        var (code, _, error) = Run("simulate", "--model", "aoup", "--set", "n=16", "--set", "phi=0.1", "--set", "A=1", "--set", "k=0",
            "--steps", "4", "--dt", "0.01", "--seed", "1", "--out", npy);
        Assert.True(code == 0, error);
        var s = ActiveSnapshotFile.Read(npy);
        var positions = new double[s.Frames * 16 * 2];
        for (int f = 0; f < s.Frames; f++) for (int i = 0; i < 16; i++) for (int a = 0; a < 2; a++) positions[(f * 16 + i) * 2 + a] = s.Position(f, i, a);
        ThermoLearn.IO.NpyFormat.WriteArray(npy, positions, [s.Frames, 16, 2]);
        (code, _, error) = Run("estimate", "--in", npy, "--method", "current", "--local", local);
        Assert.Equal(2, code);
        Assert.Contains("g columns are missing", error);
        Assert.False(File.Exists(local));

        string initial = PathOf("init.npy"), output = PathOf("o.h5");
        ThermoLearn.IO.NpyFormat.WriteArray(initial, positions.AsSpan(0, 32).ToArray(), [16, 2]);
        (code, _, error) = Run("simulate", "--model", "aoup", "--set", "n=16", "--set", "phi=0.1", "--set", "A=1", "--set", "k=0", "--steps", "4", "--dt", "0.01",
            "--initial", initial, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("g is missing", error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void ScoreTrainingFollowsTheSeed()
    {
        string data = PathOf("seed.h5");
        Assert.Equal(0, Run("simulate", "--model", "aoup", "--set", "n=16", "--set", "phi=0.1", "--set", "A=1", "--set", "k=0", "--set", "eps=0.5",
            "--steps", "100", "--dt", "0.01", "--save-every", "5", "--burn-in", "50", "--seed", "5", "--out", data).Code);
        string Fit(string seed, params string[] extra)
        {
            var (code, output, error) = Run(["estimate", "--in", data, "--method", "score", "--score-steps", "3", "--seed", seed, .. extra, "--json"]);
            Assert.True(code == 0, error);
            var json = JsonNode.Parse(output)!;
            Assert.Equal(ulong.Parse(seed), (ulong)json["seed"]!);
            Assert.Equal(extra.Length == 2 ? double.Parse(extra[1], System.Globalization.CultureInfo.InvariantCulture) : 2e-3, (double)json["learning_rate"]!);
            return $"{(double)json["ep_rate"]!:R} {(double)json["ep_rate_plugin"]!:R} {(double)json["score_matching_loss"]!:R}";
        }
        string first = Fit("7");
        Assert.Equal(first, Fit("7"));         // same seed: the same bits (one libtorch thread)
        Assert.NotEqual(first, Fit("8"));      // another seed: other weights, order and probes, so other numbers
        Assert.Equal(first, Fit("7", "--score-lr", "0.002"));     // the default rate given explicitly: the same run
        Assert.NotEqual(first, Fit("7", "--score-lr", "0.05"));   // another rate moves the weights, so other numbers

        foreach (string bad in new[] { "0", "-1e-3", "NaN" })
        {
            var (code, _, error) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "3", "--score-lr", bad);
            Assert.Equal(2, code);
            Assert.Contains("--score-lr must be positive", error);
        }
        // 0 steps: the closed-form head alone, which learns s_g only: refused without --score-linear, and at eps > 0 (these data)
        var (zeroCode, _, zeroError) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "0");
        Assert.Equal(2, zeroCode);
        Assert.Contains("only with the closed-form linear head (--score-linear)", zeroError);
        (zeroCode, _, zeroError) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "0", "--score-linear");
        Assert.Equal(2, zeroCode);
        Assert.Contains("0 training steps need eps = 0", zeroError);
        (zeroCode, _, zeroError) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "3", "--score-ridge", "1e-3");
        Assert.Equal(2, zeroCode);
        Assert.Contains("give --score-linear with it", zeroError);
        (zeroCode, _, zeroError) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "3", "--score-linear", "--score-ridge", "-1");
        Assert.Equal(2, zeroCode);
        Assert.Contains("--score-ridge must be non-negative and finite", zeroError);
        var (identityCode, _, identityError) = Run("estimate", "--in", data, "--method", "identity", "--score-lr", "1e-3");
        Assert.Equal(2, identityCode);
        Assert.Contains("--score-validation, --score-ridge and --held-out belong to --method score", identityError);

        // the linear start with early stopping: the same bits again, on whole snapshots and on neighbourhood batches
        foreach (string[] extra in new[] { new[] { "--score-linear", "--score-validation", "0.25" }, ["--score-linear", "--score-validation", "0.25", "--score-centres", "8"] })
        {
            string Linear()
            {
                var (code, output, error) = Run(["estimate", "--in", data, "--method", "score", "--score-steps", "3", "--seed", "7", .. extra, "--json"]);
                Assert.True(code == 0, error);
                var json = JsonNode.Parse(output)!;
                Assert.Contains(",l2", (string)json["network"]!);   // g_i and x_i in a trap
                Assert.Equal(4, json["validation_loss"]!.AsArray().Count);   // before steps 1, 2, 3 and after the last
                return $"{(double)json["ep_rate"]!:R} {(double)json["score_matching_loss"]!:R} {(double)json["linear_start_loss"]!:R} {(int)json["best_step"]!}";
            }
            Assert.Equal(Linear(), Linear());
        }
        foreach (string bad in new[] { "1", "-0.1", "NaN" })
        {
            var (code, _, error) = Run("estimate", "--in", data, "--method", "score", "--score-steps", "3", "--score-validation", bad);
            Assert.Equal(2, code);
            Assert.Contains("--score-validation must be in [0, 1)", error);
        }

        // Where nothing is drawn from it, a seed would be ignored: refused.
        foreach (string[] args in new[] { new[] { "--method", "identity" }, ["--method", "current"] })
        {
            var (code, _, error) = Run(["estimate", "--in", data, .. args, "--seed", "3"]);
            Assert.Equal(2, code);
            Assert.Contains("--seed drives the training of --method score", error);
        }
    }

    [Fact]
    public void ScoreNetworkSavedAtSixteenParticlesLoadsOnSixtyFourAndRefusesAnotherModel()
    {
        string small = PathOf("n16.h5"), large = PathOf("n64.h5"), other = PathOf("eps.h5"), model = PathOf("trap.score");
        string[] trap = ["--model", "aoup", "--set", "phi=0.1", "--set", "A=1", "--set", "k=0"];
        string[] run = ["--steps", "200", "--dt", "0.01", "--save-every", "5", "--burn-in", "100", "--seed", "4"];
        Assert.Equal(0, Run(["simulate", .. trap, "--set", "n=16", "--set", "eps=0.5", .. run, "--out", small]).Code);
        Assert.Equal(0, Run(["simulate", .. trap, "--set", "n=64", "--set", "eps=0.5", .. run, "--out", large]).Code);
        Assert.Equal(0, Run(["simulate", .. trap, "--set", "n=64", "--set", "eps=0.25", .. run, "--out", other]).Code);

        var (code, output, error) = Run("estimate", "--in", small, "--method", "score", "--score-steps", "3", "--save-model", model, "--json");
        Assert.True(code == 0, error);
        Assert.Equal(model, (string)JsonNode.Parse(output)!["saved_model"]!);
        Assert.True(File.Exists(model));

        (code, output, error) = Run("estimate", "--in", large, "--method", "score", "--load-model", model, "--json");
        Assert.True(code == 0, error);
        Assert.Contains("score (loaded network) scoring the snapshots: 100.0%", error);
        var loaded = JsonNode.Parse(output)!;
        Assert.Equal(64, (int)loaded["particles"]!);
        Assert.Equal(41, (int)loaded["n_snapshots"]!);   // every snapshot: the loaded network never saw these data
        Assert.Equal(16, (int)loaded["loaded_model"]!["trained_particles"]!);
        Assert.Null(loaded["loaded_model"]!["linear_ridge"]);   // no linear head
        Assert.True(double.IsFinite((double)loaded["ep_rate"]!) && (double)loaded["stderr"]! > 0);

        // a network with the linear head keeps it (start, clip bounds, coefficients) through the file: loaded on other
        // data it evaluates the particle basis there, and scoring the same file twice gives the same bits
        string linear = PathOf("linear.score");
        (code, _, error) = Run("estimate", "--in", small, "--method", "score", "--score-steps", "3", "--score-linear", "--score-ridge", "1e-4", "--save-model", linear);
        Assert.True(code == 0, error);
        string LoadedLinear()
        {
            var (c, o, e) = Run("estimate", "--in", large, "--method", "score", "--load-model", linear, "--json");
            Assert.True(c == 0, e);
            var json = JsonNode.Parse(o)!;
            Assert.Contains(",l2", (string)json["network"]!);
            Assert.Equal(1e-4, (double)json["loaded_model"]!["linear_ridge"]!);   // the ridge its head was fitted with, recorded in the file
            Assert.True(double.IsFinite((double)json["ep_rate"]!) && (double)json["stderr"]! > 0);
            return $"{(double)json["ep_rate"]!:R}";
        }
        Assert.Equal(LoadedLinear(), LoadedLinear());

        (code, _, error) = Run("estimate", "--in", other, "--method", "score", "--load-model", model);
        Assert.Equal(2, code);
        Assert.Contains("trained on eps = 0.5, these data have eps = 0.25", error);
        (code, _, error) = Run("estimate", "--in", large, "--method", "score", "--load-model", model, "--score-steps", "3");
        Assert.Equal(2, code);
        Assert.Contains("--load-model", error);
        (code, _, error) = Run("estimate", "--in", large, "--method", "identity", "--save-model", PathOf("x.score"));
        Assert.Equal(2, code);
        Assert.Contains("belong to --method score", error);
        (code, _, error) = Run("estimate", "--in", large, "--method", "score", "--epochs", "3");
        Assert.Equal(2, code);
        Assert.Contains("--epochs does not apply", error);
        Assert.False(File.Exists(PathOf("x.score")));
    }
}
