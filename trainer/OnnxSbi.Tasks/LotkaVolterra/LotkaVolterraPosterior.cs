using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// The reference posterior of lotka_volterra (docs/reference-posteriors.md): slice sampling and rejection on the
/// exact likelihood, one ODE solve per evaluation, in the unconstrained coordinates log θ as sbibm does.
/// </summary>
internal static class LotkaVolterraPosterior
{
    /// <summary>Draws of p(θ | x) at <paramref name="observation"/> with the run's diagnostics.</summary>
    public static ReferenceRun Sample(ReadOnlySpan<double> observation, int draws, ulong seed, ReferenceOptions? options = null)
        => ReferenceSampler.Sample(new Target(observation), draws, seed, options);

    /// <summary>The Lotka–Volterra posterior at one observation; every rate is positive, so the chains move in log θ.</summary>
    internal sealed class Target(ReadOnlySpan<double> observation)
        : PosteriorTarget(Enumerable.Repeat(ParameterSupport.Positive, LotkaVolterra.ParameterDim).ToArray())
    {
        private readonly double[] _observation = observation.ToArray();

        public override double LogPrior(ReadOnlySpan<double> theta) => LotkaVolterra.LogPrior(theta);

        public override void SamplePrior(SimulationRandom random, Span<double> theta) => LotkaVolterra.SamplePrior(random, theta);

        public override double LogLikelihood(ReadOnlySpan<double> theta) => LotkaVolterra.LogLikelihood(theta, _observation);
    }
}
