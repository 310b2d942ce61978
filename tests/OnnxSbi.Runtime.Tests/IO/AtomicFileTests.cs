using OnnxSbi.Runtime.IO;

namespace OnnxSbi.Runtime.Tests.IO;

/// <summary>The one atomic-write helper every writer of the project goes through.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public void Write_NewFile_CreatesItAndLeavesNoTemporaryFile()
    {
        string path = dir.File("out.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_MissingDirectory_ThrowsAndCreatesNothing()
    {
        string path = dir.File(Path.Combine("missing", "out.bin"));
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.WriteAllBytes(path, [1]));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void WriteAllText_ExistingFile_IsReplacedWholeAsUtf8WithoutBom()
    {
        string path = dir.File("notes.txt");
        File.WriteAllText(path, "old content that is longer than the new one");
        AtomicFile.WriteAllText(path, "θ new");
        Assert.Equal("θ new"u8.ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_WriterThrowsHalfway_OldFileIntactAndTemporaryRemoved()
    {
        string path = dir.File("model.bin");
        File.WriteAllBytes(path, [9, 9]);
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([1, 2, 3, 4]);
            throw new InvalidOperationException("simulated failure");
        }));
        Assert.Equal("simulated failure", e.Message);
        Assert.Equal(new byte[] { 9, 9 }, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_ConcurrentWritersOfOneTarget_EveryResultIsOneWholeWrite()
    {
        string path = dir.File("shared.bin");
        Parallel.For(0, 16, i => AtomicFile.WriteAllBytes(path, Enumerable.Repeat((byte)i, 4096).ToArray()));
        byte[] result = File.ReadAllBytes(path);
        Assert.Equal(4096, result.Length);
        Assert.All(result, b => Assert.Equal(result[0], b));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }
}
