using System.Text;
using Parquet;
using Parquet.Schema;
using ThermoLearn.IO;
using ThermoLearn.Trajectories;
using Xunit;

namespace ThermoLearn.Tests.IO;

public class ParquetFormatTests
{
    [Fact]
    public async Task RoundTripAcrossRowGroupsThatSplitTrajectories()
    {
        // 4 x 7 = 28 rows in groups of 5: every trajectory straddles a group boundary.
        string path = Path.Combine(TestEnsembles.TempFolder(), "groups.parquet");
        var original = TestEnsembles.Awkward(4, 7, 3, TrajectoryMetadata.None);
        using (var stream = File.Create(path)) new ParquetTrajectoryFormat(rowsPerGroup: 5).Write(stream, original);
        await using (var reader = await ParquetReader.CreateAsync(path))
            Assert.Equal(6, reader.RowGroupCount);
        TestEnsembles.AssertIdentical(original, TrajectoryFile.Read(path));
    }

    [Fact]
    public async Task LayoutIsWhatPandasReads()
    {
        // Checked at byte level (the 'PAR1' magic at both ends) and with Parquet.Net's own reader: the long
        // table traj (int32, required), t, x0, x1 (float64, required), rows by trajectory then frame, and the
        // key-value metadata.
        string path = Path.Combine(TestEnsembles.TempFolder(), "layout.parquet");
        var e = TestEnsembles.Awkward(3, 4, 2);
        TrajectoryFile.Write(path, e);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal("PAR1", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal("PAR1", Encoding.ASCII.GetString(bytes, bytes.Length - 4, 4));

        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        Assert.Equal(["traj", "t", "x0", "x1"], fields.Select(f => f.Name));
        Assert.Equal([typeof(int), typeof(double), typeof(double), typeof(double)], fields.Select(f => f.ClrType));
        Assert.All(fields, f => Assert.False(f.IsNullable));
        Assert.Equal("0.1", reader.CustomMetadata["dt"]);
        Assert.Equal("driven-trap-2d", reader.CustomMetadata["model"]);
        Assert.Equal(e.Metadata.ParametersJson, reader.CustomMetadata["parameters"]);
        Assert.Equal("18446744073709551557", reader.CustomMetadata["seed"]);

        using var group = reader.OpenRowGroupReader(0);
        var traj = new int[12];
        var t = new double[12];
        var x1 = new double[12];
        await group.ReadAsync(fields[0], traj.AsMemory());
        await group.ReadAsync(fields[1], t.AsMemory());
        await group.ReadAsync(fields[3], x1.AsMemory());
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], traj);
        for (int r = 0; r < 12; r++)
        {
            Assert.Equal(0.25 + r % 4 * 0.1, t[r]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(e.Data[r * 2 + 1]), BitConverter.DoubleToInt64Bits(x1[r]));
        }
    }

    [Fact]
    public void GoldenFileStillReads()
    {
        var golden = TrajectoryFile.Read(Path.Combine(AppContext.BaseDirectory, "Golden", "trajectories.parquet"));
        TestEnsembles.AssertIdentical(TestEnsembles.Awkward(), golden);
    }

    [Fact]
    public void PandasStyleTableReadsWithDtFromTheTimeColumn()
    {
        // pandas.DataFrame.to_parquet writes optional columns and int64 integers and no ThermoLearn metadata.
        string path = Path.Combine(TestEnsembles.TempFolder(), "pandas.parquet");
        long[] traj = [0, 0, 0, 1, 1, 1];
        double[] t = [0.0, 0.02, 0.04, 0.0, 0.02, 0.04];
        double[] x0 = [1, 2, 3, 4, 5, 6];
        WriteTable(path, ("traj", traj.Select(v => (long?)v).ToArray()), ("t", Nullable(t)), ("x0", Nullable(x0)));
        var e = TrajectoryFile.Read(path);
        Assert.Equal((2, 3, 1), (e.Trajectories, e.Frames, e.Dimension));
        Assert.Equal(0.02, e.Dt);
        Assert.Equal(x0, e.Data);
        Assert.Equal(TrajectoryMetadata.None, e.Metadata);
    }

    [Fact]
    public void MissingColumnIsNamed()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "nox.parquet");
        WriteTable(path, ("traj", new long?[] { 0, 0 }), ("t", Nullable([0, 1])));
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("x0", error.Message);

        WriteTable(path, ("traj", new long?[] { 0, 0 }), ("x0", Nullable([0, 1])));
        error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));
        Assert.Contains("no column 't'", error.Message);
    }

    [Fact]
    public void WrongDtypeIsNamed()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "float32.parquet");
        WriteTable(path, ("traj", new long?[] { 0, 0 }), ("t", Nullable([0, 1])), ("x0", new float?[] { 1f, 2f }));
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'x0' holds Single", error.Message);
        Assert.Contains("float64", error.Message);
    }

    [Fact]
    public void RaggedUnorderedUnevenOrNullTablesAreRejectedWithTheRow()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "bad.parquet");
        void Expect(string fragment, long?[] traj, double?[] t, double?[] x)
        {
            WriteTable(path, ("traj", traj), ("t", t), ("x0", x));
            var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));
            Assert.Contains(path, error.Message);
            Assert.Contains(fragment, error.Message);
        }
        Expect("trajectory 1 has 1 frames but trajectory 0 has 2", [0, 0, 1], [0, 1, 0], [1, 2, 3]);
        Expect("row 2 has traj = 2 after traj = 0", [0, 0, 2, 2], [0, 1, 0, 1], [1, 2, 3, 4]);
        Expect("row 2", [0, 0, 0], [0, 1, 3], [1, 2, 3]);
        Expect("null) at row 1", [0, 0], [0, 1], [1, null]);
    }

    [Fact]
    public void StoredDtThatDisagreesWithTheTimeColumnIsRejected()
    {
        string path = Path.Combine(TestEnsembles.TempFolder(), "dt.parquet");
        WriteTable(path, new Dictionary<string, string> { ["dt"] = "0.5" }, ("traj", new long?[] { 0, 0 }), ("t", Nullable([0, 1])), ("x0", Nullable([1, 2])));
        var error = Assert.Throws<InvalidInputException>(() => TrajectoryFile.Read(path));
        Assert.Contains("dt = 0.5", error.Message);
    }

    private static double?[] Nullable(double[] values) => values.Select(v => (double?)v).ToArray();

    private static void WriteTable(string path, params (string Name, Array Values)[] columns) =>
        WriteTable(path, new Dictionary<string, string>(), columns);

    /// <summary>Writes optional (nullable) columns, as pandas does.</summary>
    private static void WriteTable(string path, Dictionary<string, string> metadata, params (string Name, Array Values)[] columns)
    {
        var fields = columns.Select(c => new DataField(c.Name, c.Values.GetType().GetElementType()!)).ToArray();
        WriteTableAsync(path, metadata, columns, fields).GetAwaiter().GetResult();
    }

    private static async Task WriteTableAsync(string path, Dictionary<string, string> metadata, (string Name, Array Values)[] columns, DataField[] fields)
    {
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream);
        writer.CustomMetadata = metadata;
        using var group = writer.CreateRowGroup();
        for (int i = 0; i < columns.Length; i++)
        {
            await (columns[i].Values switch
            {
                long?[] v => group.WriteAsync(fields[i], (ReadOnlyMemory<long?>)v),
                double?[] v => group.WriteAsync(fields[i], (ReadOnlyMemory<double?>)v),
                float?[] v => group.WriteAsync(fields[i], (ReadOnlyMemory<float?>)v),
                _ => throw new ArgumentException("unsupported column type"),
            });
        }
    }
}
