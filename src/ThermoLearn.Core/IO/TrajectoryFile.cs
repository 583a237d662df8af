using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// Reads and writes trajectory ensembles in the format named by the file's extension.
/// Writing goes to a temporary file next to the target that is renamed on success, so a failed
/// write never leaves a half-written file under the requested name. Formats that cannot store dt and
/// provenance (.npy, .csv) get a JSON sidecar (<see cref="TrajectorySidecar"/>), which reading picks up.
/// </summary>
public static class TrajectoryFile
{
    private static readonly List<ITrajectoryFormat> Formats = new()
    {
        new Hdf5TrajectoryFormat(),
        new ParquetTrajectoryFormat(),
        new NpyFormat(),
        new CsvFormat(),
    };

    /// <summary>Registers a format (later registrations win for the same extension).</summary>
    public static void Register(ITrajectoryFormat format)
    {
        lock (Formats) Formats.Insert(0, format);
    }

    /// <summary>The registered formats.</summary>
    public static IReadOnlyList<ITrajectoryFormat> All
    {
        get { lock (Formats) return Formats.ToArray(); }
    }

    /// <summary>The format for a path's extension.</summary>
    /// <exception cref="InvalidInputException">No registered format handles the extension.</exception>
    public static ITrajectoryFormat ForPath(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        lock (Formats)
        {
            foreach (var f in Formats)
                if (f.Extensions.Contains(ext)) return f;
            string known = string.Join(", ", Formats.SelectMany(f => f.Extensions).Distinct());
            throw new InvalidInputException($"{path}: unknown trajectory file extension '{ext}'; use one of {known}.");
        }
    }

    /// <summary>Reads trajectories from <paramref name="path"/>; <paramref name="dt"/> overrides nothing stored in the file but fills in when the file has no dt.</summary>
    public static TrajectoryEnsemble Read(string path, double? dt = null)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        if (new FileInfo(path).Length == 0) throw new InvalidInputException($"{path}: file is empty.");
        var format = ForPath(path);
        var sidecar = format is ISidecarTrajectoryFormat ? TrajectorySidecar.TryRead(path) : null;
        var ensemble = format.Read(path, sidecar?.Dt ?? dt);
        if (sidecar is { } s && s.Trajectories == ensemble.Trajectories && s.Frames == ensemble.Frames && s.Dimension == ensemble.Dimension)
            return new TrajectoryEnsemble(ensemble.Trajectories, ensemble.Frames, ensemble.Dimension, ensemble.Dt, ensemble.Data, s.Metadata, s.StartTime);
        return ensemble;
    }

    /// <summary>Writes trajectories to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(string path, TrajectoryEnsemble ensemble)
    {
        var format = ForPath(path);
        AtomicFile.Write(path, stream => format.Write(stream, ensemble));
        if (format is ISidecarTrajectoryFormat)
            AtomicFile.WriteText(TrajectorySidecar.PathFor(path), TrajectorySidecar.ToJson(ensemble));
    }
}
