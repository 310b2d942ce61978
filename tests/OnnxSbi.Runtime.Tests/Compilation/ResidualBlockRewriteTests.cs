using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

using OnnxSbi.Runtime.Tests.Sampling;

namespace OnnxSbi.Runtime.Tests.Compilation;

public sealed class ResidualBlockRewriteTests
{
    private const int Rows = 512;

    /// <summary>
    /// One residual mish block exactly as the trainer exports it (ResidualMlp.Emit): x [N, 4] → Gemm to
    /// 2w = 16 columns → Split → mish(dense) + projection, then a 16 → 2 output Gemm. The weights make the
    /// dense half span about ±30, where a careless mish formula loses its accuracy.
    /// </summary>
    private static byte[] Block(bool exposeHalves = false, long[]? splitSizes = null)
    {
        var rng = new Random(5);
        float[] Uniform(int count, double scale) => Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        var g = new GraphBuilder("block");
        string x = g.Input("x", null, 4);
        string both = g.Node("Gemm", [x, g.Initializer("W", Uniform(16 * 4, 16), 16, 4), g.Initializer("b", Uniform(16, 1), 16)], attributes: ("transB", 1L));
        string[] parts = g.Node("Split", [both, g.InitializerInt64("split", splitSizes ?? [8, 8], 2)], ["dense", "proj"], ("axis", 1L));
        string q = g.Node("Sigmoid", [g.Node("Neg", [parts[0]])]);
        string q2 = g.Node("Mul", [q, q]);
        string one = g.Scalar("one", 1f);
        string ratio = g.Node("Div", [g.Node("Sub", [one, q2]), g.Node("Add", [one, q2])]);
        string h = g.Node("Add", [parts[1], g.Node("Mul", [parts[0], ratio])], "h");
        g.Node("Gemm", [h, g.Initializer("Wo", Uniform(2 * 8, 0.3), 2, 8), g.Initializer("bo", Uniform(2, 0.1), 2)], "y", ("transB", 1L));
        g.Output("h", null, 8);
        g.Output("y", null, 2);
        if (exposeHalves)
        {
            g.Output("dense", null, 8);
            g.Output("proj", null, 8);
        }
        return g.Build(GaussianBundles.Info).ToByteArray();
    }

    private static Dictionary<string, float[]> Run(byte[] model, Func<string, int, int, float> input)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var feeds = session.InputMetadata.Select(kv =>
        {
            int cols = kv.Value.Dimensions[1];
            var data = new float[Rows * cols];
            for (int r = 0; r < Rows; r++) for (int c = 0; c < cols; c++) data[r * cols + c] = input(kv.Key, r, c);
            return NamedOnnxValue.CreateFromTensor(kv.Key, new DenseTensor<float>(data, [Rows, cols]));
        }).ToList();
        using var results = session.Run(feeds);
        return results.ToDictionary(r => r.Name, r => r.AsEnumerable<float>().ToArray());
    }

    private static float Uniform(string name, int row, int col) => (float)Math.Sin(1.3 * row + 0.7 * col + name.Length);

    private static (double Max, double RelativeRms) Difference(float[] reference, float[] other)
    {
        Assert.Equal(reference.Length, other.Length);
        double max = 0, se = 0, ss = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = reference[i] - (double)other[i];
            max = Math.Max(max, Math.Abs(d));
            se += d * d;
            ss += reference[i] * (double)reference[i];
        }
        return (max, Math.Sqrt(se / ss));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Apply_ExportedBlock_ComputesMishPlusProjection_WithFewerKernels(bool combine)
    {
        byte[] model = Block();
        var (rewritten, count) = ResidualBlockRewrite.Apply(model, ResidualBlockRewrite.Discover(model), combine);
        Assert.Equal(1, count);
        var nodes = ModelProto.Parser.ParseFrom(rewritten).Graph.Node;
        Assert.DoesNotContain(nodes, n => n.OpType is "Split" or "Neg");
        // Two w-wide Gemms and Sigmoid, Mul, HardSigmoid, Div, Sub (+ Add when separate), then the output Gemm;
        // the exported block had one Gemm, Split and eight elementwise kernels.
        Assert.Equal(combine ? 8 : 9, nodes.Count);

        // Against the block's function in double precision: h = p + mish(x), mish(x) = x·tanh(log(1 + e^x)), with
        // x and p read from the exported graph (the same weights, its halves exposed as outputs).
        var halves = Run(Block(exposeHalves: true), Uniform);
        var before = Run(model, Uniform);
        var after = Run(rewritten, Uniform);
        double widest = 0, worstBefore = 0, worstAfter = 0;
        for (int i = 0; i < Rows * 8; i++)
        {
            double x = halves["dense"][i], p = halves["proj"][i];
            double expected = p + x * Math.Tanh(x > 30 ? x : Math.Log(1 + Math.Exp(x)));
            double scale = 1 + Math.Abs(x) + Math.Abs(p);
            widest = Math.Max(widest, Math.Abs(x));
            worstBefore = Math.Max(worstBefore, Math.Abs(before["h"][i] - expected) / scale);
            worstAfter = Math.Max(worstAfter, Math.Abs(after["h"][i] - expected) / scale);
        }
        Assert.True(widest > 20, $"the test block's dense half only reached |x| = {widest}");
        // float32 rounding of a handful of operations (and, combined, of the 4-term products of the summed weights) on
        // operands up to |x| + |p| ≈ 40: a few units of float's 6e-8 relative to that scale, as the exported graph has.
        Assert.True(worstAfter < 1e-6, $"rewritten block: error {worstAfter:E2} relative to its operands (exported graph: {worstBefore:E2}; bound 1e-6)");
        var (max, rms) = Difference(before["y"], after["y"]);
        Assert.True(rms < 1e-6 && max < 1e-5, $"output max |diff| {max:E2}, relative RMS {rms:E2}");
    }

    [Fact]
    public void Discover_FindsOnlyTheExactPattern()
    {
        Assert.Single(ResidualBlockRewrite.Discover(Block()));
        // The dense half is also a graph output: removing it would break the graph.
        Assert.Empty(ResidualBlockRewrite.Discover(Block(exposeHalves: true)));
        // Unequal halves are not a residual block.
        Assert.Empty(ResidualBlockRewrite.Discover(Block(splitSizes: [10, 6])));
    }

    [Fact]
    public void Apply_WithoutDeclarations_LeavesTheGraphAsItIs()
    {
        byte[] model = Block();
        var (same, count) = ResidualBlockRewrite.Apply(model, [], combineProjection: true);
        Assert.Same(model, same);
        Assert.Equal(0, count);
    }

    [Theory]
    [InlineData("exposed")]
    [InlineData("uneven")]
    [InlineData("renamed")]
    [InlineData("short")]
    public void Apply_DeclaredBlockThatDoesNotMatch_FailsNamingTheBundleGraphAndBlock(string change)
    {
        var declared = ResidualBlockRewrite.Discover(Block()).Single();
        byte[] graph = change switch
        {
            "exposed" => Block(exposeHalves: true),
            "uneven" => Block(splitSizes: [10, 6]),
            _ => Block(),
        };
        if (change == "renamed") declared.Nodes[4] = "not_a_node";
        if (change == "short") declared.Nodes.RemoveAt(9);
        var e = Assert.Throws<BundleFormatException>(() => ResidualBlockRewrite.Apply(graph, [declared], combineProjection: true, "bundle.onnxsbi", "velocity"));
        Assert.Contains("bundle.onnxsbi", e.Message);
        Assert.Contains("graph 'velocity'", e.Message);
        Assert.Contains("residual block 0", e.Message);
    }

    [Fact]
    public void BundleWriter_KeepsDeclaredBlocks_AndRefusesOnesTheGraphDoesNotHave()
    {
        using var dir = new TempDirectory();
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath("flow_matching"));
        var graphs = contents.Graphs.ToDictionary(g => g.Key, g => ModelProto.Parser.ParseFrom(g.Value));
        string path = dir.File("declared.onnxsbi");
        BundleWriter.Write(path, contents.Manifest, graphs, contents.ModelCard);
        Assert.Equal(contents.Manifest.Graphs.Single().ResidualBlocks, BundleReader.Read(path).Manifest.Graphs.Single().ResidualBlocks);

        var broken = contents.Manifest.Clone();
        broken.Graphs.Single().ResidualBlocks[0].Nodes[2] = "n_Relu";
        var e = Assert.Throws<BundleFormatException>(() => BundleWriter.Write(dir.File("broken.onnxsbi"), broken, graphs, contents.ModelCard));
        Assert.Contains("residual block 0", e.Message);
        Assert.False(File.Exists(dir.File("broken.onnxsbi")));
    }

    [Fact]
    public void ShippedCouplingFlows_DeclareNoBlocks_AndHaveNone()
    {
        // The coupling flows (SiLU subnets; the spline's graph has Splits of its own) have no such block: their
        // graphs and the subnets the native inverse runs reach ONNX Runtime byte for byte as exported.
        foreach (string name in new[] { "affine_coupling_flow", "spline_coupling_flow" })
        {
            var contents = BundleReader.Read(ShippedModelsTests.BundlePath(name));
            Assert.All(contents.Manifest.Graphs, g => Assert.Empty(g.ResidualBlocks));
            foreach (byte[] graph in contents.Graphs.Values.Concat(contents.CouplingPlan!.Subnets.Select(s => s.Model)))
                Assert.Empty(ResidualBlockRewrite.Discover(graph));
        }
    }

    [Theory]
    [InlineData("flow_matching", GraphRoles.Velocity)]
    [InlineData("consistency_model", GraphRoles.Consistency)]
    public void Apply_ShippedNetworks_RewritesAllSixBlocks_SameOutputs_AndInt8QuantizesTheSameWeights(string bundle, string role)
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath(bundle));
        byte[] graph = contents.Graphs[role];
        var declared = contents.Manifest.Graphs.Single(g => g.Role == role).ResidualBlocks;
        // The manifest declares exactly the blocks the exporter's pattern has, in graph order.
        Assert.Equal(ResidualBlockRewrite.Discover(graph).Select(b => string.Join(",", b.Nodes)), declared.Select(b => string.Join(",", b.Nodes)));
        // Inputs of the scale the samplers feed: θ_t and conditions ~ ±2, t in [0, 1].
        float Input(string name, int row, int col) => name == "t" ? (row % 101) / 100f : 2f * (float)Math.Sin(0.37 * row + 1.1 * col + name.Length);
        float[] reference = Run(graph, Input).Values.Single();
        foreach (bool combine in new[] { true, false })
        {
            var (rewritten, count) = ResidualBlockRewrite.Apply(graph, declared, combine);
            Assert.Equal(6, count);
            var (max, rms) = Difference(reference, Run(rewritten, Input).Values.Single());
            // Float reassociation only (measured on the velocity: max 1e-5, relative RMS 2e-6 combined; 5e-6 / 7e-7 separate).
            Assert.True(max < 1e-4 && rms < 1e-5, $"{bundle}, combine {combine}: max |diff| {max:E2}, relative RMS {rms:E2}");
        }
        // Int8: the separate form quantizes the same weights per output column (negation is exact), so it differs from
        // the quantized exported graph by rounding, far less than int8's own error against float (2% relative RMS).
        // Both at the weight range the runtime uses on this CPU.
        float[] int8 = Run(Int8Quantizer.Quantize(graph, Int8Quantizer.WeightRange).Model, Input).Values.Single();
        float[] int8Rewritten = Run(GraphCompiler.Prepare(contents, role, new RuntimeOptions { Precision = NetworkPrecision.Int8 }), Input).Values.Single();
        var (_, int8Rms) = Difference(int8, int8Rewritten);
        var (_, int8Error) = Difference(reference, int8Rewritten);
        Assert.True(int8Rms < 2e-3, $"{bundle}: int8 rewritten vs int8 exported relative RMS {int8Rms:E2}");
        Assert.True(int8Error < 0.04, $"{bundle}: int8 rewritten vs float relative RMS {int8Error:E2}");
    }
}
