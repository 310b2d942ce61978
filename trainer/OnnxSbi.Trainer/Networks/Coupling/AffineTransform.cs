using OnnxSbi.Contracts.Onnx;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// The affine coupling of Dinh et al. 2017, z = s·x + t, with BayesFlow's soft clamp of the scale,
/// s = softplus(asinh(s_raw) + ln(e − 1)): positive, equal to 1 at s_raw = 0 (so a zero subnet is
/// the identity), and growing only logarithmically in s_raw, which keeps early training stable.
/// log|det| = Σ ln s (docs/algorithms.md#affine-coupling).
/// </summary>
internal sealed class AffineTransform : CouplingTransform
{
    /// <summary>ln(e − 1): softplus of it is 1.</summary>
    internal static readonly double SoftplusOneShift = Math.Log(Math.E - 1);

    public override int ParamsPerDim => 2;

    public override (Tensor Z, Tensor LogDet) Forward(Tensor x, Tensor raw)
    {
        using var scope = NewDisposeScope();
        var (s, t) = ScaleShift(raw, x.shape[1]);
        var z = x * s + t;
        var logDet = s.log().sum(1);
        return (z.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
    }

    public override Tensor Inverse(Tensor z, Tensor raw)
    {
        using var scope = NewDisposeScope();
        var (s, t) = ScaleShift(raw, z.shape[1]);
        return ((z - t) / s).MoveToOuterDisposeScope();
    }

    public override (string Z, string LogDet) EmitForward(GraphBuilder g, string x, string raw, long dims, string prefix)
    {
        var (s, t) = EmitScaleShift(g, raw, dims, prefix);
        string z = g.Node("Add", [g.Node("Mul", [x, s]), t]);
        string logDet = g.Node("ReduceSum", [g.Node("Log", [s]), g.InitializerInt64(prefix + "_axes", [1], 1)], attributes: ("keepdims", 0L));
        return (z, logDet);
    }

    public override string EmitInverse(GraphBuilder g, string z, string raw, long dims, string prefix)
    {
        var (s, t) = EmitScaleShift(g, raw, dims, prefix);
        return g.Node("Div", [g.Node("Sub", [z, t]), s]);
    }

    private static (Tensor S, Tensor T) ScaleShift(Tensor raw, long dims)
    {
        var parts = raw.split([dims, dims], 1);
        var s = nn.functional.softplus(parts[0].asinh() + SoftplusOneShift);
        return (s, parts[1]);
    }

    private static (string S, string T) EmitScaleShift(GraphBuilder g, string raw, long dims, string prefix)
    {
        string[] parts = g.Node("Split", [raw, g.InitializerInt64(prefix + "_split", [dims, dims], 2)],
            [g.Fresh(prefix + "_s_raw"), g.Fresh(prefix + "_t")], ("axis", 1L));
        string shifted = g.Node("Add", [g.Node("Asinh", [parts[0]]), g.Scalar(prefix + "_shift", (float)SoftplusOneShift)]);
        return (FlowGraph.EmitSoftplus(g, shifted), parts[1]);
    }
}
