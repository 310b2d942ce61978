using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Distributions;

/// <summary>
/// The normal distribution N(μ, σ²) restricted to an interval [a, b]: exact draws and the log of the mass
/// Φ(β) − Φ(α) it keeps, with α = (a − μ)/σ and β = (b − μ)/σ. Both stay accurate when the interval lies
/// far in a tail of the normal (an observation far outside a box prior), where plain rejection from N(μ, σ²)
/// would almost never land in the interval.
/// </summary>
internal static class TruncatedNormal
{
    // An interval whose nearer end lies this many standard deviations beyond the mean is sampled by the
    // exponential-proposal rejection of Robert (1995), whose acceptance rate there exceeds 1 − 1/8² ≈ 0.98;
    // nearer the mean the inverse CDF is exact to rounding and Φ at the ends is at least Φ(−8) ≈ 6·10⁻¹⁶.
    private const double TailStart = 8.0;

    /// <summary>log P(a ≤ Y ≤ b) for Y ~ N(<paramref name="mean"/>, <paramref name="sd"/>²), with a &lt; b.</summary>
    public static double LogMass(double mean, double sd, double lower, double upper)
        => LogStandardMass((lower - mean) / sd, (upper - mean) / sd);

    /// <summary>
    /// One draw of N(<paramref name="mean"/>, <paramref name="sd"/>²) conditioned on [<paramref name="lower"/>,
    /// <paramref name="upper"/>] (lower &lt; upper), from <paramref name="random"/>; the result lies in the interval.
    /// </summary>
    public static double Sample(double mean, double sd, double lower, double upper, SimulationRandom random)
    {
        double z = SampleStandard((lower - mean) / sd, (upper - mean) / sd, random);
        return Math.Clamp(mean + sd * z, lower, upper);
    }

    /// <summary>log(Φ(β) − Φ(α)) for α &lt; β.</summary>
    internal static double LogStandardMass(double alpha, double beta)
    {
        // Mirror an interval right of the mean to the left, where Φ keeps its relative accuracy.
        if (alpha >= 0) (alpha, beta) = (-beta, -alpha);
        if (beta <= 0)
        {
            double logUpper = StandardNormal.LogCdf(beta);
            return logUpper + StandardNormal.Log1p(-Math.Exp(StandardNormal.LogCdf(alpha) - logUpper));
        }
        // α < 0 < β: the mass left out is Φ(α) + Φ(−β), two lower tails.
        return StandardNormal.Log1p(-(StandardNormal.Cdf(alpha) + StandardNormal.Cdf(-beta)));
    }

    /// <summary>A draw of N(0, 1) conditioned on [α, β], α &lt; β.</summary>
    internal static double SampleStandard(double alpha, double beta, SimulationRandom random)
    {
        if (alpha >= 0) return -SampleStandard(-beta, -alpha, random);
        // From here α < 0: the interval starts left of the mean.
        if (beta <= -TailStart) return -SampleTail(-beta, -alpha, random);
        // Inverse CDF: Φ⁻¹(U) for U uniform on [Φ(α), Φ(β)] has the truncated law exactly.
        double lowerCdf = StandardNormal.Cdf(alpha), upperCdf = StandardNormal.Cdf(beta);
        double u = lowerCdf + random.NextDouble() * (upperCdf - lowerCdf);
        return Math.Clamp(StandardNormal.Quantile(u), alpha, beta);
    }

    /// <summary>
    /// A draw of N(0, 1) conditioned on [c, d] with c ≥ <see cref="TailStart"/> (d may be +∞), by rejection
    /// (Robert 1995, "Simulation of truncated normal variables"): on [c, d] the density is proportional to
    /// e^(−c·e)·e^(−e²/2) with e = z − c, so proposing e from the exponential law of rate c truncated to
    /// [0, d − c] and accepting with probability e^(−e²/2) is exact.
    /// </summary>
    private static double SampleTail(double c, double d, SimulationRandom random)
    {
        // 1 − e^(−c(d−c)), the proposal's mass on [0, d − c]; 1 for an unbounded interval.
        double kept = double.IsPositiveInfinity(d) ? 1 : -StandardNormal.Expm1(-c * (d - c));
        while (true)
        {
            double e = -StandardNormal.Log1p(-random.NextDouble() * kept) / c;
            if (random.NextDouble() < Math.Exp(-0.5 * e * e)) return Math.Min(c + e, d);
        }
    }
}
