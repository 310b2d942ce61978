using OnnxSbi.Simulations.Files;
using OnnxSbi.Simulations.Formats;

namespace OnnxSbi.Simulations.Tests;

/// <summary>Every kind of bad data file fails with a message naming the file, the variable, and the expected and found shapes.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TestFiles files = new();

    public void Dispose() => files.Dispose();

    private static DataFileException Fails(IReadOnlyList<string> paths, string[] variables, SimulationFileOptions? options = null, bool readAll = false)
        => Assert.Throws<DataFileException>(() =>
        {
            var data = SimulationFiles.Open(paths, variables, options);
            if (readAll) data.Read(0, (int)data.Rows);
        });

    private static void Names(DataFileException e, params string[] parts)
    {
        foreach (string p in parts) Assert.True(e.Message.Contains(p, StringComparison.Ordinal), $"'{p}' is not in the message: {e.Message}");
    }

    [Fact]
    public void NpyDirectory_MismatchedRowCounts_NamesBothShapes()
    {
        files.Npy("d/theta.npy", "<f8", [10, 2], new double[20]);
        files.Npy("d/x.npy", "<f8", [9, 3], new double[27]);
        var e = Fails([files.PathOf("d")], ["theta", "x"]);
        Names(e, files.PathOf("d"), "'x'", "(9, 3)", "(10, 2)", "expected (10, …)");
    }

    [Fact]
    public void Npz_MissingVariable_NamesFileVariableAndMembers()
    {
        string path = files.Npz("a.npz", false, ("theta", [4, 2], new double[8]), ("y", [4], new double[4]));
        var e = Fails([path], ["theta", "x"]);
        Names(e, path, "'x' is missing", "'theta'", "'y'");
    }

    [Fact]
    public void Shards_DifferentTrailingShapes_NamesBothShardsAndShapes()
    {
        files.Npz("s0.npz", false, ("x", [5, 3], new double[15]));
        string second = files.Npz("s1.npz", false, ("x", [5, 4], new double[20]));
        var e = Fails([Path.Combine(files.Root, "*.npz")], ["x"]);
        Names(e, second, "'x'", "(5, 4)", "(5, 3)", "expected (n, 3)");
    }

    [Fact]
    public void Csv_NonNumericCell_NamesColumnRowAndValue()
    {
        string path = files.Csv("a.csv", "theta,x_0,x_1\n1,2,3\n4,abc,6\n");
        var e = Fails([path], ["theta", "x"], readAll: true);
        Names(e, path, "'x'", "'x_0'", "not numeric", "row 2", "'abc'");
    }

    [Fact]
    public void Csv_RowWithMissingCell_IsRaggedWithCounts()
    {
        string path = files.Csv("a.csv", "theta,x_0,x_1\n1,2,3\n4,5\n");
        var e = Fails([path], ["theta", "x"], readAll: true);
        Names(e, path, "row 2", "ragged", "2 cells", "expected 3");
    }

    [Fact]
    public void Csv_ShapeOptionNotMatchingColumns_NamesBothShapes()
    {
        string path = files.Csv("a.csv", "x_0,x_1,x_2,x_3,x_4,x_5\n" + string.Join(',', Enumerable.Range(0, 6)) + "\n");
        var e = Fails([path], ["x"], new SimulationFileOptions { Shapes = new Dictionary<string, int[]> { ["x"] = [4, 2] } });
        Names(e, path, "'x'", "(n, 4, 2)", "6 columns", "(n, 6)");
    }

    [Fact]
    public void Parquet_ListOfWrongLength_IsRaggedWithLengths()
    {
        string path = files.ParquetList("l.parquet", "x", [8, 8, 7, 9, 8], (r, i) => i, "theta", r => r);
        var e = Fails([path], ["x", "theta"], readAll: true);
        Names(e, path, "'x'", "ragged", "row 3", "7 values", "expected 8");
    }

    [Fact]
    public async Task Parquet_NonNumericColumn_NamesColumnAndType()
    {
        string path = files.PathOf("s.parquet");
        var field = new Parquet.Schema.DataField<string>("x");
        await using (var file = File.Create(path))
        await using (var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(field), file))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(field, (IReadOnlyCollection<string>)["a", "b"]);
        }
        var e = Fails([path], ["x"]);
        Names(e, path, "'x'", "not numeric", "text");
    }

    [Fact]
    public void EmptyFiles_EveryFormat_SayEmpty()
    {
        foreach (string name in new[] { "e/x.npy", "e.npz", "e.csv", "e.parquet" })
        {
            string path = files.Csv(name, "");
            var e = Fails([path], ["x"]);
            Names(e, path, "empty");
        }
        string headerOnly = files.Csv("h.csv", "x\n");
        Names(Fails([headerOnly], ["x"]), headerOnly, "empty", "no rows");
    }

    [Fact]
    public void TruncatedShards_EveryBinaryFormat_SayTruncated()
    {
        var npy = TestFiles.NpyBytes("<f8", [10, 3], new double[30]);
        string npyPath = files.PathOf("t/x.npy");
        File.WriteAllBytes(npyPath, npy[..^17]);
        Names(Fails([files.PathOf("t")], ["x"]), npyPath, "truncated", "(10, 3)");

        string npz = files.Npz("t.npz", false, ("x", [10, 3], new double[30]));
        var bytes = File.ReadAllBytes(npz);
        File.WriteAllBytes(npz, bytes[..(bytes.Length / 2)]);
        Names(Fails([npz], ["x"]), npz, "truncated");

        string parquet = files.Parquet("t.parquet", [10], ("x", r => r));
        bytes = File.ReadAllBytes(parquet);
        File.WriteAllBytes(parquet, bytes[..(bytes.Length - 20)]);
        Names(Fails([parquet], ["x"]), parquet, "truncated");
    }

    [Fact]
    public void Paths_MatchingNothing_NameThePattern()
    {
        string pattern = Path.Combine(files.Root, "nothing_*.parquet");
        Names(Fails([pattern], ["x"]), pattern, "matches no data files");
    }
}
