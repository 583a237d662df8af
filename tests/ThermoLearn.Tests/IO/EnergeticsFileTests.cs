using System.Globalization;
using ThermoLearn.Energetics;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

public class EnergeticsFileTests
{
    /// <summary>
    /// Every cell is double.ToString("R", InvariantCulture) of its value, including the cells the writer copies from an
    /// earlier cell of the row (equal bits, or the sign flipped): repeats and negations of ordinary values, +0 and -0,
    /// subnormals, the extremes, infinities and NaN, with and without the system-entropy columns.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CellsAreRoundTripTextEvenWhereCopied(bool withSystemEntropy)
    {
        double[] specials = [0.0, -0.0, 1.0, -1.0, 0.1, -0.26326768394240396, double.Epsilon, -double.Epsilon, double.MaxValue,
            double.MinValue, double.PositiveInfinity, double.NegativeInfinity, double.NaN, -double.NaN, 1e-310, 123456789.125];
        var random = new Random(7);
        int n = 3000;
        var columns = new double[5][];
        for (int c = 0; c < 5; c++) columns[c] = new double[n];
        for (int i = 0; i < n; i++)
        {
            double Pick() => random.Next(3) == 0 ? specials[random.Next(specials.Length)] : (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9));
            for (int c = 0; c < 5; c++)
            {
                // each column is new, a copy of an earlier one, or an earlier one negated
                int mode = c == 0 ? 0 : random.Next(3), from = c == 0 ? 0 : random.Next(c);
                columns[c][i] = mode switch { 0 => Pick(), 1 => columns[from][i], _ => -columns[from][i] };
            }
        }
        var e = new TrajectoryEnergetics(columns[0], columns[1], columns[2], columns[3], withSystemEntropy ? columns[4] : null);
        string folder = Directory.CreateTempSubdirectory("tl-energetics").FullName;
        try
        {
            string path = Path.Combine(folder, "e.csv");
            EnergeticsFile.Write(path, e, new TrajectoryMetadata("double-well", "{}", 1, FirstTrajectory: 40));
            var lines = File.ReadAllLines(path);
            Assert.Equal(n + 1, lines.Length);
            Assert.Equal(EnergeticsFile.Header + (withSystemEntropy ? ",system_entropy,total_entropy" : ""), lines[0]);
            for (int i = 0; i < n; i++)
            {
                var values = new List<double> { e.Work[i], e.Heat[i], e.DeltaEnergy[i], e.MediumEntropy[i] };
                if (withSystemEntropy) values.AddRange([e.SystemEntropy![i], e.TotalEntropy![i]]);
                string expected = string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)).Prepend((40 + i).ToString(CultureInfo.InvariantCulture)));
                Assert.Equal(expected, lines[i + 1]);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
