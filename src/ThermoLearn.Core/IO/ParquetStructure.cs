using System.Buffers.Binary;

namespace ThermoLearn.IO;

/// <summary>
/// Checks the structure of an untrusted Parquet file before Parquet.Net decodes it. Parquet.Net's Thrift decoder reads
/// the footer from a MemoryStream, whose end (-1) it takes as a byte 0xFF, so a varint or list header that runs past the
/// footer loops for ever (found by fuzzing: 13 inputs of under 1 kB); a skipped list of booleans of 2^31 elements costs no
/// bytes at all; a negative page size sends its page loop back to the same header. This check walks the footer and every
/// page header with exactly Parquet.Net's grammar and reading rules (<see cref="Grammar"/>, generated from Parquet.Net
/// 6.1's <c>Meta/Parquet.cs</c>: the same field ids, read as the types that code expects whatever the wire says, and
/// unknown fields skipped as its <c>SkipField</c> skips them) inside the bytes it has, refusing a read past them, a list
/// longer than the bytes left and nesting deeper than <see cref="MaxDepth"/>; so a file that passes is decoded by Parquet.Net
/// in bounded time. Column chunks must lie inside the file before the footer without overlapping, and their pages must
/// tile them exactly; <see cref="GuardedReadStream.Restrict"/> then refuses Parquet.Net any read that starts outside them.
/// </summary>
internal static class ParquetStructure
{
    /// <summary>Deepest nesting of lists and structs accepted (Parquet's own grammar nests 5 deep).</summary>
    public const int MaxDepth = 32;

    /// <summary>Deepest schema (groups within groups) accepted.</summary>
    public const int MaxSchemaDepth = 64;

    /// <summary>Thrift compact protocol types (the wire's type nibble).</summary>
    private const byte WireTrue = 1, WireFalse = 2, WireByte = 3, WireI16 = 4, WireI32 = 5, WireI64 = 6, WireDouble = 7, WireBinary = 8, WireList = 9, WireStruct = 12;

    /// <summary>
    /// Parquet.Net 6.1's Thrift grammar: "Struct id:kind …", kind i (i16/i32/enum varint), l (i64 varint), b (one byte),
    /// d (8 bytes), s (binary or string), 0 (a boolean field: no bytes, the value is in the type nibble), a struct name,
    /// or [kind for a list of that kind.
    /// </summary>
    private static readonly string[] Grammar =
    [
        "SizeStatistics 1:l 2:[l 3:[l",
        "BoundingBox 1:d 2:d 3:d 4:d 5:d 6:d 7:d 8:d",
        "GeospatialStatistics 1:BoundingBox 2:[i",
        "Statistics 1:s 2:s 3:l 4:l 5:s 6:s 7:0 8:0",
        "StringType ",
        "UUIDType ",
        "MapType ",
        "ListType ",
        "EnumType ",
        "DateType ",
        "Float16Type ",
        "NullType ",
        "DecimalType 1:i 2:i",
        "MilliSeconds ",
        "MicroSeconds ",
        "NanoSeconds ",
        "TimeUnit 1:MilliSeconds 2:MicroSeconds 3:NanoSeconds",
        "TimestampType 1:0 2:TimeUnit",
        "TimeType 1:0 2:TimeUnit",
        "IntType 1:b 2:0",
        "JsonType ",
        "BsonType ",
        "VariantType 1:b",
        "GeometryType 1:s",
        "GeographyType 1:s 2:i",
        "LogicalType 1:StringType 2:MapType 3:ListType 4:EnumType 5:DecimalType 6:DateType 7:TimeType 8:TimestampType 10:IntType 11:NullType 12:JsonType 13:BsonType 14:UUIDType 15:Float16Type 16:VariantType 17:GeometryType 18:GeographyType",
        "SchemaElement 1:i 2:i 3:i 4:s 5:i 6:i 7:i 8:i 9:i 10:LogicalType",
        "DataPageHeader 1:i 2:i 3:i 4:i 5:Statistics",
        "IndexPageHeader ",
        "DictionaryPageHeader 1:i 2:i 3:0",
        "DataPageHeaderV2 1:i 2:i 3:i 4:i 5:i 6:i 7:0 8:Statistics",
        "SplitBlockAlgorithm ",
        "BloomFilterAlgorithm 1:SplitBlockAlgorithm",
        "XxHash ",
        "BloomFilterHash 1:XxHash",
        "Uncompressed ",
        "BloomFilterCompression 1:Uncompressed",
        "BloomFilterHeader 1:i 2:BloomFilterAlgorithm 3:BloomFilterHash 4:BloomFilterCompression",
        "PageHeader 1:i 2:i 3:i 4:i 5:DataPageHeader 6:IndexPageHeader 7:DictionaryPageHeader 8:DataPageHeaderV2",
        "KeyValue 1:s 2:s",
        "SortingColumn 1:i 2:0 3:0",
        "PageEncodingStats 1:i 2:i 3:i",
        "ColumnMetaData 1:i 2:[i 3:[s 4:i 5:l 6:l 7:l 8:[KeyValue 9:l 10:l 11:l 12:Statistics 13:[PageEncodingStats 14:l 15:i 16:SizeStatistics 17:GeospatialStatistics",
        "EncryptionWithFooterKey ",
        "EncryptionWithColumnKey 1:[s 2:s",
        "ColumnCryptoMetaData 1:EncryptionWithFooterKey 2:EncryptionWithColumnKey",
        "ColumnChunk 1:s 2:l 3:ColumnMetaData 4:l 5:i 6:l 7:i 8:ColumnCryptoMetaData 9:s",
        "RowGroup 1:[ColumnChunk 2:l 3:l 4:[SortingColumn 5:l 6:l 7:i",
        "TypeDefinedOrder ",
        "ColumnOrder 1:TypeDefinedOrder",
        "PageLocation 1:l 2:i 3:l",
        "OffsetIndex 1:[PageLocation 2:[l",
        "ColumnIndex 1:[b 2:[s 3:[s 4:i 5:[l 6:[l 7:[l",
        "AesGcmV1 1:s 2:s 3:0",
        "AesGcmCtrV1 1:s 2:s 3:0",
        "EncryptionAlgorithm 1:AesGcmV1 2:AesGcmCtrV1",
        "FileMetaData 1:i 2:[SchemaElement 3:l 4:[RowGroup 5:[KeyValue 6:s 7:[ColumnOrder 8:EncryptionAlgorithm 9:s",
        "FileCryptoMetaData 1:EncryptionAlgorithm 2:s"
    ];

    private static readonly Dictionary<string, Dictionary<short, string>> Structs = Grammar
        .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .ToDictionary(parts => parts[0], parts => parts.Skip(1).ToDictionary(p => short.Parse(p[..p.IndexOf(':')], System.Globalization.CultureInfo.InvariantCulture), p => p[(p.IndexOf(':') + 1)..]));

    /// <summary>Checks the magic bytes and the footer; returns where the footer starts.</summary>
    public static long CheckFooter(Stream file, string path)
    {
        long length = file.Length;
        if (length < 12) throw Corrupt(path, $"it has {length} bytes, fewer than a Parquet file's 12-byte frame ('PAR1', footer length, 'PAR1')");
        Span<byte> head = stackalloc byte[4], tail = stackalloc byte[8];
        file.Position = 0;
        file.ReadExactly(head);
        file.Position = length - 8;
        file.ReadExactly(tail);
        if (!head.SequenceEqual("PAR1"u8) || !tail[4..].SequenceEqual("PAR1"u8))
            throw Corrupt(path, "it does not start and end with the Parquet magic bytes 'PAR1'");
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > length - 12)
            throw Corrupt(path, $"its footer length is {footerLength} bytes in a file of {length} bytes");
        long footerStart = length - 8 - footerLength;
        var footer = new byte[footerLength];
        file.Position = footerStart;
        file.ReadExactly(footer);
        var walker = new Walker(footer, 0, footer.Length, path, "footer", null) { SchemaChildren = [] };
        walker.Struct("FileMetaData", 0);
        CheckSchemaTree(path, walker.SchemaChildren);
        file.Position = 0;
        return footerStart;
    }

    /// <summary>
    /// Parquet.Net builds the schema tree from the elements' child counts recursively, one call per level: a footer of
    /// elements with one child each would nest as deep as it is long and overflow the stack. The tree is replayed here.
    /// </summary>
    private static void CheckSchemaTree(string path, List<long> children)
    {
        if (children.Count == 0) throw Corrupt(path, "its footer has no schema");
        // pending[k] = children still to read at depth k
        var pending = new Stack<long>();
        pending.Push(Math.Max(children[0], 0));
        int next = 1;
        while (pending.Count > 0)
        {
            if (pending.Peek() <= 0)
            {
                pending.Pop();
                continue;
            }
            pending.Push(pending.Pop() - 1);
            if (next >= children.Count)
                throw Corrupt(path, $"its schema's child counts ask for more than its {children.Count} elements");
            long own = children[next++];
            if (own > 0)
            {
                pending.Push(own);
                if (pending.Count > MaxSchemaDepth)
                    throw Corrupt(path, $"its schema nests more than {MaxSchemaDepth} levels deep");
            }
        }
    }

    /// <summary>
    /// Checks every column chunk of <paramref name="metadata"/> (decoded by Parquet.Net after <see cref="CheckFooter"/>)
    /// and the page headers inside it; returns the chunks' byte ranges [start, end), sorted and disjoint.
    /// </summary>
    public static List<(long Start, long End)> CheckColumnChunks(Stream file, string path, Parquet.Meta.FileMetaData metadata, long footerStart)
    {
        var ranges = new List<(long Start, long End)>();
        var groups = metadata.RowGroups ?? [];
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            if (group.NumRows < 0 || group.NumRows > int.MaxValue)
                throw Corrupt(path, $"row group {g} claims {group.NumRows} rows (at most {int.MaxValue} are readable)");
            foreach (var chunk in group.Columns ?? [])
            {
                var m = chunk.MetaData;
                if (m is null) continue;
                string column = string.Join('.', m.PathInSchema ?? []);
                long start = new[] { m.DictionaryPageOffset ?? 0, m.DataPageOffset, m.IndexPageOffset ?? 0 }.Where(o => o != 0).DefaultIfEmpty(0).Min();
                long end = start + m.TotalCompressedSize;
                if (start < 4 || m.TotalCompressedSize <= 0 || end > footerStart)
                    throw Corrupt(path, $"column '{column}' of row group {g} claims bytes {start}..{end} (from its page offsets and compressed size); "
                        + $"column data must lie between byte 4 and the footer at byte {footerStart}");
                if (m.NumValues < 0 || m.NumValues > int.MaxValue)
                    throw Corrupt(path, $"column '{column}' of row group {g} claims {m.NumValues} values");
                long values = CheckPages(file, path, start, end, $"column '{column}' of row group {g}");
                if (values != m.NumValues)
                    throw Corrupt(path, $"the pages of column '{column}' of row group {g} hold {values} values but its metadata says {m.NumValues}");
                ranges.Add((start, end));
            }
        }
        ranges.Sort();
        for (int i = 1; i < ranges.Count; i++)
            if (ranges[i].Start < ranges[i - 1].End)
                throw Corrupt(path, $"column chunks overlap (bytes {ranges[i - 1].Start}..{ranges[i - 1].End} and {ranges[i].Start}..{ranges[i].End})");
        return ranges;
    }

    /// <summary>Walks the page headers of one column chunk, which must tile [start, end); returns the values its data pages hold.</summary>
    private static long CheckPages(Stream file, string path, long start, long end, string what)
    {
        long values = 0;
        var buffer = new byte[(int)Math.Min(end - start, 1 << 12)];
        for (long at = start; at < end;)
        {
            // a page header is small (statistics may hold a min and max value): read a window and widen it if the header runs past
            int window = (int)Math.Min(end - at, buffer.Length);
            var fields = new Dictionary<string, long>();
            int used;
            while (true)
            {
                if (buffer.Length < window) buffer = new byte[window];
                file.Position = at;
                file.ReadExactly(buffer.AsSpan(0, window));
                try
                {
                    fields.Clear();
                    var walker = new Walker(buffer, 0, window, path, $"a page header of {what} at byte {at}", fields);
                    walker.Struct("PageHeader", 0);
                    used = walker.Position;
                    break;
                }
                catch (InvalidInputException) when (window < end - at)
                {
                    window = (int)Math.Min(end - at, 16L * window);
                }
            }
            long size = fields.GetValueOrDefault("3", -1);
            if (size < 0 || at + used + size > end)
                throw Corrupt(path, $"a page of {what} at byte {at} claims {size} bytes of data, which do not fit between its header and the chunk's end at byte {end}");
            long type = fields.GetValueOrDefault("1", -1);
            if (type is 0 or 3)
            {
                // data page (v1) or data page v2: their value counts must add up to the chunk's
                long count = fields.GetValueOrDefault(type == 0 ? "5.1" : "8.1", -1);
                if (count < 0) throw Corrupt(path, $"a data page of {what} at byte {at} has no or a negative value count");
                values += count;
            }
            at += used + size;
        }
        file.Position = 0;
        return values;
    }

    private static InvalidInputException Corrupt(string path, string why) =>
        new($"{path}: not a readable Parquet file: {why}; it may be truncated or corrupt.");

    /// <summary>
    /// Parquet.Net's <c>ThriftCompactProtocolReader</c> and generated <c>Read</c> methods, replayed over a byte range: the
    /// same bytes are consumed in the same order, and every read is checked against the range.
    /// </summary>
    private sealed class Walker(byte[] bytes, int position, int end, string path, string what, Dictionary<string, long>? record)
    {
        private readonly Stack<short> _lastField = new();
        private short _lastFieldId;
        private readonly List<short> _path = [];

        public int Position => position;

        /// <summary>When set, collects each schema element's child count (0 for a leaf) in order.</summary>
        public List<long>? SchemaChildren { get; init; }

        private InvalidInputException Fail(string why) => Corrupt(path, $"{what} {why} (byte {position} of {end})");

        private byte Next()
        {
            if (position >= end) throw Fail("runs past its end");
            return bytes[position++];
        }

        private void Take(long count)
        {
            if (count < 0 || count > end - position) throw Fail($"holds a value of {count} bytes with {end - position} bytes left");
            position += (int)count;
        }

        private uint VarInt32()
        {
            uint result = 0;
            int shift = 0;
            while (true)
            {
                byte b = Next();
                result |= (uint)(b & 0x7f) << shift;
                if ((b & 0x80) != 0x80) return result;
                shift += 7;
            }
        }

        private ulong VarInt64()
        {
            ulong result = 0;
            int shift = 0;
            while (true)
            {
                byte b = Next();
                result |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) != 0x80) return result;
                shift += 7;
            }
        }

        private int I32()
        {
            uint n = VarInt32();
            return (int)(n >> 1) ^ -(int)(n & 1);
        }

        private long I64()
        {
            ulong n = VarInt64();
            return (long)(n >> 1) ^ -(long)(n & 1);
        }

        private void Binary() => Take((int)VarInt32());

        private bool NextField(out short fieldId, out byte type)
        {
            byte header = Next();
            if (header == 0)
            {
                fieldId = 0;
                type = 0;
                return false;
            }
            short modifier = (short)((header & 0xf0) >> 4);
            type = (byte)(header & 0x0f);
            fieldId = modifier == 0 ? (short)I32() : (short)(_lastFieldId + modifier);
            _lastFieldId = fieldId;
            return true;
        }

        private int ListHeader(out byte elementType)
        {
            byte sizeAndType = Next();
            int size = (sizeAndType >> 4) & 0x0f;
            if (size == 15) size = (int)VarInt32();
            elementType = (byte)(sizeAndType & 0x0f);
            // every element Parquet.Net reads takes at least one byte, except skipped booleans (none): a longer list is corrupt
            if (size < 0 || size > end - position) throw Fail($"holds a list of {size} elements with {end - position} bytes left");
            return size;
        }

        private void Depth(int depth)
        {
            if (depth > MaxDepth) throw Fail($"nests lists and structures more than {MaxDepth} deep");
        }

        public void Struct(string name, int depth)
        {
            Depth(depth);
            var fields = Structs[name];
            bool schemaElement = name == "SchemaElement" && SchemaChildren is not null;
            if (schemaElement) SchemaChildren!.Add(0);
            _lastField.Push(_lastFieldId);
            _lastFieldId = 0;
            while (NextField(out short id, out byte type))
            {
                if (fields.TryGetValue(id, out string? kind))
                {
                    _path.Add(id);
                    if (kind[0] == '[')
                    {
                        int count = ListHeader(out _);
                        for (int i = 0; i < count; i++) Value(kind[1..], depth + 1, false);
                    }
                    else if (schemaElement && id == 5) SchemaChildren![^1] = I32();
                    else Value(kind, depth + 1, true);
                    _path.RemoveAt(_path.Count - 1);
                }
                else Skip(type, depth + 1);
            }
            _lastFieldId = _lastField.Pop();
        }

        private void Value(string kind, int depth, bool recordIt)
        {
            switch (kind)
            {
                case "i":
                    int i = I32();
                    if (recordIt) Record(i);
                    break;
                case "l":
                    long l = I64();
                    if (recordIt) Record(l);
                    break;
                case "b": Next(); break;
                case "d": Take(8); break;
                case "s": Binary(); break;
                case "0": break;
                default: Struct(kind, depth); break;
            }
        }

        private void Record(long value)
        {
            if (record is not null) record[string.Join('.', _path)] = value;
        }

        /// <summary>Parquet.Net's SkipField, as it is: a skipped structure's field headers are read, but not their values.</summary>
        private void Skip(byte type, int depth)
        {
            Depth(depth);
            switch (type)
            {
                case WireTrue:
                case WireFalse:
                    break;
                case WireByte: Take(1); break;
                case WireI16:
                case WireI32: VarInt32(); break;
                case WireI64: VarInt64(); break;
                case WireDouble: Take(8); break;
                case WireBinary: Binary(); break;
                case WireStruct:
                    _lastField.Push(_lastFieldId);
                    _lastFieldId = 0;
                    while (NextField(out _, out _)) { }
                    _lastFieldId = _lastField.Pop();
                    break;
                case WireList:
                    int count = ListHeader(out byte elementType);
                    for (int i = 0; i < count; i++) Skip(elementType, depth + 1);
                    break;
                default:
                    throw Fail($"holds a field of unknown Thrift type {type}");
            }
        }
    }
}
