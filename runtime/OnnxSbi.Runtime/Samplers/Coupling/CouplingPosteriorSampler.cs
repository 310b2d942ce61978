using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>
/// Coupling flow: one inverse pass z → θ with z ~ N(0, I), run by the <see cref="ICouplingInverse"/> chosen at compile
/// time (the native step-by-step inverse, or the whole inverse graph), and the forward graph θ → (z, log|det J|) for densities.
/// </summary>
internal sealed class CouplingPosteriorSampler : NetworkSampler
{
    private readonly ICouplingInverse inverse;

    /// <summary>Takes ownership of <paramref name="inverse"/> and <paramref name="forward"/>.</summary>
    public CouplingPosteriorSampler(ICouplingInverse inverse, OnnxFunction forward, int d, int c, Blocking blocking) : base(d, c, blocking)
    {
        this.inverse = inverse;
        Forward = forward;
    }

    /// <summary>The step-by-step inverse, or null when sampling runs the inverse graph.</summary>
    public NativeCouplingInverse? Native => inverse as NativeCouplingInverse;

    public override long NetworkRowsEvaluated => inverse.RowsEvaluated;

    public override string SamplingRole => GraphRoles.Inverse;

    public override ExecutionStrategy Strategy => inverse.Strategy;

    /// <summary>The forward graph θ → (z, log|det J|), for densities.</summary>
    public OnnxFunction Forward { get; }

    protected override void SampleBlock(in BlockRequest block, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct)
        => inverse.Sample(block, destination, noise);

    public override void Dispose()
    {
        inverse.Dispose();
        Forward.Dispose();
    }
}

/// <summary>How a coupling flow's inverse pass runs for one block: an execution strategy chosen at compile time.</summary>
internal interface ICouplingInverse : IDisposable
{
    ExecutionStrategy Strategy { get; }

    /// <summary>Rows pushed through the whole inverse pass so far.</summary>
    long RowsEvaluated { get; }

    /// <summary>Draws z into the block and maps it to θ in <paramref name="destination"/> [rows, D].</summary>
    void Sample(in BlockRequest block, Span<float> destination, NormalGenerator noise);
}

/// <summary>The bundle's whole inverse graph in ONNX Runtime, one session run per block. Owns the function.</summary>
internal sealed class InverseGraph(OnnxFunction inverse) : ICouplingInverse
{
    public ExecutionStrategy Strategy => ExecutionStrategy.InverseGraph;

    public long RowsEvaluated => inverse.RowsEvaluated;

    public void Sample(in BlockRequest block, Span<float> destination, NormalGenerator noise)
    {
        using var eval = inverse.Rent(block.Rows);
        block.FillConditions(eval.Inputs[1]);
        noise.Fill(eval.Inputs[0]);
        eval.Run();
        eval.Outputs[0].CopyTo(destination);
    }

    public void Dispose() => inverse.Dispose();
}
