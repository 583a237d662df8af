// Reads a trajectory file in any supported format (.npy, .csv, .h5/.hdf5, .parquet; chosen by extension) and
// prints its shape, frame spacing, provenance and per-coordinate means. Without an argument it first writes a
// small HDF5 file so there is something to read.
// Run: dotnet run --project examples/ReadTrajectoryFile -- [FILE] [--dt DT]
using ThermoLearn.IO;
using ThermoLearn.Trajectories;

string path;
if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
{
    path = args[0];
}
else
{
    path = Path.Combine(Path.GetTempPath(), "thermolearn-example.h5");
    var data = new double[3 * 5 * 2];
    for (int i = 0; i < data.Length; i++) data[i] = Math.Sin(i);
    TrajectoryFile.Write(path, new TrajectoryEnsemble(3, 5, 2, 0.01, data, new TrajectoryMetadata("example", "{}", 1)));
    Console.WriteLine($"wrote {path}");
}
int dtAt = Array.IndexOf(args, "--dt");
double? dt = dtAt >= 0 && dtAt + 1 < args.Length ? double.Parse(args[dtAt + 1], System.Globalization.CultureInfo.InvariantCulture) : null;

try
{
    var e = TrajectoryFile.Read(path, dt);
    Console.WriteLine($"{path} ({TrajectoryFile.ForPath(path).Name}): {e.Trajectories} trajectories x {e.Frames} frames x {e.Dimension} dimensions, dt = {e.Dt}, t0 = {e.StartTime}");
    Console.WriteLine($"model {e.Metadata.Model ?? "-"}, parameters {e.Metadata.ParametersJson ?? "-"}, seed {e.Metadata.Seed?.ToString() ?? "-"}");
    for (int d = 0; d < e.Dimension; d++)
    {
        double sum = 0;
        for (long i = d; i < e.Data.LongLength; i += e.Dimension) sum += e.Data[i];
        Console.WriteLine($"mean x{d} = {sum / ((long)e.Trajectories * e.Frames):G6}");
    }
    return 0;
}
catch (ThermoLearn.InvalidInputException error)
{
    Console.Error.WriteLine($"error: {error.Message}");
    return 2;
}
