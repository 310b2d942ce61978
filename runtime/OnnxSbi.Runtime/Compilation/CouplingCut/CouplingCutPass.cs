namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Runs a coupling flow's inverse step by step (<see cref="CouplingPlan"/>: each coupling's subnet cut out of the inverse
/// graph): applies when <see cref="CouplingInverseMode.Native"/> is asked for and the manifest lists the inverse steps,
/// the exporter's declaration of its inverse pass. Otherwise (and when disabled) the whole inverse graph runs, and
/// <see cref="SubnetSplitPass"/>, which splits the cut subnets, has nothing to split.
/// </summary>
internal sealed class CouplingCutPass : CompilerPass
{
    public static CouplingCutPass Instance { get; } = new();

    public override string Name => "coupling-cut";

    /// <summary>The plan to run natively, or null (recorded with the reason) when the whole inverse graph runs.</summary>
    public CouplingPlan? Decide(CompilationContext context)
    {
        if (!context.Enabled(this)) return null;
        if (context.Options.CouplingInverse != CouplingInverseMode.Native)
        {
            context.Record(this, false, $"CouplingInverse {context.Options.CouplingInverse}: the whole inverse graph runs");
            return null;
        }
        if (context.Bundle.CouplingPlan is not { } plan)
        {
            context.Record(this, false, "the manifest lists no inverse_steps: the whole inverse graph runs");
            return null;
        }
        context.Record(this, true, $"{plan.Subnets.Count} coupling subnets cut out of the inverse graph; {plan.Steps.Count} inverse steps run natively");
        return plan;
    }
}
