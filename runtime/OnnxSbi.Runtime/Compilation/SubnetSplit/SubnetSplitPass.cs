namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Moves each cut coupling subnet's thin first and last layers to the host (<see cref="SubnetSplit"/>): applies on the
/// CPU provider after <see cref="CouplingCutPass"/>. On a GPU the thin layers cost little, and moving them to the host
/// would copy the subnets' wide hidden layers between host and device instead of their few input and output columns.
/// </summary>
internal sealed class SubnetSplitPass : CompilerPass
{
    public static SubnetSplitPass Instance { get; } = new();

    public override string Name => "subnet-split";

    /// <summary>Whether the subnets are split (enabled, on this provider); recorded when not.</summary>
    public bool Applies(CompilationContext context)
    {
        if (!context.Enabled(this)) return false;
        if (context.Provider == ExecutionProvider.Cpu) return true;
        context.Record(this, false, $"provider {context.Provider}: the subnets run whole on the device");
        return false;
    }

    /// <summary>Records how many subnets got host layers.</summary>
    public void Report(CompilationContext context, int subnets, int heads, int tails)
        => context.Record(this, heads + tails > 0, $"host first layer on {heads} of {subnets} subnets, host last layer on {tails}");
}
