using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class FlowMatchingParityTests
{
    private static readonly OnnxModelInfo Info = new("OnnxSbi.Trainer.Tests", "0");

    [Theory]
    [InlineData(Activation.Mish)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Relu)]
    public void VelocityGraph_RandomInputs_MatchesTorchSharp(Activation activation)
    {
        manual_seed(11);
        using var net = new FlowMatching(2, 2, new FlowMatchingOptions(new MlpOptions([64, 64, 64], activation, Dropout: 0.1)));
        net.eval();
        // Move the weights away from initialization (biases start at zero) so every term matters, and
        // shrink them so that the outputs are O(1), as in a trained network: the tolerance is absolute.
        using (no_grad()) foreach (var p in net.parameters()) p.mul_(0.6).add_(randn_like(p) * 0.02);
        const int n = 257;
        using var thetaT = randn(n, 2) * 2;
        using var t = rand(n, 1);
        using var c = randn(n, 2) * 3;
        using var expected = net.Velocity(thetaT, t, c);
        var exported = net.ExportGraphs(Info);
        var graph = exported["velocity"];
        var got = OrtEval.Run(graph,
            ("theta_t", Export(thetaT), [n, 2]), ("t", Export(t), [n, 1]), ("conditions", Export(c), [n, 2]))["velocity"];
        // Both sides run the same float32 arithmetic in a different order (and Mish through an
        // algebraically equal sigmoid form): differences of a few ulps per layer, far below 1e-4.
        double diff = OrtEval.MaxAbsDiff(Export(expected), got);
        Assert.True(diff <= 1e-4, $"max abs diff {diff}; torch[0..4]={string.Join(",", Export(expected).Take(4))} ort[0..4]={string.Join(",", got.Take(4))}");

        // The exporter declares its mish blocks (one per hidden width) for the manifest; other activations have none to declare.
        Assert.Equal(activation == Activation.Mish ? 3 : 0, exported.ResidualBlocks("velocity").Count);
        // The graph the runtime's sessions run: residual mish blocks rewritten at load (docs/DESIGN.md), same bound.
        var prepared = ModelProto.Parser.ParseFrom(GraphCompiler.Prepare(graph.ToByteArray(), exported.ResidualBlocks("velocity"), NetworkPrecision.Float32));
        Assert.Equal(activation == Activation.Mish, prepared.Graph.Node.Count < graph.Graph.Node.Count);
        var gotPrepared = OrtEval.Run(prepared,
            ("theta_t", Export(thetaT), [n, 2]), ("t", Export(t), [n, 1]), ("conditions", Export(c), [n, 2]))["velocity"];
        double diffPrepared = OrtEval.MaxAbsDiff(Export(expected), gotPrepared);
        Assert.True(diffPrepared <= 1e-4, $"rewritten graph: max abs diff {diffPrepared}");
    }

    private static float[] Export(Tensor t) => t.detach().contiguous().data<float>().ToArray();
}
