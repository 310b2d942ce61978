using System.Diagnostics;
using OnnxSbi.Runtime;

namespace OnnxSbi.Tasks.Reference;

/// <summary>Settings of a reference run: the MCMC stage and the rejection stage.</summary>
/// <param name="Slice">The slice sampler's settings.</param>
/// <param name="Rejection">The rejection step's settings.</param>
internal sealed record ReferenceOptions(SliceOptions Slice, RejectionOptions Rejection)
{
    /// <summary>The defaults: 4 chains × 2,000 kept draws (after 300 warm-up sweeps, unthinned), and sbibm's 0.1 prior weight and factor 1.2 on M.</summary>
    public static ReferenceOptions Default { get; } = new(new SliceOptions(), new RejectionOptions());
}

/// <summary>
/// Reference posterior draws for a target with an exact likelihood: slice-sampling MCMC (<see cref="SliceSampler"/>)
/// followed by defensive rejection (<see cref="DefensiveRejection"/>), which turns the correlated MCMC draws into
/// independent, unique, exact ones (docs/reference-posteriors.md).
/// </summary>
internal static class ReferenceSampler
{
    /// <summary>
    /// <paramref name="count"/> draws of the target's posterior with the run's diagnostics; deterministic for a seed.
    /// </summary>
    /// <exception cref="InvalidRequestException">count is negative, no chain can start, or the rejection step needs too many proposals.</exception>
    public static ReferenceRun Sample(PosteriorTarget target, int count, ulong seed, ReferenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        options ??= ReferenceOptions.Default;
        if (count < 0) throw new InvalidRequestException($"Argument 'draws' (number of reference draws) must be >= 0; received {count}.");
        var clock = Stopwatch.StartNew();
        var mcmc = SliceSampler.Run(target, options.Slice, seed);
        var (draws, statistics) = DefensiveRejection.Sample(target, mcmc.PooledParameters(), count, seed, options.Rejection);
        var slice = options.Slice;
        var summary = new McmcSummary(
            slice.Chains, slice.WarmupSweeps, slice.DrawsPerChain, slice.Thin, mcmc.Sweeps, mcmc.Evaluations,
            ConvergenceDiagnostics.SplitRHat(mcmc.Parameters, target.Dim), ConvergenceDiagnostics.BulkEss(mcmc.Parameters, target.Dim));
        var rejection = new RejectionSummary(statistics.Components, statistics.LogBound, statistics.Proposals, statistics.Accepted, statistics.Exceedances);
        return new ReferenceRun(draws, target.Dim, clock.Elapsed, summary, rejection);
    }
}
