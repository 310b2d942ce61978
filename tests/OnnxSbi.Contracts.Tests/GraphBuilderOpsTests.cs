using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Contracts.Tests;

/// <summary>
/// Graphs written with <see cref="GraphBuilder"/> load in ONNX Runtime and compute what the ONNX
/// operator specification says they compute, checked against values worked out by hand.
/// </summary>
public sealed class GraphBuilderOpsTests
{
    private static readonly OnnxModelInfo Info = new("OnnxSbi.Contracts.Tests", "0.1.0");

    // Every expected value below with this tolerance is a small dyadic rational (integers, halves,
    // eighths) that float32 represents exactly, and the products and sums involved are exact too,
    // so ONNX Runtime must reproduce them bit for bit; the slack only absorbs a fused multiply-add.
    private const float ExactTolerance = 1e-6f;

    [Fact]
    public void Gemm_TransBWithAlphaAndBias_MatchesHandComputedProduct()
    {
        var g = new GraphBuilder("gemm");
        string x = g.Input("x", null, 3);
        string w = g.Initializer("w", [1, 2, 3, 4, 5, 6], 2, 3);
        string b = g.Initializer("b", [0.5f, -1f], 2);
        g.Node("Gemm", [x, w, b], "y", ("transB", 1L), ("alpha", 0.5f));
        g.Output("y", null, 2);

        // y = 0.5 · x Wᵀ + b: row [1,0,-1] → 0.5·[-2,-2] + b; row [2,1,0] → 0.5·[4,13] + b; row [0,0,1] → 0.5·[3,6] + b.
        var y = OrtHarness.Run(g.Build(Info), ("x", [1, 0, -1, 2, 1, 0, 0, 0, 1], [3, 3]))["y"];

        Assert.Equal([3L, 2L], y.Shape);
        AssertClose([-0.5f, -2f, 2.5f, 5.5f, 2f, 2f], y.Floats, ExactTolerance);
    }

    [Fact]
    public void MatMul_InputTimesInitializer_MatchesHandComputedProduct()
    {
        var g = new GraphBuilder("matmul");
        string a = g.Input("a", null, 2);
        string m = g.Initializer("m", [1, 0, 2, 0, 1, 3], 2, 3);
        g.Node("MatMul", [a, m], "y");
        g.Output("y", null, 3);

        // [2,5]·M = [2, 5, 2·2+5·3] and [-1,1]·M = [-1, 1, -2+3].
        var y = OrtHarness.Run(g.Build(Info), ("a", [2, 5, -1, 1], [2, 2]))["y"];

        Assert.Equal([2L, 3L], y.Shape);
        AssertClose([2, 5, 19, -1, 1, 1], y.Floats, ExactTolerance);
    }

    [Theory]
    [InlineData("Add", new float[] { 3, 6, 11, 6, 9, 14 })]
    [InlineData("Mul", new float[] { 2, 8, 24, 8, 20, 48 })]
    [InlineData("Div", new float[] { 0.5f, 0.5f, 0.375f, 2, 1.25f, 0.75f })]
    public void BinaryOp_RowBroadcastInitializer_MatchesHandComputedValues(string op, float[] expected)
    {
        var g = new GraphBuilder(op);
        string a = g.Input("a", null, 3);
        string b = g.Initializer("b", [2, 4, 8], 3);
        g.Node(op, [a, b], "y");
        g.Output("y", null, 3);

        // b = [2, 4, 8] broadcasts over both rows of a = [[1,2,3],[4,5,6]] (numpy rules, ONNX §Broadcasting).
        var y = OrtHarness.Run(g.Build(Info), ("a", [1, 2, 3, 4, 5, 6], [2, 3]))["y"];

        Assert.Equal([2L, 3L], y.Shape);
        AssertClose(expected, y.Floats, ExactTolerance);
    }

    [Theory]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Exp")]
    [InlineData("Log")]
    [InlineData("Sin")]
    [InlineData("Cos")]
    public void UnaryOp_FewPoints_MatchesDoublePrecisionReference(string op)
    {
        Func<double, double> reference = op switch
        {
            "Sigmoid" => v => 1 / (1 + Math.Exp(-v)),
            "Tanh" => Math.Tanh,
            "Exp" => Math.Exp,
            "Log" => Math.Log,
            "Sin" => Math.Sin,
            "Cos" => Math.Cos,
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "No reference for this operator."),
        };
        float[] input = op == "Log" ? [0.25f, 1f, 2f, 10f] : [-1.5f, 0f, 0.25f, 2f];
        var g = new GraphBuilder(op);
        string x = g.Input("x", null, 2);
        g.Node(op, [x], "y");
        g.Output("y", null, 2);

        var y = OrtHarness.Run(g.Build(Info), ("x", input, [2, 2]))["y"];

        // float32 rounding alone is ~6e-8 relative; ONNX Runtime's vectorised Exp/Tanh/Sigmoid
        // kernels are polynomial approximations accurate to a few ulp, so 1e-5 relative (with an
        // absolute floor for outputs near zero) separates a correct kernel from a wrong operator.
        Assert.Equal([2L, 2L], y.Shape);
        for (int i = 0; i < input.Length; i++)
        {
            double expected = reference(input[i]);
            Assert.True(Math.Abs(y.Floats[i] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)),
                $"{op}({input[i]}): expected {expected}, ONNX Runtime gave {y.Floats[i]}.");
        }
    }

    [Fact]
    public void Concat_AlongFeatures_JoinsRowsInInputOrder()
    {
        var g = new GraphBuilder("concat");
        string a = g.Input("a", null, 2);
        string b = g.Input("b", null, 1);
        g.Node("Concat", [a, b], "y", ("axis", 1L));
        g.Output("y", null, 3);

        var y = OrtHarness.Run(g.Build(Info), ("a", [1, 2, 3, 4], [2, 2]), ("b", [9, 8], [2, 1]))["y"];

        Assert.Equal([2L, 3L], y.Shape);
        AssertClose([1, 2, 9, 3, 4, 8], y.Floats, ExactTolerance);
    }

    [Fact]
    public void Slice_ColumnsOneToThree_KeepsTheMiddleColumns()
    {
        var g = new GraphBuilder("slice");
        string x = g.Input("x", null, 4);
        string starts = g.InitializerInt64("starts", [1], 1);
        string ends = g.InitializerInt64("ends", [3], 1);
        string axes = g.InitializerInt64("axes", [1], 1);
        g.Node("Slice", [x, starts, ends, axes], "y");
        g.Output("y", null, 2);

        var y = OrtHarness.Run(g.Build(Info), ("x", [0, 1, 2, 3, 4, 5, 6, 7], [2, 4]))["y"];

        Assert.Equal([2L, 2L], y.Shape);
        AssertClose([1, 2, 5, 6], y.Floats, ExactTolerance);
    }

    [Fact]
    public void Split_IntoWidthsOneAndTwo_ProducesBothOutputs()
    {
        var g = new GraphBuilder("split");
        string x = g.Input("x", null, 3);
        string widths = g.InitializerInt64("widths", [1, 2], 2);
        string[] parts = g.Node("Split", [x, widths], ["first", "second"], ("axis", 1L));
        g.Output(parts[0], null, 1);
        g.Output(parts[1], null, 2);

        var outputs = OrtHarness.Run(g.Build(Info), ("x", [1, 2, 3, 4, 5, 6], [2, 3]));

        Assert.Equal([2L, 1L], outputs["first"].Shape);
        Assert.Equal([2L, 2L], outputs["second"].Shape);
        AssertClose([1, 4], outputs["first"].Floats, ExactTolerance);
        AssertClose([2, 3, 5, 6], outputs["second"].Floats, ExactTolerance);
    }

    [Fact]
    public void Gather_Int64ColumnIndices_PermutesAndRepeatsColumns()
    {
        var g = new GraphBuilder("gather");
        string x = g.Input("x", null, 3);
        string idx = g.InitializerInt64("idx", [2, 0, 2], 3);
        g.Node("Gather", [x, idx], "y", ("axis", 1L));
        g.Output("y", null, 3);

        var y = OrtHarness.Run(g.Build(Info), ("x", [10, 20, 30, 40, 50, 60], [2, 3]))["y"];

        Assert.Equal([2L, 3L], y.Shape);
        AssertClose([30, 10, 30, 60, 40, 60], y.Floats, ExactTolerance);
    }

    [Fact]
    public void WhereOfLess_TwoInputs_GivesElementwiseMinimumAndBoolMask()
    {
        var g = new GraphBuilder("where");
        string a = g.Input("a", null, 2);
        string b = g.Input("b", null, 2);
        string mask = g.Node("Less", [a, b], "mask");
        g.Node("Where", [mask, a, b], "y");
        g.Output("y", null, 2);
        g.Output("mask", TensorProto.Types.DataType.Bool, null, 2);

        var outputs = OrtHarness.Run(g.Build(Info), ("a", [1, 5, -2, 0], [2, 2]), ("b", [3, 4, -2, 1], [2, 2]));

        // Less is strict, so the tie at -2 picks b (equal anyway); the mask shows it is false there.
        Assert.Equal([true, false, false, true], outputs["mask"].Bools);
        AssertClose([1, 4, -2, 0], outputs["y"].Floats, ExactTolerance);
    }

    [Fact]
    public void Reshape_MinusOneLeading_KeepsBatchAndSplitsFeatures()
    {
        var g = new GraphBuilder("reshape");
        string x = g.Input("x", null, 4);
        string shape = g.InitializerInt64("shape", [-1, 2, 2], 3);
        g.Node("Reshape", [x, shape], "y");
        g.Output("y", null, 2, 2);

        float[] data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        var y = OrtHarness.Run(g.Build(Info), ("x", data, [3, 4]))["y"];

        Assert.Equal([3L, 2L, 2L], y.Shape);
        AssertClose(data, y.Floats, 0f);
    }

    [Fact]
    public void Input_NullDimension_IsSymbolicBatchAcceptingAnyBatchSize()
    {
        var g = new GraphBuilder("batch");
        string x = g.Input("x", null, 2);
        string two = g.Scalar("two", 2f);
        g.Node("Mul", [x, two], "y");
        g.Output("y", null, 2);
        using var session = OrtHarness.Load(g.Build(Info));

        Assert.Equal([-1, 2], session.InputMetadata["x"].Dimensions);
        Assert.Equal(GraphBuilder.BatchDim, session.InputMetadata["x"].SymbolicDimensions[0]);
        Assert.Equal(GraphBuilder.BatchDim, session.OutputMetadata["y"].SymbolicDimensions[0]);
        foreach (int n in new[] { 1, 4, 7 })
        {
            float[] input = Enumerable.Range(0, 2 * n).Select(i => (float)i).ToArray();
            var y = OrtHarness.Run(session, ("x", input, [n, 2]))["y"];
            Assert.Equal([(long)n, 2L], y.Shape);
            AssertClose(input.Select(v => 2 * v).ToArray(), y.Floats, ExactTolerance);
        }
    }

    [Fact]
    public void Build_WithModelInfo_HeaderIsReadableFromSession()
    {
        var g = new GraphBuilder("velocity_net");
        string x = g.Input("x", null, 1);
        g.Node("Exp", [x], "y");
        g.Output("y", null, 1);
        var info = new OnnxModelInfo("OnnxSbi.Trainer", "1.2.3", "Velocity field v(θ_t, t | x).",
            new Dictionary<string, string> { ["role"] = "velocity", ["family"] = "flow_matching" });
        var model = g.Build(info);

        using var session = OrtHarness.Load(model);
        var meta = session.ModelMetadata;

        Assert.Equal("OnnxSbi.Trainer", meta.ProducerName);
        Assert.Equal("Velocity field v(θ_t, t | x).", meta.Description);
        Assert.Equal("velocity_net", meta.GraphName);
        Assert.Equal("velocity", meta.CustomMetadataMap["role"]);
        Assert.Equal("flow_matching", meta.CustomMetadataMap["family"]);
        // ONNX Runtime's ModelMetadata exposes model_version but not producer_version, so the
        // producer version is read back from the serialized header instead.
        Assert.Equal("1.2.3", ModelProto.Parser.ParseFrom(model.ToByteArray()).ProducerVersion);
        Assert.Equal(8, model.IrVersion);
        Assert.Equal(GraphBuilder.DefaultOpset, Assert.Single(model.OpsetImport).Version);
    }

    [Fact]
    public void Build_SerializedAndParsed_RoundTripsEqual()
    {
        var g = new GraphBuilder("roundtrip");
        string x = g.Input("x", null, 3);
        string w = g.Initializer("w", [1, 2, 3, 4, 5, 6], 2, 3);
        string idx = g.InitializerInt64("idx", [0, 1], 2);
        string h = g.Node("Gemm", [x, w], output: null, ("transB", 1), ("alpha", 1.5), ("beta", 0f));
        string s = g.Node("Gather", [h, idx], output: null, ("axis", 1L));
        g.Node("Identity", [s], "y", ("note", "text"), ("ints", new long[] { 1, 2 }), ("floats", new[] { 0.5f }),
            ("tensor", new TensorProto { Name = "t", DataType = (int)TensorProto.Types.DataType.Float, FloatData = { 1f } }));
        g.Output("y", null, 2);
        var model = g.Build(new OnnxModelInfo("p", "v", "d", new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }));

        byte[] bytes = model.ToByteArray();
        var parsed = ModelProto.Parser.ParseFrom(bytes);

        Assert.Equal(model, parsed);
        Assert.Equal(bytes, parsed.ToByteArray());
        Assert.Equal(["a", "b"], parsed.MetadataProps.Select(p => p.Key));
    }

    [Fact]
    public void Build_CalledTwice_ReturnsIndependentModels()
    {
        var g = new GraphBuilder("twice");
        string x = g.Input("x", null, 1);
        g.Node("Exp", [x], "y");
        g.Output("y", null, 1);

        var first = g.Build(Info);
        first.Graph.Node.Clear();

        Assert.Single(g.Build(Info).Graph.Node);
    }

    [Fact]
    public void Node_ExplicitOutputNameAlreadyUsed_Throws()
    {
        var g = new GraphBuilder("clash");
        string x = g.Input("x", null, 1);
        g.Node("Exp", [x], "y");

        // Two producers of one name would break ONNX's single-assignment rule; the builder refuses.
        var single = Assert.Throws<ArgumentException>(() => g.Node("Sin", [x], "y"));
        var multi = Assert.Throws<ArgumentException>(() => g.Node("Split", [x], ["x", "z"], ("axis", 1L)));
        Assert.Contains("'y'", single.Message);
        Assert.Contains("'x'", multi.Message);
    }

    [Fact]
    public void Node_NoOutputName_MakesUniqueNames()
    {
        var g = new GraphBuilder("fresh");
        string x = g.Input("x", null, 1);

        string a = g.Node("Exp", [x]);
        string b = g.Node("Exp", [x]);
        string c = g.Node("Exp", [x], output: "exp_9");

        Assert.NotEqual(a, b);
        Assert.Equal("exp_9", c);
        Assert.DoesNotContain(g.Node("Exp", [x]), new[] { a, b, c });
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"Element {i}: expected {expected[i]}, received {actual[i]} (tolerance {tolerance}).");
    }
}
