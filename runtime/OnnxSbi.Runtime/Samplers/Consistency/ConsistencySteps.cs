using System.Numerics.Tensors;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>How the steps of one block of consistency sampling run: an execution strategy chosen at compile time.</summary>
internal interface IConsistencySteps : IDisposable
{
    ExecutionStrategy Strategy { get; }

    /// <summary>Rows pushed through the consistency network (directly or inside the loop graph).</summary>
    long RowsEvaluated { get; }

    /// <summary>
    /// Runs the sampler over the decreasing times <paramref name="grid"/> into <paramref name="destination"/> [rows, D]:
    /// noise z, θ = T·z, θ ← f(θ, T), then θ ← f(θ + σ_n·ξ_n, τ_n), drawing z and then ξ_1 … ξ_{S−1} from <paramref name="noise"/>.
    /// </summary>
    void Run(in BlockRequest block, float[] grid, float eps, Span<float> destination, NormalGenerator noise, CancellationToken ct);
}

/// <summary>The runtime steps the sampler: one consistency-function evaluation per session run.</summary>
internal sealed class HostConsistencySteps(OnnxFunction consistency) : IConsistencySteps
{
    public ExecutionStrategy Strategy => ExecutionStrategy.HostLoop;

    public long RowsEvaluated => consistency.RowsEvaluated;

    public void Run(in BlockRequest block, float[] grid, float eps, Span<float> destination, NormalGenerator noise, CancellationToken ct)
    {
        using var eval = consistency.Rent(block.Rows);
        block.FillConditions(eval.Inputs[2]);
        var theta = eval.Inputs[0];
        noise.Fill(theta);
        TensorPrimitives.Multiply(theta, grid[0], theta);
        for (int n = 0; n < grid.Length; n++)
        {
            ct.ThrowIfCancellationRequested();
            if (n > 0)
            {
                // θ + √(t_n² − ε²)·ξ, written straight into the bound input from the last output.
                float scale = ConsistencyPosteriorSampler.NoiseScale(grid[n], eps);
                noise.Fill(theta);
                TensorPrimitives.MultiplyAdd(theta, scale, eval.Outputs[0], theta);
            }
            eval.Inputs[1].Fill(grid[n]);
            eval.Run();
        }
        eval.Outputs[0].CopyTo(destination);
    }

    public void Dispose() => consistency.Dispose();
}

/// <summary>
/// All steps of a block in one run of the consistency loop graph (<see cref="SolverLoopGraph.Consistency"/>), with the
/// same noise drawn in the same order as <see cref="HostConsistencySteps"/>. Takes ownership of both functions;
/// <paramref name="consistency"/> is the network's own session, kept for its evaluation count and released with the loop.
/// </summary>
internal sealed class LoopConsistencySteps(OnnxFunction consistency, OnnxFunction loop, int d) : IConsistencySteps
{
    public ExecutionStrategy Strategy => ExecutionStrategy.SolverLoopGraph;

    public long RowsEvaluated => consistency.RowsEvaluated + loop.RowsEvaluated;

    public void Run(in BlockRequest block, float[] grid, float eps, Span<float> destination, NormalGenerator noise, CancellationToken ct)
    {
        using var run = loop.Rent(block.Rows, grid.Length);
        block.FillConditions(run.Inputs[SolverLoopGraph.ConditionsInput]);
        Span<float> state = run.Inputs[SolverLoopGraph.StateInput], scales = run.Inputs[SolverLoopGraph.NoiseScalesInput], xi = run.Inputs[SolverLoopGraph.NoiseInput];
        noise.Fill(state);
        TensorPrimitives.Multiply(state, grid[0], state);
        grid.CopyTo(run.Inputs[SolverLoopGraph.TimesInput]);
        int size = block.Rows * d;
        scales[0] = 0f;
        xi[..size].Clear();
        for (int n = 1; n < grid.Length; n++)
        {
            scales[n] = ConsistencyPosteriorSampler.NoiseScale(grid[n], eps);
            noise.Fill(xi.Slice(n * size, size));
        }
        run.Run(ct);
        run.Outputs[0].CopyTo(destination);
    }

    public void Dispose()
    {
        consistency.Dispose();
        loop.Dispose();
    }
}
