using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Tests;

/// <summary>What <see cref="BundleWriter"/> writes, <see cref="BundleReader"/> reads back unchanged, and writes are atomic.</summary>
public sealed class BundleRoundTripTests
{
    [Fact]
    public void WriteThenRead_SimpleBundle_ManifestGraphsAndCardComeBack()
    {
        using var dir = new TempDirectory();
        var manifest = TestBundles.Manifest();
        var model = TestBundles.VelocityModel();
        string path = dir.File("moons.onnxsbi");

        BundleWriter.Write(path, manifest, TestBundles.Graphs(model), TestBundles.ModelCard);
        var read = BundleReader.Read(path);

        byte[] graphBytes = model.ToByteArray();
        var expected = manifest.Clone();
        expected.SchemaVersion = 1;
        expected.Graphs.Add(new GraphEntry
        {
            Role = "velocity",
            Path = "graphs/velocity.onnx",
            Inputs =
            {
                new TensorSpec { Name = "theta_t", Shape = { -1, 2 } },
                new TensorSpec { Name = "t", Shape = { -1, 1 } },
                new TensorSpec { Name = "conditions", Shape = { -1, 2 } },
            },
            Outputs = { new TensorSpec { Name = "velocity", Shape = { -1, 2 } } },
            Sha256 = TestBundles.Sha256(graphBytes),
        });
        Assert.Equal(expected, read.Manifest);
        Assert.Equal(["velocity"], read.Graphs.Keys);
        Assert.Equal(graphBytes, read.Graphs["velocity"]);
        Assert.Equal(TestBundles.ModelCard, read.ModelCard);
        Assert.Equal(Path.GetFullPath(path), read.SourcePath);
    }

    [Fact]
    public void WriteThenRead_FullManifest_EveryFieldSurvivesJson()
    {
        using var dir = new TempDirectory();
        var manifest = TestBundles.Manifest();
        manifest.Adapter = new AdapterSpec
        {
            Steps =
            {
                new AdapterStep { ToArray = new ToArray() },
                new AdapterStep { Standardize = new Standardize { Include = { "theta" }, Moments = { ["theta"] = new Moments { Mean = { 0.25, -1e-3 }, Std = { 1.5, 2 } } } } },
                new AdapterStep { Concatenate = new Concatenate { Keys = { "theta" }, Into = "inference_variables", Widths = { 2 } } },
                new AdapterStep { Constrain = new Constrain { Keys = { "theta" }, Lower = -1 } },
            },
        };
        manifest.Training = new TrainingRecord { ConfigJson = "{\"epochs\": 3}", Loss = { 1.5, 0.75 }, Epochs = 3, Seed = ulong.MaxValue, NumSimulations = 1L << 40 };
        manifest.Metrics.Add("c2st", 0.5125);
        manifest.Metrics.Add("not_computed", double.NaN);
        manifest.RuntimeHints = new RuntimeHints { ChunkSize = 4096, IntraOpThreads = 2, AllowSpinning = true, ParallelBlocks = 2 };
        string path = dir.File("full.onnxsbi");

        BundleWriter.Write(path, manifest, TestBundles.Graphs(), TestBundles.ModelCard);
        var read = BundleReader.Read(path).Manifest;

        var withoutGraphs = read.Clone();
        withoutGraphs.Graphs.Clear();
        withoutGraphs.SchemaVersion = 0;
        Assert.Equal(manifest, withoutGraphs);
        Assert.True(double.IsNaN(read.Metrics["not_computed"]));
    }

    [Fact]
    public void Write_CallerManifestWithGraphsAndVersionZero_IsNotMutated()
    {
        using var dir = new TempDirectory();
        var manifest = TestBundles.Manifest();
        manifest.Graphs.Add(new GraphEntry { Role = "stale", Path = "graphs/stale.onnx" });
        var before = manifest.Clone();

        BundleWriter.Write(dir.File("b.onnxsbi"), manifest, TestBundles.Graphs(), TestBundles.ModelCard);

        Assert.Equal(before, manifest);
        Assert.Equal(0u, manifest.SchemaVersion);
    }

    [Fact]
    public void Write_ManifestJson_IsIndentedProtobufJson()
    {
        using var dir = new TempDirectory();
        string path = TestBundles.WriteGood(dir.File("b.onnxsbi"));

        var entries = TestBundles.ReadEntries(File.ReadAllBytes(path));
        string json = System.Text.Encoding.UTF8.GetString(entries.Single(e => e.Name == "manifest.json").Data);

        Assert.Equal(["MODEL_CARD.md", "graphs/velocity.onnx", "manifest.json"], entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Contains("\n  \"schemaVersion\": 1,", json);
        Assert.Contains("\"family\": \"FLOW_MATCHING\"", json);
    }

    [Fact]
    public void Write_SameInputsTwice_ProducesIdenticalBytes()
    {
        using var dir = new TempDirectory();

        byte[] first = File.ReadAllBytes(TestBundles.WriteGood(dir.File("a.onnxsbi")));
        byte[] second = File.ReadAllBytes(TestBundles.WriteGood(dir.File("b.onnxsbi")));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Write_Succeeds_LeavesOnlyTheBundleInTheDirectory()
    {
        using var dir = new TempDirectory();

        TestBundles.WriteGood(dir.File("b.onnxsbi"));
        TestBundles.WriteGood(dir.File("b.onnxsbi"));

        Assert.Equal(["b.onnxsbi"], dir.ListFiles());
    }

    [Fact]
    public void Write_OverExistingBundle_ReplacesIt()
    {
        using var dir = new TempDirectory();
        string path = TestBundles.WriteGood(dir.File("b.onnxsbi"));
        var manifest = TestBundles.Manifest();
        manifest.Description = "second version";

        BundleWriter.Write(path, manifest, TestBundles.Graphs(), "second card");
        var read = BundleReader.Read(path);

        Assert.Equal("second version", read.Manifest.Description);
        Assert.Equal("second card", read.ModelCard);
    }

    [Fact]
    public void Write_FailsAfterGraphWritten_OldBundleIntactAndNoTempFile()
    {
        using var dir = new TempDirectory();
        string path = TestBundles.WriteGood(dir.File("b.onnxsbi"));
        byte[] before = File.ReadAllBytes(path);
        // An unpaired surrogate has no UTF-8 form, so encoding the model card throws; the writer
        // encodes it after the graph entry is already in the temporary zip, i.e. midway.
        string brokenCard = "# Card \uD800";

        Assert.ThrowsAny<ArgumentException>(() => BundleWriter.Write(path, TestBundles.Manifest(), TestBundles.Graphs(), brokenCard));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["b.onnxsbi"], dir.ListFiles());
        Assert.Equal(TestBundles.ModelCard, BundleReader.Read(path).ModelCard);
    }

    [Fact]
    public void Write_DirectoryVanished_ThrowsAndCreatesNothing()
    {
        using var dir = new TempDirectory();
        string gone = Path.Combine(dir.Path, "gone");
        Directory.CreateDirectory(gone);
        Directory.Delete(gone);

        Assert.Throws<DirectoryNotFoundException>(() => TestBundles.WriteGood(Path.Combine(gone, "b.onnxsbi")));

        Assert.Empty(dir.ListFiles());
        Assert.False(Directory.Exists(gone));
    }

    [Fact]
    public void Write_TargetIsADirectory_ThrowsAndRemovesTempFile()
    {
        using var dir = new TempDirectory();
        string target = dir.File("b.onnxsbi");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "untouched");

        Assert.ThrowsAny<IOException>(() => TestBundles.WriteGood(target));

        Assert.Equal([Path.Combine("b.onnxsbi", "keep.txt")], dir.ListFiles());
    }

    [Fact]
    public void Read_WrittenVelocityGraph_RunsInOnnxRuntimeWithHandComputedOutput()
    {
        using var dir = new TempDirectory();
        var bundle = BundleReader.Read(TestBundles.WriteGood(dir.File("b.onnxsbi")));
        using var session = new InferenceSession(bundle.Graphs["velocity"]);
        float[] thetaT = [1, 2, 0, 0], t = [0.5f, 1], conditions = [3, -1, 0, 4];
        using var a = OrtValue.CreateTensorValueFromMemory(thetaT, [2, 2]);
        using var b = OrtValue.CreateTensorValueFromMemory(t, [2, 1]);
        using var c = OrtValue.CreateTensorValueFromMemory(conditions, [2, 2]);
        using var options = new RunOptions();

        using var outputs = session.Run(options, ["theta_t", "t", "conditions"], [a, b, c], ["velocity"]);

        // velocity = [θ_t, t, x]·Wᵀ + b with W rows [1,0,2,1,0] and [0,1,-1,0,1], b = [0.5, -0.5]:
        // row 1: [1 + 1 + 3 + 0.5, 2 - 0.5 - 1 - 0.5]; row 2: [0 + 2 + 0 + 0.5, 0 - 1 + 4 - 0.5].
        // Every term is a small dyadic rational, exact in float32, so the comparison is exact.
        Assert.Equal([5.5f, 0f, 2.5f, 2.5f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
    }
}
