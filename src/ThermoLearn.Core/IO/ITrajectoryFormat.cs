using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// One file format for trajectory ensembles. A format is chosen by file extension through
/// <see cref="TrajectoryFile"/>; adding a format means adding one implementation and registering it there.
/// </summary>
public interface ITrajectoryFormat
{
    /// <summary>Short name, e.g. "npy".</summary>
    string Name { get; }

    /// <summary>Extensions including the dot, lower case, e.g. ".npy".</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>Reads a file. <paramref name="dt"/> is used when the file does not store the frame spacing.</summary>
    /// <exception cref="InvalidInputException">The file is malformed; the message names the file and the problem.</exception>
    TrajectoryEnsemble Read(string path, double? dt);

    /// <summary>Writes the ensemble to <paramref name="stream"/> (the caller handles temporary names and renaming).</summary>
    void Write(Stream stream, TrajectoryEnsemble ensemble);
}

/// <summary>Fills its argument with the next values of an ensemble, in C order x[trajectory, frame, coordinate]; always whole frames.</summary>
public delegate void TrajectoryValueSource(Span<double> destination);

/// <summary>An in-memory ensemble as a header and a value source, for the streaming writers' <see cref="ITrajectoryFormat.Write"/>.</summary>
internal static class InMemoryTrajectory
{
    public static TrajectoryHeader Header(TrajectoryEnsemble ensemble) =>
        new("", ensemble.Trajectories, ensemble.Frames, ensemble.Dimension, ensemble.Dt, ensemble.StartTime, ensemble.Metadata);

    /// <summary>The values of <paramref name="data"/> in order, each call continuing where the last stopped.</summary>
    public static TrajectoryValueSource Values(double[] data)
    {
        int at = 0;
        return destination =>
        {
            data.AsSpan(at, destination.Length).CopyTo(destination);
            at += destination.Length;
        };
    }
}

/// <summary>
/// A format that writes an ensemble whose values come in pieces, holding at most about <c>bufferValues</c> of them at once
/// (at least one frame): for files larger than memory (<see cref="TrajectoryFile.Copy"/>: convert, merge). The file holds the
/// same values, dt, start time and provenance as <see cref="ITrajectoryFormat.Write"/> of the same ensemble would.
/// </summary>
public interface IStreamingTrajectoryFormat : ITrajectoryFormat
{
    /// <summary>Writes <paramref name="header"/>'s shape, frame spacing, start time and metadata, taking the values from <paramref name="values"/>.</summary>
    void Write(Stream stream, TrajectoryHeader header, TrajectoryValueSource values, long bufferValues);
}

/// <summary>
/// What <see cref="TrajectoryFile.Copy"/> wrote: the fingerprint of the values (<see cref="DataFingerprint"/>), that of each
/// input's values (to compare with the inputs' sidecars), and the most values it held at once.
/// </summary>
public sealed record TrajectoryCopyResult(string Fingerprint, IReadOnlyList<string> InputFingerprints, long PeakValuesHeld);
