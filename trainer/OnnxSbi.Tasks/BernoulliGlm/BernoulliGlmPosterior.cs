using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// The reference posterior of bernoulli_glm (docs/reference-posteriors.md): slice sampling and
/// rejection on the exact likelihood of the sufficient statistics. sbibm runs Pólya-Gamma Gibbs sampling on the raw
/// spikes; the posterior given x is the same, since x = Xᵀy is sufficient.
/// </summary>
internal static class BernoulliGlmPosterior
{
    /// <summary>Draws of p(θ | x) at <paramref name="observation"/> with the run's diagnostics.</summary>
    public static ReferenceRun Sample(ReadOnlySpan<double> observation, int draws, ulong seed, ReferenceOptions? options = null)
        => ReferenceSampler.Sample(new Target(observation), draws, seed, options);

    /// <summary>
    /// log p(x | θ) up to a constant: log p(y | θ) = Σ_t [y_t·ψ_t − softplus(ψ_t)] = θᵀx − Σ_t softplus((Xθ)_t), which
    /// depends on y only through x = Xᵀy (the number of spike trains with the same x does not depend on θ).
    /// </summary>
    internal static double LogLikelihood(ReadOnlySpan<double> theta, ReadOnlySpan<double> x)
    {
        Span<double> psi = stackalloc double[BernoulliGlm.TimeBins];
        BernoulliGlm.LogOdds(theta, psi);
        double result = 0;
        for (int k = 0; k < BernoulliGlm.ParameterDim; k++) result += theta[k] * x[k];
        for (int t = 0; t < psi.Length; t++) result -= ParameterSupport.Softplus(psi[t]);
        return result;
    }

    /// <summary>
    /// The normalised log prior density: log N(θ1; 0, 2) + log N(θ_f; 0, (FᵀF)⁻¹), the latter
    /// −(9/2)·log 2π + Σ_k log F_kk − ½·|Fθ_f|² (det FᵀF = (Π F_kk)², F being triangular).
    /// </summary>
    internal static double LogPrior(ReadOnlySpan<double> theta)
    {
        double result = -0.5 * Math.Log(2 * Math.PI * BernoulliGlm.OffsetVariance) - 0.5 * theta[0] * theta[0] / BernoulliGlm.OffsetVariance;
        result -= BernoulliGlm.FilterLength / 2.0 * Math.Log(2 * Math.PI);
        for (int k = 0; k < BernoulliGlm.FilterLength; k++)
        {
            double row = 0;
            for (int j = Math.Max(0, k - 2); j <= k; j++) row += BernoulliGlm.FilterFactor(k, j) * theta[1 + j];
            result += Math.Log(BernoulliGlm.FilterFactor(k, k)) - 0.5 * row * row;
        }
        return result;
    }

    /// <summary>The GLM posterior at one observation; every parameter is real-valued, so no transform.</summary>
    private sealed class Target(ReadOnlySpan<double> observation) : PosteriorTarget(Enumerable.Repeat(ParameterSupport.Real, BernoulliGlm.ParameterDim).ToArray())
    {
        private readonly double[] _observation = observation.ToArray();

        public override double LogPrior(ReadOnlySpan<double> theta) => BernoulliGlmPosterior.LogPrior(theta);

        public override void SamplePrior(SimulationRandom random, Span<double> theta) => BernoulliGlm.SamplePrior(random, theta);

        public override double LogLikelihood(ReadOnlySpan<double> theta) => BernoulliGlmPosterior.LogLikelihood(theta, _observation);
    }
}
