using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ThermoLearn.Trajectories;

namespace ThermoLearn.IO;

/// <summary>
/// NumPy .npy (format version 1.0, falling back to 2.0 for huge headers): little-endian float64 ('&lt;f8'),
/// C order, shape (trajectories, frames, dimension). The header is written byte for byte as numpy's
/// <c>np.save</c> writes it (keys sorted, 21-digit growth space after the first axis, space padding so
/// the data starts on a 64-byte boundary, then '\n'). Reading accepts '&lt;f8' or '&lt;f4', C order, and
/// shapes (T, F, D), (T, F) (dimension 1) or (F,) (one trajectory). The frame spacing is not part of the
/// format: it comes from the sidecar (see <see cref="TrajectoryFile"/>) or the caller.
/// Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
/// </summary>
public sealed partial class NpyFormat : ISidecarTrajectoryFormat, IStreamingTrajectoryFormat
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int Align = 64;
    private const int GrowthAxisMaxDigits = 21;

    public string Name => "npy";

    public IReadOnlyList<string> Extensions { get; } = [".npy"];

    /// <summary>The complete header (magic, version, length, dict, padding) numpy writes for a C-ordered array of
    /// type <paramref name="descr"/> ('&lt;f8' float64, '&lt;i8' int64, '&lt;i4' int32).</summary>
    public static byte[] Header(IReadOnlyList<long> shape, string descr = "<f8")
    {
        string shapeText = shape.Count == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        dict += new string(' ', shape.Count > 0 ? GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length : 0);
        int hlen = dict.Length + 1;
        int version = 1, lengthBytes = 2;
        int padding = Align - (Magic.Length + 2 + lengthBytes + hlen) % Align;
        if (hlen + padding > ushort.MaxValue)
        {
            version = 2; lengthBytes = 4;
            padding = Align - (Magic.Length + 2 + lengthBytes + hlen) % Align;
        }
        var header = new byte[Magic.Length + 2 + lengthBytes + hlen + padding];
        Magic.CopyTo(header, 0);
        header[6] = (byte)version;
        header[7] = 0;
        if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(hlen + padding));
        else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)(hlen + padding));
        int offset = 8 + lengthBytes;
        Encoding.ASCII.GetBytes(dict, header.AsSpan(offset));
        offset += dict.Length;
        header.AsSpan(offset, padding).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    public void Write(Stream stream, TrajectoryEnsemble ensemble)
    {
        stream.Write(Header([ensemble.Trajectories, ensemble.Frames, ensemble.Dimension]));
        var data = ensemble.Data;
        for (long i = 0; i < data.LongLength; i += 1 << 13)
            WriteValues(stream, data.AsSpan((int)i, (int)Math.Min(1 << 13, data.LongLength - i)));
    }

    /// <summary>Writes the header, then the values as they come, in pieces of up to 8192 values (64 kB).</summary>
    public void Write(Stream stream, TrajectoryHeader header, TrajectoryValueSource values, long bufferValues)
    {
        stream.Write(Header([header.Trajectories, header.Frames, header.Dimension]));
        int block = (int)Math.Max(header.Dimension, Math.Min(bufferValues, 1 << 13) / header.Dimension * header.Dimension);
        var buffer = new double[block];
        for (long i = 0; i < header.Values; i += block)
        {
            var piece = buffer.AsSpan(0, (int)Math.Min(block, header.Values - i));
            values(piece);
            WriteValues(stream, piece);
        }
    }

    private static void WriteValues(Stream stream, ReadOnlySpan<double> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
            return;
        }
        var bytes = new byte[8 * values.Length];
        for (int k = 0; k < values.Length; k++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * k), values[k]);
        stream.Write(bytes);
    }

    public TrajectoryEnsemble Read(string path, double? dt)
    {
        using var reader = OpenReader(path, dt);
        var ensemble = reader.ReadAll();
        ensemble.EnsureFinite(path);
        return ensemble;
    }

    /// <summary>Opens a .npy file for sequential chunked reading (<see cref="TrajectoryReader"/>); the header is checked here.</summary>
    internal static TrajectoryReader OpenReader(string path, double? dt)
    {
        if (dt is null)
            throw InvalidInputException.Naming($"{path}: a .npy file does not store the frame spacing; give {InputParameter.Dt}, or write a sidecar {Path.GetFileName(path)}.json next to it holding {{\"dt\": <time between frames>}}.");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        try
        {
            return new Reader(path, dt.Value, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Plain sequential reads straight into the chunk's array (float64), or through a small buffer (float32).</summary>
    private sealed class Reader : TrajectoryReader
    {
        private readonly FileStream _stream;
        private readonly int _itemSize;
        private readonly byte[] _buffer = [];

        public Reader(string path, double dt, FileStream stream)
        {
            _stream = stream;
            var (itemSize, trajectories, frames, dimension, _) = ReadHeader(path, stream);
            _itemSize = itemSize;
            if (itemSize == 4 || !BitConverter.IsLittleEndian) _buffer = new byte[1 << 16];
            SetHeader(new TrajectoryHeader(path, trajectories, frames, dimension, dt, 0.0, TrajectoryMetadata.None));
        }

        protected override int ReadValues(Span<double> destination)
        {
            if (_itemSize == 8 && BitConverter.IsLittleEndian)
            {
                int bytes = _stream.ReadAtLeast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination), 8, throwOnEndOfStream: false);
                if (bytes % 8 != 0) _stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination).Slice(bytes, 8 - bytes % 8));
                return (bytes + 7) / 8;
            }
            int n = Math.Min(destination.Length, _buffer.Length / _itemSize);
            int got = _stream.ReadAtLeast(_buffer.AsSpan(0, n * _itemSize), n * _itemSize, throwOnEndOfStream: false) / _itemSize;
            for (int k = 0; k < got; k++)
                destination[k] = _itemSize == 8 ? BinaryPrimitives.ReadDoubleLittleEndian(_buffer.AsSpan(8 * k)) : BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(4 * k));
            return got;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _stream.Dispose();
        }
    }

    /// <summary>
    /// For a .npy of fewer than three axes, the layout it is read with, in words (a 2-D array could equally be one
    /// trajectory of frames x coordinates, so the reading is said, not silently assumed); null for a 3-D array.
    /// </summary>
    public static string? LayoutNote(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        var (_, trajectories, frames, _, rank) = ReadHeader(path, stream);
        return rank switch
        {
            2 => $"{path} is a 2-D array of shape ({trajectories}, {frames}): read as {trajectories} trajectories x {frames} frames of one coordinate "
                + $"(the layout (trajectories, frames, dimension) without its last axis). If it is one trajectory of {trajectories} frames x {frames} "
                + "coordinates, save x[None] instead (shape (1, frames, dimension)).",
            1 => $"{path} is a 1-D array of {frames} values: read as one trajectory of {frames} frames of one coordinate.",
            _ => null,
        };
    }

    /// <summary>Reads and checks the header; leaves the stream at the first value.</summary>
    private static (int ItemSize, int Trajectories, int Frames, int Dimension, int Rank) ReadHeader(string path, Stream stream)
    {
        var prefix = new byte[10];
        if (stream.ReadAtLeast(prefix, 10, throwOnEndOfStream: false) < 10 || !prefix.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidInputException($"{path}: not a NumPy .npy file (the magic string \\x93NUMPY is missing).");
        int major = prefix[6];
        int headerLength;
        int consumed = 10;
        if (major == 1) headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8));
        else if (major is 2 or 3)
        {
            var more = new byte[2];
            if (stream.ReadAtLeast(more, 2, throwOnEndOfStream: false) < 2) throw new InvalidInputException($"{path}: truncated .npy header.");
            uint stated = BinaryPrimitives.ReadUInt32LittleEndian([prefix[8], prefix[9], more[0], more[1]]);
            consumed = 12;
            // checked before allocating: a corrupt length would otherwise ask for up to 4 GB (or a negative size)
            if (stated > stream.Length - consumed)
                throw new InvalidInputException($"{path}: the .npy header claims {stated} bytes but the file has only {stream.Length - consumed} after the prefix; the file is corrupt.");
            headerLength = (int)stated;
        }
        else throw new InvalidInputException($"{path}: unsupported .npy format version {major}.{prefix[7]} (1.0, 2.0 and 3.0 are read).");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerLength, throwOnEndOfStream: false) < headerLength)
            throw new InvalidInputException($"{path}: truncated .npy header.");
        string header = Encoding.UTF8.GetString(headerBytes);
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new InvalidInputException($"{path}: the .npy header '{header.Trim()}' lacks descr, fortran_order or shape.");
        string type = descr.Groups[1].Value;
        if (type is not ("<f8" or "<f4"))
            throw new InvalidInputException($"{path}: array type '{type}' is not supported; save float64 ('<f8') or float32 ('<f4'), e.g. x.astype(np.float64).");
        if (fortran.Groups[1].Value == "True")
            throw new InvalidInputException($"{path}: Fortran-ordered arrays are not supported; save np.ascontiguousarray(x).");
        var dims = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : -1).ToArray();
        if (dims.Length is < 1 or > 3 || dims.Any(v => v < 1))
            throw new InvalidInputException($"{path}: shape ({shapeMatch.Groups[1].Value}) is not usable; expected (trajectories, frames, dimension), (trajectories, frames) or (frames,), all positive.");
        long trajectories = dims.Length == 3 || dims.Length == 2 ? dims[0] : 1;
        long frames = dims.Length == 1 ? dims[0] : dims[1];
        long dimension = dims.Length == 3 ? dims[2] : 1;
        long count = trajectories * frames * dimension;
        if (trajectories > int.MaxValue || frames > int.MaxValue || dimension > int.MaxValue)
            throw new InvalidInputException($"{path}: shape ({string.Join(", ", dims)}) has an axis longer than {int.MaxValue}; split the file.");
        int itemSize = type == "<f8" ? 8 : 4;
        long expectedBytes = consumed + headerLength + count * itemSize;
        if (stream.Length != expectedBytes)
            throw new InvalidInputException($"{path}: the file has {stream.Length} bytes but shape ({string.Join(", ", dims)}) of {type} needs {expectedBytes}; the file is truncated or corrupt.");
        return (itemSize, (int)trajectories, (int)frames, (int)dimension, dims.Length);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
