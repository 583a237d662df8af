using PureHDF;

namespace ThermoLearn.IO;

/// <summary>
/// A read-only file stream for third-party decoders of untrusted files: a read that starts at or past the end of the
/// file throws instead of returning nothing, and so does reading more than <see cref="BudgetFactor"/> times the file's
/// size in all (plus <see cref="BudgetSlack"/>). A corrupt length or pointer in an HDF5 header otherwise sends PureHDF
/// round a loop of empty reads past the end (found by fuzzing: minutes of 100% CPU on a 4.6 kB file), and a cyclic
/// structure inside the file would re-read the same bytes forever; a valid file reads each data byte once and its
/// small metadata a few times. <see cref="FileFormatGuard"/> turns the exceptions into a "corrupt file" message.
/// </summary>
internal sealed class GuardedReadStream : Stream
{
    /// <summary>Bytes a reader may take, as a multiple of the file's size, before the file is taken as cyclic.</summary>
    public const long BudgetFactor = 64;

    /// <summary>Bytes a reader may always take (metadata re-reads of small files).</summary>
    public const long BudgetSlack = 256L << 20;

    private readonly FileStream _inner;
    private readonly long _length, _budget;
    private long _total;
    private List<(long Start, long End)>? _allowed;

    public GuardedReadStream(string path)
    {
        _inner = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        _length = _inner.Length;
        _budget = BudgetFactor * _length + BudgetSlack;
    }

    /// <summary>Opens an HDF5 file through a guarded stream (the stream is closed with the file).</summary>
    public static PureHDF.VOL.Native.NativeFile OpenHdf5(string path)
    {
        var stream = new GuardedReadStream(path);
        try { return H5File.Open(stream, leaveOpen: false); }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// From now on, refuses a read that starts outside <paramref name="ranges"/> (sorted, disjoint [start, end) byte ranges):
    /// for Parquet, the column chunks whose pages <see cref="ParquetStructure"/> has checked.
    /// </summary>
    public void Restrict(List<(long Start, long End)> ranges) => _allowed = ranges;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => _length;

    public override long Position
    {
        get => _inner.Position;
        set => _inner.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        long at = _inner.Position;
        if (at >= _length) throw new EndOfStreamException($"a structure points past the end of the file (offset {at} of {_length} bytes)");
        if (_allowed is not null && !Allowed(at))
            throw new InvalidDataException($"a structure points to byte {at}, outside the column data the file's footer describes");
        int n = _inner.Read(buffer);
        _total += n;
        if (_total > _budget)
            throw new InvalidDataException($"reading took more than {BudgetFactor} times the file's size; its structure loops back on itself");
        return n;
    }

    private bool Allowed(long at)
    {
        int lo = 0, hi = _allowed!.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (at < _allowed[mid].Start) hi = mid - 1;
            else if (at >= _allowed[mid].End) lo = mid + 1;
            else return true;
        }
        return false;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => _inner.Seek(offset, origin);
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
