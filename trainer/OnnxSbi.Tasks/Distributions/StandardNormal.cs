namespace OnnxSbi.Tasks.Distributions;

/// <summary>
/// The standard normal distribution's density, CDF Φ, log Φ and quantile Φ⁻¹, accurate in relative terms far
/// into the lower tail (down to z ≈ −3.7·10⁷ for log Φ, and to the smallest positive double for Φ), which the
/// truncated normals of the box-prior tasks need when an observation lies far outside the box.
/// </summary>
internal static class StandardNormal
{
    private const double LogSqrt2Pi = 0.91893853320467274178;

    // Below this |z| Φ comes from its Taylor series, above it from the Mills-ratio continued fraction; at 3 both
    // converge to full precision in under 60 terms.
    private const double SeriesLimit = 3.0;

    /// <summary>log φ(z) = −z²/2 − log √(2π).</summary>
    public static double LogDensity(double z) => -0.5 * z * z - LogSqrt2Pi;

    /// <summary>φ(z).</summary>
    public static double Density(double z) => Math.Exp(LogDensity(z));

    /// <summary>Φ(z); for z &gt; 0 computed as 1 − Φ(−z), so its upper tail has absolute (not relative) accuracy.</summary>
    public static double Cdf(double z) => z <= 0 ? LowerTail(z) : 1 - LowerTail(-z);

    /// <summary>log Φ(z), with full relative accuracy for z ≤ 0; −∞ at z = −∞.</summary>
    public static double LogCdf(double z)
    {
        if (double.IsNegativeInfinity(z)) return double.NegativeInfinity;
        if (z > 0) return Log1p(-LowerTail(-z));
        if (z > -SeriesLimit) return Math.Log(LowerTail(z));
        return LogDensity(z) - Math.Log(MillsDenominator(-z));
    }

    /// <summary>
    /// Φ⁻¹(p): Acklam's rational approximation (relative error 1.15·10⁻⁹) refined by one Halley step on Φ, which
    /// brings it to about machine precision. −∞ for p ≤ 0 and +∞ for p ≥ 1.
    /// </summary>
    public static double Quantile(double p)
    {
        if (double.IsNaN(p)) return double.NaN;
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        // The lower half is refined against the accurate lower tail; the upper half mirrors it.
        return p > 0.5 ? -LowerQuantile(1 - p) : LowerQuantile(p);
    }

    /// <summary>Φ⁻¹(p) for 0 &lt; p ≤ 0.5.</summary>
    private static double LowerQuantile(double p)
    {
        double x;
        if (p < 0.02425)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
                    - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
                    + 3.754408661907416e+00) * q + 1);
        }
        else
        {
            double q = p - 0.5, r = q * q;
            x = (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
                    + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
                    + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1);
        }
        // Halley's step on f(x) = Φ(x) − p, with f'/f'' expressed through the relative error e/φ(x); written as
        // (Φ(x)/p − 1)·p/φ(x) in log space so that it neither overflows nor underflows in the far tail.
        double ratio = Math.Exp(LogCdf(x) - Math.Log(p)) - 1;
        double u = ratio * Math.Exp(Math.Log(p) - LogDensity(x));
        return x - u / (1 + x * u / 2);
    }

    /// <summary>Φ(z) for z ≤ 0.</summary>
    private static double LowerTail(double z)
    {
        if (double.IsNegativeInfinity(z)) return 0;
        if (z > -SeriesLimit)
        {
            // Φ(z) = ½ + φ(z)·Σₙ z^(2n+1)/(1·3·…·(2n+1)) (Marsaglia 2004, "Evaluating the normal distribution").
            double term = z, sum = z, z2 = z * z;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= z2 / (2 * n + 1);
                sum += term;
            }
            return 0.5 + Density(z) * sum;
        }
        return Density(z) / MillsDenominator(-z);
    }

    /// <summary>
    /// φ(t)/(1 − Φ(t)) for t ≥ <see cref="SeriesLimit"/>, i.e. the inverse Mills ratio, from Laplace's continued
    /// fraction (1 − Φ(t))/φ(t) = 1/(t + 1/(t + 2/(t + 3/(t + …)))) evaluated by the modified Lentz method
    /// (Press et al., Numerical Recipes, 3rd ed., §5.2).
    /// </summary>
    private static double MillsDenominator(double t)
    {
        const double Tiny = 1e-300;
        double f = t, c = t, d = 0;
        for (int n = 1; n < 500; n++)
        {
            d = t + n * d;
            if (d == 0) d = Tiny;
            c = t + n / c;
            if (c == 0) c = Tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return f;
    }

    /// <summary>log(1 + x), accurate for small |x| (Goldberg 1991, "What every computer scientist should know…", Thm 4).</summary>
    public static double Log1p(double x)
    {
        double w = 1 + x;
        return w == 1 ? x : Math.Log(w) * x / (w - 1);
    }

    /// <summary>
    /// eˣ − 1 with relative error below 10⁻¹⁰: the Taylor series below |x| = 10⁻⁵, where three terms leave a
    /// relative error under x³/24 ≈ 4·10⁻¹⁷, and eˣ − 1 above, where the cancellation costs at most 10⁻¹⁶/|x|.
    /// </summary>
    public static double Expm1(double x)
        => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1;
}
