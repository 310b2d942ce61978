using OnnxSbi.Contracts.Onnx;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// The elementwise bijection a coupling applies to one half, z = T(x; p), whose parameters p come from
/// the subnet. Stateless: everything it learns lives in the subnet. The TorchSharp pass and the ONNX
/// nodes of each direction are written next to each other.
/// </summary>
internal abstract class CouplingTransform
{
    /// <summary>Raw subnet outputs per transformed dimension.</summary>
    public abstract int ParamsPerDim { get; }

    /// <summary>z = T(x; p) for x [N, d] and raw parameters [N, d·ParamsPerDim]; log|det| summed over d, shape [N].</summary>
    public abstract (Tensor Z, Tensor LogDet) Forward(Tensor x, Tensor raw);

    /// <summary>x = T⁻¹(z; p).</summary>
    public abstract Tensor Inverse(Tensor z, Tensor raw);

    /// <summary>Writes the forward pass for a half of width <paramref name="dims"/>; returns z and log|det| [N].</summary>
    public abstract (string Z, string LogDet) EmitForward(GraphBuilder g, string x, string raw, long dims, string prefix);

    /// <summary>Writes the inverse pass for a half of width <paramref name="dims"/>.</summary>
    public abstract string EmitInverse(GraphBuilder g, string z, string raw, long dims, string prefix);

    /// <summary>Builds the transform the options name.</summary>
    public static CouplingTransform Create(CouplingFlowOptions options) => options.Transform switch
    {
        "affine" => new AffineTransform(),
        "spline" => new SplineTransform(options.Bins, options.Bound, options.MinBinSize),
        _ => throw new ArgumentException($"Unknown coupling transform '{options.Transform}'. Valid: {string.Join(", ", CouplingFlowOptions.Transforms)}."),
    };
}
