using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// The reference posterior of sir (docs/reference-posteriors.md): slice sampling and rejection on the exact
/// likelihood, one ODE solve per evaluation, in the unconstrained coordinates (log β, log γ) as sbibm does.
/// </summary>
internal static class SirPosterior
{
    /// <summary>Draws of p(θ | x) at <paramref name="observation"/> with the run's diagnostics.</summary>
    public static ReferenceRun Sample(ReadOnlySpan<double> observation, int draws, ulong seed, ReferenceOptions? options = null)
        => ReferenceSampler.Sample(new Target(observation), draws, seed, options);

    /// <summary>The SIR posterior at one observation; both rates are positive, so the chains move in log θ.</summary>
    internal sealed class Target(ReadOnlySpan<double> observation) : PosteriorTarget([ParameterSupport.Positive, ParameterSupport.Positive])
    {
        private readonly double[] _observation = observation.ToArray();

        public override double LogPrior(ReadOnlySpan<double> theta) => Sir.LogPrior(theta);

        public override void SamplePrior(SimulationRandom random, Span<double> theta) => Sir.SamplePrior(random, theta);

        public override double LogLikelihood(ReadOnlySpan<double> theta) => Sir.LogLikelihood(theta, _observation);
    }
}
