using PureHDF;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// Trajectories as HDF5 (written and read with PureHDF, no native library): one dataset
/// <c>/trajectories</c> of IEEE float64, shape (trajectories, frames, dim), C order, so that
/// <c>h5py.File(p)["trajectories"][...]</c> is the same array as the .npy format. Attributes of the dataset:
/// <c>dt</c> (float64, time between frames), <c>start_time</c> (float64, time of frame 0, written when
/// non-zero), <c>model</c> (string), <c>parameters</c> (string, a JSON object), <c>seed</c> (uint64), and for a
/// shard of a larger run <c>first_trajectory</c> (int64, global index of trajectory 0) and
/// <c>total_trajectories</c> (int64, size of the whole run).
/// Files from other tools may put the attributes on the root group instead; both are read.
/// The dataset is read straight into the ensemble's array, so reading needs about one copy of the data.
/// </summary>
public sealed class Hdf5TrajectoryFormat : IStreamingTrajectoryFormat
{
    /// <summary>Name of the dataset holding x[trajectory, frame, dimension].</summary>
    public const string DatasetName = "trajectories";

    private const string Expected = "an HDF5 file with a float64 dataset '/trajectories' of shape (trajectories, frames, dim)";

    public string Name => "hdf5";

    public IReadOnlyList<string> Extensions { get; } = [".h5", ".hdf5"];

    public void Write(Stream stream, TrajectoryEnsemble ensemble)
    {
        var dataset = new H5Dataset(ensemble.Data,
            fileDims: [(ulong)ensemble.Trajectories, (ulong)ensemble.Frames, (ulong)ensemble.Dimension]);
        Annotate(dataset, ensemble.Dt, ensemble.StartTime, ensemble.Metadata);
        var file = new H5File { [DatasetName] = dataset };
        file.Write(stream);
    }

    /// <summary>
    /// The dataset is declared with its full shape and filled by hyperslab writes as the values come (PureHDF's deferred
    /// writes): blocks of whole trajectories when one fits <paramref name="bufferValues"/>, else blocks of frames of one trajectory.
    /// </summary>
    public void Write(Stream stream, TrajectoryHeader header, TrajectoryValueSource values, long bufferValues)
    {
        int t = header.Trajectories, frames = header.Frames, d = header.Dimension;
        var dataset = new H5Dataset<double[]>(fileDims: [(ulong)t, (ulong)frames, (ulong)d]);
        Annotate(dataset, header.Dt, header.StartTime, header.Metadata);
        var file = new H5File { [DatasetName] = dataset };
        using var writer = file.BeginWrite(stream);
        long perTrajectory = (long)frames * d;
        double[] buffer = [];
        void Block(ulong[] start, ulong[] block)
        {
            long count = (long)(block[0] * block[1] * block[2]);
            if (buffer.LongLength != count) buffer = new double[count];
            values(buffer);
            writer.Write(dataset, buffer, null, new PureHDF.Selections.HyperslabSelection(3, start, block));
        }
        if (perTrajectory <= bufferValues)
        {
            int perBlock = (int)Math.Min(t, bufferValues / perTrajectory);
            for (int first = 0; first < t; first += perBlock)
                Block([(ulong)first, 0, 0], [(ulong)Math.Min(perBlock, t - first), (ulong)frames, (ulong)d]);
            return;
        }
        int framesPerBlock = (int)Math.Max(1, bufferValues / d);
        for (int r = 0; r < t; r++)
            for (int f = 0; f < frames; f += framesPerBlock)
                Block([(ulong)r, (ulong)f, 0], [1, (ulong)Math.Min(framesPerBlock, frames - f), (ulong)d]);
    }

    /// <summary>The attributes: dt, start time (when not 0) and the provenance.</summary>
    private static void Annotate(H5Object dataset, double dt, double startTime, TrajectoryMetadata meta)
    {
        dataset.Attributes["dt"] = dt;
        if (startTime != 0.0) dataset.Attributes["start_time"] = startTime;
        if (meta.Model is { } model) dataset.Attributes["model"] = model;
        if (meta.ParametersJson is { } parameters) dataset.Attributes["parameters"] = parameters;
        if (meta.Seed is { } seed) dataset.Attributes["seed"] = seed;
        if (meta.FirstTrajectory != 0) dataset.Attributes["first_trajectory"] = meta.FirstTrajectory;
        if (meta.TotalTrajectories is { } total) dataset.Attributes["total_trajectories"] = total;
        if (meta.Scheme is { } scheme) dataset.Attributes["scheme"] = scheme;
        if (meta.IntegrationDt is { } step) dataset.Attributes["integration_dt"] = step;
    }

    public TrajectoryEnsemble Read(string path, double? dt) =>
        FileFormatGuard.Read(path, "HDF5", Expected, () => ReadChecked(path, dt));

    private static TrajectoryEnsemble ReadChecked(string path, double? dtFallback)
    {
        using var reader = new Reader(path, dtFallback);
        return reader.ReadAll();
    }

    /// <summary>Opens an HDF5 file for chunked reading by hyperslabs of '/trajectories' (<see cref="TrajectoryReader"/>).</summary>
    internal static TrajectoryReader OpenReader(string path, double? dt) =>
        FileFormatGuard.Read(path, "HDF5", Expected, () => (TrajectoryReader)new Reader(path, dt));

    /// <summary>Reads whole trajectories, or frames of one trajectory, as hyperslabs [t, f, 0] x [count, frames, dim].</summary>
    private sealed class Reader : TrajectoryReader
    {
        private readonly PureHDF.VOL.Native.NativeFile _file;
        private readonly IH5Dataset _dataset;
        private double[] _buffer = [];
        private long _position;

        public Reader(string path, double? dtFallback)
        {
            _file = GuardedReadStream.OpenHdf5(path);
            try
            {
                (_dataset, var header) = OpenDataset(path, _file, dtFallback);
                SetHeader(header);
            }
            catch
            {
                _file.Dispose();
                throw;
            }
        }

        protected override int ReadValues(Span<double> destination)
        {
            var h = Header;
            long perTrajectory = (long)h.Frames * h.Dimension;
            long t = _position / perTrajectory;
            if (t >= h.Trajectories) return 0;
            int f = (int)(_position % perTrajectory / h.Dimension);
            ulong[] start, block;
            long count;
            if (f == 0 && destination.Length >= perTrajectory)
            {
                long k = Math.Min(h.Trajectories - t, destination.Length / perTrajectory);
                start = [(ulong)t, 0, 0];
                block = [(ulong)k, (ulong)h.Frames, (ulong)h.Dimension];
                count = k * perTrajectory;
            }
            else
            {
                int n = Math.Min(h.Frames - f, destination.Length / h.Dimension);
                start = [(ulong)t, (ulong)f, 0];
                block = [1, (ulong)n, (ulong)h.Dimension];
                count = (long)n * h.Dimension;
            }
            if (_buffer.LongLength != count) _buffer = new double[count];
            _dataset.Read(_buffer, new PureHDF.Selections.HyperslabSelection(3, start, block), null, [(ulong)count]);
            _buffer.AsSpan().CopyTo(destination);
            _position += count;
            return (int)count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _file.Dispose();
        }
    }

    private static (IH5Dataset Dataset, TrajectoryHeader Header) OpenDataset(string path, PureHDF.VOL.Native.NativeFile file, double? dtFallback)
    {
        if (!file.LinkExists(DatasetName))
        {
            string found = string.Join(", ", file.Children().Select(c => "'" + c.Name + "'"));
            throw new InvalidInputException($"{path}: no dataset '/{DatasetName}' (the root group holds {(found.Length == 0 ? "nothing" : found)}); expected {Expected}.");
        }
        if (file.Get(DatasetName) is not IH5Dataset dataset)
            throw new InvalidInputException($"{path}: '/{DatasetName}' is a group, not a dataset; expected {Expected}.");

        var type = dataset.Type;
        if (type.Class != H5DataTypeClass.FloatingPoint || type.Size != 8)
            throw new InvalidInputException($"{path}: '/{DatasetName}' holds {Describe(type)} values; trajectories must be float64 (numpy dtype '<f8' or '>f8').");
        ulong[] dims = dataset.Space.Dimensions;
        if (dims.Length != 3)
            throw new InvalidInputException($"{path}: '/{DatasetName}' has shape ({string.Join(", ", dims)}); expected 3 axes (trajectories, frames, dim).");
        foreach (ulong d in dims)
            if (d == 0 || d > int.MaxValue)
                throw new InvalidInputException($"{path}: '/{DatasetName}' has shape ({string.Join(", ", dims)}); every axis must hold between 1 and {int.MaxValue} entries.");
        ulong count = dims[0] * dims[1] * dims[2];

        long fileLength = new FileInfo(path).Length;
        if (dataset.Layout.Class is H5DataLayoutClass.Contiguous or H5DataLayoutClass.Compact && (ulong)fileLength < count * 8)
            throw new InvalidInputException($"{path}: the file has {fileLength} bytes but '/{DatasetName}' ({string.Join(" x ", dims)} float64) needs {count * 8}; the file is truncated.");

        double? storedDt = ReadDouble(path, file, dataset, "dt");
        double dt = FileFormatGuard.ResolveDt(path, storedDt, dtFallback, "no 'dt' attribute");
        double startTime = ReadDouble(path, file, dataset, "start_time") ?? 0.0;
        var metadata = new TrajectoryMetadata(
            ReadString(path, file, dataset, "model"),
            ReadString(path, file, dataset, "parameters"),
            ReadSeed(path, file, dataset),
            ReadCount(path, file, dataset, "first_trajectory", allowZero: true) ?? 0,
            ReadCount(path, file, dataset, "total_trajectories", allowZero: false),
            ReadString(path, file, dataset, "scheme"),
            ReadDouble(path, file, dataset, "integration_dt"));

        return (dataset, new TrajectoryHeader(path, (int)dims[0], (int)dims[1], (int)dims[2], dt, startTime, metadata));
    }

    private static string Describe(IH5DataType type) => type.Class switch
    {
        H5DataTypeClass.FloatingPoint => $"float{type.Size * 8}",
        H5DataTypeClass.FixedPoint => $"{(type.FixedPoint.IsSigned ? "int" : "uint")}{type.Size * 8}",
        _ => type.Class.ToString(),
    };

    /// <summary>The attribute on the dataset, else on the root group, else null.</summary>
    private static IH5Attribute? Find(IH5Object file, IH5Object dataset, string name) =>
        dataset.AttributeExists(name) ? dataset.Attribute(name)
        : file.AttributeExists(name) ? file.Attribute(name)
        : null;

    private static double? ReadDouble(string path, IH5Object file, IH5Object dataset, string name)
    {
        if (Find(file, dataset, name) is not { } attribute) return null;
        var type = attribute.Type;
        return (type.Class, type.Size) switch
        {
            (H5DataTypeClass.FloatingPoint, 8) => attribute.Read<double>(),
            (H5DataTypeClass.FloatingPoint, 4) => attribute.Read<float>(),
            _ => throw new InvalidInputException($"{path}: attribute '{name}' is {Describe(type)}; expected a float64 scalar."),
        };
    }

    private static string? ReadString(string path, IH5Object file, IH5Object dataset, string name)
    {
        if (Find(file, dataset, name) is not { } attribute) return null;
        if (attribute.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength))
            throw new InvalidInputException($"{path}: attribute '{name}' is {Describe(attribute.Type)}; expected a string.");
        return attribute.Read<string>();
    }

    private static long? ReadCount(string path, IH5Object file, IH5Object dataset, string name, bool allowZero)
    {
        if (Find(file, dataset, name) is not { } attribute) return null;
        var type = attribute.Type;
        if (type.Class != H5DataTypeClass.FixedPoint || type.Size is not (4 or 8))
            throw new InvalidInputException($"{path}: attribute '{name}' is {Describe(type)}; expected an integer.");
        long value = (type.FixedPoint.IsSigned, type.Size) switch
        {
            (true, 8) => attribute.Read<long>(),
            (true, _) => attribute.Read<int>(),
            (false, 8) => checked((long)attribute.Read<ulong>()),
            (false, _) => attribute.Read<uint>(),
        };
        if (value < (allowZero ? 0 : 1))
            throw new InvalidInputException($"{path}: attribute '{name}' is {value}; expected a {(allowZero ? "non-negative" : "positive")} integer.");
        return value;
    }

    private static ulong? ReadSeed(string path, IH5Object file, IH5Object dataset)
    {
        if (Find(file, dataset, "seed") is not { } attribute) return null;
        var type = attribute.Type;
        if (type.Class != H5DataTypeClass.FixedPoint)
            throw new InvalidInputException($"{path}: attribute 'seed' is {Describe(type)}; expected an unsigned integer.");
        // h5py stores Python ints as int64; ThermoLearn writes uint64.
        long? signed = (type.FixedPoint.IsSigned, type.Size) switch
        {
            (true, 8) => attribute.Read<long>(),
            (true, 4) => attribute.Read<int>(),
            _ => null,
        };
        if (signed is { } s)
        {
            if (s < 0) throw new InvalidInputException($"{path}: attribute 'seed' is {s}; seeds are non-negative.");
            return (ulong)s;
        }
        return type.Size switch
        {
            8 => attribute.Read<ulong>(),
            4 => attribute.Read<uint>(),
            _ => throw new InvalidInputException($"{path}: attribute 'seed' is {Describe(type)}; expected a 64-bit integer."),
        };
    }
}
