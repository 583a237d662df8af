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
    private static readonly ITrajectoryFormat[] Formats =
    [
        new Hdf5TrajectoryFormat(),
        new ParquetTrajectoryFormat(),
        new NpyFormat(),
        new CsvFormat(),
    ];

    /// <summary>The supported formats.</summary>
    public static IReadOnlyList<ITrajectoryFormat> All { get; } = Array.AsReadOnly(Formats);

    /// <summary>The format for a path's extension.</summary>
    /// <exception cref="InvalidInputException">No registered format handles the extension.</exception>
    public static ITrajectoryFormat ForPath(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        foreach (var f in Formats)
            if (f.Extensions.Contains(ext)) return f;
        string known = string.Join(", ", Formats.SelectMany(f => f.Extensions).Distinct());
        throw new InvalidInputException($"{path}: unknown trajectory file extension '{ext}'; use one of {known}.");
    }

    /// <summary>
    /// Reads trajectories from <paramref name="path"/>. The frame spacing is the one the file stores (in the file, or in
    /// its sidecar when that still describes the data, <see cref="TrajectorySidecar.Check"/>); <paramref name="dt"/> fills
    /// in when nothing is stored. A <paramref name="dt"/> that disagrees with a stored one is an error, unless
    /// <paramref name="dtOverrides"/> says that the caller's value wins.
    /// </summary>
    public static TrajectoryEnsemble Read(string path, double? dt = null, bool dtOverrides = false)
    {
        if (Directory.Exists(path))
            throw new InvalidInputException($"{path} is a folder; give a trajectory file (.npy, .csv, .h5, .parquet).");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        if (new FileInfo(path).Length == 0) throw new InvalidInputException($"{path}: file is empty.");
        var format = ForPath(path);
        var sidecar = format is ISidecarTrajectoryFormat ? TrajectorySidecar.TryRead(path) : null;
        if (sidecar is not null && !(sidecar.Dt > 0 && double.IsFinite(sidecar.Dt)))
            throw new InvalidInputException($"{sidecar.Path}: dt is {sidecar.Dt}; the time between frames must be a positive finite number.");
        var ensemble = format.Read(path, sidecar?.Dt ?? dt);
        if (sidecar is not null) TrajectorySidecar.Check(sidecar, path, ensemble);
        string where = sidecar is null ? $"{path} itself" : $"the sidecar {sidecar.Path}";
        double storedDt = ensemble.Dt;
        if (sidecar is not null && storedDt != sidecar.Dt)
        {
            // a format with its own time axis (CSV's t column) gives dt back only to rounding; the sidecar holds it exactly
            if (!SameDt(storedDt, sidecar.Dt))
                throw new InvalidInputException($"{sidecar.Path} says dt = {sidecar.Dt} but the times in {path} are {storedDt} apart; one of them was edited. "
                    + "Fix or delete the sidecar.");
            storedDt = sidecar.Dt;
        }
        double useDt = storedDt;
        if (dt is { } requested && !SameDt(storedDt, requested))
        {
            if (!dtOverrides)
                throw new InvalidInputException($"--dt {requested} disagrees with the frame spacing dt = {storedDt} stored in {where}; "
                    + $"drop --dt to use the stored value, or add --dt-override to use {requested} (e.g. after keeping every k-th frame).");
            useDt = requested;
        }
        var metadata = sidecar is { UserWritten: false } ? sidecar.Metadata : ensemble.Metadata;
        double start = sidecar?.StartTime ?? ensemble.StartTime;
        if (useDt == ensemble.Dt && ReferenceEquals(metadata, ensemble.Metadata) && start == ensemble.StartTime) return ensemble;
        return new TrajectoryEnsemble(ensemble.Trajectories, ensemble.Frames, ensemble.Dimension, useDt, ensemble.Data, metadata, start);
    }

    /// <summary>Two frame spacings agree to 1e-9 relative (a CSV's t column gives dt back only to rounding).</summary>
    private static bool SameDt(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    /// <summary>Writes trajectories to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(string path, TrajectoryEnsemble ensemble)
    {
        var format = ForPath(path);
        AtomicFile.Write(path, stream => format.Write(stream, ensemble));
        if (format is ISidecarTrajectoryFormat)
            AtomicFile.WriteText(TrajectorySidecar.PathFor(path), TrajectorySidecar.ToJson(ensemble, new FileInfo(path).Length));
    }
}
