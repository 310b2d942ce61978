using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Compiles a bundle read into memory into a sampler: the family's descriptor (<see cref="NetworkFamilies"/>) opens its
/// graphs through a <see cref="CompilationContext"/>, which runs the graph passes over each graph and records what
/// every pass did, in the order of <see cref="Passes"/>.
/// </summary>
internal static class GraphCompiler
{
    /// <summary>
    /// The passes in the order they run on a graph: the coupling inverse is cut into subnets first, whose thin layers
    /// then move to the host; every graph (or subnet) then has its declared residual blocks rewritten and, for int8, its
    /// hidden Gemms quantized; the solver loop graph is built last, from the rewritten network.
    /// </summary>
    public static IReadOnlyList<CompilerPass> Passes { get; } =
    [
        CouplingCutPass.Instance,
        SubnetSplitPass.Instance,
        ResidualBlockPass.Instance,
        Int8QuantizationPass.Instance,
        SolverLoopPass.Instance,
    ];

    /// <summary>
    /// The sampler for <paramref name="bundle"/> and the plan it runs. Everything opened is disposed if a step fails.
    /// </summary>
    /// <exception cref="BundleFormatException">The family is not one the runtime samples, or a declared pattern does not match.</exception>
    public static (NetworkSampler Sampler, CompiledPlan Plan) Compile(BundleContents bundle, RuntimeOptions options)
    {
        var family = NetworkFamilies.Find(bundle.Manifest.Family)
            ?? throw new BundleFormatException(bundle.SourcePath, $"unsupported network family {bundle.Manifest.Family}.");
        var context = new CompilationContext(bundle, options, Passes);
        try
        {
            var sampler = family.Compile(context);
            return (sampler, context.Plan(sampler));
        }
        catch
        {
            context.DisposeCreated();
            throw;
        }
    }
}
