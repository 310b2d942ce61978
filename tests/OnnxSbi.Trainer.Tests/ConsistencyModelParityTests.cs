using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class ConsistencyModelParityTests
{
    private static readonly OnnxModelInfo Info = new("OnnxSbi.Trainer.Tests", "0");
    private const int D = 2, C = 3, Rows = 257;

    public enum TimePoint { Eps, Mid, Max }

    [Theory]
    [InlineData(Activation.Mish, TimePoint.Eps)]
    [InlineData(Activation.Mish, TimePoint.Mid)]
    [InlineData(Activation.Mish, TimePoint.Max)]
    [InlineData(Activation.Silu, TimePoint.Mid)]
    [InlineData(Activation.Relu, TimePoint.Mid)]
    public void ConsistencyGraph_NoisedInputs_MatchesTorchSharp(Activation activation, TimePoint point)
    {
        using var net = RealisticNetwork(activation, seed: 13);
        var o = net.Options;
        using var g = new Generator(5);
        // Inputs as the sampler sees them: θ_t = θ + t·z with θ standardized, so |θ_t| reaches ~3T at t = T.
        using var t = point switch
        {
            TimePoint.Eps => full([Rows, 1], (float)o.Eps),
            TimePoint.Max => full([Rows, 1], (float)o.MaxTime),
            // Log-uniform over [0.01, 10]: the noise levels where training puts most of its weight.
            _ => (rand([Rows, 1], generator: g) * Math.Log(1000) + Math.Log(0.01)).exp(),
        };
        using var thetaT = randn([Rows, D], generator: g) + t * randn([Rows, D], generator: g);
        using var c = randn([Rows, C], generator: g) * 2;
        using var expected = net.Consistency(thetaT, t, c);
        var got = RunGraph(net, thetaT, t, c);
        // Same float32 arithmetic in a different order (Gemm, the sigmoid form of Mish, the c_skip/c_out
        // chain): a few ulps per layer, far below 1e-4 for outputs of O(10).
        double diff = OrtEval.MaxAbsDiff(Export(expected), got);
        double scale = Export(expected).Max(v => Math.Abs(v));
        Assert.True(diff <= 1e-4, $"max abs diff {diff} at {point} (max |f| = {scale})");
        Assert.InRange(scale, 0.05, 100);
        // The graph the runtime's sessions run (residual mish blocks rewritten at load, docs/DESIGN.md), same bound.
        double diffPrepared = OrtEval.MaxAbsDiff(Export(expected), RunGraph(net, thetaT, t, c, prepared: true));
        Assert.True(diffPrepared <= 1e-4, $"rewritten graph: max abs diff {diffPrepared} at {point}");
    }

    [Fact]
    public void ConsistencyFunction_AtEps_ReturnsInputInTorchSharpAndOnnx()
    {
        using var net = RealisticNetwork(Activation.Mish, seed: 17);
        using var g = new Generator(9);
        using var thetaT = randn([Rows, D], generator: g) * 3;
        using var t = full([Rows, 1], (float)net.Options.Eps);
        using var c = randn([Rows, C], generator: g);
        var input = Export(thetaT);
        using var torchOut = net.Consistency(thetaT, t, c);
        var onnxOut = RunGraph(net, thetaT, t, c);
        // c_skip(ε) = σ²/(0 + σ²) = 1 and c_out(ε) = σ·0/… = 0 in float32 as well (t − ε is exactly 0),
        // so f(θ, ε) = θ holds to rounding; 1e-6 is two ulps at |θ| ≈ 10.
        Assert.True(OrtEval.MaxAbsDiff(input, Export(torchOut)) <= 1e-6);
        Assert.True(OrtEval.MaxAbsDiff(input, onnxOut) <= 1e-6);
        // Away from ε the network does contribute, so the check above is not vacuous.
        using var tMid = full([Rows, 1], 1f);
        using var moved = net.Consistency(thetaT, tMid, c);
        Assert.True(OrtEval.MaxAbsDiff(input, Export(moved)) > 0.1);
    }

    [Fact]
    public void ConsistencyGraph_Signature_FollowsDesignConvention()
    {
        using var net = RealisticNetwork(Activation.Silu, seed: 1);
        var graphs = net.ExportGraphs(Info);
        var graph = Assert.Single(graphs, kv => kv.Key == "consistency").Value.Graph;
        Assert.Equal(["theta_t", "t", "conditions"], graph.Input.Select(i => i.Name));
        Assert.Equal(["theta"], graph.Output.Select(o => o.Name));
    }

    /// <summary>A network whose weights are moved off initialization (the output layer starts at zero) at a trained scale.</summary>
    private static ConsistencyModel RealisticNetwork(Activation activation, int seed)
    {
        manual_seed(seed);
        var net = new ConsistencyModel(D, C, new ConsistencyModelOptions(new MlpOptions([64, 64, 64], activation, Dropout: 0.1)));
        net.eval();
        // Shrink and jitter so every weight and bias matters, as in a trained network. The zero output
        // layer gets small weights so that f stays O(1)–O(10) even at t = T, where |θ_t| reaches 3T and
        // the hidden activations are in the hundreds: the tolerance is absolute, and a trained network's
        // output is a posterior draw of O(1) at every t.
        using (no_grad())
        {
            foreach (var (name, p) in net.named_parameters())
            {
                if (name.StartsWith("output")) p.copy_(randn_like(p) * 0.01);
                else p.mul_(0.6).add_(randn_like(p) * 0.02);
            }
        }
        return net;
    }

    private static float[] RunGraph(ConsistencyModel net, Tensor thetaT, Tensor t, Tensor c, bool prepared = false)
    {
        var exported = net.ExportGraphs(Info);
        var graph = exported["consistency"];
        // The graph the runtime's sessions run: the exporter's declared residual blocks rewritten.
        if (prepared) graph = ModelProto.Parser.ParseFrom(GraphCompiler.Prepare(graph.ToByteArray(), exported.ResidualBlocks("consistency"), NetworkPrecision.Float32));
        long n = thetaT.shape[0];
        return OrtEval.Run(graph,
            ("theta_t", Export(thetaT), [n, D]), ("t", Export(t), [n, 1]), ("conditions", Export(c), [n, C]))["theta"];
    }

    private static float[] Export(Tensor t) => t.detach().contiguous().data<float>().ToArray();
}
