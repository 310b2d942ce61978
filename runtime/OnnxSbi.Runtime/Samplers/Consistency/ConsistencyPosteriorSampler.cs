using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Runtime.Samplers;

/// <summary>
/// Multistep consistency sampling (Song et al. 2023, Alg. 1): θ = T·z, θ ← f(θ, T), then for each
/// time t_n of a decreasing ρ-spaced grid, θ ← f(θ + √(t_n² − ε²)·ξ, t_n) with fresh noise ξ. Where the steps run
/// (from the host, or as one solver loop graph) is the <see cref="IConsistencySteps"/> chosen at compile time.
/// </summary>
internal sealed class ConsistencyPosteriorSampler : NetworkSampler
{
    private readonly IConsistencySteps steps;
    private readonly ConsistencySampler spec;

    /// <summary>Takes ownership of <paramref name="steps"/>.</summary>
    public ConsistencyPosteriorSampler(IConsistencySteps steps, ConsistencySampler spec, int d, int c, Blocking blocking) : base(d, c, blocking)
    {
        this.steps = steps;
        this.spec = spec;
    }

    public override string SamplingRole => GraphRoles.Consistency;

    public override ExecutionStrategy Strategy => steps.Strategy;

    public override long NetworkRowsEvaluated => steps.RowsEvaluated;

    /// <summary>True when each block's steps run as one solver loop graph.</summary>
    public bool UsesSolverLoop => steps.Strategy == ExecutionStrategy.SolverLoopGraph;

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

    /// <summary>√(t² − ε²), the noise scale of a step at time <paramref name="t"/>.</summary>
    public static float NoiseScale(float t, float eps) => MathF.Sqrt(MathF.Max(t * t - eps * eps, 0f));

    protected override void SampleBlock(in BlockRequest block, Span<float> destination, NormalGenerator noise, SamplingOptions options, CancellationToken ct)
    {
        float[] grid = TimeGrid(Steps(options), spec.MaxTime, spec.Eps, spec.Rho > 0 ? spec.Rho : 7);
        steps.Run(block, grid, (float)spec.Eps, destination, noise, ct);
    }

    public override void Dispose() => steps.Dispose();
}
