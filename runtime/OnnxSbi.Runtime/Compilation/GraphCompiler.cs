using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// The compile stage between reading a bundle and sampling it. <see cref="PosteriorModel.Load(BundleContents, RuntimeOptions?)"/>
/// compiles through it: the family's descriptor opens its graphs, every graph goes through the graph passes (residual
/// block rewrite, int8 quantization) and <see cref="PosteriorModel.Plan"/> records what each pass did. Publicly it shows
/// the graphs those passes produce, for inspection and profiling; sampling itself goes through <see cref="PosteriorModel"/>.
/// </summary>
public static class GraphCompiler
{
    /// <summary>
    /// The passes in the order they run on a graph: the coupling inverse is cut into subnets first, whose thin layers
    /// then move to the host; every graph (or subnet) then has its declared residual blocks rewritten and, for int8, its
    /// hidden Gemms quantized; the solver loop graph is built last, from the rewritten network.
    /// </summary>
    internal static IReadOnlyList<CompilerPass> Passes { get; } =
    [
        CouplingCutPass.Instance,
        SubnetSplitPass.Instance,
        ResidualBlockPass.Instance,
        Int8QuantizationPass.Instance,
        SolverLoopPass.Instance,
    ];

    /// <summary>The passes' names, in order: what <see cref="RuntimeOptions.DisabledPasses"/> may name.</summary>
    internal static IReadOnlyList<string> PassNames { get; } = Passes.Select(p => p.Name).ToArray();

    /// <summary>
    /// The sampler for <paramref name="bundle"/> and the plan it runs. Everything opened is disposed if a step fails.
    /// </summary>
    /// <exception cref="BundleFormatException">The family is not one the runtime samples, or a declared pattern does not match.</exception>
    internal static (NetworkSampler Sampler, CompiledPlan Plan) Compile(BundleContents bundle, RuntimeOptions options)
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
    /// The graph a session runs for <paramref name="role"/> under <paramref name="options"/>: the bundle's graph after
    /// the graph passes (its declared residual blocks rewritten; its hidden Gemms quantized for int8), as serialized
    /// ONNX, for inspection and profiling. Nothing is opened; the bytes are the caller's.
    /// </summary>
    /// <param name="bundle">The bundle, read and validated.</param>
    /// <param name="role">A graph role the bundle holds ("velocity", "consistency", "inverse", "forward").</param>
    /// <param name="options">The options a model would be loaded with; only <see cref="RuntimeOptions.Precision"/> and <see cref="RuntimeOptions.DisabledPasses"/> change the graph.</param>
    /// <exception cref="ArgumentException">The bundle has no graph <paramref name="role"/>.</exception>
    /// <exception cref="InvalidRequestException">An option is invalid (<see cref="RuntimeOptions.Validate"/>).</exception>
    /// <exception cref="BundleFormatException">A declared residual block does not match the graph.</exception>
    public static byte[] Prepare(BundleContents bundle, string role, RuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!bundle.Graphs.ContainsKey(role))
            throw new ArgumentException($"Bundle '{bundle.SourcePath}' has no graph '{role}'; it holds {string.Join(", ", bundle.Graphs.Keys)}.", nameof(role));
        return new CompilationContext(bundle, options, Passes).Graph(role);
    }

    /// <summary>
    /// <paramref name="graph"/>, a graph on its own (not read from a bundle) with the residual blocks
    /// <paramref name="declared"/> for it, after the graph passes for <paramref name="precision"/>: what a session would
    /// run, for graphs built outside a bundle (a coupling subnet, a benchmark's reference graph).
    /// </summary>
    /// <param name="graph">A serialized ONNX model.</param>
    /// <param name="declared">Its residual blocks, as a manifest would declare them; empty for none.</param>
    /// <param name="precision">The arithmetic of the hidden layers.</param>
    /// <returns>The rewritten graph, or <paramref name="graph"/> itself when no pass changes it.</returns>
    /// <exception cref="BundleFormatException">A declared residual block does not match the graph.</exception>
    public static byte[] Prepare(byte[] graph, IReadOnlyList<OnnxSbi.Contracts.Manifest.ResidualBlock> declared, NetworkPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(declared);
        return RunGraphPasses(graph, new GraphTarget("(graph)", "graph", "graph", declared, IsPart: false, precision), Passes, static (_, _, _) => { });
    }

    /// <summary>
    /// The coupling subnets of <paramref name="bundle"/> as the native coupling inverse cuts them out of its inverse graph,
    /// one per coupling step in step order, whole (before any layer moves to the host) and before the graph passes;
    /// empty when the bundle is not a coupling flow whose manifest lists inverse steps.
    /// </summary>
    /// <param name="bundle">The bundle, read and validated.</param>
    public static IReadOnlyList<byte[]> CouplingSubnets(BundleContents bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return bundle.CouplingPlan?.Subnets.Select(s => s.Model).ToArray() ?? [];
    }

    /// <summary>
    /// The residual blocks of the exporter's pattern in <paramref name="graph"/>, found by their structure, in graph
    /// order, as a manifest declares them: for declaring the blocks of a bundle whose manifest lacks them. Loading
    /// never searches; it rewrites only what the manifest declares.
    /// </summary>
    /// <param name="graph">A serialized ONNX model.</param>
    public static IReadOnlyList<OnnxSbi.Contracts.Manifest.ResidualBlock> DiscoverResidualBlocks(byte[] graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return ResidualBlockRewrite.Discover(graph);
    }

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
