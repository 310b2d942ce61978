using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>The graph a <see cref="GraphPass"/> is asked to rewrite, and what the bundle declares about it.</summary>
/// <param name="BundlePath">The bundle, for errors.</param>
/// <param name="Role">The graph role the graph is (or was cut out of).</param>
/// <param name="Label">The graph as the plan names it: the role, or e.g. "inverse subnet 2".</param>
/// <param name="ResidualBlocks">The residual blocks the manifest declares for the role's graph.</param>
/// <param name="IsPart">The graph is a part cut out of the role's graph (a coupling subnet).</param>
/// <param name="Precision">The precision asked for.</param>
internal sealed record GraphTarget(string BundlePath, string Role, string Label, IReadOnlyList<ResidualBlock> ResidualBlocks, bool IsPart, NetworkPrecision Precision);

/// <summary>What a graph pass did to one graph: the number of changes (0: the graph is unchanged) and a short detail.</summary>
internal readonly record struct PassResult(int Changes, string Detail);

/// <summary>
/// A load-time rewrite of one ONNX graph into a faster one with the same function. Passes run in the compiler's order
/// on one parsed model (<see cref="GraphEdit"/>), which is serialized once at the end.
/// </summary>
internal abstract class GraphPass : CompilerPass
{
    /// <summary>Why the pass does not apply to <paramref name="target"/>, or null when it does.</summary>
    public abstract string? SkipReason(GraphTarget target);

    /// <summary>Rewrites the graph of <paramref name="edit"/> in place.</summary>
    public abstract PassResult Apply(GraphEdit edit, GraphTarget target);
}

/// <summary>A step of compilation that the plan reports: applied with a detail, or skipped with the reason.</summary>
internal abstract class CompilerPass
{
    /// <summary>The name the plan shows.</summary>
    public abstract string Name { get; }
}
