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

    /// <summary>The error for a given frame spacing that disagrees with the one stored in <paramref name="where"/>.</summary>
    internal static InvalidInputException DtDisagrees(double requested, double stored, string where) =>
        InvalidInputException.Naming($"{InputParameter.Dt} {requested} disagrees with the frame spacing dt = {stored} stored in {where}; ",
            $"drop {InputParameter.Dt} to use the stored value, or add {InputParameter.DtOverrides} to use {requested} (e.g. after keeping every k-th frame).");

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
                throw DtDisagrees(requested, storedDt, where);
            useDt = requested;
        }
        var metadata = sidecar is { UserWritten: false } ? sidecar.Metadata : ensemble.Metadata;
        double start = sidecar?.StartTime ?? ensemble.StartTime;
        if (useDt == ensemble.Dt && ReferenceEquals(metadata, ensemble.Metadata) && start == ensemble.StartTime) return ensemble;
        return new TrajectoryEnsemble(ensemble.Trajectories, ensemble.Frames, ensemble.Dimension, useDt, ensemble.Data, metadata, start);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading in chunks with <see cref="Read"/>'s rule for the frame spacing: the stored one,
    /// <paramref name="dt"/> when nothing is stored, and a disagreeing <paramref name="dt"/> refused unless <paramref name="dtOverrides"/>.
    /// </summary>
    public static TrajectoryReader OpenReader(string path, double? dt = null, bool dtOverrides = false)
    {
        if (Directory.Exists(path))
            throw new InvalidInputException($"{path} is a folder; give a trajectory file (.npy, .csv, .h5, .parquet).");
        return TrajectoryReader.Open(path, dt, dtOverrides);
    }

    /// <summary>
    /// Refuses an input whose sidecar records a fingerprint other than that of the values just read (<paramref name="fingerprint"/>):
    /// the check <see cref="Read"/> makes, for files read chunk by chunk.
    /// </summary>
    public static void CheckSidecarFingerprint(string path, string fingerprint)
    {
        if (ForPath(path) is ISidecarTrajectoryFormat && TrajectorySidecar.TryRead(path) is { } sidecar)
            TrajectorySidecar.CheckFingerprint(sidecar, path, fingerprint);
    }

    /// <summary>Two frame spacings agree to 1e-9 relative (a CSV's t column gives dt back only to rounding).</summary>
    internal static bool SameDt(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));

    /// <summary>
    /// Writes <paramref name="path"/> (format by extension) from <paramref name="inputs"/> read one after the other, in chunks of at
    /// most about <paramref name="chunkValues"/> values, so that neither the inputs nor the output are ever held in memory: the
    /// values of the file are those of the inputs in order (shards in order for a merge), <paramref name="header"/> gives its
    /// shape (the inputs' trajectories together), dt, start time and provenance. Written under a temporary name and renamed,
    /// with the sidecar (its fingerprint from the values as they pass) for .npy and .csv. <paramref name="check"/> sees the
    /// fingerprints before the file gets its name (to refuse an input whose own sidecar records another); throwing leaves nothing.
    /// </summary>
    public static TrajectoryCopyResult Copy(IReadOnlyList<TrajectoryReader> inputs, TrajectoryHeader header, string path, long chunkValues, Action<TrajectoryCopyResult>? check = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var format = ForPath(path);
        if (format is not IStreamingTrajectoryFormat streaming)
            throw new InvalidInputException($"{path}: the {format.Name} format cannot be written chunk by chunk; write .npy, .csv, .h5 or .parquet.");
        if (inputs.Sum(r => (long)r.Header.Trajectories) != header.Trajectories || inputs.Any(r => r.Header.Frames != header.Frames || r.Header.Dimension != header.Dimension))
            throw new ArgumentException("the inputs' shapes do not add up to the header's.", nameof(header));
        var fingerprint = new DataFingerprint.Builder();
        var inputPrints = inputs.Select(_ => new DataFingerprint.Builder()).ToArray();
        long peak = 0, left = 0;
        int current = -1;
        void Source(Span<double> destination)
        {
            peak = Math.Max(peak, destination.Length);
            int done = 0;
            while (done < destination.Length)
            {
                while (left == 0) left = inputs[++current].Header.Values;
                int n = (int)Math.Min(left, destination.Length - done);
                inputs[current].ReadNext(destination.Slice(done, n));
                inputPrints[current].Append(destination.Slice(done, n));
                left -= n;
                done += n;
            }
            fingerprint.Append(destination);
        }
        TrajectoryCopyResult? result = null;
        AtomicFile.Write(path, stream =>
        {
            streaming.Write(stream, header, Source, Math.Max(chunkValues, header.Dimension));
            result = new TrajectoryCopyResult(fingerprint.Finish(), inputPrints.Select(b => b.Finish()).ToArray(), peak);
            check?.Invoke(result);
        });
        if (format is ISidecarTrajectoryFormat)
            AtomicFile.WriteText(TrajectorySidecar.PathFor(path), TrajectorySidecar.ToJson(header, result!.Fingerprint, new FileInfo(path).Length));
        return result!;
    }

    /// <summary>Writes trajectories to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(string path, TrajectoryEnsemble ensemble)
    {
        var format = ForPath(path);
        AtomicFile.Write(path, stream => format.Write(stream, ensemble));
        if (format is ISidecarTrajectoryFormat)
            AtomicFile.WriteText(TrajectorySidecar.PathFor(path), TrajectorySidecar.ToJson(ensemble, new FileInfo(path).Length));
    }
}
