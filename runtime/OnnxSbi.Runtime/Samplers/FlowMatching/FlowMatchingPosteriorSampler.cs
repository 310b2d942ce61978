using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>
/// Flow matching: integrates the exported velocity field from noise (t = 0) to data (t = 1). How a block is integrated
/// (stepped from the host, or as one solver loop graph) is the <see cref="IVelocityIntegration"/> chosen at compile time.
/// </summary>
internal sealed class FlowMatchingPosteriorSampler : NetworkSampler
{
    private readonly IVelocityIntegration integration;
    private readonly FlowMatchingDefaults defaults;

    /// <summary>Takes ownership of <paramref name="integration"/>.</summary>
    public FlowMatchingPosteriorSampler(IVelocityIntegration integration, FlowMatchingDefaults defaults, int d, int c, Blocking blocking) : base(d, c, blocking)
    {
        this.integration = integration;
        this.defaults = defaults;
    }

    public override string SamplingRole => GraphRoles.Velocity;

    public override ExecutionStrategy Strategy => integration.Strategy;

    public override long NetworkRowsEvaluated => integration.RowsEvaluated;

    /// <summary>True when fixed-step integration runs as one solver loop graph per block (a loop graph has been built).</summary>
    public bool UsesSolverLoop => integration.UsesLoopGraph;

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
        integration.Check(resolved, IntegratorKinds.ToName(resolved.Kind));
        return [];
    }

    protected override void SampleBlock(in BlockRequest block, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct)
        => integration.Integrate(block, Resolve(options), destination, noise, ct);

    public override void Dispose() => integration.Dispose();
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
