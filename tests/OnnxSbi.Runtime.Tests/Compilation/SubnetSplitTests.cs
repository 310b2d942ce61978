using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Tests.Compilation;

/// <summary>
/// A coupling subnet split into host layers and the graph between them (<see cref="SubnetSplit"/>) computes
/// what the whole subnet computes; only subnets of the expected shape are split.
/// </summary>
public sealed class SubnetSplitTests
{
    [Theory]
    [InlineData("affine_coupling_flow", true, 1, 64)]
    [InlineData("spline_coupling_flow", false, 2, 47)]
    public void Split_OfShippedFlow_TakesTheThinLayersToTheHost(string name, bool tail, int gemmsLeft, int outputWidth)
    {
        foreach (var subnet in ShippedPlan(name).Subnets)
        {
            var split = SubnetSplit.Of(subnet, conditionDim: 2);
            Assert.NotNull(split.Head);
            Assert.Equal((1, 2, 64), (split.Head.Kept, split.Head.Conditions, split.Head.Width));
            Assert.Equal(tail, split.Tail is not null);
            Assert.Equal((64, outputWidth), (split.InputWidth, split.OutputWidth));
            var graph = ModelProto.Parser.ParseFrom(split.Model).Graph;
            Assert.Equal(gemmsLeft, graph.Node.Count(n => n.OpType == "Gemm"));
            Assert.Equal(split.Input, Assert.Single(graph.Input).Name);
            Assert.Equal(split.Output, Assert.Single(graph.Output).Name);
        }
    }

    /// <summary>
    /// Host layers around the remaining graph against the whole subnet in ONNX Runtime, on rows whose conditions
    /// repeat (the share computed once per run) and change from row to row. The same products are summed in
    /// another order, so the results differ by float32 rounding: sums of ≤ 70 terms below ~10 in magnitude are
    /// exact to ~1e−6; a wrong weight layout, a stale condition share or a dropped bias moves them by 1e−2 or more.
    /// </summary>
    [Fact]
    public void Split_HostLayersAroundTheGraph_ComputeTheWholeSubnet()
    {
        var subnets = ShippedPlan("affine_coupling_flow").Subnets.Select(s => (s, Kept: 1, Conditions: 2))
            .Concat(ShippedPlan("spline_coupling_flow").Subnets.Take(2).Select(s => (s, Kept: 1, Conditions: 2)))
            .Append((Synthetic(kept: 2, conditions: 3, hidden: 20, outputs: 3, transB: false, headBias: false), 2, 3))
            .Append((Synthetic(kept: 2, conditions: 1, hidden: 33, outputs: 1, transB: true, headBias: true), 2, 1));
        foreach (var (subnet, kept, c) in subnets)
        {
            var split = SubnetSplit.Of(subnet, c);
            Assert.NotNull(split.Head);
            const int rows = 37, d = 6, keptOffset = 2;
            var rng = new Random(11);
            var state = Enumerable.Range(0, rows * d).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            // Conditions in runs: rows 0–9 one observation, 10–19 another, then a new one every row.
            var conditions = new float[rows * c];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < c; j++) conditions[r * c + j] = (float)Math.Sin(1.7 * (r < 10 ? 0 : r < 20 ? 1 : r) + j);

            var whole = new float[rows * subnet.InputWidth];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < kept; j++) whole[r * subnet.InputWidth + j] = state[r * d + keptOffset + j];
                for (int j = 0; j < c; j++) whole[r * subnet.InputWidth + kept + j] = conditions[r * c + j];
            }
            var expected = Run(subnet.Model, subnet.Input, whole, [rows, subnet.InputWidth], subnet.Output, rows * subnet.OutputWidth);

            var head = new float[rows * split.InputWidth];
            split.Head.Apply(head, state, d, keptOffset, conditions, rows, new float[split.Head.Width]);
            var h = Run(split.Model, split.Input, head, [rows, split.InputWidth], split.Output, rows * split.OutputWidth);
            var actual = h;
            if (split.Tail is { } tail)
            {
                actual = new float[rows * tail.Outputs];
                tail.Apply(h, rows, actual);
            }
            Assert.Equal(expected.Length, actual.Length);
            double max = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(max <= 1e-5, $"subnet {subnet.Output} ({kept} kept, {c} conditions): max |split − whole| {max:G3} (bound 1e-5)");
        }
    }

    [Fact]
    public void Split_OfLayersItCannotRunAsPlainProducts_LeavesThemInTheGraph()
    {
        // A scaled first product (alpha ≠ 1) and a last layer as wide as ONNX Runtime's panels stay in the graph.
        var scaled = Synthetic(kept: 1, conditions: 2, hidden: 16, outputs: 16, transB: true, headBias: true, headAlpha: 0.5f);
        var split = SubnetSplit.Of(scaled, conditionDim: 2);
        Assert.Null(split.Head);
        Assert.Null(split.Tail);
        Assert.Same(scaled.Model, split.Model);
        // A kept half wider than MaxHostKeptWidth: the first layer stays; a 2-wide last layer still goes.
        int wide = SubnetSplit.MaxHostKeptWidth + 1;
        var split2 = SubnetSplit.Of(Synthetic(kept: wide, conditions: 2, hidden: 16, outputs: 2, transB: true, headBias: true), conditionDim: 2);
        Assert.Null(split2.Head);
        Assert.NotNull(split2.Tail);
        Assert.Equal(wide + 2, split2.InputWidth);
        Assert.Equal(16, split2.OutputWidth);
        // A last layer wider than MaxHostOutputWidth stays; a 1-wide kept half's first layer still goes.
        var split3 = SubnetSplit.Of(Synthetic(kept: 1, conditions: 2, hidden: 16, outputs: SubnetSplit.MaxHostOutputWidth + 1, transB: true, headBias: true), conditionDim: 2);
        Assert.NotNull(split3.Head);
        Assert.Null(split3.Tail);
    }

    private static CouplingPlan ShippedPlan(string name) => BundleReader.Read(ShippedModelsTests.BundlePath(name)).CouplingPlan!;

    /// <summary>[kept, conditions] → hidden → hidden → outputs with SiLU between, as the trainer exports a subnet.</summary>
    private static PlanSubnet Synthetic(int kept, int conditions, int hidden, int outputs, bool transB, bool headBias, float headAlpha = 1f)
    {
        var rng = new Random(kept * 100 + outputs);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var g = new GraphBuilder("subnet");
        int k = kept + conditions;
        string h = g.Input("in", null, k);
        int[] widths = [k, hidden, hidden, outputs];
        for (int l = 0; l < 3; l++)
        {
            int inW = widths[l], outW = widths[l + 1];
            string w = g.Initializer("w", R(inW * outW), transB ? [outW, inW] : [inW, outW]);
            var inputs = l == 0 && !headBias ? new[] { h, w } : [h, w, g.Initializer("b", R(outW), outW)];
            var attributes = new List<(string, object)> { ("transB", transB ? 1L : 0L) };
            if (l == 0 && headAlpha != 1f) attributes.Add(("alpha", headAlpha));
            h = g.Node("Gemm", inputs, l == 2 ? "out" : null, [.. attributes]);
            if (l < 2) h = g.Node("Mul", [h, g.Node("Sigmoid", [h])]);
        }
        g.Output("out", null, outputs);
        return new PlanSubnet(g.Build(new OnnxModelInfo("test", "1")).ToByteArray(), "in", k, "out", outputs);
    }

    private static float[] Run(byte[] model, string input, float[] data, long[] shape, string output, int outputLength)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var options = new RunOptions();
        using var results = session.Run(options, [input], [value], [output]);
        var y = results[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(outputLength, y.Length);
        return y;
    }
}
