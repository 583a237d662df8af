using System.Text.Json;
using System.Text.Json.Nodes;
using PureHDF;
using ThermoLearn.IO;

namespace ThermoLearn.ActiveMatter;

/// <summary>
/// Active-matter snapshots on disk (docs/formats.md). One float64 array of shape (frames, particles, columns), C order,
/// columns x, y (, z) then gx, gy (, gz) for AOUP or theta for ABP:
/// HDF5 (.h5, .hdf5): dataset <c>/snapshots</c> with attributes <c>format</c> = "thermolearn-active-snapshots",
/// <c>dt</c> (time between frames), <c>step_dt</c> (integration step), <c>columns</c> (comma-separated names),
/// <c>model</c> ("aoup"/"abp"), <c>parameters</c> (JSON object, <see cref="ActiveModel.ToJson"/>), <c>seed</c>.
/// NumPy (.npy): the same array, and the same fields in the JSON sidecar <c>FILE.npy.json</c>.
/// <c>h5py.File(p)["snapshots"][...]</c> and <c>np.load(p)</c> give the same array.
/// </summary>
public static class ActiveSnapshotFile
{
    public const string FormatName = "thermolearn-active-snapshots";

    public const string DatasetName = "snapshots";

    /// <summary>Whether <paramref name="path"/> holds active-matter snapshots (an HDF5 file with <c>/snapshots</c>, or a .npy with our sidecar).</summary>
    public static bool IsSnapshotFile(string path)
    {
        if (!File.Exists(path)) return false;
        if (IsNpy(path))
        {
            string sidecar = SidecarPath(path);
            if (!File.Exists(sidecar)) return false;
            string text = File.ReadAllText(sidecar);
            try { return (string?)JsonNode.Parse(text)?["format"] == FormatName; }
            // a sidecar that names the format but does not parse is a broken snapshot sidecar: Read says what is wrong with it
            catch (JsonException) { return text.Contains($"\"{FormatName}\"", StringComparison.Ordinal); }
        }
        if (!IsHdf5(path)) return false;
        try
        {
            using var file = GuardedReadStream.OpenHdf5(path);
            return file.LinkExists(DatasetName);
        }
        catch (Exception) { return false; }
    }

    public static string SidecarPath(string path) => path + ".json";

    /// <summary>
    /// An initial state of <paramref name="model"/> from a .npy: n rows of d + active columns (positions, then g or theta), or one
    /// frame of them, (1, n, columns). Refused naming the file: another shape (its rows and columns against those needed; a state of
    /// the right size in other rows is not read flat), or a non-finite value (its particle and column; the trajectory reader would
    /// call them trajectory, frame and coordinate). An array of the positions alone is left to the simulator, which says that the
    /// active state is missing.
    /// </summary>
    public static double[] ReadInitialState(string path, ActiveModel model)
    {
        ThermoLearn.Trajectories.TrajectoryEnsemble array;
        using (var reader = NpyFormat.OpenReader(path, 1.0)) array = reader.ReadAll();
        string[] names = ActiveSnapshots.ColumnNamesFor(model);
        int columns = names.Length, rows = array.Trajectories, width = array.Frames * array.Dimension;
        bool shapeOk = rows == model.Particles && width == columns || rows == 1 && array.Frames == model.Particles && array.Dimension == columns;
        // as many values as a whole state, or as the positions alone (which the simulator refuses for the missing active state), in other rows
        bool stateSized = array.Data.Length == model.Particles * columns, positionsSized = array.Data.Length == model.Particles * model.Dimension;
        if (!shapeOk && (stateSized || positionsSized && rows != model.Particles))
        {
            string active = model.Kind == ActiveModelKind.Aoup ? "g" : "theta";
            throw new InvalidInputException($"{path}: an array of {rows} rows of {width} values; {model.Name} with n = {model.Particles}, "
                + $"d = {model.Dimension} needs {model.Particles} rows of {columns} columns (x then {active}).");
        }
        if (shapeOk)
            for (int q = 0; q < array.Data.Length; q++)
                if (!double.IsFinite(array.Data[q]))
                    throw new InvalidInputException($"{path}: non-finite value {array.Data[q]} at particle {q / columns}, column '{names[q % columns]}'; an initial state must be finite.");
        return array.Data;
    }

    /// <summary>Writes the snapshots atomically (.h5/.hdf5 or .npy with its sidecar).</summary>
    public static void Write(string path, ActiveSnapshots snapshots)
    {
        long[] shape = [snapshots.Frames, snapshots.Particles, snapshots.Columns];
        if (IsNpy(path))
        {
            NpyFormat.WriteArray(path, snapshots.Data, shape);
            AtomicFile.WriteText(SidecarPath(path), Header(snapshots).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return;
        }
        if (!IsHdf5(path)) throw new InvalidInputException($"{path}: snapshots are written as HDF5 (.h5, .hdf5) or NumPy (.npy); give one of these extensions.");
        AtomicFile.Write(path, stream =>
        {
            var dataset = new H5Dataset(snapshots.Data, fileDims: [(ulong)shape[0], (ulong)shape[1], (ulong)shape[2]]);
            dataset.Attributes["format"] = FormatName;
            dataset.Attributes["dt"] = snapshots.FrameDt;
            if (snapshots.StepDt is { } step) dataset.Attributes["step_dt"] = step;
            dataset.Attributes["columns"] = string.Join(",", snapshots.ColumnNames);
            dataset.Attributes["model"] = snapshots.Model.Name;
            dataset.Attributes["parameters"] = snapshots.Model.ToJson().ToJsonString();
            if (snapshots.Seed is { } seed) dataset.Attributes["seed"] = seed;
            new H5File { [DatasetName] = dataset }.Write(stream);
        });
    }

    /// <summary>Reads snapshots; any problem (wrong shape, missing g columns, no parameters) is bad input naming the file.</summary>
    public static ActiveSnapshots Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: no such file.");
        return IsNpy(path) ? ReadNpy(path) : IsHdf5(path) ? ReadHdf5(path)
            : throw new InvalidInputException($"{path}: snapshots are read from HDF5 (.h5, .hdf5) or NumPy (.npy) files.");
    }

    private static JsonObject Header(ActiveSnapshots s) => new()
    {
        ["format"] = FormatName,
        ["dt"] = s.FrameDt,
        ["step_dt"] = s.StepDt,
        ["frames"] = s.Frames,
        ["particles"] = s.Particles,
        ["columns"] = new JsonArray(s.ColumnNames.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
        ["model"] = s.Model.Name,
        ["parameters"] = s.Model.ToJson(),
        ["seed"] = s.Seed,
    };

    private static ActiveSnapshots ReadNpy(string path)
    {
        string sidecar = SidecarPath(path);
        if (!File.Exists(sidecar))
            throw new InvalidInputException($"{path}: no sidecar {Path.GetFileName(sidecar)} with the model parameters and frame spacing; snapshots written by 'thermolearn simulate' have one (docs/formats.md lists its fields).");
        JsonObject header;
        try { header = JsonNode.Parse(File.ReadAllText(sidecar))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new InvalidInputException($"{sidecar}: malformed JSON sidecar ({e.Message}).");
        }
        if ((string?)header["format"] != FormatName)
            throw new InvalidInputException($"{sidecar}: not an active-snapshot sidecar (format '{(string?)header["format"]}', expected '{FormatName}').");
        double dt = FrameSpacing(Number(header, "dt", sidecar), $"{sidecar}: the frame spacing 'dt'");
        var model = ActiveModel.FromJson(header["parameters"]?.ToJsonString() ?? throw new InvalidInputException($"{sidecar}: no 'parameters'."), sidecar);
        // (T, F, D) = (frames, particles, columns), read as stored: a non-finite value is named by Assemble as frame, particle
        // and column (the trajectory reader's check would call them trajectory, frame and coordinate)
        ThermoLearn.Trajectories.TrajectoryEnsemble raw;
        using (var reader = NpyFormat.OpenReader(path, dt)) raw = reader.ReadAll();
        double? step = header["step_dt"] is { } s ? (double)s : null;
        ulong? seed = header["seed"] is { } sd ? (ulong)sd : null;
        return Assemble(path, model, raw.Trajectories, raw.Frames, raw.Dimension, dt, raw.Data, seed, step);
    }

    private static ActiveSnapshots ReadHdf5(string path)
    {
        try
        {
            using var file = GuardedReadStream.OpenHdf5(path);
            if (!file.LinkExists(DatasetName))
                throw new InvalidInputException($"{path}: no dataset '/{DatasetName}'; active-matter snapshots are a float64 dataset '/{DatasetName}' of shape (frames, particles, columns).");
            if (file.Get(DatasetName) is not IH5Dataset dataset)
                throw new InvalidInputException($"{path}: '/{DatasetName}' is a group, not a dataset.");
            if (dataset.Type.Class != H5DataTypeClass.FloatingPoint || dataset.Type.Size != 8)
                throw new InvalidInputException($"{path}: '/{DatasetName}' must hold float64 values.");
            ulong[] dims = dataset.Space.Dimensions;
            if (dims.Length != 3 || dims.Any(v => v == 0 || v > int.MaxValue))
                throw new InvalidInputException($"{path}: '/{DatasetName}' has shape ({string.Join(", ", dims)}); expected (frames, particles, columns), all positive.");
            string Attr(string name) => dataset.AttributeExists(name) ? dataset.Attribute(name).Read<string>()
                : throw new InvalidInputException($"{path}: '/{DatasetName}' has no '{name}' attribute (docs/formats.md lists the attributes).");
            double dt = FrameSpacing(dataset.AttributeExists("dt") ? dataset.Attribute("dt").Read<double>()
                : throw new InvalidInputException($"{path}: '/{DatasetName}' has no 'dt' attribute (time between frames)."), $"{path}: the 'dt' attribute of '/{DatasetName}'");
            var model = ActiveModel.FromJson(Attr("parameters"), path);
            double? step = dataset.AttributeExists("step_dt") ? dataset.Attribute("step_dt").Read<double>() : null;
            ulong? seed = dataset.AttributeExists("seed") ? dataset.Attribute("seed").Read<ulong>() : null;
            ulong count = dims[0] * dims[1] * dims[2];
            if (count > (ulong)Array.MaxLength) throw new InvalidInputException($"{path}: {count} values are more than one array holds.");
            var data = new double[count];
            dataset.Read(data);
            return Assemble(path, model, (int)dims[0], (int)dims[1], (int)dims[2], dt, data, seed, step);
        }
        catch (Exception e) when (e is not InvalidInputException and not OutOfMemoryException)
        {
            throw new InvalidInputException($"{path}: cannot read as HDF5 snapshots ({e.Message}).", e);
        }
    }

    private static ActiveSnapshots Assemble(string path, ActiveModel model, int frames, int particles, int columns, double dt, double[] data, ulong? seed, double? step)
    {
        string[] names = ActiveSnapshots.ColumnNamesFor(model);
        if (particles != model.Particles)
            throw new InvalidInputException($"{path}: the array has {particles} particles per frame but its parameters say n = {model.Particles}.");
        if (columns != names.Length)
        {
            string missing = columns == model.Dimension
                ? $": the {(model.Kind == ActiveModelKind.Aoup ? "g" : "theta")} columns are missing (only positions were saved)"
                : "";
            throw new InvalidInputException($"{path}: {columns} columns per particle, but {model.Name} in d = {model.Dimension} needs {names.Length} ({string.Join(", ", names)}){missing}.");
        }
        for (long q = 0; q < data.LongLength; q++)
            if (!double.IsFinite(data[q]))
            {
                long frame = q / ((long)particles * columns), particle = q / columns % particles;
                throw new InvalidInputException($"{path}: non-finite value {data[q]} at frame {frame}, particle {particle}, column '{names[q % columns]}'.");
            }
        var snapshots = new ActiveSnapshots(model, frames, dt, data, seed, step);
        if (model.Interacting) RefuseCoincidentParticles(path, snapshots);
        return snapshots;
    }

    /// <summary>The frame spacing read from a file, refused naming where it was read unless it is a positive number.</summary>
    private static double FrameSpacing(double dt, string where)
        => dt > 0 && double.IsFinite(dt) ? dt : throw new InvalidInputException($"{where} must be a positive number (got {dt}).");

    /// <summary>
    /// Two interacting particles at the same place (closer than 1e-9 r0, minimum image in a box) have no pair direction: the pair
    /// Jacobian f / r and the estimators' features built on it are infinite there. Names the first such pair (frame, particles).
    /// </summary>
    private static void RefuseCoincidentParticles(string path, ActiveSnapshots snapshots)
    {
        var model = snapshots.Model;
        int n = model.Particles;
        var cells = new CellList(n, model.Dimension, model.Cutoff, model.Box);
        var positions = new double[n * model.Dimension];
        var partner = new int[n];
        double limit = model.CoincidentDistance;
        for (int t = 0; t < snapshots.Frames; t++)
        {
            snapshots.CopyFrame(t, positions);
            cells.Build(positions);
            cells.Sweep(new CoincidenceKernel(limit * limit, partner));
            for (int i = 0; i < n; i++)
                if (partner[i] >= 0)
                    throw new InvalidInputException($"{path}: particles {i} and {partner[i]} are at the same place in frame {t} (distance below 1e-9 r0): "
                        + "an interacting pair needs a direction between its particles.");
        }
    }

    /// <summary>Per particle i, the first neighbour j closer than the limit (-1: none).</summary>
    private struct CoincidenceKernel(double limit2, int[] partner) : INeighbourKernel
    {
        private int _first;

        public void Begin(int i) => _first = -1;

        public void Add(int i, int j, double r2, double dx, double dy, double dz)
        {
            if (_first < 0 && r2 < limit2) _first = j;
        }

        public void End(int i) => partner[i] = _first;
    }

    private static double Number(JsonObject o, string key, string where)
    {
        try { return (double?)o[key] ?? throw new InvalidInputException($"{where}: no '{key}'."); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{where}: '{key}' is not a number.");
        }
    }

    private static bool IsNpy(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    private static bool IsHdf5(string path) => path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase);
}
