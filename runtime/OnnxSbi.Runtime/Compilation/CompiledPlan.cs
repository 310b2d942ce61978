using System.Globalization;
using System.Text;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>How a loaded model's sampling network runs each block of draws.</summary>
public enum ExecutionStrategy
{
    /// <summary>The runtime steps the solver (flow matching's integrator, the consistency sampler): one network evaluation per session run.</summary>
    HostLoop,

    /// <summary>All steps of a block in one session run of a solver loop graph (fixed-step methods and the consistency sampler).</summary>
    SolverLoopGraph,

    /// <summary>A coupling flow's whole inverse graph, one session run per block.</summary>
    InverseGraph,

    /// <summary>A coupling flow's inverse step by step: the subnets in ONNX Runtime, the transforms in the runtime.</summary>
    NativeCouplingInverse,
}

/// <summary>What one compiler pass did at load.</summary>
/// <param name="Name">The pass's name (e.g. "residual-blocks").</param>
/// <param name="Applied">Whether it changed what runs.</param>
/// <param name="Detail">What it did, or why it did not apply.</param>
public sealed record CompiledPass(string Name, bool Applied, string Detail);

/// <summary>
/// What loading compiled a bundle into: the graph passes in the order they ran (applied or not, and why), how a
/// request is cut into blocks, the provider, the precision and the execution strategy of the sampling network.
/// Fixed at load; <see cref="Describe"/> prints it.
/// </summary>
public sealed class CompiledPlan
{
    internal CompiledPlan(IReadOnlyList<CompiledPass> passes, int chunkSize, int parallelBlocks, int intraOpThreads, bool allowSpinning,
        ExecutionProvider provider, NetworkPrecision precision, ExecutionStrategy strategy, string samplingRole)
    {
        Passes = passes;
        ChunkSize = chunkSize;
        ParallelBlocks = parallelBlocks;
        IntraOpThreads = intraOpThreads;
        AllowSpinning = allowSpinning;
        Provider = provider;
        Precision = precision;
        Strategy = strategy;
        SamplingRole = samplingRole;
    }

    /// <summary>Every pass of the compiler, in the order they ran.</summary>
    public IReadOnlyList<CompiledPass> Passes { get; }

    /// <summary>The names of the passes that applied, in order.</summary>
    public IReadOnlyList<string> AppliedPasses => Passes.Where(p => p.Applied).Select(p => p.Name).ToArray();

    /// <summary>Rows per network evaluation.</summary>
    public int ChunkSize { get; }

    /// <summary>Blocks of <see cref="ChunkSize"/> rows evaluated at once, one thread each.</summary>
    public int ParallelBlocks { get; }

    /// <summary>The intra-op thread count the sessions were created with (0: ONNX Runtime's default).</summary>
    public int IntraOpThreads { get; }

    /// <summary>Whether the sessions' worker threads spin.</summary>
    public bool AllowSpinning { get; }

    /// <summary>The execution provider in use (CPU when CUDA was asked for but unavailable and fallback is on).</summary>
    public ExecutionProvider Provider { get; }

    /// <summary>The arithmetic of the hidden layers.</summary>
    public NetworkPrecision Precision { get; }

    /// <summary>How each block of the sampling network runs.</summary>
    public ExecutionStrategy Strategy { get; }

    /// <summary>The graph role evaluated while sampling ("velocity", "consistency" or "inverse").</summary>
    public string SamplingRole { get; }

    /// <summary>The plan as indented lines: execution first, then each pass with what it did or why it did not apply.</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"Execution: {Strategy} over the '{SamplingRole}' graph, provider {Provider}, precision {Precision}");
        sb.AppendLine(inv, $"Blocks: {ChunkSize} rows, {ParallelBlocks} in parallel, {(IntraOpThreads == 0 ? "ONNX Runtime's default" : IntraOpThreads.ToString(inv))} intra-op thread(s) each, spinning {(AllowSpinning ? "on" : "off")}");
        sb.AppendLine("Passes:");
        foreach (var pass in Passes)
            sb.AppendLine(inv, $"  {(pass.Applied ? "applied" : "skipped"),-8} {pass.Name}: {pass.Detail}");
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Describe();
}
