namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Rewrites the residual blocks the exporter declared (<see cref="ResidualBlockRewrite"/>): applies to a graph whose
/// manifest entry declares blocks. Float precision combines each block's projection into one Gemm; int8 keeps it
/// separate so that the quantizer sees the exported weights.
/// </summary>
internal sealed class ResidualBlockPass : GraphPass
{
    public static ResidualBlockPass Instance { get; } = new();

    public override string Name => "residual-blocks";

    public override string? SkipReason(GraphTarget target)
        => target.ResidualBlocks.Count == 0 ? $"{target.Label}: the manifest declares no residual blocks" : null;

    public override PassResult Apply(GraphEdit edit, GraphTarget target)
    {
        bool combine = target.Precision != NetworkPrecision.Int8;
        int rewritten = ResidualBlockRewrite.Apply(edit, target.ResidualBlocks, combine, target.BundlePath, target.Label, target.IsPart);
        return new(rewritten, $"{target.Label}: {rewritten} of {target.ResidualBlocks.Count} declared blocks rewritten ({(combine ? "projection combined" : "projection separate, for int8")})");
    }
}
