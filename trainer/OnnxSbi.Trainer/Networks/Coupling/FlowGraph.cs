using OnnxSbi.Contracts.Onnx;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>Small helpers shared by the coupling flow's layers when they write ONNX graphs.</summary>
internal static class FlowGraph
{
    /// <summary>ONNX TensorProto data types used by Cast.</summary>
    public const long Float = 1, Int64 = 7;

    /// <summary>The tensor's values in double precision, row-major, detached from autograd.</summary>
    public static double[] Doubles(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
    }

    /// <summary>Concat along the feature axis, leaving out zero-width parts (an empty condition vector).</summary>
    public static string ConcatFeatures(GraphBuilder g, params (string Name, long Width)[] parts)
    {
        var used = parts.Where(p => p.Width > 0).Select(p => p.Name).ToArray();
        return used.Length == 1 ? used[0] : g.Node("Concat", used, attributes: ("axis", 1L));
    }

    /// <summary>
    /// softplus(x) = max(x, 0) − log σ(|x|), exact algebra (log(1 + e^−|x|) = −log σ(|x|)). ONNX
    /// Runtime's Softplus kernel is scalar and slow (docs/algorithms.md#mish); these four kernels are not.
    /// σ(|x|) ∈ [0.5, 1], so nothing overflows; the absolute error is a float32 ulp of 1, which costs
    /// relative precision only where softplus(x) &lt; 1e−3 (x &lt; −7), far outside useful slopes and scales.
    /// </summary>
    public static string EmitSoftplus(GraphBuilder g, string x)
        => g.Node("Sub", [g.Node("Relu", [x]), g.Node("Log", [g.Node("Sigmoid", [g.Node("Abs", [x])])])]);

    /// <summary>Adds two log-determinants, either of which may be missing (volume-preserving).</summary>
    public static string? AddLogDets(GraphBuilder g, string? a, string? b)
        => a is null ? b : b is null ? a : g.Node("Add", [a, b]);
}
