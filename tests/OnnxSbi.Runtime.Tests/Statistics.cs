namespace OnnxSbi.Runtime.Tests;

/// <summary>Reference statistics for the numeric tests, written from textbook formulas.</summary>
internal static class Statistics
{
    /// <summary>
    /// Standard normal CDF Φ(x) = erfc(−x/√2)/2, with erfc from the Chebyshev-fitted expansion of
    /// Press et al., Numerical Recipes (3rd ed.) §6.2.2 ("erfccheb" form, fractional error &lt; 1.2e-7).
    /// </summary>
    public static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2.0));

    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                   t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                   t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2.0 - r;
    }

    /// <summary>Kolmogorov–Smirnov statistic sup|F_n − F| of <paramref name="sample"/> against <paramref name="cdf"/>.</summary>
    public static double KolmogorovSmirnov(IEnumerable<double> sample, Func<double, double> cdf)
    {
        double[] x = sample.ToArray();
        Array.Sort(x);
        double d = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double f = cdf(x[i]);
            d = Math.Max(d, Math.Max((i + 1.0) / x.Length - f, f - (double)i / x.Length));
        }
        return d;
    }

    /// <summary>
    /// Critical value of the one-sample KS statistic at significance 0.001 for n draws: the asymptotic
    /// Kolmogorov quantile 1.9495/√n (P(√n·D > 1.9495) = 0.001).
    /// </summary>
    public static double KsCritical001(int n) => 1.9495 / Math.Sqrt(n);

    /// <summary>Mean, variance, skewness and excess kurtosis (population moments).</summary>
    public static (double Mean, double Variance, double Skewness, double ExcessKurtosis) Moments(ReadOnlySpan<float> x)
    {
        double mean = 0;
        foreach (float v in x) mean += v;
        mean /= x.Length;
        double m2 = 0, m3 = 0, m4 = 0;
        foreach (float v in x)
        {
            double d = v - mean, d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        m2 /= x.Length;
        m3 /= x.Length;
        m4 /= x.Length;
        return (mean, m2, m3 / Math.Pow(m2, 1.5), m4 / (m2 * m2) - 3.0);
    }
}
