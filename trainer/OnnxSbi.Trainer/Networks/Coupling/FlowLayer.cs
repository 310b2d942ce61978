using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// One invertible layer of a coupling flow, with its forward (data → latent) and inverse passes and
/// the ONNX nodes that compute each, written next to each other so they cannot drift apart.
/// </summary>
internal abstract class FlowLayer : nn.Module
{
    protected FlowLayer(string name) : base(name) { }

    /// <summary>
    /// z = f(x; c) for x [N, D], and log|det ∂f/∂x|: a tensor of shape [N], a scalar for layers whose
    /// Jacobian does not depend on x, or null for volume-preserving layers.
    /// </summary>
    public abstract (Tensor Z, Tensor? LogDet) Forward(Tensor x, Tensor conditions);

    /// <summary>x = f⁻¹(z; c).</summary>
    public abstract Tensor Inverse(Tensor z, Tensor conditions);

    /// <summary>
    /// Writes the forward pass of value <paramref name="x"/>; returns the output's name and the name of
    /// its log-determinant ([N] or a scalar), or null when the layer preserves volume.
    /// </summary>
    public abstract (string Z, string? LogDet) EmitForward(GraphBuilder g, string x, string conditions, string prefix);

    /// <summary>
    /// Writes the inverse pass of value <paramref name="z"/> and returns the output's name. Appends to
    /// <paramref name="plan"/> the same pass as runtime steps (<see cref="InverseStep"/>), whose coupling
    /// subnets refer to tensors of this graph.
    /// </summary>
    public abstract string EmitInverse(GraphBuilder g, string z, string conditions, string prefix, ICollection<InverseStep> plan);
}
