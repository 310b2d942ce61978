using System.Collections;
using System.Diagnostics.CodeAnalysis;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Tests.Reliability;

/// <summary>
/// An export that fails partway (an injected I/O failure after the temporary zip exists) never leaves a
/// half-written bundle at the target path: the old bundle stays byte-identical and loadable, and
/// no temporary file remains. The trainer's exporter writes through <see cref="BundleWriter"/>, so
/// this covers its exports too.
/// </summary>
public sealed class AtomicExportTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>Graphs by role that fail with an I/O error on the <paramref name="failOnLookup"/>-th lookup.</summary>
    private sealed class FailingGraphs(Dictionary<string, ModelProto> inner, int failOnLookup) : IReadOnlyDictionary<string, ModelProto>
    {
        private int lookups;

        public int Lookups => lookups;

        public ModelProto this[string key]
        {
            get
            {
                if (++lookups == failOnLookup) throw new IOException($"injected failure at graph lookup {lookups} ('{key}')");
                return inner[key];
            }
        }

        public IEnumerable<string> Keys => inner.Keys;
        public IEnumerable<ModelProto> Values => inner.Values;
        public int Count => inner.Count;
        public bool ContainsKey(string key) => inner.ContainsKey(key);
        public bool TryGetValue(string key, [MaybeNullWhen(false)] out ModelProto value) => inner.TryGetValue(key, out value);
        public IEnumerator<KeyValuePair<string, ModelProto>> GetEnumerator() => inner.GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public void Write_InjectedFailureWhileZipping_OldBundleIntactAndNoTempFile()
    {
        string path = TestBundles.WriteGood(dir.File("model.onnxsbi"));
        byte[] before = File.ReadAllBytes(path);
        var manifest = TestBundles.Manifest();
        manifest.Description = "the replacement that never lands";
        // Lookup 1 validates the graph before anything is written; lookup 2 serializes it into the
        // already created temporary zip, so the failure strikes mid-export.
        var graphs = new FailingGraphs(TestBundles.Graphs(), failOnLookup: 2);

        var e = Assert.Throws<IOException>(() => BundleWriter.Write(path, manifest, graphs, TestBundles.ModelCard));

        Assert.Contains("injected failure at graph lookup 2", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.onnxsbi"], dir.ListFiles());
        Assert.Equal("test bundle", BundleReader.Read(path).Manifest.Description);
        using var model = PosteriorModel.Load(path);
        Assert.Equal(2, model.Manifest.InferenceDim);
    }

    [Fact]
    public void Write_InjectedFailureWithNoOldBundle_LeavesNothingAtTarget()
    {
        string path = dir.File("fresh.onnxsbi");

        Assert.Throws<IOException>(() => BundleWriter.Write(path, TestBundles.Manifest(), new FailingGraphs(TestBundles.Graphs(), 2), TestBundles.ModelCard));

        Assert.Empty(dir.ListFiles());
    }
}
