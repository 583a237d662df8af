using System.Text.Json.Nodes;
using ThermoLearn.IO;
using ThermoLearn.Tests.Inference;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

/// <summary>
/// estimate reports the measurement noise it removes (JSON "measurement_noise", as infer --noise-robust, and a text line): the
/// current method with --diffusion auto-robust and the TUR bound with --noise-robust; neither key nor line without them.
/// </summary>
public class EstimateMeasurementNoiseTests
{
    /// <summary>
    /// The driven trap (2-d) observed with white noise of std 0.1 on each coordinate (Sigma = 0.01 I): each method's reported
    /// Sigma has its diagonal within 4 of its own standard errors of 0.01, and the current method's amplification is 1 (poly:1:
    /// the correction only subtracts), the TUR's as well (affine sums).
    /// </summary>
    [Fact]
    public void EstimateReportsTheRemovedMeasurementNoiseOnlyWhenItRemovesIt()
    {
        string folder = Directory.CreateTempSubdirectory("tl-estnoise").FullName, file = Path.Combine(folder, "noisy.npy");
        try
        {
            TrajectoryFile.Write(file, MeasurementNoiseTests.NoisyTrap(InferenceData.DrivenTrap(), 0.1, 20, 10_000, 2411));
            foreach (var robust in new[] { new[] { "--method", "current", "--diffusion", "auto-robust" }, ["--method", "tur", "--noise-robust"] })
            {
                var (code, output, error) = Run(["estimate", "--in", file, "--basis", "poly:1", .. robust, "--json"]);
                Assert.True(code == 0, error);
                var noise = JsonNode.Parse(output)!["measurement_noise"];
                Assert.True(noise is not null, $"{robust[1]}: no measurement_noise in {output}");
                for (int i = 0; i < 2; i++)
                {
                    double sigma = (double)noise!["covariance"]![i]![i]!, se = (double)noise["stderr"]![i]![i]!;
                    Assert.True(se > 0 && Math.Abs(sigma - 0.01) < 4 * se, $"{robust[1]}: Sigma[{i},{i}] = {sigma} +- {se}, added 0.01");
                }
                Assert.Equal(1.0, (double)noise!["amplification"]!);
                var text = Run(["estimate", "--in", file, "--basis", "poly:1", .. robust]);
                Assert.True(text.Code == 0, text.Error);
                Assert.Contains("  measurement noise covariance = ", text.Out);

                var plainArguments = robust[1] == "tur" ? new[] { "--method", "tur" } : ["--method", "current", "--diffusion", "auto"];
                var plain = Run(["estimate", "--in", file, "--basis", "poly:1", .. plainArguments, "--json"]);
                Assert.True(plain.Code == 0, plain.Error);
                Assert.Null(JsonNode.Parse(plain.Out)!["measurement_noise"]);
                Assert.DoesNotContain("measurement noise", Run(["estimate", "--in", file, "--basis", "poly:1", .. plainArguments]).Out);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
