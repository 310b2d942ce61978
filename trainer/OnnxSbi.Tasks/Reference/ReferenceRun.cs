namespace OnnxSbi.Tasks.Reference;

/// <summary>
/// Reference posterior draws at one observation and how they were made (<see cref="SbiTask.SampleReferenceRun"/>):
/// exact methods leave <see cref="Mcmc"/> and <see cref="Rejection"/> null; MCMC-based references report their
/// convergence diagnostics and the rejection step that made the draws exact and unique.
/// </summary>
/// <param name="Draws">The draws, row-major [n × <paramref name="ParameterDim"/>].</param>
/// <param name="ParameterDim">Values per draw.</param>
/// <param name="WallTime">Elapsed time of the whole run.</param>
/// <param name="Mcmc">The MCMC stage's diagnostics, or null when the method used none.</param>
/// <param name="Rejection">The rejection stage's statistics, or null when the method used none.</param>
public sealed record ReferenceRun(double[] Draws, int ParameterDim, TimeSpan WallTime, McmcSummary? Mcmc = null, RejectionSummary? Rejection = null)
{
    /// <summary>The number of draws, <see cref="Draws"/>' rows.</summary>
    public int Count => ParameterDim == 0 ? 0 : Draws.Length / ParameterDim;
}

/// <summary>
/// Convergence diagnostics of the MCMC stage of a reference run (docs/reference-posteriors.md): rank-normalised
/// split-R̂ and bulk effective sample size per parameter (Vehtari et al. 2021), computed on the kept draws.
/// </summary>
/// <param name="Chains">Independent chains.</param>
/// <param name="WarmupSweeps">Sweeps per chain discarded as warm-up.</param>
/// <param name="DrawsPerChain">Kept draws per chain.</param>
/// <param name="Thin">Sweeps per kept draw.</param>
/// <param name="Sweeps">Sweeps over all chains, warm-up included; a sweep updates every parameter once.</param>
/// <param name="LogDensityEvaluations">Posterior density evaluations over all chains.</param>
/// <param name="RHat">Split-R̂ per parameter; values near 1 (below about 1.01) indicate the chains agree.</param>
/// <param name="BulkEss">Bulk effective sample size per parameter, over all chains.</param>
public sealed record McmcSummary(
    int Chains,
    int WarmupSweeps,
    int DrawsPerChain,
    int Thin,
    long Sweeps,
    long LogDensityEvaluations,
    IReadOnlyList<double> RHat,
    IReadOnlyList<double> BulkEss)
{
    /// <summary>The largest R̂ over the parameters.</summary>
    public double MaxRHat => RHat.Count == 0 ? double.NaN : RHat.Max();

    /// <summary>The smallest bulk ESS over the parameters.</summary>
    public double MinBulkEss => BulkEss.Count == 0 ? double.NaN : BulkEss.Min();
}

/// <summary>
/// The rejection stage of a reference run (docs/reference-posteriors.md): proposals from
/// q = w·prior + (1 − w)·Student-t mixture fitted to the MCMC draws, accepted with probability p̃/(M·q).
/// </summary>
/// <param name="Components">Student-t components of the proposal.</param>
/// <param name="LogBound">log M.</param>
/// <param name="Proposals">Proposals drawn.</param>
/// <param name="Accepted">Proposals accepted (some beyond the requested count when the last chunk overshoots).</param>
/// <param name="Exceedances">Proposals whose ratio p̃/q exceeded M; nonzero means M was not a bound there, and the draws over-represent those points slightly.</param>
public sealed record RejectionSummary(int Components, double LogBound, long Proposals, long Accepted, long Exceedances)
{
    /// <summary>Accepted over drawn proposals.</summary>
    public double AcceptanceRate => Proposals == 0 ? 0 : (double)Accepted / Proposals;
}
