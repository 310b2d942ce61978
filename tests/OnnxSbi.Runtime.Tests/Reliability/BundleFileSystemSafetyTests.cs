using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Tests.Reliability;

/// <summary>
/// Reading or loading a hostile bundle (entry names that climb out of the archive) never writes a
/// file anywhere, and writing a bundle touches nothing outside the target's directory.
/// </summary>
public sealed class BundleFileSystemSafetyTests : IDisposable
{
    private readonly TempDirectory root = new();

    public void Dispose() => root.Dispose();

    private static string[] Snapshot(string directory) => Directory
        .EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(directory, f)).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData("../escaped.onnx")]
    [InlineData("graphs/../../escaped.onnx")]
    [InlineData("../../../escaped.onnx")]
    public void Load_TraversalEntryNames_RefusedAndNoFileWrittenAnywhere(string name)
    {
        string target = Path.Combine(root.Path, "inner", "deeper");
        Directory.CreateDirectory(target);
        string path = TestBundles.WriteGood(Path.Combine(target, "hostile.onnxsbi"));
        // The manifest points its graph at the escaping name, and the zip holds that entry.
        TestBundles.EditEntries(path, entries =>
        {
            int i = entries.FindIndex(e => e.Name.StartsWith("graphs/", StringComparison.Ordinal));
            entries[i] = (name, entries[i].Data);
        });
        TestBundles.EditManifest(path, m => m.Graphs[0].Path = name);
        string[] before = Snapshot(root.Path);

        var e = Assert.Throws<BundleFormatException>(() => PosteriorModel.Load(path));

        Assert.Contains(name, e.Message);
        Assert.Equal(before, Snapshot(root.Path));
        Assert.False(File.Exists(Path.Combine(root.Path, "escaped.onnx")));
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "escaped.onnx")));
    }

    [Fact]
    public void Write_GoodAndFailingWrites_TouchOnlyTheTargetDirectory()
    {
        string target = Path.Combine(root.Path, "target");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(root.Path, "sibling.txt"), "untouched");
        string unique = $"b{Guid.NewGuid():N}.onnxsbi";
        string path = Path.Combine(target, unique);

        BundleWriter.Write(path, TestBundles.Manifest(), TestBundles.Graphs(), TestBundles.ModelCard);
        // A failing write (the card has no UTF-8 form) must not leave its temporary file anywhere either.
        Assert.ThrowsAny<ArgumentException>(() => BundleWriter.Write(path, TestBundles.Manifest(), TestBundles.Graphs(), "\uD800"));
        using (var model = PosteriorModel.Load(path)) Assert.Equal(NetworkFamily.FlowMatching, model.Manifest.Family);

        Assert.Equal(["sibling.txt", "target", Path.Combine("target", unique)], Snapshot(root.Path));
        Assert.Empty(Directory.EnumerateFiles(Path.GetTempPath(), $"*{unique}*"));
    }
}
