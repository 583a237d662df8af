using ThermoLearn.IO;
using ThermoLearn.Trajectories;

namespace ThermoLearn.Cli.Plotting;

/// <summary>
/// The range a field figure spans: per coordinate the 2nd to 98th percentile of a strided sample of the frames (every s-th
/// frame of the file in C order, s = max(1, frames in the file / 20,000)), and the start time the field is drawn at. The same
/// frames are taken from data in memory and from a file read in chunks, so a streamed estimate draws the same figure
/// without holding the file.
/// </summary>
internal sealed record PlotRange(IReadOnlyList<(double Lo, double Hi)> Coordinates, double StartTime)
{
    private const long SampleSize = 20_000;

    private static long Stride(int trajectories, int frames) => Math.Max(1, (long)trajectories * frames / SampleSize);

    /// <summary>The range of data in memory (the first <paramref name="coordinates"/> coordinates).</summary>
    public static PlotRange Of(TrajectoryEnsemble data, int coordinates)
    {
        long count = (long)data.Trajectories * data.Frames, stride = Stride(data.Trajectories, data.Frames);
        var samples = Enumerable.Range(0, coordinates).Select(_ => new List<double>()).ToArray();
        for (long i = 0; i < count; i += stride)
            for (int c = 0; c < coordinates; c++) samples[c].Add(data.Data[i * data.Dimension + c]);
        return new PlotRange(samples.Select(Percentiles).ToArray(), data.StartTime);
    }

    /// <summary>The range of a file, read once in chunks of at most <paramref name="chunkValues"/> values (the same frames as <see cref="Of(TrajectoryEnsemble, int)"/>).</summary>
    public static PlotRange Of(TrajectoryReader reader, int coordinates, long chunkValues)
    {
        var h = reader.Header;
        long stride = Stride(h.Trajectories, h.Frames);
        var samples = Enumerable.Range(0, coordinates).Select(_ => new List<double>()).ToArray();
        foreach (var chunk in reader.Chunks(chunkValues, 0))
        {
            var data = chunk.Data;
            for (int r = 0; r < data.Trajectories; r++)
            {
                long first = (long)(chunk.FirstTrajectory + r) * h.Frames + chunk.FirstFrame;
                // the first sampled frame at or after this block's first frame
                long offset = (stride - first % stride) % stride;
                for (long f = offset; f < data.Frames; f += stride)
                {
                    var frame = data.Frame(r, (int)f);
                    for (int c = 0; c < coordinates; c++) samples[c].Add(frame[c]);
                }
            }
        }
        return new PlotRange(samples.Select(Percentiles).ToArray(), h.StartTime);
    }

    private static (double, double) Percentiles(List<double> values)
    {
        values.Sort();
        double lo = values[(int)(0.02 * (values.Count - 1))], hi = values[(int)(0.98 * (values.Count - 1))];
        if (!(hi > lo)) (lo, hi) = (lo - 1, hi + 1);
        return (lo, hi);
    }
}
