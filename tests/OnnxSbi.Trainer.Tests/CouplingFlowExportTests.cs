using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowExportTests : SingleThreadedTorch
{
    [Fact]
    public void ExportGraphs_BothRoles_HaveTheDocumentedSignatures()
    {
        using var net = new CouplingFlow(3, 2, new CouplingFlowOptions(Depth: 2));
        var graphs = net.ExportGraphs(CouplingFlowFixtures.Info);
        Assert.Equal(["forward", "inverse"], graphs.Keys.Order());
        Assert.Equal(["z", "conditions"], graphs["inverse"].Graph.Input.Select(i => i.Name));
        Assert.Equal(["theta"], graphs["inverse"].Graph.Output.Select(o => o.Name));
        Assert.Equal(["theta", "conditions"], graphs["forward"].Graph.Input.Select(i => i.Name));
        Assert.Equal(["z", "log_det"], graphs["forward"].Graph.Output.Select(o => o.Name));
        Assert.Equal(["N", "3"], Dims(graphs["forward"].Graph.Input[0]));
        Assert.Equal(["N", "2"], Dims(graphs["forward"].Graph.Input[1]));
        Assert.Equal(["N"], Dims(graphs["forward"].Graph.Output[1]));
        Assert.All(graphs.Values, g => Assert.Equal(17, g.OpsetImport.Single().Version));
    }

    [Theory]
    [InlineData("affine")]
    [InlineData("spline")]
    public void Graphs_StandardOpsOnly_NoLoopsOrCustomDomains(string transform)
    {
        using var net = new CouplingFlow(2, 1, new CouplingFlowOptions(Depth: 2, Transform: transform, Permutation: "orthogonal"));
        var allowed = new HashSet<string>
        {
            "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "Log", "Sqrt", "Relu", "Sigmoid", "Abs", "Softmax",
            "Asinh", "Split", "Concat", "Gather", "GatherElements", "Reshape", "Slice", "Unsqueeze", "Squeeze",
            "Clip", "Equal", "Where", "GreaterOrEqual", "Cast", "ReduceSum", "Identity",
        };
        foreach (var (role, graph) in net.ExportGraphs(CouplingFlowFixtures.Info))
        {
            Assert.All(graph.OpsetImport, o => Assert.Equal("", o.Domain));
            var unexpected = graph.Graph.Node.Where(n => n.Domain.Length > 0 || !allowed.Contains(n.OpType)).Select(n => n.OpType).Distinct().ToList();
            Assert.True(unexpected.Count == 0, $"{role}: unexpected ops {string.Join(", ", unexpected)}");
        }
    }

    [Theory]
    [InlineData("affine", 8)]
    [InlineData("spline", 4)]
    public void DescribeSampler_FillsCouplingFlowSection(string transform, int depth)
    {
        using var net = new CouplingFlow(2, 2, new CouplingFlowOptions(Depth: depth, Transform: transform));
        var manifest = new BundleManifest();
        net.DescribeSampler(manifest);
        Assert.Equal(BundleManifest.SamplerOneofCase.CouplingFlow, manifest.SamplerCase);
        Assert.Equal(transform, manifest.CouplingFlow.Transform);
        Assert.Equal(depth, manifest.CouplingFlow.Depth);
        Assert.Equal(NetworkFamily.CouplingFlow, net.Family);
    }

    private static string[] Dims(ValueInfoProto v)
        => v.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString()).ToArray();
}
