using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Tests;

/// <summary>A directory under the system temp path, removed with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "onnxsbi-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Every file below the directory, as paths relative to it, sorted.</summary>
    public string[] ListFiles() => Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
        .Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

/// <summary>
/// Builds the small flow-matching bundle the bundle tests share, and edits bundles at the zip level
/// to make the malformed variants the reader must refuse.
/// </summary>
internal static class TestBundles
{
    public const string Velocity = "velocity";
    public const string VelocityPath = "graphs/velocity.onnx";
    public const string ManifestEntry = "manifest.json";
    public const string ModelCardEntry = "MODEL_CARD.md";
    public const string ModelCard = "# Two moons posterior\n\nFlow matching, θ ∈ ℝ², x ∈ ℝ².\n";

    // The weights of velocity = [θ_t, t, x] · Wᵀ + b with W [2, 5]; small integers so outputs are exact.
    public static readonly float[] Weights = [1, 0, 2, 1, 0, 0, 1, -1, 0, 1];
    public static readonly float[] Bias = [0.5f, -0.5f];

    /// <summary>The velocity-role graph: theta_t [N,2], t [N,1], conditions [N,2] → velocity [N,2] = Gemm(Concat(...)).</summary>
    public static ModelProto VelocityModel(string docString = "")
    {
        var g = new GraphBuilder("velocity");
        string thetaT = g.Input("theta_t", null, 2);
        string t = g.Input("t", null, 1);
        string conditions = g.Input("conditions", null, 2);
        string joined = g.Node("Concat", [thetaT, t, conditions], output: null, ("axis", 1L));
        string w = g.Initializer("w", Weights, 2, 5);
        string b = g.Initializer("b", Bias, 2);
        g.Node("Gemm", [joined, w, b], "velocity", ("transB", 1L));
        g.Output("velocity", null, 2);
        return g.Build(new OnnxModelInfo("OnnxSbi.Runtime.Tests", "0.1.0", docString));
    }

    /// <summary>
    /// A graph that only declares the given inputs and outputs (each output an Identity of the first
    /// input); the reader checks declarations, so this is enough to break one convention at a time.
    /// </summary>
    public static ModelProto DeclaredModel((string Name, long?[] Shape)[] inputs, (string Name, long?[] Shape)[] outputs)
    {
        var g = new GraphBuilder("declared");
        foreach (var (name, shape) in inputs) g.Input(name, shape);
        foreach (var (name, shape) in outputs)
        {
            g.Node("Identity", [inputs[0].Name], name);
            g.Output(name, shape);
        }
        return g.Build(new OnnxModelInfo("OnnxSbi.Runtime.Tests", "0.1.0"));
    }

    /// <summary>The hand-made manifest: FLOW_MATCHING, D = 2, C = 2, variables theta [2] and x [2].</summary>
    public static BundleManifest Manifest() => new()
    {
        Producer = new ProducerInfo { Name = "OnnxSbi.Runtime.Tests", Version = "0.1.0", CreatedUtc = "2025-01-01T00:00:00Z" },
        Family = NetworkFamily.FlowMatching,
        InferenceVariables = { new VariableSpec { Name = "theta", Shape = { 2 } } },
        ConditionVariables = { new VariableSpec { Name = "x", Shape = { 2 } } },
        InferenceDim = 2,
        ConditionDim = 2,
        FlowMatching = new FlowMatchingSampler { DefaultMethod = "rk4", DefaultSteps = 30 },
        Description = "test bundle",
    };

    public static Dictionary<string, ModelProto> Graphs(ModelProto? velocity = null)
        => new(StringComparer.Ordinal) { [Velocity] = velocity ?? VelocityModel() };

    /// <summary>Writes the shared good bundle to <paramref name="path"/> and returns the path.</summary>
    public static string WriteGood(string path)
    {
        BundleWriter.Write(path, Manifest(), Graphs(), ModelCard);
        return path;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The entries of a zip, in archive order.</summary>
    public static List<(string Name, byte[] Data)> ReadEntries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var list = new List<(string, byte[])>();
        foreach (var e in archive.Entries)
        {
            using var s = e.Open();
            var ms = new MemoryStream();
            s.CopyTo(ms);
            list.Add((e.FullName, ms.ToArray()));
        }
        return list;
    }

    /// <summary>A zip holding exactly these entries, names taken verbatim.</summary>
    public static byte[] Zip(IEnumerable<(string Name, byte[] Data)> entries, CompressionLevel level = CompressionLevel.Fastest)
    {
        var ms = new MemoryStream();
        using (var archive = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var s = archive.CreateEntry(name, level).Open();
                s.Write(data);
            }
        }
        return ms.ToArray();
    }

    /// <summary>Rewrites the bundle at <paramref name="path"/> after <paramref name="edit"/> changes its entry list.</summary>
    public static void EditEntries(string path, Action<List<(string Name, byte[] Data)>> edit)
    {
        var entries = ReadEntries(System.IO.File.ReadAllBytes(path));
        edit(entries);
        System.IO.File.WriteAllBytes(path, Zip(entries));
    }

    public static BundleManifest ParseManifest(byte[] json) => JsonParser.Default.Parse<BundleManifest>(Encoding.UTF8.GetString(json));

    public static byte[] FormatManifest(BundleManifest manifest) => Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(manifest));

    /// <summary>Rewrites the bundle's manifest.json after <paramref name="edit"/> changes the parsed manifest.</summary>
    public static void EditManifest(string path, Action<BundleManifest> edit)
        => EditEntries(path, entries =>
        {
            int i = entries.FindIndex(e => e.Name == ManifestEntry);
            var manifest = ParseManifest(entries[i].Data);
            edit(manifest);
            entries[i] = (ManifestEntry, FormatManifest(manifest));
        });

    /// <summary>
    /// Replaces the velocity graph's bytes. With <paramref name="resign"/> the manifest records the
    /// new checksum; with <paramref name="redescribe"/> its input/output specs are rewritten from
    /// <paramref name="model"/> too, so only the role conventions can catch a wrong graph.
    /// </summary>
    public static void ReplaceGraph(string path, byte[] bytes, bool resign, ModelProto? redescribe = null)
        => EditEntries(path, entries =>
        {
            int g = entries.FindIndex(e => e.Name == VelocityPath);
            entries[g] = (VelocityPath, bytes);
            int m = entries.FindIndex(e => e.Name == ManifestEntry);
            var manifest = ParseManifest(entries[m].Data);
            var entry = manifest.Graphs.Single(x => x.Role == Velocity);
            if (resign) entry.Sha256 = Sha256(bytes);
            if (redescribe is not null)
            {
                entry.Inputs.Clear();
                entry.Outputs.Clear();
                entry.Inputs.Add(redescribe.Graph.Input.Select(Spec));
                entry.Outputs.Add(redescribe.Graph.Output.Select(Spec));
            }
            entries[m] = (ManifestEntry, FormatManifest(manifest));
        });

    private static TensorSpec Spec(ValueInfoProto v)
    {
        var spec = new TensorSpec { Name = v.Name };
        spec.Shape.Add(v.Type.TensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1L));
        return spec;
    }

    /// <summary>
    /// Sets the uncompressed size that the zip central directory records for <paramref name="entryName"/>
    /// (the value <c>ZipArchiveEntry.Length</c> reports), leaving the data untouched.
    /// </summary>
    public static void PatchDeclaredLength(string path, string entryName, uint length)
    {
        byte[] zip = System.IO.File.ReadAllBytes(path);
        byte[] name = Encoding.UTF8.GetBytes(entryName);
        // Central directory file header: signature 0x02014b50, uncompressed size at offset 24,
        // name length at 28, extra length at 30, comment length at 32, name at 46 (APPNOTE 4.3.12).
        for (int i = 0; i + 46 <= zip.Length; i++)
        {
            if (BitConverter.ToUInt32(zip, i) != 0x02014b50) continue;
            int nameLength = BitConverter.ToUInt16(zip, i + 28);
            if (nameLength == name.Length && zip.AsSpan(i + 46, nameLength).SequenceEqual(name))
            {
                BitConverter.TryWriteBytes(zip.AsSpan(i + 24, 4), length);
                System.IO.File.WriteAllBytes(path, zip);
                return;
            }
        }
        throw new InvalidOperationException($"No central directory record for '{entryName}'.");
    }
}
