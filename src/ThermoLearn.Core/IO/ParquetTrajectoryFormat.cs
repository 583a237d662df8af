using Parquet;
using Parquet.Schema;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// Trajectories as Apache Parquet in long format (written and read with Parquet.Net): one row per
/// (trajectory, frame) with columns <c>traj</c> (int32, the global trajectory index, so shards of one run
/// concatenate into one table), <c>t</c> (float64, t = start + frame * dt),
/// <c>x0</c>, <c>x1</c>, … (float64), rows ordered by trajectory then frame — the table
/// <c>pandas.read_parquet</c> returns and the same layout as the CSV format. The file's key-value
/// metadata holds <c>dt</c>, <c>model</c>, <c>parameters</c> (a JSON object), <c>seed</c> and, for a shard,
/// <c>total_trajectories</c> (the size of the whole run).
/// Reading streams one row group at a time into the ensemble's array (about one copy of the data plus a
/// row group), accepts optional (nullable) columns and int64 <c>traj</c> as pandas writes them, and takes
/// dt from the metadata or, failing that, from the spacing of <c>t</c>.
/// </summary>
public sealed class ParquetTrajectoryFormat : IStreamingTrajectoryFormat
{
    private readonly int _rowsPerGroup;
    private const string Expected = "a Parquet table with columns traj (integer), t (float64), x0, x1, … (float64), one row per trajectory and frame, ordered by traj then t";

    /// <summary>A format writing row groups of 2^18 rows (2 MB per float64 column), small enough that reading one stays cheap.</summary>
    public ParquetTrajectoryFormat() : this(1 << 18) { }

    internal ParquetTrajectoryFormat(int rowsPerGroup) => _rowsPerGroup = rowsPerGroup;

    public string Name => "parquet";

    public IReadOnlyList<string> Extensions { get; } = [".parquet", ".pq"];

    public void Write(Stream stream, TrajectoryEnsemble ensemble) =>
        WriteAsync(stream, InMemoryTrajectory.Header(ensemble), InMemoryTrajectory.Values(ensemble.Data), _rowsPerGroup).GetAwaiter().GetResult();

    /// <summary>Row groups as the values come: 2^18 rows, or fewer when <paramref name="bufferValues"/> holds fewer.</summary>
    public void Write(Stream stream, TrajectoryHeader header, TrajectoryValueSource values, long bufferValues) =>
        WriteAsync(stream, header, values, (int)Math.Clamp(bufferValues / header.Dimension, 1, _rowsPerGroup)).GetAwaiter().GetResult();

    public TrajectoryEnsemble Read(string path, double? dt) =>
        FileFormatGuard.Read(path, "Parquet", Expected, () => ReadAsync(path, dt).GetAwaiter().GetResult());

    private static async Task WriteAsync(Stream stream, TrajectoryHeader e, TrajectoryValueSource values, int rowsPerGroup)
    {
        var traj = new DataField<int>("traj");
        var time = new DataField<double>("t");
        var xs = Enumerable.Range(0, e.Dimension).Select(d => new DataField<double>($"x{d}")).ToArray();
        var schema = new ParquetSchema([traj, time, .. xs]);
        var metadata = new Dictionary<string, string> { ["dt"] = FileFormatGuard.RoundTrip(e.Dt) };
        if (e.Metadata.Model is { } model) metadata["model"] = model;
        if (e.Metadata.ParametersJson is { } parameters) metadata["parameters"] = parameters;
        if (e.Metadata.Seed is { } seed) metadata["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (e.Metadata.TotalTrajectories is { } total) metadata["total_trajectories"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (e.Metadata.Scheme is { } scheme) metadata["scheme"] = scheme;
        if (e.Metadata.IntegrationDt is { } step) metadata["integration_dt"] = FileFormatGuard.RoundTrip(step);
        long firstTrajectory = e.Metadata.FirstTrajectory;
        if (firstTrajectory < 0 || firstTrajectory + e.Trajectories > int.MaxValue)
            throw new InvalidInputException($"trajectory indices {firstTrajectory}..{firstTrajectory + e.Trajectories - 1} do not fit the Parquet format's int32 'traj' column.");

        // Uncompressed: coordinates are float noise that Snappy cannot shrink, and decompressing it costs 2.7x the
        // read time and 6x the data in temporary buffers (bench `io`); pandas and pyarrow read any codec.
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.None };
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, options);
        writer.CustomMetadata = metadata;
        long rows = (long)e.Trajectories * e.Frames;
        int group = (int)Math.Min(rowsPerGroup, rows);
        var trajBuffer = new int[group];
        var timeBuffer = new double[group];
        var xBuffer = new double[group];
        int dim = e.Dimension;
        var rowBuffer = new double[(long)group * dim];
        for (long first = 0; first < rows; first += group)
        {
            int n = (int)Math.Min(group, rows - first);
            for (int i = 0; i < n; i++)
            {
                long r = first + i;
                int frame = (int)(r % e.Frames);
                trajBuffer[i] = (int)(firstTrajectory + r / e.Frames);
                timeBuffer[i] = e.StartTime + frame * e.Dt;
            }
            values(rowBuffer.AsSpan(0, n * dim));
            using var rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync(traj, (ReadOnlyMemory<int>)trajBuffer.AsMemory(0, n));
            await rowGroup.WriteAsync(time, (ReadOnlyMemory<double>)timeBuffer.AsMemory(0, n));
            for (int d = 0; d < dim; d++)
            {
                for (int i = 0; i < n; i++) xBuffer[i] = rowBuffer[(long)i * dim + d];
                await rowGroup.WriteAsync(xs[d], (ReadOnlyMemory<double>)xBuffer.AsMemory(0, n));
            }
        }
    }

    private static Task<TrajectoryEnsemble> ReadAsync(string path, double? dtFallback)
    {
        using var reader = new Reader(path, dtFallback);
        return Task.FromResult(reader.ReadAll());
    }

    /// <summary>Opens a Parquet file for chunked reading, one row group at a time (<see cref="TrajectoryReader"/>).</summary>
    internal static TrajectoryReader OpenReader(string path, double? dt) =>
        FileFormatGuard.Read(path, "Parquet", Expected, () => (TrajectoryReader)new Reader(path, dt));

    /// <summary>
    /// Pass 1 (on opening) reads the traj and t columns, which give the shape and check the time grid; pass 2 (the chunks)
    /// reads the coordinate columns one row group at a time, interleaved into x[row, dim].
    /// </summary>
    private sealed class Reader : TrajectoryReader
    {
        private readonly GuardedReadStream _stream;
        private readonly ParquetReader _reader;
        private readonly List<DataField> _xs;
        private int _group;
        private long _row;
        private double[] _values = [];
        private double[] _column = [];
        private int _have, _used;

        public Reader(string path, double? dtFallback)
        {
            // checked before Parquet.Net sees it: its decoder loops for ever on some corrupt footers and page headers (ParquetStructure)
            _stream = new GuardedReadStream(path);
            try
            {
                long footerStart = ParquetStructure.CheckFooter(_stream, path);
                _reader = ParquetReader.CreateAsync(_stream).GetAwaiter().GetResult();
                _stream.Restrict(ParquetStructure.CheckColumnChunks(_stream, path, _reader.Metadata!, footerStart));
                (_xs, var header) = ScanAsync(path, _reader, dtFallback).GetAwaiter().GetResult();
                SetHeader(header);
            }
            catch
            {
                _stream.Dispose();
                throw;
            }
        }

        protected override int ReadValues(Span<double> destination)
        {
            if (_used == _have)
            {
                if (_group >= _reader.RowGroupCount) return 0;
                LoadGroupAsync().GetAwaiter().GetResult();
            }
            int n = Math.Min(destination.Length, _have - _used);
            _values.AsSpan(_used, n).CopyTo(destination);
            _used += n;
            return n;
        }

        private async Task LoadGroupAsync()
        {
            using var rowGroup = _reader.OpenRowGroupReader(_group++);
            int n = checked((int)rowGroup.RowCount), dim = _xs.Count;
            EnsureCapacity(ref _column, n);
            EnsureCapacity(ref _values, n * dim);
            for (int d = 0; d < dim; d++)
            {
                await ReadDoubles(Header.Path, rowGroup, _xs[d], _column.AsMemory(0, n), _row);
                for (int i = 0; i < n; i++) _values[i * dim + d] = _column[i];
            }
            _row += n;
            _have = n * dim;
            _used = 0;
            ReleaseDecoderBuffers();
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing) return;
            _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _stream.Dispose();
        }
    }

    private static async Task<(List<DataField> Xs, TrajectoryHeader Header)> ScanAsync(string path, ParquetReader reader, double? dtFallback)
    {
        var fields = reader.Schema.GetDataFields();
        var traj = Field(path, fields, "traj");
        var time = Field(path, fields, "t");
        var xs = fields.Where(f => f.Name.StartsWith('x')).ToList();
        for (int d = 0; d < xs.Count; d++)
            if (xs[d].Name != $"x{d}")
                throw new InvalidInputException($"{path}: coordinate columns are {string.Join(", ", xs.Select(x => x.Name))}; expected x0, x1, … in order.");
        if (xs.Count == 0)
            throw new InvalidInputException($"{path}: no coordinate columns x0, x1, …; expected {Expected}.");
        if (traj.ClrType != typeof(int) && traj.ClrType != typeof(long))
            throw new InvalidInputException($"{path}: column 'traj' holds {traj.ClrType.Name} values; expected integers.");
        foreach (var f in xs.Prepend(time))
            if (f.ClrType != typeof(double))
                throw new InvalidInputException($"{path}: column '{f.Name}' holds {f.ClrType.Name} values; coordinates and times must be float64 (double).");

        var meta = reader.CustomMetadata ?? new Dictionary<string, string>();
        double? storedDt = meta.TryGetValue("dt", out string? dtText) ? FileFormatGuard.ParseDouble(path, "dt", dtText) : null;
        ulong? seed = null;
        if (meta.TryGetValue("seed", out string? seedText))
        {
            if (!ulong.TryParse(seedText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong s))
                throw new InvalidInputException($"{path}: metadata 'seed' is '{seedText}'; expected a non-negative integer.");
            seed = s;
        }
        long? total = null;
        if (meta.TryGetValue("total_trajectories", out string? totalText))
        {
            if (!long.TryParse(totalText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long t) || t < 1)
                throw new InvalidInputException($"{path}: metadata 'total_trajectories' is '{totalText}'; expected a positive integer.");
            total = t;
        }

        long rows = 0;
        for (int g = 0; g < reader.RowGroupCount; g++) rows += reader.OpenRowGroupReader(g).RowCount;
        if (rows == 0) throw new InvalidInputException($"{path}: the table has no rows; expected {Expected}.");

        // Pass 1: traj and t give the shape and the time grid; checked row by row.
        var grid = new GridScan(path, storedDt);
        var longBuffer = Array.Empty<long>();
        var doubleBuffer = Array.Empty<double>();
        long offset = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rowGroup = reader.OpenRowGroupReader(g);
            int n = checked((int)rowGroup.RowCount);
            EnsureCapacity(ref longBuffer, n);
            EnsureCapacity(ref doubleBuffer, n);
            await ReadIntegers(path, rowGroup, traj, longBuffer.AsMemory(0, n), offset);
            await ReadDoubles(path, rowGroup, time, doubleBuffer.AsMemory(0, n), offset);
            for (int i = 0; i < n; i++) grid.Add(offset + i, longBuffer[i], doubleBuffer[i]);
            offset += n;
            ReleaseDecoderBuffers();
        }
        var (firstTrajectory, trajectories, frames, dt, startTime) = grid.Finish(dtFallback);
        double? integrationDt = meta.TryGetValue("integration_dt", out string? stepText) ? FileFormatGuard.ParseDouble(path, "integration_dt", stepText) : null;
        var metadata = new TrajectoryMetadata(meta.GetValueOrDefault("model"), meta.GetValueOrDefault("parameters"), seed, firstTrajectory, total,
            meta.GetValueOrDefault("scheme"), integrationDt);
        return (xs, new TrajectoryHeader(path, trajectories, frames, xs.Count, dt, startTime, metadata));
    }

    /// <summary>
    /// Parquet.Net allocates temporary buffers per column chunk (for Snappy files about 7 bytes per payload byte
    /// over a whole file), all on the large-object heap, which is collected only in full collections: left alone,
    /// that garbage drove peak memory to 4.6x the data for a 160 MB Snappy file. A full collection per row group
    /// (cheap: the one big live array holds no references) keeps reading within the data plus about one row group.
    /// </summary>
    private static void ReleaseDecoderBuffers()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
    }

    private static DataField Field(string path, DataField[] fields, string name) =>
        fields.FirstOrDefault(f => f.Name == name)
        ?? throw new InvalidInputException($"{path}: no column '{name}' (found {string.Join(", ", fields.Select(f => f.Name))}); expected {Expected}.");

    private static void EnsureCapacity<T>(ref T[] buffer, int n)
    {
        if (buffer.Length < n) buffer = new T[n];
    }

    private static async Task ReadIntegers(string path, ParquetRowGroupReader rowGroup, DataField field, Memory<long> target, long offset)
    {
        if (field.ClrType == typeof(long))
        {
            await ReadValues(path, rowGroup, field, target, offset);
            return;
        }
        var narrow = new int[target.Length];
        await ReadValues(path, rowGroup, field, narrow.AsMemory(), offset);
        var span = target.Span;
        for (int i = 0; i < narrow.Length; i++) span[i] = narrow[i];
    }

    private static Task ReadDoubles(string path, ParquetRowGroupReader rowGroup, DataField field, Memory<double> target, long offset) =>
        ReadValues(path, rowGroup, field, target, offset);

    /// <summary>Reads a required column directly; an optional one (pandas writes every column as optional) via a nullable buffer that must hold no nulls.</summary>
    private static async Task ReadValues<T>(string path, ParquetRowGroupReader rowGroup, DataField field, Memory<T> target, long offset) where T : struct
    {
        if (!field.IsNullable)
        {
            await rowGroup.ReadAsync(field, target);
            return;
        }
        var nullable = new T?[target.Length];
        await rowGroup.ReadAsync(field, nullable.AsMemory());
        var span = target.Span;
        for (int i = 0; i < nullable.Length; i++)
            span[i] = nullable[i] ?? throw new InvalidInputException($"{path}: column '{field.Name}' is empty (null) at row {offset + i}; every row needs a value.");
    }

    /// <summary>
    /// Checks, row by row, that traj runs k, k+1, k+2, … (k = 0, or the first global index of a shard) in blocks of equal length and that t is start + frame * dt
    /// in every block (to 1e-9 relative), and so finds the shape and the time grid.
    /// </summary>
    private sealed class GridScan(string path, double? storedDt)
    {
        private long _firstTraj = -1;
        private long _currentTraj = -1;
        private long _frame;
        private long _frames = -1;
        private double _start;
        private double? _dt = storedDt;

        public void Add(long row, long traj, double t)
        {
            if (row == 0)
            {
                if (traj < 0) throw new InvalidInputException($"{path}: row 0 has traj = {traj}; trajectory indices are non-negative.");
                _firstTraj = _currentTraj = traj;
            }
            else if (traj == _currentTraj) _frame++;
            else
            {
                if (traj != _currentTraj + 1)
                    throw new InvalidInputException($"{path}: row {row} has traj = {traj} after traj = {_currentTraj}; rows must be ordered by trajectory with consecutive indices.");
                if (_currentTraj == _firstTraj) _frames = _frame + 1;
                else if (_frame + 1 != _frames)
                    throw new InvalidInputException($"{path}: trajectory {_currentTraj} has {_frame + 1} frames but trajectory {_firstTraj} has {_frames}; every trajectory needs the same number of frames.");
                _currentTraj = traj;
                _frame = 0;
            }
            if (!double.IsFinite(t))
                throw new InvalidInputException($"{path}: t = {t} at row {row}; times must be finite.");
            if (row == 0) _start = t;
            else if (_currentTraj == _firstTraj && _frame == 1 && _dt is null) _dt = t - _start;
            if (_frame > 0 || row > 0)
            {
                double expected = _start + _frame * (_dt ?? 0.0);
                if (Math.Abs(t - expected) > 1e-9 * Math.Max(Math.Abs(expected), _dt ?? 1.0))
                    throw new InvalidInputException($"{path}: t = {t} at row {row} (trajectory {_currentTraj}, frame {_frame}) but an evenly spaced grid starting at {_start} with dt = {_dt} gives {expected}; frames must be evenly spaced and the same for every trajectory.");
            }
        }

        public (long First, int Trajectories, int Frames, double Dt, double Start) Finish(double? dtFallback)
        {
            if (_currentTraj == _firstTraj) _frames = _frame + 1;
            else if (_frame + 1 != _frames)
                throw new InvalidInputException($"{path}: trajectory {_currentTraj} has {_frame + 1} frames but trajectory {_firstTraj} has {_frames}; every trajectory needs the same number of frames.");
            long trajectories = _currentTraj - _firstTraj + 1;
            if (trajectories > int.MaxValue || _frames > int.MaxValue)
                throw new InvalidInputException($"{path}: {trajectories} trajectories of {_frames} frames is too large for one ensemble.");
            double dt = FileFormatGuard.ResolveDt(path, _dt, dtFallback, "no 'dt' metadata and a single frame per trajectory");
            return (_firstTraj, (int)trajectories, (int)_frames, dt, _start);
        }
    }
}
