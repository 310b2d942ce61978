using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Reference;

/// <summary>
/// A posterior p(θ | x_o) ∝ p(θ)·p(x_o | θ) for the reference sampler: a normalised log prior density, a prior
/// sampler, the exact log likelihood at one fixed observation, and each parameter's support, whose bijection
/// (<see cref="ParameterSupport"/>) lets MCMC and the rejection proposal run in unconstrained coordinates u with
/// the Jacobian included.
/// </summary>
/// <remarks>
/// The methods are called from several threads at once (chains run in parallel), so they must not mutate shared
/// state. <see cref="LogLikelihood"/> may omit terms that do not depend on θ.
/// </remarks>
internal abstract class PosteriorTarget
{
    private readonly ParameterSupport[] _supports;

    /// <summary>A target whose parameters have the given supports, one per dimension.</summary>
    protected PosteriorTarget(IReadOnlyList<ParameterSupport> supports)
    {
        ArgumentNullException.ThrowIfNull(supports);
        if (supports.Count == 0) throw new ArgumentException("A posterior target needs at least one parameter.", nameof(supports));
        _supports = [.. supports];
    }

    /// <summary>The number of parameters.</summary>
    public int Dim => _supports.Length;

    /// <summary>Each parameter's support, in parameter order.</summary>
    public IReadOnlyList<ParameterSupport> Supports => _supports;

    /// <summary>The normalised log prior density at θ; −∞ outside the prior's support. Normalised, because the
    /// rejection proposal mixes the prior in as a density.</summary>
    public abstract double LogPrior(ReadOnlySpan<double> theta);

    /// <summary>Writes one prior draw into <paramref name="theta"/>.</summary>
    public abstract void SamplePrior(SimulationRandom random, Span<double> theta);

    /// <summary>log p(x_o | θ) at the target's observation, up to a constant; −∞ where x_o is impossible.</summary>
    public abstract double LogLikelihood(ReadOnlySpan<double> theta);

    /// <summary>Maps unconstrained coordinates to parameters.</summary>
    public void ToParameters(ReadOnlySpan<double> u, Span<double> theta)
    {
        for (int k = 0; k < _supports.Length; k++) theta[k] = _supports[k].FromUnconstrained(u[k]);
    }

    /// <summary>Maps parameters to unconstrained coordinates; false when a coordinate is not finite (θ on the boundary).</summary>
    public bool ToUnconstrained(ReadOnlySpan<double> theta, Span<double> u)
    {
        bool finite = true;
        for (int k = 0; k < _supports.Length; k++)
        {
            u[k] = _supports[k].ToUnconstrained(theta[k]);
            finite &= double.IsFinite(u[k]);
        }
        return finite;
    }

    /// <summary>Maps parameters to proposal coordinates v (<see cref="ParameterSupport.ToProposal"/>); false when one is not finite.</summary>
    public bool ToProposal(ReadOnlySpan<double> theta, Span<double> v)
    {
        bool finite = true;
        for (int k = 0; k < _supports.Length; k++)
        {
            v[k] = _supports[k].ToProposal(theta[k]);
            finite &= double.IsFinite(v[k]);
        }
        return finite;
    }

    /// <summary>
    /// The log prior density of u (prior at θ(u) plus log|dθ/du|) and the unnormalised log posterior density of u
    /// (that plus the log likelihood); <paramref name="theta"/> receives θ(u). The likelihood is skipped where the
    /// prior density is zero.
    /// </summary>
    public (double LogPrior, double LogPosterior) Evaluate(ReadOnlySpan<double> u, Span<double> theta)
    {
        ToParameters(u, theta);
        double logJacobian = 0;
        for (int k = 0; k < _supports.Length; k++) logJacobian += _supports[k].LogAbsJacobian(u[k]);
        return Densities(theta, logJacobian);
    }

    /// <summary>
    /// As <see cref="Evaluate"/>, in proposal coordinates v: densities of v, −∞ where θ(v) leaves a bounded support.
    /// </summary>
    public (double LogPrior, double LogPosterior) EvaluateProposal(ReadOnlySpan<double> v, Span<double> theta)
    {
        double logJacobian = 0;
        for (int k = 0; k < _supports.Length; k++)
        {
            theta[k] = _supports[k].FromProposal(v[k]);
            logJacobian += _supports[k].ProposalLogAbsJacobian(v[k]);
        }
        return Densities(theta, logJacobian);
    }

    private (double LogPrior, double LogPosterior) Densities(ReadOnlySpan<double> theta, double logJacobian)
    {
        for (int k = 0; k < _supports.Length; k++)
        {
            if (!(theta[k] >= _supports[k].Lower && theta[k] <= _supports[k].Upper)) return (double.NegativeInfinity, double.NegativeInfinity);
        }
        double logPrior = LogPrior(theta) + logJacobian;
        if (double.IsNaN(logPrior) || logPrior == double.NegativeInfinity) return (double.NegativeInfinity, double.NegativeInfinity);
        double logLikelihood = LogLikelihood(theta);
        return (logPrior, double.IsNaN(logLikelihood) ? double.NegativeInfinity : logPrior + logLikelihood);
    }
}
