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

    /// <summary>
    /// The graph of <paramref name="role"/> as a session of a model loaded with <paramref name="options"/> gets it:
    /// after the graph passes. For tests and profiling tools.
    /// </summary>
    public static byte[] Prepare(BundleContents bundle, string role, RuntimeOptions options)
        => new CompilationContext(bundle, options, Passes).Graph(role);

    /// <summary>
    /// <paramref name="graph"/>, a graph on its own (not read from a bundle) with the residual blocks
    /// <paramref name="declared"/> for it, after the graph passes for <paramref name="precision"/>. For tests and tools.
    /// </summary>
    public static byte[] Prepare(byte[] graph, IReadOnlyList<OnnxSbi.Contracts.Manifest.ResidualBlock> declared, NetworkPrecision precision)
        => RunGraphPasses(graph, new GraphTarget("(graph)", "graph", "graph", declared, IsPart: false, precision), Passes, static (_, _, _) => { });

    /// <summary>
    /// Runs the graph passes among <paramref name="passes"/> over <paramref name="model"/> in order, on one parse,
    /// reporting each to <paramref name="record"/>; returns <paramref name="model"/> itself when nothing changes.
    /// </summary>
    internal static byte[] RunGraphPasses(byte[] model, GraphTarget target, IReadOnlyList<CompilerPass> passes, Action<CompilerPass, bool, string> record)
    {
        GraphEdit? edit = null;
        int changed = 0;
        foreach (var pass in passes.OfType<GraphPass>())
        {
            if (pass.SkipReason(target) is { } reason)
            {
                record(pass, false, reason);
                continue;
            }
            edit ??= new GraphEdit(model);
            var result = pass.Apply(edit, target);
            changed += result.Changes;
            record(pass, result.Changes > 0, result.Detail);
        }
        return changed == 0 ? model : edit!.ToBytes();
    }
}
