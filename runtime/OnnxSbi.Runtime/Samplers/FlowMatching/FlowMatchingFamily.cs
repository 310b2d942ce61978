using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>Flow matching: the velocity graph, integrated from the host or as solver loop graphs.</summary>
internal static class FlowMatchingFamily
{
    public static NetworkFamilyDescriptor Descriptor { get; } = new(NetworkFamily.FlowMatching, GraphRoles.RequiredFor(NetworkFamily.FlowMatching), Compile);

    private static NetworkSampler Compile(CompilationContext context)
    {
        int d = context.D, c = context.C;
        var velocity = context.Function(GraphRoles.Velocity, [(TensorNames.ThetaT, d), (TensorNames.Time, 1), (TensorNames.Conditions, c)], [(TensorNames.Velocity, d)]);
        var defaults = FlowMatchingDefaults.From(context.Manifest.FlowMatching);
        var host = new HostVelocityIntegration(velocity, d);
        IVelocityIntegration integration = host;
        if (SolverLoopPass.Instance.Wanted(context))
        {
            bool required = context.Options.SolverLoop == SolverLoopMode.Graph;
            var defaultKind = defaults.Method;
            OnnxFunction? Loop(IntegratorKind kind)
            {
                var tableau = ButcherTableau.For(kind);
                return context.LoopFunction(() => SolverLoopGraph.FixedStep(context.Graph(GraphRoles.Velocity), tableau, d), consistency: false, tableau.Stages);
            }
            var loop = new SolverLoopVelocityIntegration(host, Loop, required, defaultKind);
            integration = loop;
            bool adaptiveDefault = ButcherTableau.For(defaultKind).E is not null;
            SolverLoopPass.Instance.Report(context, loop.UsesLoopGraph || adaptiveDefault, loop.UsesLoopGraph
                ? $"fixed-step methods run as one loop graph per block (built for {IntegratorKinds.ToName(defaults.Method)}){(required ? "; adaptive methods are refused" : "; adaptive methods step from the host")}"
                : adaptiveDefault
                    ? $"fixed-step methods run as one loop graph per block, built on first use; the default {IntegratorKinds.ToName(defaults.Method)} is adaptive and steps from the host"
                    : $"provider {context.Provider} cannot run the loop graph: the runtime steps the solver");
        }
        return new FlowMatchingPosteriorSampler(integration, defaults, d, c, context.BlockLayout);
    }
}
