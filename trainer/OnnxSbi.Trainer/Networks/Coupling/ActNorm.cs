using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// Activation normalization (Kingma &amp; Dhariwal 2018): z = s ⊙ x + b with log|det| = Σ ln|s|
/// (docs/algorithms.md#actnorm). The scale is stored as ℓ = ln s: s stays positive, and AdamW's weight decay
/// pulls the layer towards the identity rather than towards s = 0. It starts as the identity; the
/// adapter already standardizes θ, so no data-dependent initialization is needed.
/// </summary>
internal sealed class ActNorm : FlowLayer
{
    private readonly Parameter logScale;
    private readonly Parameter bias;

    public ActNorm(string name, int dim) : base(name)
    {
        logScale = nn.Parameter(zeros(dim));
        bias = nn.Parameter(zeros(dim));
        RegisterComponents();
    }

    public override (Tensor Z, Tensor? LogDet) Forward(Tensor x, Tensor conditions)
    {
        using var scale = logScale.exp();
        using var scaled = x * scale;
        return (scaled + bias, logScale.sum());
    }

    public override Tensor Inverse(Tensor z, Tensor conditions)
    {
        using var shifted = z - bias;
        using var inverseScale = (-logScale).exp();
        return shifted * inverseScale;
    }

    public override (string Z, string? LogDet) EmitForward(GraphBuilder g, string x, string conditions, string prefix)
    {
        double[] l = FlowGraph.Doubles(logScale), b = FlowGraph.Doubles(bias);
        string s = g.Initializer(prefix + "_scale", l.Select(v => (float)Math.Exp(v)).ToArray(), l.Length);
        string shift = g.Initializer(prefix + "_bias", b.Select(v => (float)v).ToArray(), b.Length);
        string z = g.Node("Add", [g.Node("Mul", [x, s]), shift]);
        return (z, g.Scalar(prefix + "_log_det", (float)l.Sum()));
    }

    public override string EmitInverse(GraphBuilder g, string z, string conditions, string prefix, ICollection<InverseStep> plan)
    {
        // x = (z − b)/s written as z·(1/s) + (−b/s), the constants folded in double precision.
        double[] l = FlowGraph.Doubles(logScale), b = FlowGraph.Doubles(bias);
        float[] scale = l.Select(v => (float)Math.Exp(-v)).ToArray();
        float[] offset = l.Select((v, i) => (float)(-b[i] * Math.Exp(-v))).ToArray();
        string inv = g.Initializer(prefix + "_inv_scale", scale, l.Length);
        string shift = g.Initializer(prefix + "_inv_shift", offset, l.Length);
        plan.Add(new InverseStep { ElementwiseAffine = new ElementwiseAffine { Scale = { scale }, Shift = { offset } } });
        return g.Node("Add", [g.Node("Mul", [z, inv]), shift]);
    }
}
