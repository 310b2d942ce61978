namespace OnnxSbi.Diagnostics;

/// <summary>The few distribution functions the calibration diagnostics need, written from their definitions.</summary>
internal static class Distributions
{
    // Lanczos approximation with g = 7 and nine coefficients (Lanczos 1964; the coefficient set of
    // Godfrey 2001), relative error below 1e-15 for Re(x) > 0.5.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0.</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            // Reflection Γ(x)Γ(1−x) = π / sin(πx), so the series is only evaluated where it is accurate.
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }
        x -= 1;
        double a = Lanczos[0];
        double t = x + 7.5;
        for (int i = 1; i < Lanczos.Length; i++) a += Lanczos[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    /// <summary>
    /// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a): by the power series of
    /// P = 1 − Q for x &lt; a + 1 and by Legendre's continued fraction (modified Lentz) otherwise, each
    /// where it converges fast (Press et al., Numerical Recipes, 3rd ed., §6.2).
    /// </summary>
    public static double UpperRegularizedGamma(double a, double x)
    {
        if (!(a > 0)) throw new ArgumentOutOfRangeException(nameof(a), a, "The shape must be positive.");
        if (double.IsNaN(x)) return double.NaN;
        if (x <= 0) return 1;
        if (double.IsPositiveInfinity(x)) return 0;
        double logPrefactor = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            // P(a, x) = e^{−x} x^a / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n)).
            double term = 1 / a, sum = term, ap = a;
            for (int n = 0; n < 10_000; n++)
            {
                ap += 1;
                term *= x / ap;
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-16) break;
            }
            return Math.Max(0, 1 - sum * Math.Exp(logPrefactor));
        }
        // Q(a, x) = e^{−x} x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))).
        const double Tiny = 1e-300;
        double b = x + 1 - a, c = 1 / Tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10_000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < Tiny) d = Tiny;
            c = b + an / c;
            if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(logPrefactor) * h;
    }

    /// <summary>P(X ≥ x) for X ~ χ²(df): Q(df/2, x/2).</summary>
    public static double ChiSquareSurvival(double x, int degreesOfFreedom)
        => UpperRegularizedGamma(degreesOfFreedom / 2.0, x / 2);

    /// <summary>
    /// Fills <paramref name="cdf"/> (length n + 1) with P(X ≤ c), X ~ Binomial(n, p), 0 &lt; p &lt; 1. The
    /// probabilities are built outward from the mode with the ratio pmf(c+1)/pmf(c) = (n−c)/(c+1)·p/(1−p)
    /// and normalized at the end, so no factorial or power overflows or underflows where it matters
    /// (tail masses that underflow are below 1e-300).
    /// </summary>
    public static void BinomialCdf(int n, double p, Span<double> cdf)
    {
        if (cdf.Length != n + 1) throw new ArgumentException($"The table needs n + 1 = {n + 1} entries; it has {cdf.Length}.", nameof(cdf));
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The success probability must lie in (0, 1).");
        int mode = (int)Math.Min(n, Math.Floor((n + 1) * p));
        double odds = p / (1 - p);
        cdf[mode] = 1;
        for (int c = mode + 1; c <= n; c++) cdf[c] = cdf[c - 1] * (n - c + 1) / c * odds;
        for (int c = mode - 1; c >= 0; c--) cdf[c] = cdf[c + 1] * (c + 1) / (n - c) / odds;
        double total = 0;
        foreach (double v in cdf) total += v;
        double running = 0;
        for (int c = 0; c <= n; c++)
        {
            running += cdf[c] / total;
            cdf[c] = Math.Min(1, running);
        }
        cdf[n] = 1;
    }
}
