using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// A bundle read into memory and checked: its manifest, the ONNX bytes of each graph and the model
/// card. Produced by <see cref="BundleReader"/>; the caller owns it and nothing stays open on disk.
/// </summary>
public sealed class BundleContents
{
    internal BundleContents(BundleManifest manifest, IReadOnlyDictionary<string, byte[]> graphs, string modelCard, string sourcePath,
        Compilation.CouplingPlan? couplingPlan)
    {
        CouplingPlan = couplingPlan;
        Manifest = manifest;
        Graphs = graphs;
        ModelCard = modelCard;
        SourcePath = sourcePath;
        Description = ModelDescription.From(manifest);
    }

    /// <summary>What the manifest says about the model, as an immutable snapshot.</summary>
    public ModelDescription Description { get; }

    /// <summary>The parsed manifest, with one <see cref="GraphEntry"/> per graph.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>The serialized ONNX model of each role ("velocity", "consistency", "inverse", "forward"), keyed by role.</summary>
    public IReadOnlyDictionary<string, byte[]> Graphs { get; }

    /// <summary>The text of MODEL_CARD.md.</summary>
    public string ModelCard { get; }

    /// <summary>A coupling flow's inverse steps with their subnets, checked against the inverse graph; null when the manifest lists none.</summary>
    internal Compilation.CouplingPlan? CouplingPlan { get; }

    /// <summary>The full path of the file the bundle was read from, or the name given when it was read from a stream or memory.</summary>
    public string SourcePath { get; }
}
