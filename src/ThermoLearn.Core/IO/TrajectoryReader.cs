using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>What a trajectory file holds, without its values: shape, frame spacing, start time and provenance.</summary>
/// <param name="Path">The file.</param>
/// <param name="Trajectories">Trajectories in the file.</param>
/// <param name="Frames">Frames per trajectory.</param>
/// <param name="Dimension">Coordinates per frame (after a column selection).</param>
/// <param name="Dt">Time between frames.</param>
/// <param name="StartTime">Time of frame 0.</param>
/// <param name="Metadata">Provenance (model, seed, shard position).</param>
public sealed record TrajectoryHeader(string Path, int Trajectories, int Frames, int Dimension, double Dt, double StartTime, TrajectoryMetadata Metadata)
{
    /// <summary>Values in the file: trajectories x frames x dimension.</summary>
    public long Values => (long)Trajectories * Frames * Dimension;
}

/// <summary>
/// A block of a trajectory file held in memory: trajectories [FirstTrajectory, FirstTrajectory + Data.Trajectories) and
/// frames [FirstFrame, FirstFrame + Data.Frames) of the file (indices within the file). Statistics of transitions
/// count a transition in the chunk whose <see cref="OwnedFrom"/>..<see cref="OwnedTo"/> range holds its start frame;
/// the frames after OwnedTo are the overlap the next time block starts with (transitions of a larger lag, successive increments).
/// </summary>
/// <param name="Data">The values; Data.StartTime is the time of FirstFrame.</param>
/// <param name="FirstTrajectory">Index in the file of the chunk's trajectory 0.</param>
/// <param name="FirstFrame">Index in the file of the chunk's frame 0.</param>
/// <param name="OwnedFrom">First start frame (file index) this chunk owns.</param>
/// <param name="OwnedTo">One past the last start frame this chunk owns.</param>
public sealed record TrajectoryChunk(TrajectoryEnsemble Data, int FirstTrajectory, int FirstFrame, int OwnedFrom, int OwnedTo);

/// <summary>
/// Reads a trajectory file in chunks of bounded size, for data larger than memory: whole trajectories when one
/// trajectory fits the chunk, else time blocks of one trajectory that overlap by a few frames. Values are read
/// once, sequentially, in the file's C order x[trajectory, frame, coordinate] (.npy: plain sequential reads; HDF5:
/// hyperslabs; Parquet: one row group at a time; CSV: line by line), and checked as the whole-file readers check them:
/// a NaN or infinity names the file, trajectory, frame and coordinate.
/// </summary>
public abstract class TrajectoryReader : IDisposable
{
    private int[]? _columns;
    private int _rawDimension;

    /// <summary>The file's shape and provenance (dimension after <see cref="SelectColumns"/>).</summary>
    public TrajectoryHeader Header { get; internal set; } = null!;

    /// <summary>Sets the header (raw dimension) once the format has read it.</summary>
    protected void SetHeader(TrajectoryHeader header)
    {
        Header = header;
        _rawDimension = header.Dimension;
    }

    /// <summary>Fills <paramref name="destination"/> (a whole number of frames) with the next values in C order; returns how many were read (0 at the end).</summary>
    protected abstract int ReadValues(Span<double> destination);

    /// <summary>
    /// Opens <paramref name="path"/> for chunked reading; dt comes from the file or its sidecar, else <paramref name="dt"/>. As for
    /// <see cref="TrajectoryFile.Read"/>, a <paramref name="dt"/> that disagrees with a stored one is an error unless
    /// <paramref name="dtOverrides"/> says that the caller's value wins.
    /// </summary>
    public static TrajectoryReader Open(string path, double? dt = null, bool dtOverrides = false)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        if (new FileInfo(path).Length == 0) throw new InvalidInputException($"{path}: file is empty.");
        var format = TrajectoryFile.ForPath(path);
        var sidecar = format is ISidecarTrajectoryFormat ? TrajectorySidecar.TryRead(path) : null;
        TrajectoryReader reader = format switch
        {
            NpyFormat => NpyFormat.OpenReader(path, sidecar?.Dt ?? dt),
            Hdf5TrajectoryFormat => Hdf5TrajectoryFormat.OpenReader(path, dt),
            ParquetTrajectoryFormat => ParquetTrajectoryFormat.OpenReader(path, dt),
            CsvFormat => CsvFormat.OpenReader(path, sidecar?.Dt ?? dt),
            _ => throw new InvalidInputException($"{path}: the {format.Name} format has no chunked reader; convert the file to .npy, .h5, .parquet or .csv."),
        };
        if (sidecar is { } s)
        {
            // stale sidecars are refused here too (shape and byte size; the value fingerprint needs the whole pass, see TrajectoryFile.Read)
            double stored = reader.Header.Dt;
            try
            {
                TrajectorySidecar.CheckShapeAndSize(s, path, reader.Header.Trajectories, reader.Header.Frames, reader.Header.Dimension);
                // a format with its own time axis (CSV's t column) gives dt back only to rounding; the sidecar holds it exactly
                if (stored != s.Dt && !TrajectoryFile.SameDt(stored, s.Dt))
                    throw new InvalidInputException($"{s.Path} says dt = {s.Dt} but the times in {path} are {stored} apart; one of them was edited. Fix or delete the sidecar.");
            }
            catch { reader.Dispose(); throw; }
            reader.Header = reader.Header with { Dt = s.Dt, Metadata = s.UserWritten ? reader.Header.Metadata : s.Metadata, StartTime = s.StartTime };
        }
        double storedDt = reader.Header.Dt;
        if (dt is { } requested && !TrajectoryFile.SameDt(storedDt, requested))
        {
            if (!dtOverrides)
            {
                reader.Dispose();
                throw TrajectoryFile.DtDisagrees(requested, storedDt, $"{path} or its sidecar");
            }
            reader.Header = reader.Header with { Dt = requested };
        }
        return reader;
    }

    /// <summary>The file's columns that the coordinates are, in order: those of <see cref="SelectColumns"/>, or null when all are read.</summary>
    public IReadOnlyList<int>? Columns => _columns;

    /// <summary>Keeps only the coordinates <paramref name="columns"/> (e.g. the positions of an (x, v) file), in that order.</summary>
    public void SelectColumns(IReadOnlyList<int> columns)
    {
        foreach (int c in columns)
            if (c < 0 || c >= _rawDimension)
                throw new InvalidInputException($"{Header.Path}: coordinate {c} does not exist (the file has coordinates 0..{_rawDimension - 1}).");
        _columns = columns.ToArray();
        Header = Header with { Dimension = _columns.Length };
    }

    /// <summary>
    /// The chunks of the file, in file order (trajectory-major, then time), each holding at most about
    /// <paramref name="maxValues"/> values: whole trajectories when one fits, else time blocks of one trajectory
    /// overlapping the next block by <paramref name="overlapFrames"/> frames. Reading is single pass. Two arrays
    /// alternate, so a chunk stays valid while the next one is read (a consumer may read ahead by one chunk).
    /// A time block owns a multiple of <paramref name="alignFrames"/> start frames (at least one multiple, so a block may
    /// hold more than <paramref name="maxValues"/> values when that is smaller than alignFrames + overlapFrames frames).
    /// </summary>
    public IEnumerable<TrajectoryChunk> Chunks(long maxValues, int overlapFrames, int alignFrames = 1) => Chunks(maxValues, overlapFrames, true, alignFrames);

    /// <summary>The chunks; <paramref name="finite"/> false skips the check for NaN and infinities (formats store them faithfully).</summary>
    private IEnumerable<TrajectoryChunk> Chunks(long maxValues, int overlapFrames, bool finite, int alignFrames = 1)
    {
        var h = Header;
        int frames = h.Frames, raw = _rawDimension, dim = h.Dimension;
        if (overlapFrames < 0) throw new ArgumentOutOfRangeException(nameof(overlapFrames));
        if (alignFrames < 1) throw new ArgumentOutOfRangeException(nameof(alignFrames));
        long perTrajectory = (long)frames * raw;
        var arrays = new double[]?[2];
        int turn = 0;
        double[]? rawBuffer = null;
        double[] Next(long length)
        {
            turn ^= 1;
            if (arrays[turn]?.LongLength != length)
            {
                arrays[turn] = null; // let the old array go before the new one exists
                arrays[turn] = new double[length];
                Held();
            }
            return arrays[turn]!;
        }
        void Held() => PeakValuesHeld = Math.Max(PeakValuesHeld, (arrays[0]?.LongLength ?? 0) + (arrays[1]?.LongLength ?? 0) + (rawBuffer?.LongLength ?? 0));
        if (perTrajectory <= maxValues)
        {
            int perChunk = (int)Math.Min(h.Trajectories, Math.Max(1, maxValues / perTrajectory));
            for (int first = 0; first < h.Trajectories; first += perChunk)
            {
                int count = Math.Min(perChunk, h.Trajectories - first);
                var values = Next((long)count * frames * dim);
                bool clean = false;
                if (_columns is null) clean = Fill(values, first, 0, finite);
                else
                {
                    if (rawBuffer?.LongLength != count * perTrajectory)
                    {
                        rawBuffer = new double[count * perTrajectory];
                        Held();
                    }
                    Fill(rawBuffer, first, 0);
                    Select(rawBuffer, (long)count * frames, values);
                }
                var data = new TrajectoryEnsemble(count, frames, dim, h.Dt, values, h.Metadata, h.StartTime);
                if (finite && !clean) Check(data, first, 0);
                yield return new TrajectoryChunk(data, first, 0, 0, frames);
            }
            yield break;
        }
        // Time blocks: a chunk owns start frames [s, s + owned) and holds frames [s, min(frames, s + owned + overlap)).
        int owned = (int)Math.Max(alignFrames, (maxValues / raw - overlapFrames) / alignFrames * alignFrames);
        for (int r = 0; r < h.Trajectories; r++)
        {
            double[]? previous = null;
            int previousEnd = 0;
            for (int s = 0; s < frames; s += owned)
            {
                int end = Math.Min(frames, s + owned + overlapFrames);
                int kept = previous is null ? 0 : previousEnd - s; // overlap frames [s, previousEnd) already read
                var values = Next((long)(end - s) * dim);
                if (kept > 0) Array.Copy(previous!, (long)(previous!.LongLength - (long)kept * dim), values, 0, (long)kept * dim);
                int fresh = end - s - kept;
                // the overlap was checked with the chunk before
                bool clean = fresh == 0 && kept > 0;
                if (fresh > 0)
                {
                    if (_columns is null) clean = Fill(values.AsSpan(kept * dim, fresh * dim), r, s + kept, finite);
                    else
                    {
                        if (rawBuffer is null || rawBuffer.Length < fresh * raw)
                        {
                            rawBuffer = new double[(long)(owned + overlapFrames) * raw];
                            Held();
                        }
                        Fill(rawBuffer.AsSpan(0, fresh * raw), r, s + kept);
                        Select(rawBuffer, fresh, values.AsSpan(kept * dim));
                    }
                }
                var data = new TrajectoryEnsemble(1, end - s, dim, h.Dt, values, h.Metadata, h.StartTime + s * h.Dt);
                if (finite && !clean) Check(data, r, s);
                // the last block of a trajectory owns every start frame it holds
                yield return new TrajectoryChunk(data, r, s, s, end == frames ? frames : s + owned);
                if (end == frames) break;
                previous = values;
                previousEnd = end;
            }
        }
    }

    /// <summary>
    /// The most values this reader's chunk buffers have held at once (the two alternating chunks and, with a column
    /// selection, the raw block): what reading costs in memory, bounded by the chunk size rather than by the file
    /// (tests check that streaming commands stay within it).
    /// </summary>
    public long PeakValuesHeld { get; private set; }

    private long _position; // values read so far (C order)

    /// <summary>Reads the raw values of trajectory <paramref name="trajectory"/> from frame <paramref name="frame"/> on, which must be where the previous read ended.</summary>
    /// <summary>
    /// Reads the next values into <paramref name="destination"/>. With <paramref name="check"/>, in pieces that stay in the
    /// core's cache, each checked for <see cref="Check"/>'s limit as soon as it is read; true when every value passed (else
    /// <see cref="Check"/> finds and names the first that did not).
    /// </summary>
    private bool Fill(Span<double> destination, int trajectory, int frame, bool check = false)
    {
        long at = ((long)trajectory * Header.Frames + frame) * _rawDimension;
        if (at != _position) throw new InvalidOperationException($"chunked read out of order: at value {_position}, asked for {at}.");
        double limit = Limit;
        bool clean = check;
        int filled = 0;
        while (filled < destination.Length)
        {
            int n;
            try
            {
                n = ReadValues(check ? destination.Slice(filled, Math.Min(CheckedPiece, destination.Length - filled)) : destination[filled..]);
            }
            catch (Exception e) when (e is not InvalidInputException and not OutOfMemoryException)
            {
                // a decoder failing on a corrupt page or chunk mid-file: name the place, not only the decoder's words
                long value = _position + filled, perTrajectory = (long)Header.Frames * _rawDimension;
                throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                    $"{Header.Path}: the file cannot be read at trajectory {value / perTrajectory}, frame {value % perTrajectory / _rawDimension} ({e.Message.TrimEnd('.')}); it is corrupt or truncated there."), e);
            }
            if (n <= 0)
                throw new InvalidInputException($"{Header.Path}: the file ended after {_position + filled} of {(long)Header.Trajectories * Header.Frames * _rawDimension} values; it is truncated or changed while it was read.");
            if (clean)
            {
                var piece = destination.Slice(filled, n);
                clean = WithinLimit(piece, limit) == n;
            }
            filled += n;
        }
        _position += filled;
        return clean;
    }

    /// <summary>Values per read when reads are checked: 512 kB, within a core's L2 cache.</summary>
    private const int CheckedPiece = 1 << 16;

    /// <summary>The largest magnitude <see cref="Check"/> accepts.</summary>
    private double Limit => RequireSummableSquares ? Math.Sqrt(double.MaxValue / Math.Max(1, Header.Values)) : double.MaxValue;

    private void Select(ReadOnlySpan<double> raw, long rows, Span<double> into)
    {
        var columns = _columns!;
        int rd = _rawDimension, d = columns.Length;
        for (long i = 0; i < rows; i++)
            for (int j = 0; j < d; j++) into[(int)(i * d + j)] = raw[(int)(i * rd + columns[j])];
    }

    /// <summary>
    /// When set, a chunk value whose square summed over the whole file would overflow double precision is refused like a
    /// non-finite one, naming its place (<see cref="TrajectoryEnsemble.EnsureSquaresSummable"/>): for estimators, which all sum squares.
    /// </summary>
    public bool RequireSummableSquares { get; set; }

    /// <summary>
    /// The length of the run of values from the start whose magnitude is within <paramref name="limit"/> (NaN compares false,
    /// so it ends the run too), four values at a time. Optimised at once: it runs over every value read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long WithinLimit(ReadOnlySpan<double> x, double limit)
    {
        var bound = Vector256.Create(limit);
        ref double first = ref MemoryMarshal.GetReference(x);
        int i = 0;
        for (; i <= x.Length - 4; i += 4)
            if (!Vector256.LessThanOrEqualAll(Vector256.Abs(Vector256.LoadUnsafe(ref first, (nuint)i)), bound)) break;
        for (; i < x.Length; i++)
            if (!(Math.Abs(x[i]) <= limit)) break;
        return i;
    }

    private void Check(TrajectoryEnsemble data, int firstTrajectory, int firstFrame)
    {
        var x = data.Data;
        // with RequireSummableSquares, as TrajectoryEnsemble.EnsureSquaresSummable over the whole file
        double limit = Limit;
        // four values at a time while all are within the limit (NaN compares false, so it stops the run too): the reader
        // thread checks a chunk in a fraction of the time the estimator needs for it
        for (long i = WithinLimit(x, limit); i < x.LongLength; i++)
        {
            if (Math.Abs(x[i]) <= limit) continue;
            long perTrajectory = (long)data.Frames * data.Dimension;
            long t = firstTrajectory + i / perTrajectory, f = firstFrame + i % perTrajectory / data.Dimension, c = i % data.Dimension;
            if (_columns is not null) c = _columns[c];
            if (double.IsFinite(x[i]))
                throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                    $"{Header.Path}: value {x[i]:G4} at trajectory {t}, frame {f}, coordinate {c} is too large to estimate with: its square summed over the "
                    + $"{Header.Values} values overflows double precision (|x| must stay below {limit:G3}). Rescale the coordinates (e.g. change units) or remove the outlier."));
            throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                $"{Header.Path}: value {x[i]} at trajectory {t}, frame {f}, coordinate {c}; trajectory data must be finite."));
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> (a whole number of frames) with the next values in C order, all coordinates as the
    /// format stores them (no column selection; NaN and infinities kept): for copying a file without holding it
    /// (<see cref="TrajectoryFile.Copy"/>). Not to be mixed with <see cref="Chunks(long, int, int)"/> on one reader.
    /// </summary>
    public void ReadNext(Span<double> destination)
    {
        if (destination.Length % _rawDimension != 0)
            throw new ArgumentException($"reads take whole frames of {_rawDimension} values (got {destination.Length}).", nameof(destination));
        long perTrajectory = (long)Header.Frames * _rawDimension;
        Fill(destination, (int)(_position / perTrajectory), (int)(_position % perTrajectory / _rawDimension));
    }

    /// <summary>Reads the whole file into memory (for methods that need all of it at once), as the format stores it: NaN and infinities are kept.</summary>
    public TrajectoryEnsemble ReadAll()
    {
        var h = Header;
        long rawValues = (long)h.Trajectories * h.Frames * _rawDimension;
        if (rawValues > Array.MaxLength) throw new InvalidInputException($"{h.Path}: {rawValues} values are too many for one ensemble in memory; split the file.");
        Resources.MemoryBudget.Require(8.0 * rawValues, $"reading {h.Path} ({h.Trajectories} trajectories x {h.Frames} frames x {_rawDimension} coordinates) into memory",
            $"read fewer columns ({InputParameter.Columns}), split the file, or use a command that reads it in chunks");
        foreach (var chunk in Chunks(rawValues, 0, finite: false)) return chunk.Data;
        throw new InvalidOperationException("a file without trajectories");
    }

    protected virtual void Dispose(bool disposing) { }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
