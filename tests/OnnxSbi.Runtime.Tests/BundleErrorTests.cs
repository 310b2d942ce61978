using System.Text;
using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Contracts.Graphs;

namespace OnnxSbi.Runtime.Tests;

/// <summary>Every way a bundle can be broken is refused with a <see cref="BundleFormatException"/> that names the file and the problem.</summary>
public sealed class BundleErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _path;

    public BundleErrorTests() => _path = TestBundles.WriteGood(_dir.File("moons.onnxsbi"));

    public void Dispose() => _dir.Dispose();

    private BundleFormatException ReadFails(BundleReadLimits? limits = null, string? path = null)
    {
        var e = Assert.Throws<BundleFormatException>(() => BundleReader.Read(path ?? _path, limits));
        Assert.Equal(Path.GetFullPath(path ?? _path), e.BundlePath);
        AssertMentions(e, Path.GetFullPath(path ?? _path));
        return e;
    }

    private int EntryLength(string name) => TestBundles.ReadEntries(File.ReadAllBytes(_path)).Single(x => x.Name == name).Data.Length;

    private static void AssertMentions(Exception e, string expected)
        => Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"Expected the message to mention \"{expected}\"; it was: {e.Message}");

    [Fact]
    public void Read_GoodBundle_Succeeds()
    {
        // The baseline every test below breaks in exactly one way.
        Assert.Equal("velocity", Assert.Single(BundleReader.Read(_path).Graphs).Key);
    }

    [Fact]
    public void Read_FileMissing_SaysNotFound()
    {
        var e = ReadFails(path: _dir.File("absent.onnxsbi"));
        AssertMentions(e, "file not found");
    }

    [Fact]
    public void Read_NotAZip_SaysNotAZipArchive()
    {
        File.WriteAllText(_path, "{ \"schemaVersion\": 1 }");
        var e = ReadFails();
        AssertMentions(e, "is not a zip archive");
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void Read_TruncatedZip_SaysNotAZipOrTruncated()
    {
        byte[] bytes = File.ReadAllBytes(_path);
        File.WriteAllBytes(_path, bytes[..(bytes.Length * 2 / 3)]);
        var e = ReadFails();
        AssertMentions(e, "truncated");
    }

    [Theory]
    [InlineData("../escape.txt", "'..'")]
    [InlineData("graphs/../../escape.txt", "'..'")]
    [InlineData("/etc/escape.txt", "absolute")]
    [InlineData("graphs\\escape.txt", "backslash")]
    [InlineData("C:/escape.txt", "drive letter")]
    [InlineData("graphs//escape.txt", "empty path segment")]
    public void Read_EntryNameEscapingArchive_IsRefused(string name, string reason)
    {
        TestBundles.EditEntries(_path, entries => entries.Add((name, [1, 2, 3])));
        var e = ReadFails();
        AssertMentions(e, $"zip entry name '{name}'");
        AssertMentions(e, reason);
    }

    [Fact]
    public void Read_MoreEntriesThanLimit_SaysHowManyAndTheLimit()
    {
        TestBundles.EditEntries(_path, entries =>
        {
            for (int i = 0; i < 5; i++) entries.Add(($"extra/{i}.txt", [0]));
        });
        var e = ReadFails(new BundleReadLimits(MaxEntries: 6));
        Assert.Contains("holds 8 zip entries; the limit is 6", e.Message);
    }

    [Fact]
    public void Read_DeclaredLengthOverLimit_IsRefusedBeforeReading()
    {
        // The central directory claims 3 GB for the manifest while the entry holds a few hundred
        // bytes: were the entry read first, the error would be a truncation, not the limit.
        TestBundles.PatchDeclaredLength(_path, "manifest.json", 3_000_000_000);
        var e = ReadFails();
        AssertMentions(e, "entry 'manifest.json' declares 3000000000 bytes uncompressed, over the limit of 536870912 bytes");
    }

    [Fact]
    public void Read_EntryOverPerEntryLimit_NamesEntryAndLimit()
    {
        int manifestBytes = EntryLength("manifest.json");
        var e = ReadFails(new BundleReadLimits(MaxEntryBytes: manifestBytes - 1));
        AssertMentions(e, $"entry 'manifest.json' declares {manifestBytes} bytes uncompressed, over the limit of {manifestBytes - 1} bytes per entry");
    }

    [Fact]
    public void Read_EntriesOverTotalLimit_NamesRunningTotalAndLimit()
    {
        int manifestBytes = EntryLength("manifest.json"), graphBytes = EntryLength("graphs/velocity.onnx");
        var e = ReadFails(new BundleReadLimits(MaxTotalBytes: manifestBytes + 10));
        AssertMentions(e, $"entry 'graphs/velocity.onnx' declares {graphBytes} bytes, which with the {manifestBytes} bytes read before it exceeds the limit of {manifestBytes + 10} bytes per bundle");
    }

    [Fact]
    public void Read_EntryLongerThanDeclared_IsRefused()
    {
        int declared = EntryLength("graphs/velocity.onnx") - 16;
        TestBundles.PatchDeclaredLength(_path, "graphs/velocity.onnx", (uint)declared);
        var e = ReadFails();
        // Reading stops at the declared size, so the bytes read are a prefix whose CRC-32 cannot
        // match the one recorded for the whole entry.
        AssertMentions(e, "entry 'graphs/velocity.onnx' fails its CRC-32 check");
    }

    [Fact]
    public void Read_EntryDataCorrupted_FailsCrcCheck()
    {
        // Stored (uncompressed) entries put the card's text verbatim in the file, so one letter
        // can be changed in place without touching any zip structure.
        var entries = TestBundles.ReadEntries(File.ReadAllBytes(_path));
        File.WriteAllBytes(_path, TestBundles.Zip(entries, System.IO.Compression.CompressionLevel.NoCompression));
        byte[] zip = File.ReadAllBytes(_path);
        int at = zip.AsSpan().IndexOf("Two moons"u8);
        zip[at] = (byte)'X';
        File.WriteAllBytes(_path, zip);

        var e = ReadFails();

        AssertMentions(e, "entry 'MODEL_CARD.md' fails its CRC-32 check");
    }

    [Fact]
    public void Read_EntryShorterThanDeclared_SaysTruncated()
    {
        int graphBytes = TestBundles.VelocityModel().CalculateSize();
        TestBundles.PatchDeclaredLength(_path, "graphs/velocity.onnx", (uint)(graphBytes + 16));
        var e = ReadFails();
        AssertMentions(e, "entry 'graphs/velocity.onnx'");
    }

    [Fact]
    public void Read_DuplicateEntryName_SaysAmbiguous()
    {
        TestBundles.EditEntries(_path, entries => entries.Add(entries.Single(x => x.Name == "graphs/velocity.onnx")));
        var e = ReadFails();
        AssertMentions(e, "holds zip entry 'graphs/velocity.onnx' more than once");
    }

    [Fact]
    public void Read_NoManifest_SaysManifestMissing()
    {
        TestBundles.EditEntries(_path, entries => entries.RemoveAll(x => x.Name == "manifest.json"));
        var e = ReadFails();
        AssertMentions(e, "has no manifest.json entry");
    }

    [Fact]
    public void Read_NoModelCard_SaysModelCardMissing()
    {
        TestBundles.EditEntries(_path, entries => entries.RemoveAll(x => x.Name == "MODEL_CARD.md"));
        var e = ReadFails();
        AssertMentions(e, "has no MODEL_CARD.md entry");
    }

    [Theory]
    [InlineData("{ \"schemaVersion\": 1, ", "manifest.json is not a valid BundleManifest")]
    [InlineData("{ \"schemaVersion\": 1, \"flavour\": \"vanilla\" }", "flavour")]
    [InlineData("{ \"schemaVersion\": \"one\" }", "Invalid numeric value for type: one")]
    [InlineData("[1, 2, 3]", "manifest.json is not a valid BundleManifest")]
    public void Read_ManifestJsonInvalid_NamesTheJsonProblem(string json, string expected)
    {
        TestBundles.EditEntries(_path, entries =>
        {
            int i = entries.FindIndex(x => x.Name == "manifest.json");
            entries[i] = ("manifest.json", Encoding.UTF8.GetBytes(json));
        });
        var e = ReadFails();
        AssertMentions(e, "manifest.json is not a valid BundleManifest in protobuf JSON");
        AssertMentions(e, expected);
    }

    [Fact]
    public void Read_ManifestNotUtf8_SaysNotUtf8()
    {
        TestBundles.EditEntries(_path, entries =>
        {
            int i = entries.FindIndex(x => x.Name == "manifest.json");
            entries[i] = ("manifest.json", [0x7B, 0xC3, 0x28, 0x7D]);
        });
        var e = ReadFails();
        AssertMentions(e, "manifest.json is not valid UTF-8");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(2u)]
    public void Read_UnknownSchemaVersion_NamesFoundAndSupportedVersions(uint version)
    {
        TestBundles.EditManifest(_path, m => m.SchemaVersion = version);
        var e = ReadFails();
        Assert.Contains($"schema_version is {version}; this reader supports schema version 1", e.Message);
    }

    [Fact]
    public void Read_FamilyUnspecified_SaysFamilyMissing()
    {
        TestBundles.EditManifest(_path, m => m.Family = NetworkFamily.Unspecified);
        var e = ReadFails();
        AssertMentions(e, "family is NETWORK_FAMILY_UNSPECIFIED");
    }

    [Fact]
    public void Read_FamilyOutOfRange_SaysUnknownFamily()
    {
        TestBundles.EditManifest(_path, m => m.Family = (NetworkFamily)9);
        var e = ReadFails();
        AssertMentions(e, "family 9 is not a known network family");
    }

    [Theory]
    [InlineData("inference_dim", 0)]
    [InlineData("condition_dim", -3)]
    public void Read_NonPositiveDimension_NamesDimensionAndValue(string field, int value)
    {
        TestBundles.EditManifest(_path, m =>
        {
            if (field == "inference_dim") m.InferenceDim = value;
            else m.ConditionDim = value;
        });
        var e = ReadFails();
        AssertMentions(e, $"{field} must be positive, received {value}");
    }

    [Fact]
    public void Read_GraphEntryMissingFromZip_NamesRoleAndPath()
    {
        TestBundles.EditEntries(_path, entries => entries.RemoveAll(x => x.Name == "graphs/velocity.onnx"));
        var e = ReadFails();
        AssertMentions(e, "manifest graph 'velocity' points at entry 'graphs/velocity.onnx', which the archive does not hold");
    }

    [Fact]
    public void Read_GraphPathEscapingArchive_IsRefused()
    {
        TestBundles.EditManifest(_path, m => m.Graphs[0].Path = "../velocity.onnx");
        var e = ReadFails();
        AssertMentions(e, "has path '../velocity.onnx', which climbs out of the archive");
    }

    [Fact]
    public void Read_Sha256Mismatch_NamesBothChecksums()
    {
        byte[] other = TestBundles.VelocityModel(docString: "retrained").ToByteArray();
        TestBundles.ReplaceGraph(_path, other, resign: false);
        var e = ReadFails();
        AssertMentions(e, $"graph 'velocity' (graphs/velocity.onnx) has SHA-256 {TestBundles.Sha256(other)}");
        AssertMentions(e, $"the manifest records {TestBundles.Sha256(TestBundles.VelocityModel().ToByteArray())}");
    }

    [Fact]
    public void Read_GraphBytesNotOnnx_SaysNotAModelProto()
    {
        // A lone varint tag with its value missing: protobuf reports a truncated message.
        TestBundles.ReplaceGraph(_path, [0x08], resign: true);
        var e = ReadFails();
        AssertMentions(e, "graph 'velocity' (graphs/velocity.onnx) is not an ONNX ModelProto");
        Assert.IsType<InvalidProtocolBufferException>(e.InnerException);
    }

    [Fact]
    public void Read_GraphWithoutGraphField_SaysNoGraph()
    {
        byte[] empty = new Contracts.Onnx.ModelProto { IrVersion = 8 }.ToByteArray();
        TestBundles.ReplaceGraph(_path, empty, resign: true);
        var e = ReadFails();
        AssertMentions(e, "is an ONNX ModelProto without a graph");
    }

    [Theory]
    [InlineData("shape", "input 'theta_t': the manifest says shape [N, 3], the ONNX graph declares [N, 2]")]
    [InlineData("rank", "input 'theta_t': the manifest says shape [N], the ONNX graph declares [N, 2]")]
    [InlineData("name", "lists input 'theta', but the ONNX graph's inputs are: theta_t, t, conditions")]
    [InlineData("missing", "does not list the ONNX graph's input 'conditions'")]
    [InlineData("output", "output 'velocity': the manifest says shape [N, 4], the ONNX graph declares [N, 2]")]
    public void Read_ManifestSpecDisagreesWithGraph_NamesTensorAndShapes(string edit, string expected)
    {
        TestBundles.EditManifest(_path, m =>
        {
            var entry = m.Graphs[0];
            switch (edit)
            {
                case "shape": entry.Inputs[0].Shape[1] = 3; break;
                case "rank": entry.Inputs[0].Shape.RemoveAt(1); break;
                case "name": entry.Inputs[0].Name = "theta"; break;
                case "missing": entry.Inputs.RemoveAt(2); break;
                case "output": entry.Outputs[0].Shape[1] = 4; break;
            }
        });
        var e = ReadFails();
        AssertMentions(e, "manifest graph 'velocity' (graphs/velocity.onnx)");
        AssertMentions(e, expected);
    }

    public static TheoryData<string, (string, long?[])[], (string, long?[])[], string> ConventionBreaks => new()
    {
        {
            "theta_t wider than D",
            [("theta_t", [null, 3]), ("t", [null, 1]), ("conditions", [null, 2])], [("velocity", [null, 2])],
            "input 'theta_t': expected shape [N, 2] (D = 2, C = 2), received [N, 3]"
        },
        {
            "conditions narrower than C",
            [("theta_t", [null, 2]), ("t", [null, 1]), ("conditions", [null, 1])], [("velocity", [null, 2])],
            "input 'conditions': expected shape [N, 2] (D = 2, C = 2), received [N, 1]"
        },
        {
            "t of rank 1",
            [("theta_t", [null, 2]), ("t", [null]), ("conditions", [null, 2])], [("velocity", [null, 2])],
            "input 't': expected shape [N, 1] (D = 2, C = 2), received [N]"
        },
        {
            "fixed batch",
            [("theta_t", [4, 2]), ("t", [4, 1]), ("conditions", [4, 2])], [("velocity", [4, 2])],
            "input 'theta_t': expected shape [N, 2] (D = 2, C = 2), received [4, 2]"
        },
        {
            "time misnamed",
            [("theta_t", [null, 2]), ("time", [null, 1]), ("conditions", [null, 2])], [("velocity", [null, 2])],
            "has input 'time', which the velocity role does not define; expected inputs: theta_t, t, conditions"
        },
        {
            "conditions missing",
            [("theta_t", [null, 2]), ("t", [null, 1])], [("velocity", [null, 2])],
            "lacks input 'conditions', which the velocity role requires"
        },
        {
            "output named like consistency",
            [("theta_t", [null, 2]), ("t", [null, 1]), ("conditions", [null, 2])], [("theta", [null, 2])],
            "has output 'theta', which the velocity role does not define; expected outputs: velocity"
        },
        {
            "velocity wider than D",
            [("theta_t", [null, 2]), ("t", [null, 1]), ("conditions", [null, 2])], [("velocity", [null, 5])],
            "output 'velocity': expected shape [N, 2] (D = 2, C = 2), received [N, 5]"
        },
    };

    [Theory]
    [MemberData(nameof(ConventionBreaks))]
    public void Read_GraphBreaksRoleConvention_NamesTensorExpectedAndReceived(
        string why, (string, long?[])[] inputs, (string, long?[])[] outputs, string expected)
    {
        var model = TestBundles.DeclaredModel(inputs, outputs);
        // Checksum and manifest specs are rewritten to match, so only the conventions can object.
        TestBundles.ReplaceGraph(_path, model.ToByteArray(), resign: true, redescribe: model);
        var e = ReadFails();
        Assert.True(e.Message.Contains("graph 'velocity' (graphs/velocity.onnx)") && e.Message.Contains(expected),
            $"{why}: message was: {e.Message}");
    }

    [Fact]
    public void Read_GraphTensorNotFloat_NamesElementType()
    {
        var g = new Contracts.Onnx.GraphBuilder("velocity");
        string thetaT = g.Input("theta_t", null, 2);
        g.Input("t", null, 1);
        g.Input("conditions", null, 2);
        string v = g.Node("Identity", [thetaT], "v");
        g.Node("Cast", [v], "velocity", ("to", (long)Contracts.Onnx.TensorProto.Types.DataType.Double));
        g.Output("velocity", Contracts.Onnx.TensorProto.Types.DataType.Double, null, 2);
        var model = g.Build(new Contracts.Onnx.OnnxModelInfo("t", "0"));
        TestBundles.ReplaceGraph(_path, model.ToByteArray(), resign: true, redescribe: model);
        var e = ReadFails();
        Assert.Contains("output 'velocity' has element type Double; network-side tensors are Float", e.Message);
    }

    [Theory]
    [InlineData(NetworkFamily.CouplingFlow, "inverse", "manifest has no 'forward' graph, which family COUPLING_FLOW requires")]
    [InlineData(NetworkFamily.ConsistencyModel, "velocity", "role 'velocity', which family CONSISTENCY_MODEL does not use; expected roles: consistency")]
    [InlineData(NetworkFamily.CouplingFlow, "velocity", "role 'velocity', which family COUPLING_FLOW does not use; expected roles: inverse, forward")]
    public void Read_RolesDoNotMatchFamily_NamesRoleAndFamily(NetworkFamily family, string role, string expected)
    {
        TestBundles.EditManifest(_path, m =>
        {
            m.Family = family;
            m.Graphs[0].Role = role;
        });
        var e = ReadFails();
        AssertMentions(e, expected);
    }

    [Fact]
    public void Read_RequiredRoleAbsent_NamesRole()
    {
        TestBundles.EditManifest(_path, m => m.Graphs.Clear());
        var e = ReadFails();
        AssertMentions(e, "manifest has no 'velocity' graph, which family FLOW_MATCHING requires");
    }

    [Fact]
    public void Read_RoleListedTwice_SaysDuplicate()
    {
        TestBundles.EditManifest(_path, m => m.Graphs.Add(m.Graphs[0].Clone()));
        var e = ReadFails();
        AssertMentions(e, "lists role 'velocity' more than once");
    }

    [Fact]
    public void Write_GraphBreaksConvention_ThrowsAndWritesNothing()
    {
        string target = _dir.File("refused.onnxsbi");
        var bad = TestBundles.DeclaredModel(
            [("theta_t", [null, 3]), ("t", [null, 1]), ("conditions", [null, 2])], [("velocity", [null, 3])]);

        var e = Assert.Throws<BundleFormatException>(() => BundleWriter.Write(target, TestBundles.Manifest(), TestBundles.Graphs(bad), "card"));

        AssertMentions(e, "input 'theta_t': expected shape [N, 2]");
        Assert.Equal(["moons.onnxsbi"], _dir.ListFiles());
    }

    [Fact]
    public void Write_RoleNotInFamily_ThrowsNamingRole()
    {
        var graphs = new Dictionary<string, Contracts.Onnx.ModelProto> { ["forward"] = TestBundles.VelocityModel() };
        var e = Assert.Throws<BundleFormatException>(() => BundleWriter.Write(_dir.File("x.onnxsbi"), TestBundles.Manifest(), graphs, "card"));
        AssertMentions(e, "role 'forward', which family FLOW_MATCHING does not use");
    }

    [Fact]
    public void Read_NonPositiveLimit_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BundleReader.Read(_path, new BundleReadLimits(MaxEntries: 0)));
    }
}
