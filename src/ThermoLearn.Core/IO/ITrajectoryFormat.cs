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
