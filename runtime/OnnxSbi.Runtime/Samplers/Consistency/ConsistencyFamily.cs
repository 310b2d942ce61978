using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>The consistency model: the consistency function's graph, stepped from the host or as one solver loop graph.</summary>
internal static class ConsistencyFamily
{
    public static NetworkFamilyDescriptor Descriptor { get; } = new(NetworkFamily.ConsistencyModel, GraphRoles.RequiredFor(NetworkFamily.ConsistencyModel), Compile);

    private static NetworkSampler Compile(CompilationContext context)
    {
        int d = context.D, c = context.C;
        var f = context.Function(GraphRoles.Consistency, [(TensorNames.ThetaT, d), (TensorNames.Time, 1), (TensorNames.Conditions, c)], [(TensorNames.Theta, d)]);
        var spec = context.Manifest.Consistency ?? throw new BundleFormatException(context.Path, "a consistency bundle's manifest has no 'consistency' sampler parameters.");
        IConsistencySteps steps = new HostConsistencySteps(f);
        if (SolverLoopPass.Instance.Wanted(context))
        {
            var loop = context.LoopFunction(() => SolverLoopGraph.Consistency(context.Graph(GraphRoles.Consistency), d), consistency: true, 1);
            if (loop is not null)
            {
                context.Track(loop);
                steps = new LoopConsistencySteps(f, loop, d);
            }
            SolverLoopPass.Instance.Report(context, loop is not null, loop is not null
                ? "every step of a block runs in one loop graph"
                : $"provider {context.Provider} cannot run the loop graph: the runtime steps the sampler");
        }
        return new ConsistencyPosteriorSampler(steps, spec, d, c, context.BlockLayout);
    }
}
