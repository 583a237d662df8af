using System.Text.Json.Nodes;
using ThermoLearn.IO;
using ThermoLearn.Tests.Inference;
using Xunit;
using static ThermoLearn.Tests.Cli.CliRunner;

namespace ThermoLearn.Tests.Cli;

public class NoiseRobustCommandTests
{
    /// <summary>
    /// infer --noise-robust on the driven trap (D = 0.5, drift coefficient -1) with measurement noise of std 0.1: D was 0.557 +- 0.005
    /// (10.6 stderr high) and the drift coefficient about -2.9 (22 stderr); both now within their errors, with the noise covariance 0.01
    /// reported in JSON and text, and estimate --diffusion auto-robust uses the same D. z = StatisticalTolerance.Z(0.0027, 3): 0.27% false failures.
    /// </summary>
    [Fact]
    public void InferNoiseRobustRemovesTheNoiseAndReportsIt()
    {
        string folder = Directory.CreateTempSubdirectory("tl-noise").FullName, file = Path.Combine(folder, "noisy.npy");
        try
        {
            TrajectoryFile.Write(file, MeasurementNoiseTests.NoisyTrap(InferenceData.DrivenTrap(), 0.1, 20, 10_000, 404));
            var (code, output, error) = Run("infer", "--in", file, "--noise-robust", "--json");
            Assert.True(code == 0, error);
            var json = JsonNode.Parse(output)!.AsObject();
            double z = StatisticalTolerance.Z(0.0027, checks: 3);
            void Near(double exact, JsonNode? value, JsonNode? se, string what) =>
                Assert.True(Math.Abs((double)value! - exact) < z * (double)se!, $"{what}: {(double)value!} +- {(double)se!}, exact {exact}");
            Near(0.5, json["diffusion"]!["matrix"]![0]![0], json["diffusion"]!["stderr"]![0]![0], "D[0,0]");
            Near(-1, json["drift"]!["coefficients"]![1]![0], json["drift"]!["stderr"]![1]![0], "drift x0 -> 0");
            Near(0.01, json["measurement_noise"]!["covariance"]![1]![1], json["measurement_noise"]!["stderr"]![1]![1], "Sigma[1,1]");
            Assert.StartsWith("second cumulant less the measurement noise", (string)json["diffusion"]!["method"]!);

            var text = Run("infer", "--in", file, "--noise-robust");
            Assert.Contains("  measurement noise covariance = ", text.Out);
            var plain = Run("infer", "--in", file);
            Assert.DoesNotContain("measurement", plain.Out);
            // the noise moves the plain drift between the lags (-Sigma/dt, -Sigma/(2 dt)): the coarse-sampling warning points to --noise-robust,
            // and with the noise removed the correction is small again (the frames are 0.01 apart)
            Assert.Contains("infer with --noise-robust", plain.Error);
            Assert.Null(json["warnings"]);

            var estimate = JsonNode.Parse(Run("estimate", "--in", file, "--basis", "poly:1", "--diffusion", "auto-robust", "--json").Out)!;
            // estimate's D is the lag-1 one (its EP carries its own coarse-sampling correction); infer's lag-1 D is the uncorrected one
            Assert.Equal((double)json["diffusion_uncorrected"]!["matrix"]![0]![0]!, (double)estimate["diffusion"]![0]!, 12);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// infer --noise-robust with a Fourier basis scales the observed means of its modes by exp(q^T Sigma q / 2): on the tilted ring
    /// with noise of std 0.3 that is exp(2 k^2 Sigma) at the Gram's highest harmonic 2 K, 2.05 for fourier:2 (no warning) and 5.1 for
    /// fourier:3, reported as measurement_noise.amplification and flagged (noise_amplification, JSON and stderr) above 3.
    /// </summary>
    [Fact]
    public void InferNoiseRobustWarnsWhenTheFourierCorrectionAmplifiesTheNoise()
    {
        string folder = Directory.CreateTempSubdirectory("tl-noise").FullName, file = Path.Combine(folder, "ring.npy");
        try
        {
            TrajectoryFile.Write(file, MeasurementNoiseTests.NoisyRing(0.3, 10, 4_001, 2521));
            var two = Run("infer", "--in", file, "--basis", "fourier:2", "--noise-robust", "--json");
            Assert.True(two.Code == 0, two.Error);
            var json = JsonNode.Parse(two.Out)!.AsObject();
            double sigma = (double)json["measurement_noise"]!["covariance"]![0]![0]!;
            Assert.Equal(Math.Exp(8 * sigma), (double)json["measurement_noise"]!["amplification"]!, 10);
            Assert.Null(json["warnings"]);

            var three = Run("infer", "--in", file, "--basis", "fourier:3", "--noise-robust", "--json");
            Assert.True(three.Code == 0, three.Error);
            var result = JsonNode.Parse(three.Out)!;
            var warning = result["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "noise_amplification")!;
            Assert.Equal(Math.Exp(18 * (double)result["measurement_noise"]!["covariance"]![0]![0]!), (double)warning["amplification"]!, 10);
            Assert.Contains("multiplies its highest modes by up to", three.Error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
    /// <summary>
    /// estimate --diffusion auto-robust deconvolves the current method's moments as infer --noise-robust does, and warns the same way:
    /// on the data above fourier:3's amplification is exp(18 Sigma) = 5.1 (infer's measurement_noise.amplification, the same Sigma
    /// from the same lag-1 moments), flagged in JSON (noise_amplification) and on stderr; fourier:2's 2.05 is not. Before, estimate
    /// gave no warning at any amplification.
    /// </summary>
    [Fact]
    public void EstimateAutoRobustWarnsWhenTheFourierCorrectionAmplifiesTheNoise()
    {
        string folder = Directory.CreateTempSubdirectory("tl-noise").FullName, file = Path.Combine(folder, "ring.npy");
        try
        {
            TrajectoryFile.Write(file, MeasurementNoiseTests.NoisyRing(0.3, 10, 4_001, 2521));
            var inferred = Run("infer", "--in", file, "--basis", "fourier:3", "--noise-robust", "--json");
            Assert.True(inferred.Code == 0, inferred.Error);
            double amplification = (double)JsonNode.Parse(inferred.Out)!["measurement_noise"]!["amplification"]!;
            Assert.True(amplification > 3, $"amplification {amplification}");

            var three = Run("estimate", "--in", file, "--basis", "fourier:3", "--diffusion", "auto-robust", "--json");
            Assert.True(three.Code == 0, three.Error);
            var warning = JsonNode.Parse(three.Out)!["warnings"]!.AsArray().Single(w => (string)w!["id"]! == "noise_amplification")!;
            Assert.Equal(amplification, (double)warning["amplification"]!, 10);
            Assert.Equal(3.0, (double)warning["threshold"]!);
            Assert.Equal("fourier:3", (string)warning["basis"]!);
            Assert.Contains("warning: " + file + ": removing the measurement noise", three.Error);
            Assert.Contains("multiplies its highest modes by up to", three.Error);

            var two = Run("estimate", "--in", file, "--basis", "fourier:2", "--diffusion", "auto-robust", "--json");
            Assert.True(two.Code == 0, two.Error);
            Assert.DoesNotContain(JsonNode.Parse(two.Out)!["warnings"]?.AsArray() ?? [], w => (string)w!["id"]! == "noise_amplification");
            Assert.DoesNotContain("multiplies its highest modes", two.Error);
            // the plain diffusion removes no noise, so there is nothing to amplify
            var plain = Run("estimate", "--in", file, "--basis", "fourier:3", "--json");
            Assert.DoesNotContain("multiplies its highest modes", plain.Error);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

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
