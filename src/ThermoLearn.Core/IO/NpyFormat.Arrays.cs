using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ThermoLearn.IO;

/// <summary>Plain n-dimensional arrays (not trajectory ensembles) as .npy: token sequences, beliefs.</summary>
public sealed partial class NpyFormat
{
    /// <summary>Writes a C-ordered array of shape <paramref name="shape"/> atomically: '&lt;i8' (numpy's default integer), or '&lt;i4' when <paramref name="int32"/>.</summary>
    public static void WriteArray(string path, ReadOnlyMemory<int> data, IReadOnlyList<long> shape, bool int32 = false)
    {
        CheckShape(data.Length, shape, path);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Header(shape, int32 ? "<i4" : "<i8"));
            int size = int32 ? 4 : 8;
            var buffer = new byte[1 << 16];
            var span = data.Span;
            for (int i = 0; i < span.Length;)
            {
                int n = Math.Min(buffer.Length / size, span.Length - i);
                for (int k = 0; k < n; k++)
                {
                    if (int32) BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(4 * k), span[i + k]);
                    else BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(8 * k), span[i + k]);
                }
                stream.Write(buffer, 0, n * size);
                i += n;
                span = data.Span;
            }
        });
    }

    /// <summary>Writes a C-ordered float64 ('&lt;f8') array of shape <paramref name="shape"/> atomically.</summary>
    public static void WriteArray(string path, ReadOnlyMemory<double> data, IReadOnlyList<long> shape)
    {
        CheckShape(data.Length, shape, path);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Header(shape));
            var buffer = new byte[1 << 16];
            for (int i = 0; i < data.Length;)
            {
                int n = Math.Min(buffer.Length / 8, data.Length - i);
                var chunk = data.Span.Slice(i, n);
                if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(chunk).CopyTo(buffer);
                else for (int k = 0; k < n; k++) BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(8 * k), chunk[k]);
                stream.Write(buffer, 0, 8 * n);
                i += n;
            }
        });
    }

    private static void CheckShape(int length, IReadOnlyList<long> shape, string path)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"{path}: negative dimension in shape ({string.Join(", ", shape)}).", nameof(shape));
            count *= d;
        }
        if (count != length) throw new ArgumentException($"{path}: shape ({string.Join(", ", shape)}) needs {count} values but {length} were given.", nameof(shape));
    }
}
