using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>How a request is cut into network evaluations: rows per block, and blocks run at once.</summary>
internal readonly record struct Blocking(int ChunkSize, int ParallelBlocks);

/// <summary>
/// Draws network-space samples θ [conditions·draws, D] for adapted conditions [conditions, C].
/// Work is split into blocks of at most <see cref="ChunkSize"/> rows, each with its own noise stream
/// (seed, block index), so results depend only on the seed and the chunk size; up to
/// <see cref="ParallelBlocks"/> blocks run at once.
/// </summary>
internal abstract class NetworkSampler : IDisposable
{
    protected NetworkSampler(int inferenceDim, int conditionDim, Blocking blocking)
    {
        D = inferenceDim;
        C = conditionDim;
        ChunkSize = blocking.ChunkSize;
        ParallelBlocks = Math.Max(blocking.ParallelBlocks, 1);
    }

    protected int D { get; }

    protected int C { get; }

    public int ChunkSize { get; }

    /// <summary>Blocks evaluated at once, each on its own thread (1: one after another).</summary>
    public int ParallelBlocks { get; }

    /// <summary>The graph role evaluated while sampling (velocity, consistency or inverse).</summary>
    public abstract string SamplingRole { get; }

    /// <summary>How each block runs (host loop, solver loop graph, native coupling inverse or whole inverse graph).</summary>
    public abstract ExecutionStrategy Strategy { get; }

    /// <summary>Rows pushed through the sampling network so far (one full network evaluation each): the network work done.</summary>
    public abstract long NetworkRowsEvaluated { get; }

    /// <summary>Checks the per-call options against this family before any work starts; returns warnings.</summary>
    public virtual IReadOnlyList<string> Check(SamplingOptions options) => [];

    public void Sample(float[] conditions, int numConditions, int draws, float[] destination, SamplingOptions options, CancellationToken ct)
    {
        long total = (long)numConditions * draws;
        int blocks = (int)((total + ChunkSize - 1) / ChunkSize);
        void Block(int b)
        {
            ct.ThrowIfCancellationRequested();
            long first = (long)b * ChunkSize;
            int rows = (int)Math.Min(ChunkSize, total - first);
            SampleBlock(new BlockRequest(conditions, C, draws, first, rows), destination.AsSpan((int)(first * D), rows * D), NormalGenerator.ForStream(options.Seed, (ulong)b), options, ct);
        }
        ForEachBlock(blocks, ParallelBlocks, ct, Block);
    }

    /// <summary>
    /// Runs <paramref name="body"/> for blocks 0 … count − 1, up to <paramref name="parallel"/> at once; an
    /// exception from a block surfaces as itself, not wrapped. Each block must own its buffers (and, when
    /// sampling, its noise stream), so the result does not depend on the order blocks finish in.
    /// </summary>
    public static void ForEachBlock(int count, int parallel, CancellationToken ct, Action<int> body)
    {
        if (parallel <= 1 || count == 1)
        {
            for (int b = 0; b < count; b++) body(b);
            return;
        }
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>Samples the block's rows into <paramref name="destination"/> [rows, D].</summary>
    protected abstract void SampleBlock(in BlockRequest block, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct);

    public abstract void Dispose();
}

/// <summary>
/// One block of a request: sample rows [<see cref="First"/>, First + <see cref="Rows"/>) of conditions × draws, where
/// sample row r belongs to condition row r / <see cref="Draws"/>.
/// </summary>
internal readonly record struct BlockRequest(float[] Conditions, int ConditionDim, int Draws, long First, int Rows)
{
    /// <summary>Copies the condition row of every sample row of the block into <paramref name="target"/> [Rows, C].</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void FillConditions(Span<float> target)
    {
        int c = ConditionDim;
        if (c == 0) return;
        for (int r = 0; r < Rows; r++)
        {
            long condition = (First + r) / Draws;
            Conditions.AsSpan((int)(condition * c), c).CopyTo(target.Slice(r * c, c));
        }
    }
}
