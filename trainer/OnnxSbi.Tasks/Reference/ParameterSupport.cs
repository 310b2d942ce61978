namespace OnnxSbi.Tasks.Reference;

/// <summary>
/// The support of one parameter and its bijection to the real line, so that MCMC and the proposal of the
/// rejection step work in an unconstrained space: the identity on ℝ, u = log(θ − a) on (a, ∞),
/// u = −log(b − θ) on (−∞, b), and u = logit((θ − a)/(b − a)) on (a, b).
/// </summary>
/// <remarks>
/// The rejection proposal uses other coordinates, v: θ itself where the support is bounded on both sides, u
/// elsewhere. On a box the logit turns posterior mass at the box's edge into an exponential tail in u, which a
/// Student-t fitted to the bulk underestimates by orders of magnitude; in θ the mass simply ends at the edge, and
/// proposals beyond it are rejections.
/// </remarks>
/// <param name="Lower">The lower bound a, or −∞.</param>
/// <param name="Upper">The upper bound b, or +∞; above <paramref name="Lower"/>.</param>
internal readonly record struct ParameterSupport(double Lower, double Upper)
{
    /// <summary>The whole real line (identity transform).</summary>
    public static ParameterSupport Real => new(double.NegativeInfinity, double.PositiveInfinity);

    /// <summary>(0, ∞), mapped by the logarithm (rates, concentrations).</summary>
    public static ParameterSupport Positive => new(0, double.PositiveInfinity);

    /// <summary>The interval (a, b), mapped by the scaled logit (a uniform prior's box).</summary>
    public static ParameterSupport Interval(double lower, double upper)
    {
        if (!(lower < upper) || !double.IsFinite(lower) || !double.IsFinite(upper))
            throw new ArgumentException($"An interval support needs finite bounds with lower < upper; received ({lower}, {upper}).");
        return new(lower, upper);
    }

    private bool HasLower => double.IsFinite(Lower);

    private bool HasUpper => double.IsFinite(Upper);

    /// <summary>u(θ); ±∞ on the boundary.</summary>
    public double ToUnconstrained(double theta) => (HasLower, HasUpper) switch
    {
        (false, false) => theta,
        (true, false) => Math.Log(theta - Lower),
        (false, true) => -Math.Log(Upper - theta),
        _ => Math.Log(theta - Lower) - Math.Log(Upper - theta),
    };

    /// <summary>θ(u), kept inside the closed support where rounding would step out.</summary>
    public double FromUnconstrained(double u)
    {
        switch (HasLower, HasUpper)
        {
            case (false, false): return u;
            case (true, false): return Lower + Math.Exp(u);
            case (false, true): return Upper - Math.Exp(-u);
            default:
                // σ(u) evaluated on the side where the exponential cannot overflow.
                double s = u >= 0 ? 1 / (1 + Math.Exp(-u)) : Math.Exp(u) / (1 + Math.Exp(u));
                return Math.Clamp(Lower + (Upper - Lower) * s, Lower, Upper);
        }
    }

    /// <summary>Whether the support is bounded on both sides, so that the proposal coordinate is θ itself.</summary>
    public bool IsBounded => HasLower && HasUpper;

    /// <summary>The proposal coordinate v(θ): θ on a bounded support, u(θ) elsewhere.</summary>
    public double ToProposal(double theta) => IsBounded ? theta : ToUnconstrained(theta);

    /// <summary>θ(v); on a bounded support v itself, which may lie outside the support.</summary>
    public double FromProposal(double v) => IsBounded ? v : FromUnconstrained(v);

    /// <summary>log |dθ/dv| at v.</summary>
    public double ProposalLogAbsJacobian(double v) => IsBounded ? 0 : LogAbsJacobian(v);

    /// <summary>log |dθ/du| at u: the change-of-variables term that makes p(u) = p(θ(u))·|dθ/du| a density in u.</summary>
    public double LogAbsJacobian(double u) => (HasLower, HasUpper) switch
    {
        (false, false) => 0,
        (true, false) => u,
        (false, true) => -u,
        // dθ/du = (b − a)·σ(u)·σ(−u), and log σ(z) = −softplus(−z).
        _ => Math.Log(Upper - Lower) - Softplus(u) - Softplus(-u),
    };

    /// <summary>log(1 + eᶻ) without overflow: max(z, 0) + log1p(e^(−|z|)).</summary>
    internal static double Softplus(double z) => Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z)));
}
