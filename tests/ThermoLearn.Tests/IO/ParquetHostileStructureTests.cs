using ThermoLearn.IO;
using Xunit;

namespace ThermoLearn.Tests.IO;

/// <summary>
/// Parquet files built to send Parquet.Net's decoder round a loop without end (the kinds fuzzing found: a varint or a
/// list size running past the footer, skipped lists of booleans that cost no bytes) or with structure the footer check
/// refuses (a negative page size, a schema nested deeper than any real table, a column chunk reaching into the footer).
/// Each must be refused within seconds with a message naming the file and the reason. Given to Parquet.Net 6.1 alone,
/// the three footers each still ran after 20 s (checked once, 5 Dec 2026); the negative page size gave an
/// ArgumentOutOfRangeException without a word about the file.
/// </summary>
public sealed class ParquetHostileStructureTests
{
    /// <summary>Far above a clean refusal (milliseconds), so only a hang fails it on a loaded machine.</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("hang-footer-varint-past-end", "footer runs past its end")]
    [InlineData("hang-footer-list-size-past-end", "footer runs past its end")]
    [InlineData("hang-footer-skipped-boolean-lists", "holds a list of 2147483647 elements")]
    [InlineData("page-size-negative", "claims -45 bytes of data")]
    public async Task CraftedFileIsRefusedQuicklyWithItsReason(string name, string reason)
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), name + ".parquet");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", "crashes", "parquet", name), path);
        var e = await RefusedWithin(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("not a readable Parquet file", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public async Task SchemaNestedDeeperThanTheLimitIsRefused()
    {
        // 100,000 schema elements of one child each: Parquet.Net builds its schema tree with one call per level
        byte[] valid = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", "corpus", "parquet", "valid.parquet"));
        int footer = BitConverter.ToInt32(valid, valid.Length - 8);
        var bytes = new List<byte>(valid.AsSpan(0, valid.Length - 8 - footer).ToArray());
        int start = bytes.Count;
        const int elements = 100_000;
        bytes.Add(0x29); // field 2 (schema), a list
        bytes.Add(0xFC); // more than 14 structures
        for (uint n = elements; ; n >>= 7)
        {
            if (n < 0x80) { bytes.Add((byte)n); break; }
            bytes.Add((byte)(n | 0x80));
        }
        for (int i = 0; i < elements; i++) bytes.AddRange([0x55, 0x02, 0x00]); // num_children = 1, end of element
        bytes.Add(0x00);
        bytes.AddRange(BitConverter.GetBytes(bytes.Count - start));
        bytes.AddRange("PAR1"u8.ToArray());
        string path = Path.Combine(TestEnsembles.TempFolder(), "nested.parquet");
        File.WriteAllBytes(path, [.. bytes]);
        var e = await RefusedWithin(path);
        Assert.Contains(path, e.Message);
        Assert.True(e.Message.Contains($"schema nests more than {ParquetStructure.MaxSchemaDepth} levels deep"), e.Message);
    }

    [Fact]
    public async Task ColumnChunkPointingIntoTheFooterIsRefused()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "offset.parquet");
        TrajectoryFile.Write(path, TestEnsembles.Awkward());
        byte[] bytes = File.ReadAllBytes(path);
        int footerLength = BitConverter.ToInt32(bytes, bytes.Length - 8), footerStart = bytes.Length - 8 - footerLength;
        await using (var stream = File.OpenRead(path))
        await using (var reader = await Parquet.ParquetReader.CreateAsync(stream))
            Assert.Equal(4, reader.Metadata!.RowGroups[0].Columns[0].MetaData!.DataPageOffset);
        // the first column's data_page_offset moved to the footer's first byte: in the footer, 0x26 0x08 (an i64 two fields on, 4
        // as a zigzag varint) is first the column chunk's file_offset (field 2, which readers ignore), then its data_page_offset (field 9)
        var footer = bytes.AsSpan(footerStart, footerLength).ToArray().ToList();
        int at = Enumerable.Range(0, footer.Count - 1).Where(i => footer[i] == 0x26 && footer[i + 1] == 0x08).ElementAt(1);
        var moved = new List<byte>();
        for (ulong z = 2UL * (ulong)footerStart; ; z >>= 7)
        {
            if (z < 0x80) { moved.Add((byte)z); break; }
            moved.Add((byte)(z | 0x80));
        }
        footer.RemoveAt(at + 1);
        footer.InsertRange(at + 1, moved);
        File.WriteAllBytes(path, [.. bytes.AsSpan(0, footerStart), .. footer, .. BitConverter.GetBytes(footer.Count), .. "PAR1"u8]);
        var e = await RefusedWithin(path);
        Assert.Contains($"column data must lie between byte 4 and the footer at byte {footerStart}", e.Message);
    }

    private static async Task<InvalidInputException> RefusedWithin(string path)
    {
        var read = Task.Run(() => TrajectoryFile.Read(path, 0.1));
        Assert.True(await Task.WhenAny(read, Task.Delay(Limit)) == read, $"reading {path} still runs after {Limit.TotalSeconds} s");
        return Assert.IsType<InvalidInputException>(read.Exception?.InnerException);
    }
}
