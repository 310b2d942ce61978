using System.Numerics.Tensors;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Runtime.Sampling;

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
            SampleBlock(conditions, draws, first, rows, destination.AsSpan((int)(first * D), rows * D), NormalGenerator.ForStream(options.Seed, (ulong)b), options, ct);
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

    /// <summary>Samples rows [first, first + rows) into <paramref name="destination"/>.</summary>
    protected abstract void SampleBlock(float[] conditions, int draws, long first, int rows, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct);

    /// <summary>Copies the condition row of every sample row of the block into <paramref name="target"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    protected void FillConditions(float[] conditions, int draws, long first, int rows, float[] target)
    {
        if (C == 0) return;
        for (int r = 0; r < rows; r++)
        {
            long condition = (first + r) / draws;
            conditions.AsSpan((int)(condition * C), C).CopyTo(target.AsSpan(r * C, C));
        }
    }

    public abstract void Dispose();
}

/// <summary>Flow matching: integrates the exported velocity field from noise (t = 0) to data (t = 1).</summary>
internal sealed class FlowMatchingPosteriorSampler : NetworkSampler
{
    private readonly OnnxFunction velocity;
    private readonly FlowMatchingDefaults defaults;
    // Integrators own their stage buffers (4–7 × rows·D floats); reusing them across blocks and calls
    // keeps a many-block request from allocating per block.
    private readonly System.Collections.Concurrent.ConcurrentBag<OdeIntegrator> integrators = new();

    // Solver loop graphs per fixed-step method, built on first use (the bundle's default method at load).
    private readonly Func<IntegratorKind, OnnxFunction?>? loopFactory;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IntegratorKind, Lazy<OnnxFunction?>> loops = new();
    private readonly bool loopRequired;

    /// <summary>
    /// Takes ownership of <paramref name="velocity"/> and of the loops <paramref name="loopFactory"/> builds (one per
    /// fixed-step method, or null where it cannot build one; a null factory runs every step from the host). <paramref name="loopRequired"/>: the caller asked for
    /// <see cref="SolverLoopMode.Graph"/>, so adaptive methods are refused instead of stepped from the host.
    /// </summary>
    public FlowMatchingPosteriorSampler(OnnxFunction velocity, FlowMatchingDefaults defaults, int d, int c, Blocking blocking, Func<IntegratorKind, OnnxFunction?>? loopFactory = null, bool loopRequired = false) : base(d, c, blocking)
    {
        this.velocity = velocity;
        this.defaults = defaults;
        this.loopFactory = loopFactory;
        this.loopRequired = loopRequired;
        if (loopFactory is not null && ButcherTableau.For(defaults.Method).E is null)
            Loop(defaults.Method);
    }

    public override string SamplingRole => GraphRoles.Velocity;

    public override long NetworkRowsEvaluated => velocity.RowsEvaluated + Built.Sum(l => l.RowsEvaluated);

    /// <summary>True when fixed-step integration runs as one solver loop graph per block (a loop graph has been built).</summary>
    public bool UsesSolverLoop => Built.Any();

    private IEnumerable<OnnxFunction> Built => loops.Values.Where(l => l.IsValueCreated && l.Value is not null).Select(l => l.Value!);

    private OnnxFunction? Loop(IntegratorKind kind)
        => loops.GetOrAdd(kind, static (k, factory) => new Lazy<OnnxFunction?>(() => factory(k)), loopFactory!).Value;

    public IntegratorOptions Resolve(SamplingOptions o)
    {
        var kind = o.Method ?? defaults.Method;
        return new IntegratorOptions(kind, o.Steps ?? defaults.Steps, o.Atol ?? defaults.Atol, o.Rtol ?? defaults.Rtol, defaults.MinSteps, defaults.MaxSteps);
    }

    public override IReadOnlyList<string> Check(SamplingOptions options)
    {
        if (options.Method is { } method && !Enum.IsDefined(method))
            throw new InvalidRequestException($"SamplingOptions.Method {(int)method} is not an IntegratorKind value; expected one of {IntegratorKinds.ValidNames}.");
        var resolved = Resolve(options);
        if (resolved.Steps <= 0) throw new InvalidRequestException($"Steps must be positive; got {resolved.Steps}.");
        if (!(resolved.Atol > 0) || !(resolved.Rtol > 0)) throw new InvalidRequestException($"Tolerances must be positive; got atol={resolved.Atol}, rtol={resolved.Rtol}.");
        if (loopRequired && resolved.IsAdaptive)
            throw new InvalidRequestException($"SolverLoop Graph runs fixed-step methods (euler, rk4) only; method '{IntegratorKinds.ToName(resolved.Kind)}' is adaptive. Choose a fixed-step method, or SolverLoop Auto/Host to step it from the host.");
        return [];
    }

    protected override void SampleBlock(float[] conditions, int draws, long first, int rows, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct)
    {
        var resolved = Resolve(options);
        if (loopFactory is not null && !resolved.IsAdaptive && Loop(resolved.Kind) is { } loop)
        {
            using var block = loop.Rent(rows, resolved.Steps);
            FillConditions(conditions, draws, first, rows, block.Inputs[SolverLoopGraph.ConditionsInput]);
            noise.Fill(block.Inputs[SolverLoopGraph.StateInput]);
            // The host integrator's grid (OdeIntegrator.IntegrateFixed): t_s = s/S from the step index, t_S = 1 exactly.
            float[] times = block.Inputs[SolverLoopGraph.TimesInput];
            for (int s = 0; s < resolved.Steps; s++) times[s] = (float)((double)s / resolved.Steps);
            times[resolved.Steps] = 1f;
            block.Run(ct);
            block.Outputs[0].AsSpan().CopyTo(destination);
            return;
        }
        using var eval = velocity.Rent(rows);
        FillConditions(conditions, draws, first, rows, eval.Inputs[2]);
        noise.Fill(destination);
        if (!integrators.TryTake(out var integrator) || integrator.Options != resolved)
            integrator = new OdeIntegrator(resolved, D);
        try
        {
            integrator.Integrate(new VelocityField(eval), destination, 0f, 1f, ct);
        }
        finally
        {
            integrators.Add(integrator);
        }
    }

    public override void Dispose()
    {
        velocity.Dispose();
        foreach (var loop in Built) loop.Dispose();
    }

    /// <summary>dθ/dt = v(θ, t, c) through one bound ONNX evaluation; allocation-free.</summary>
    private sealed class VelocityField(OnnxFunction.Evaluation eval) : IOdeSystem
    {
        public void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative)
        {
            state.CopyTo(eval.Inputs[0]);
            eval.Inputs[1].AsSpan().Fill(t);
            eval.Run();
            eval.Outputs[0].AsSpan().CopyTo(derivative);
        }
    }
}

/// <summary>The flow matching integrator defaults recorded in a bundle.</summary>
internal sealed record FlowMatchingDefaults(IntegratorKind Method, int Steps, double Atol, double Rtol, int MinSteps, int MaxSteps)
{
    /// <summary>
    /// The defaults in <paramref name="m"/>, each unset one BayesFlow's (tsit5). The method's name has been checked
    /// when the bundle was read (BundleValidator.CheckManifest).
    /// </summary>
    public static FlowMatchingDefaults From(OnnxSbi.Contracts.Manifest.FlowMatchingSampler? m) => new(
        string.IsNullOrEmpty(m?.DefaultMethod) ? IntegratorKind.Tsit5 : IntegratorKinds.Parse(m!.DefaultMethod),
        m?.DefaultSteps > 0 ? m.DefaultSteps : 100,
        m?.Atol > 0 ? m.Atol : 1e-6,
        m?.Rtol > 0 ? m.Rtol : 1e-4,
        m?.MinSteps > 0 ? m.MinSteps : 50,
        m?.MaxSteps > 0 ? m.MaxSteps : 10_000);
}

/// <summary>
/// Multistep consistency sampling (Song et al. 2023, Alg. 1): θ = T·z, θ ← f(θ, T), then for each
/// time t_n of a decreasing ρ-spaced grid, θ ← f(θ + √(t_n² − ε²)·ξ, t_n) with fresh noise ξ.
/// </summary>
internal sealed class ConsistencyPosteriorSampler : NetworkSampler
{
    private readonly OnnxFunction consistency;
    private readonly OnnxSbi.Contracts.Manifest.ConsistencySampler spec;

    private readonly OnnxFunction? loop;

    /// <summary>Takes ownership of the functions; <paramref name="loop"/> (null: step from the host) runs all steps of a block in one graph.</summary>
    public ConsistencyPosteriorSampler(OnnxFunction consistency, OnnxSbi.Contracts.Manifest.ConsistencySampler spec, int d, int c, Blocking blocking, OnnxFunction? loop = null) : base(d, c, blocking)
    {
        this.consistency = consistency;
        this.spec = spec;
        this.loop = loop;
    }

    public override string SamplingRole => GraphRoles.Consistency;

    public override long NetworkRowsEvaluated => consistency.RowsEvaluated + (loop?.RowsEvaluated ?? 0);

    /// <summary>True when each block's steps run as one solver loop graph.</summary>
    public bool UsesSolverLoop => loop is not null;

    public int Steps(SamplingOptions o) => o.Steps ?? (spec.DefaultSteps > 0 ? spec.DefaultSteps : 10);

    public override IReadOnlyList<string> Check(SamplingOptions options)
    {
        int steps = Steps(options);
        if (steps < 1 || steps > 10_000) throw new InvalidRequestException($"Consistency steps must be in [1, 10000]; got {steps}.");
        // `steps` sampling steps walk a grid of steps + 1 points; training saw grids of N(k) points.
        if (spec.TrainedDiscretizations.Count > 0 && steps + 1 > spec.TrainedDiscretizations.Max())
            return [$"{steps} consistency steps need a {steps + 1}-point grid, finer than any seen in training (largest N = {spec.TrainedDiscretizations.Max()}); draws may be degraded."];
        return [];
    }

    /// <summary>
    /// The sampling times, decreasing from T: τ_n = (T^(1/ρ) + n/steps·(ε^(1/ρ) − T^(1/ρ)))^ρ for
    /// n = 0 … steps − 1 (Karras et al. 2022). This is the training grid with steps + 1 points read
    /// downwards without its last point ε, where a step would do nothing (f(θ, ε) = θ); the trainer's
    /// ConsistencySchedule.SamplingTimes uses the same formula.
    /// </summary>
    public static float[] TimeGrid(int steps, double maxTime, double eps, double rho)
    {
        var grid = new float[steps];
        double a = Math.Pow(maxTime, 1 / rho), b = Math.Pow(eps, 1 / rho);
        for (int n = 0; n < steps; n++)
            grid[n] = n == 0 ? (float)maxTime : (float)Math.Pow(a + (double)n / steps * (b - a), rho);
        return grid;
    }

    protected override void SampleBlock(float[] conditions, int draws, long first, int rows, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct)
    {
        float[] grid = TimeGrid(Steps(options), spec.MaxTime, spec.Eps, spec.Rho > 0 ? spec.Rho : 7);
        float eps = (float)spec.Eps;
        if (loop is not null)
        {
            // The same noise, drawn in the same order as the host loop below: z, then ξ_1 … ξ_{S−1}.
            using var block = loop.Rent(rows, grid.Length);
            FillConditions(conditions, draws, first, rows, block.Inputs[SolverLoopGraph.ConditionsInput]);
            float[] state = block.Inputs[SolverLoopGraph.StateInput], scales = block.Inputs[SolverLoopGraph.NoiseScalesInput], xi = block.Inputs[SolverLoopGraph.NoiseInput];
            noise.Fill(state);
            TensorPrimitives.Multiply(state, grid[0], state);
            grid.CopyTo(block.Inputs[SolverLoopGraph.TimesInput], 0);
            int size = rows * D;
            scales[0] = 0f;
            xi.AsSpan(0, size).Clear();
            for (int n = 1; n < grid.Length; n++)
            {
                scales[n] = NoiseScale(grid[n], eps);
                noise.Fill(xi.AsSpan(n * size, size));
            }
            block.Run(ct);
            block.Outputs[0].AsSpan().CopyTo(destination);
            return;
        }
        using var eval = consistency.Rent(rows);
        FillConditions(conditions, draws, first, rows, eval.Inputs[2]);
        var theta = eval.Inputs[0].AsSpan();
        noise.Fill(theta);
        TensorPrimitives.Multiply(theta, grid[0], theta);
        for (int n = 0; n < grid.Length; n++)
        {
            ct.ThrowIfCancellationRequested();
            if (n > 0)
            {
                // θ + √(t_n² − ε²)·ξ, written straight into the bound input from the last output.
                float scale = NoiseScale(grid[n], eps);
                noise.Fill(theta);
                TensorPrimitives.MultiplyAdd(theta, scale, eval.Outputs[0], theta);
            }
            eval.Inputs[1].AsSpan().Fill(grid[n]);
            eval.Run();
        }
        eval.Outputs[0].AsSpan().CopyTo(destination);
    }

    private static float NoiseScale(float t, float eps) => MathF.Sqrt(MathF.Max(t * t - eps * eps, 0f));

    public override void Dispose()
    {
        consistency.Dispose();
        loop?.Dispose();
    }
}

/// <summary>
/// Coupling flow: one inverse pass z → θ, with z ~ N(0, I): natively with the subnets in ONNX Runtime
/// (<see cref="NativeCouplingInverse"/>) when the bundle describes its inverse steps, else the whole inverse graph.
/// </summary>
internal sealed class CouplingPosteriorSampler : NetworkSampler
{
    private readonly OnnxFunction? inverse;
    private readonly NativeCouplingInverse? native;

    /// <summary>
    /// Takes ownership of the functions and of <paramref name="native"/>. Sampling runs <paramref name="native"/>, or the
    /// inverse graph <paramref name="inverse"/> when it is null: exactly one of them is given.
    /// </summary>
    public CouplingPosteriorSampler(OnnxFunction? inverse, OnnxFunction forward, NativeCouplingInverse? native, int d, int c, Blocking blocking) : base(d, c, blocking)
    {
        if ((inverse is null) == (native is null))
            throw new ArgumentException("Give either the inverse graph or the native inverse, not both or neither.", nameof(inverse));
        this.inverse = inverse;
        this.native = native;
        Forward = forward;
    }

    /// <summary>The step-by-step inverse, or null when sampling runs the inverse graph.</summary>
    public NativeCouplingInverse? Native => native;

    public override long NetworkRowsEvaluated => native?.RowsEvaluated ?? inverse!.RowsEvaluated;

    public override string SamplingRole => GraphRoles.Inverse;

    /// <summary>The forward graph θ → (z, log|det J|), for densities.</summary>
    public OnnxFunction Forward { get; }

    protected override void SampleBlock(float[] conditions, int draws, long first, int rows, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct)
    {
        if (native is not null)
        {
            using var block = native.Rent(rows);
            FillConditions(conditions, draws, first, rows, block.Conditions);
            noise.Fill(destination);
            native.Inverse(destination, block);
            return;
        }
        using var eval = inverse!.Rent(rows);
        FillConditions(conditions, draws, first, rows, eval.Inputs[1]);
        noise.Fill(eval.Inputs[0]);
        eval.Run();
        eval.Outputs[0].AsSpan().CopyTo(destination);
    }

    public override void Dispose()
    {
        inverse?.Dispose();
        Forward.Dispose();
        native?.Dispose();
    }
}
