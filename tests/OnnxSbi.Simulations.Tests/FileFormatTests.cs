using OnnxSbi.Simulations.Files;

namespace OnnxSbi.Simulations.Tests;

/// <summary>Each format reads back the values written, by global row range. Values are small integers or exact binary
/// fractions, so float32 and text round trips are exact and equality is asserted without tolerance.</summary>
public sealed class FileFormatTests
{
    private static double Value(long row, int k) => row * 16 + k + 0.5;

    [Fact]
    public void NpyDirectory_BigEndianFloat32IntAndFortranOrder_ReadsEveryRowRange()
    {
        using var files = new TestFiles();
        const int n = 10;
        files.Npy("shard/theta.npy", ">f8", [n, 2], [.. Enumerable.Range(0, n * 2).Select(i => Value(i / 2, i % 2))]);
        files.Npy("shard/x.npy", "<f4", [n, 4, 2], [.. Enumerable.Range(0, n * 8).Select(i => Value(i / 8, i % 8))], fortran: true);
        files.Npy("shard/k.npy", ">i4", [n], [.. Enumerable.Range(0, n).Select(i => (double)(i * 3 - 7))]);
        var data = SimulationFiles.Open([files.PathOf("shard")], ["theta", "x", "k"]);

        Assert.Equal(n, data.Rows);
        Assert.Equal([4, 2], data.SampleShape("x"));
        Assert.Empty(data.SampleShape("k"));
        var batch = data.Read(3, 5);
        Assert.Equal(Enumerable.Range(0, 5 * 8).Select(i => Value(3 + i / 8, i % 8)), batch.Get("x"));
        Assert.Equal(Enumerable.Range(0, 5 * 2).Select(i => Value(3 + i / 2, i % 2)), batch.Get("theta"));
        Assert.Equal(Enumerable.Range(3, 5).Select(i => (double)(i * 3 - 7)), batch.Get("k"));
    }

    [Fact]
    public void Npz_StoredAndDeflated_SameRows_DeflatedIsOneChunk()
    {
        using var files = new TestFiles();
        const int n = 50;
        var theta = Enumerable.Range(0, n * 3).Select(i => Value(i / 3, i % 3)).ToArray();
        var x = Enumerable.Range(0, n).Select(i => Value(i, 0)).ToArray();
        files.Npz("stored.npz", false, ("theta", [n, 3], theta), ("x", [n], x));
        files.Npz("deflated.npz", true, ("theta", [n, 3], theta), ("x", [n], x));
        var options = new SimulationFileOptions { ChunkRows = 8 };
        var stored = SimulationFiles.Open([files.PathOf("stored.npz")], ["theta", "x"], options);
        var deflated = SimulationFiles.Open([files.PathOf("deflated.npz")], ["theta", "x"], options);

        Assert.Equal(7, stored.Chunks.Count);
        Assert.Single(deflated.Chunks);
        Assert.Equal(theta[(17 * 3)..(40 * 3)], stored.Read(17, 23).Get("theta"));
        Assert.Equal(theta[(17 * 3)..(40 * 3)], deflated.Read(17, 23).Get("theta"));
        Assert.Equal(x[17..40], stored.Read(17, 23).Get("x"));
    }

    [Fact]
    public void Csv_IndexedColumnsWithShapeOption_ReadsRangesPastTheRowIndexStride()
    {
        using var files = new TestFiles();
        const int n = 10_000;
        string[] header = ["theta", .. Enumerable.Range(0, 8).Select(k => $"x_{k}"), "note"];
        files.Csv("sims.csv", TestFiles.CsvText(n, (r, c) => c == 9 ? 0 : Value(r, c), header));
        var data = SimulationFiles.Open([files.PathOf("sims.csv")], ["x", "theta"], new SimulationFileOptions { Shapes = new Dictionary<string, int[]> { ["x"] = [4, 2] }, ChunkRows = 3000 });

        Assert.Equal(n, data.Rows);
        Assert.Equal([4, 2], data.SampleShape("x"));
        Assert.Empty(data.SampleShape("theta"));
        var batch = data.Read(8_999, 1_001);
        Assert.Equal(Enumerable.Range(0, 1_001 * 8).Select(i => Value(8_999 + i / 8, 1 + i % 8)), batch.Get("x"));
        Assert.Equal(Enumerable.Range(8_999, 1_001).Select(r => Value(r, 0)), batch.Get("theta"));
    }

    [Fact]
    public void Parquet_FlatColumnsAcrossRowGroups_ChunksAreRowGroups()
    {
        using var files = new TestFiles();
        files.Parquet("a.parquet", [30, 25, 5], ("theta", r => Value(r, 0)), ("x_0", r => Value(r, 1)), ("x_1", r => Value(r, 2)), ("x_2", r => Value(r, 3)), ("x_3", r => Value(r, 4)));
        var data = SimulationFiles.Open([files.PathOf("a.parquet")], ["theta", "x"], new SimulationFileOptions { Shapes = new Dictionary<string, int[]> { ["x"] = [2, 2] } });

        Assert.Equal([new Chunk(0, 30), new Chunk(30, 25), new Chunk(55, 5)], data.Chunks);
        Assert.Equal([2, 2], data.SampleShape("x"));
        var batch = data.Read(20, 40);
        Assert.Equal(Enumerable.Range(0, 40 * 4).Select(i => Value(20 + i / 4, 1 + i % 4)), batch.Get("x"));
        Assert.Equal(Enumerable.Range(20, 40).Select(r => Value(r, 0)), batch.Get("theta"));
    }

    [Fact]
    public void Parquet_FixedSizeListColumnWithShapeOption_ReadsAsThatShape()
    {
        using var files = new TestFiles();
        const int n = 40;
        files.ParquetList("l.parquet", "x", [.. Enumerable.Repeat(8, n)], (r, i) => Value(r, i), "theta", r => Value(r, 9));
        var withOption = SimulationFiles.Open([files.PathOf("l.parquet")], ["theta", "x"], new SimulationFileOptions { Shapes = new Dictionary<string, int[]> { ["x"] = [4, 2] } });
        var without = SimulationFiles.Open([files.PathOf("l.parquet")], ["x"]);

        Assert.Equal([4, 2], withOption.SampleShape("x"));
        Assert.Equal([8], without.SampleShape("x"));
        Assert.Equal(Enumerable.Range(0, 11 * 8).Select(i => Value(5 + i / 8, i % 8)), withOption.Read(5, 11).Get("x"));
        Assert.Equal(Enumerable.Range(5, 11).Select(r => Value(r, 9)), withOption.Read(5, 11).Get("theta"));
    }

    [Fact]
    public void Open_GlobAndDirectories_OrdersShardsByPathAndSkipsMarkerFiles()
    {
        using var files = new TestFiles();
        for (int s = 0; s < 3; s++)
        {
            files.Npy($"run/shard_{s}/theta.npy", "<f8", [4], [.. Enumerable.Range(0, 4).Select(i => (double)(s * 4 + i))]);
            files.Npy($"run/shard_{s}/x.npy", "<f8", [4], [.. Enumerable.Range(0, 4).Select(i => (double)(s * 4 + i))]);
        }
        files.Csv("run/_SUCCESS", "");
        var byGlob = SimulationFiles.Open([Path.Combine(files.Root, "run", "shard_*")], ["theta", "x"]);
        var byDirectory = SimulationFiles.Open([Path.Combine(files.Root, "run")], ["theta", "x"]);

        Assert.Equal(3, byGlob.Shards.Count);
        Assert.Equal(byGlob.Shards, byDirectory.Shards);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (double)i), byDirectory.Read(0, 12).Get("theta"));
    }

    [Fact]
    public void ParseShape_NameAndDimensions_ParsesAndRejectsMalformed()
    {
        var parsed = SimulationFileOptions.ParseShape("x=4,2");
        Assert.Equal("x", parsed.Key);
        Assert.Equal([4, 2], parsed.Value);
        Assert.Throws<FormatException>(() => SimulationFileOptions.ParseShape("x=4,0"));
        Assert.Throws<FormatException>(() => SimulationFileOptions.ParseShape("x"));
    }
}
