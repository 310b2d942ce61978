using System.Collections.Concurrent;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>How one block of flow matching draws is integrated from noise to θ: an execution strategy chosen at compile time.</summary>
internal interface IVelocityIntegration : IDisposable
{
    ExecutionStrategy Strategy { get; }

    /// <summary>Rows pushed through the velocity network (directly or inside loop graphs).</summary>
    long RowsEvaluated { get; }

    /// <summary>Whether a solver loop graph has been built.</summary>
    bool UsesLoopGraph { get; }

    /// <summary>Refuses options this strategy cannot run, before any work starts.</summary>
    void Check(IntegratorOptions resolved, string method);

    /// <summary>Fills <paramref name="destination"/> [rows, D] with noise and integrates it to t = 1.</summary>
    void Integrate(in BlockRequest block, IntegratorOptions resolved, Span<float> destination, NormalGenerator noise, CancellationToken ct);
}

/// <summary>The runtime steps the integrator (<see cref="OdeIntegrator"/>): one velocity evaluation per session run.</summary>
internal sealed class HostVelocityIntegration(OnnxFunction velocity, int d) : IVelocityIntegration
{
    // Integrators own their stage buffers (4–7 × rows·D floats); reusing them across blocks and calls
    // keeps a many-block request from allocating per block.
    private readonly ConcurrentBag<OdeIntegrator> integrators = new();

    public ExecutionStrategy Strategy => ExecutionStrategy.HostLoop;

    public long RowsEvaluated => velocity.RowsEvaluated;

    public bool UsesLoopGraph => false;

    public void Check(IntegratorOptions resolved, string method)
    {
    }

    public void Integrate(in BlockRequest block, IntegratorOptions resolved, Span<float> destination, NormalGenerator noise, CancellationToken ct)
    {
        using var eval = velocity.Rent(block.Rows);
        block.FillConditions(eval.Inputs[2]);
        noise.Fill(destination);
        if (!integrators.TryTake(out var integrator) || integrator.Options != resolved)
            integrator = new OdeIntegrator(resolved, d);
        try
        {
            integrator.Integrate(new VelocityField(eval), destination, 0f, 1f, ct);
        }
        finally
        {
            integrators.Add(integrator);
        }
    }

    public void Dispose() => velocity.Dispose();

    /// <summary>dθ/dt = v(θ, t, c) through one bound ONNX evaluation; allocation-free.</summary>
    private sealed class VelocityField(OnnxFunction.Evaluation eval) : IOdeSystem
    {
        public void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative)
        {
            state.CopyTo(eval.Inputs[0]);
            eval.Inputs[1].Fill(t);
            eval.Run();
            eval.Outputs[0].CopyTo(derivative);
        }
    }
}

/// <summary>
/// Fixed-step methods run as one solver loop graph per block (<see cref="SolverLoopGraph.FixedStep"/>), built per
/// method on first use; adaptive methods are stepped by the host integration, or refused under
/// <see cref="SolverLoopMode.Graph"/>.
/// </summary>
internal sealed class SolverLoopVelocityIntegration : IVelocityIntegration
{
    private readonly HostVelocityIntegration host;
    private readonly Func<IntegratorKind, OnnxFunction?> loopFactory;
    private readonly ConcurrentDictionary<IntegratorKind, Lazy<OnnxFunction?>> loops = new();
    private readonly bool loopRequired;

    /// <summary>
    /// Takes ownership of <paramref name="host"/> and of the loops <paramref name="loopFactory"/> builds (null where the
    /// provider cannot run one: the host steps instead). <paramref name="loopRequired"/>: the caller asked for
    /// <see cref="SolverLoopMode.Graph"/>, so adaptive methods are refused. The loop of <paramref name="defaultKind"/> is built now when it is fixed-step.
    /// </summary>
    public SolverLoopVelocityIntegration(HostVelocityIntegration host, Func<IntegratorKind, OnnxFunction?> loopFactory, bool loopRequired, IntegratorKind defaultKind)
    {
        this.host = host;
        this.loopFactory = loopFactory;
        this.loopRequired = loopRequired;
        // The bundle's default method's loop is built at load, so its failures surface there.
        if (ButcherTableau.For(defaultKind).E is null) Loop(defaultKind);
    }

    public ExecutionStrategy Strategy => ExecutionStrategy.SolverLoopGraph;

    public long RowsEvaluated => host.RowsEvaluated + Built.Sum(l => l.RowsEvaluated);

    public bool UsesLoopGraph => Built.Any();

    private IEnumerable<OnnxFunction> Built => loops.Values.Where(l => l.IsValueCreated && l.Value is not null).Select(l => l.Value!);

    private OnnxFunction? Loop(IntegratorKind kind)
        => loops.GetOrAdd(kind, static (k, factory) => new Lazy<OnnxFunction?>(() => factory(k)), loopFactory).Value;

    public void Check(IntegratorOptions resolved, string method)
    {
        if (loopRequired && resolved.IsAdaptive)
            throw new InvalidRequestException($"SolverLoop Graph runs fixed-step methods (euler, rk4) only; method '{method}' is adaptive. Choose a fixed-step method, or SolverLoop Auto/Host to step it from the host.");
    }

    public void Integrate(in BlockRequest block, IntegratorOptions resolved, Span<float> destination, NormalGenerator noise, CancellationToken ct)
    {
        if (resolved.IsAdaptive || Loop(resolved.Kind) is not { } loop)
        {
            host.Integrate(block, resolved, destination, noise, ct);
            return;
        }
        using var run = loop.Rent(block.Rows, resolved.Steps);
        block.FillConditions(run.Inputs[SolverLoopGraph.ConditionsInput]);
        noise.Fill(run.Inputs[SolverLoopGraph.StateInput]);
        // The host integrator's grid (OdeIntegrator.IntegrateFixed): t_s = s/S from the step index, t_S = 1 exactly.
        Span<float> times = run.Inputs[SolverLoopGraph.TimesInput];
        for (int s = 0; s < resolved.Steps; s++) times[s] = (float)((double)s / resolved.Steps);
        times[resolved.Steps] = 1f;
        run.Run(ct);
        run.Outputs[0].CopyTo(destination);
    }

    public void Dispose()
    {
        host.Dispose();
        foreach (var loop in Built) loop.Dispose();
    }
}
