using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Trainer.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// An amortized posterior network q(θ | c) in network space: θ is the adapter's
/// <c>inference_variables</c> [B, D], c its <c>inference_conditions</c> [B, C].
/// Each network computes its own training loss and writes its own ONNX graphs, next to each other,
/// so that the exported function cannot drift from the trained one.
/// </summary>
public abstract class PosteriorNetwork : nn.Module
{
    /// <summary>Creates the network for <paramref name="inferenceDim"/> parameters and <paramref name="conditionDim"/> conditions.</summary>
    protected PosteriorNetwork(string name, int inferenceDim, int conditionDim) : base(name)
    {
        if (inferenceDim <= 0) throw new ArgumentOutOfRangeException(nameof(inferenceDim), inferenceDim, "The inference dimension must be positive.");
        if (conditionDim < 0) throw new ArgumentOutOfRangeException(nameof(conditionDim), conditionDim, "The condition dimension must not be negative.");
        InferenceDim = inferenceDim;
        ConditionDim = conditionDim;
    }

    /// <summary>D: the width of the network-side inference variables.</summary>
    public int InferenceDim { get; }

    /// <summary>C: the width of the network-side conditions.</summary>
    public int ConditionDim { get; }

    /// <summary>The family recorded in the bundle manifest; selects the runtime sampler.</summary>
    public abstract NetworkFamily Family { get; }

    /// <summary>
    /// The scalar training loss for one batch. <paramref name="step"/> is the global optimizer step
    /// (schedules such as the consistency model's discretization advance with it); randomness comes
    /// from <paramref name="generator"/> so training is reproducible.
    /// </summary>
    public abstract Tensor ComputeLoss(Tensor theta, Tensor conditions, long step, Generator generator);

    /// <summary>Writes the network's ONNX graphs, keyed by role (see docs/DESIGN.md), with their declarations for the manifest.</summary>
    public abstract ExportedGraphs ExportGraphs(OnnxModelInfo info);

    /// <summary>Records the sampler's parameters and defaults in the manifest.</summary>
    public abstract void DescribeSampler(BundleManifest manifest);

    /// <summary>The options used to build the network, for the model card and the manifest's configuration.</summary>
    public abstract object Describe();
}
