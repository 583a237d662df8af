using System.Text.Json.Nodes;
using ThermoLearn.Tests.IO;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>estimate --method current on active snapshots warns where the frames are too far apart for its Richardson correction.</summary>
public class ActiveCoarseSamplingTests
{
    /// <summary>
    /// 64 free AOUPs in a trap at eps = 0 (sigma = d A N = 128 exactly), Euler at 0.01 saved every 0.05 and every 0.2 (the
    /// continuous process, so that both spacings carry their own coarse-sampling bias). At 0.05 the correction is a few percent
    /// and the estimate agrees with 128: no warning. At 0.2 the correction is a quarter of the estimate, which then lies several
    /// of its standard errors below 128 (the O(dt^2) remainder): coarse_sampling, naming both lags.
    /// </summary>
    [Fact]
    public void CoarseFramesAreFlaggedAndFineFramesAreNot()
    {
        string folder = TestEnsembles.TempFolder();
        JsonObject Estimate(int saveEvery)
        {
            string snapshots = Path.Combine(folder, $"trap{saveEvery}.h5");
            var (simulated, _, simError) = Run("simulate", "--model", "aoup", "--set", "n=64", "--set", "phi=0.2", "--set", "v0=1", "--set", "gamma=1",
                "--set", "eps=0", "--set", "k=0", "--set", "A=1", "--dt", "0.01", "--burn-in", "2000", "--steps", (800 * saveEvery).ToString(),
                "--save-every", saveEvery.ToString(), "--seed", "2", "--out", snapshots);
            Assert.True(simulated == 0, simError);
            var (estimated, stdout, estError) = Run("estimate", "--in", snapshots, "--method", "current", "--json");
            Assert.True(estimated == 0, estError);
            return JsonNode.Parse(stdout)!.AsObject();
        }
        static string[] Ids(JsonObject r) => r["warnings"] is JsonArray all ? [.. all.Select(w => (string)w!["id"]!)] : [];

        var fine = Estimate(5);
        double fineZ = ((double)fine["ep_rate"]! - 128) / (double)fine["stderr"]!;
        Assert.True(Math.Abs(fineZ) < 4, $"frames 0.05 apart: {fine["ep_rate"]} +- {fine["stderr"]} against 128 (z = {fineZ:F2})");
        Assert.DoesNotContain("coarse_sampling", Ids(fine));

        var coarse = Estimate(20);
        var warning = coarse["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "coarse_sampling")!;
        Assert.True((double)warning["correction_fraction"]! > ThermoLearn.Inference.CoarseSamplingCorrection.TrustedFraction, warning.ToJsonString());
        Assert.Contains("lag 2", (string)warning["message"]!);
    }
}
