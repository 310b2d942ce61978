using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>The coupling flow: the forward graph for densities, and the inverse pass natively or as the whole inverse graph.</summary>
internal static class CouplingFlowFamily
{
    public static NetworkFamilyDescriptor Descriptor { get; } = new(NetworkFamily.CouplingFlow, GraphRoles.RequiredFor(NetworkFamily.CouplingFlow), Compile);

    private static NetworkSampler Compile(CompilationContext context)
    {
        int d = context.D, c = context.C;
        var forward = context.Function(GraphRoles.Forward, [(TensorNames.Theta, d), (TensorNames.Conditions, c)], [(TensorNames.Z, d), (TensorNames.LogDet, 0)]);
        ICouplingInverse inverse;
        // The whole inverse graph gets a session only when sampling runs it.
        if (CouplingCutPass.Instance.Decide(context) is { } plan)
        {
            // The forward session decided the provider: the subnets' thin layers go to the host on the CPU only.
            bool hostLayers = SubnetSplitPass.Instance.Applies(context);
            int index = 0;
            var native = NativeCouplingInverse.Open(plan, s => context.Function(GraphRoles.Inverse, [(s.Input, s.InputWidth)], [(s.Output, s.OutputWidth)],
                context.Prepare(s.Model, GraphRoles.Inverse, $"inverse subnet {index++}", isPart: true)), d, c, hostLayers);
            if (hostLayers) SubnetSplitPass.Instance.Report(context, plan.Subnets.Count, native.HostHeads, native.HostTails);
            inverse = native;
        }
        else
        {
            context.Record(SubnetSplitPass.Instance, false, "the whole inverse graph runs: there are no subnets to split");
            inverse = new InverseGraph(context.Function(GraphRoles.Inverse, [(TensorNames.Z, d), (TensorNames.Conditions, c)], [(TensorNames.Theta, d)]));
        }
        return new CouplingPosteriorSampler(inverse, forward, d, c, context.BlockLayout);
    }
}
