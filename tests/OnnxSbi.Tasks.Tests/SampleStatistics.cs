namespace OnnxSbi.Tasks.Tests;

/// <summary>
/// Moments of row-major samples with their Monte-Carlo standard errors, and the χ² quantiles the tasks' tests
/// compare against. Shared by the task tests so that every tolerance is stated the same way.
/// </summary>
internal static class SampleStatistics
{
    /// <summary>Column <paramref name="c"/> of a row-major array with <paramref name="dim"/> values per row.</summary>
    public static double[] Column(double[] rows, int dim, int c)
        => Enumerable.Range(0, rows.Length / dim).Select(i => rows[i * dim + c]).ToArray();

    /// <summary>
    /// Asserts that the sample mean and variance of <paramref name="values"/> lie within <paramref name="sigmas"/>
    /// Monte-Carlo standard errors of <paramref name="mean"/> and <paramref name="variance"/>: SE(mean) = √(σ²/n)
    /// and SE(variance) = √((m₄ − σ⁴)/n), the delta-method error of the sample variance, with m₄ the sample's
    /// fourth central moment.
    /// </summary>
    public static void AssertMoments(double[] values, double mean, double variance, double sigmas, string label)
    {
        int n = values.Length;
        double m = values.Average();
        double v = values.Sum(t => (t - m) * (t - m)) / n;
        double m4 = values.Sum(t => Math.Pow(t - m, 4)) / n;
        double seMean = Math.Sqrt(variance / n);
        double seVariance = Math.Sqrt(Math.Max(m4 - v * v, 0) / n);
        Assert.True(Math.Abs(m - mean) <= sigmas * seMean, $"{label}: mean {m:G6}, expected {mean:G6} ± {sigmas}·{seMean:G3}");
        Assert.True(Math.Abs(v - variance) <= sigmas * seVariance, $"{label}: variance {v:G6}, expected {variance:G6} ± {sigmas}·{seVariance:G3}");
    }

    /// <summary>
    /// Asserts that two independent columns have sample covariance within <paramref name="sigmas"/> standard errors
    /// of 0; for independent variables that error is √(σ_a²·σ_b²/n).
    /// </summary>
    public static void AssertUncorrelated(double[] a, double[] b, double varianceA, double varianceB, double sigmas, string label)
    {
        int n = a.Length;
        double ma = a.Average(), mb = b.Average();
        double cov = Enumerable.Range(0, n).Sum(i => (a[i] - ma) * (b[i] - mb)) / n;
        double se = Math.Sqrt(varianceA * varianceB / n);
        Assert.True(Math.Abs(cov) <= sigmas * se, $"{label}: covariance {cov:G4}, expected 0 ± {sigmas}·{se:G3}");
    }

    /// <summary>The Wilson–Hilferty approximation of the χ²(k) quantile at standard normal quantile z.</summary>
    public static double ChiSquareQuantile(int k, double z)
    {
        double a = 2.0 / (9.0 * k);
        return k * Math.Pow(1 - a + z * Math.Sqrt(a), 3);
    }

    /// <summary>
    /// Asserts that every row is distinct from every other, bit for bit, as sbibm asserts of its reference samples.
    /// </summary>
    public static void AssertUniqueRows(double[] rows, int dim)
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < rows.Length / dim; i++)
            Assert.True(seen.Add(string.Join(",", rows.AsSpan(i * dim, dim).ToArray().Select(v => BitConverter.DoubleToInt64Bits(v + 0.0)))), $"row {i} repeats an earlier row");
    }

    /// <summary>The largest gap between the empirical CDF of <paramref name="values"/> and <paramref name="cdf"/> (one-sample KS).</summary>
    public static double KolmogorovSmirnov(double[] values, Func<double, double> cdf)
    {
        double[] sorted = values.Order().ToArray();
        int n = sorted.Length;
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(sorted[i]);
            d = Math.Max(d, Math.Max(Math.Abs(f - (double)i / n), Math.Abs((double)(i + 1) / n - f)));
        }
        return d;
    }
}
