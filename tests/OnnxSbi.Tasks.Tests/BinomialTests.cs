using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;

namespace OnnxSbi.Tasks.Tests;

public sealed class BinomialTests
{
    [Theory]
    [InlineData(1000, 1e-6)]   // sir's p at t = 0: inversion
    [InlineData(1000, 0.004)]  // inversion, n·p = 4
    [InlineData(20, 0.5)]      // BTRS at its lower limit n·p = 10
    [InlineData(1000, 0.12)]   // BTRS
    [InlineData(1000, 0.93)]   // mirrored through 1 − p
    public void Sample_ManyDraws_MatchMeanAndVariance(int n, double p)
    {
        const int draws = 200_000;
        var random = new SimulationRandom(11);
        double sum = 0, sumSq = 0;
        for (int i = 0; i < draws; i++)
        {
            int k = Binomial.Sample(random, n, p);
            Assert.InRange(k, 0, n);
            sum += k;
            sumSq += (double)k * k;
        }
        double mean = sum / draws, variance = sumSq / draws - mean * mean;
        double expectedMean = n * p, expectedVariance = n * p * (1 - p);
        // 5 standard errors: the mean's is √(npq/draws); the variance's is √((μ₄ − σ⁴)/draws) ≈ σ²·√(2/draws)
        // for these near-normal cases (the excess kurtosis (1 − 6pq)/(npq) adds at most 1 to the 2 at p = 1e-6).
        Assert.InRange(mean, expectedMean - 5 * Math.Sqrt(expectedVariance / draws), expectedMean + 5 * Math.Sqrt(expectedVariance / draws));
        double varianceSe = expectedVariance * Math.Sqrt((2 + (1 - 6 * p * (1 - p)) / expectedVariance) / draws);
        Assert.InRange(variance, expectedVariance - 5 * varianceSe, expectedVariance + 5 * varianceSe);
    }

    [Theory]
    [InlineData(1000, 0.008)]
    [InlineData(1000, 0.05)]
    [InlineData(1000, 0.31)]
    public void Sample_Histogram_PassesChiSquareAgainstThePmf(int n, double p)
    {
        // The BTRS hat must dominate the pmf everywhere, which moments alone would not reveal.
        const int draws = 200_000;
        var random = new SimulationRandom(5);
        var counts = new int[n + 1];
        for (int i = 0; i < draws; i++) counts[Binomial.Sample(random, n, p)]++;
        // Cells with expected count ≥ 5, the tails pooled into one cell each.
        double chi2 = 0, lowObserved = 0, lowExpected = 0;
        int cells = 0, k = 0;
        for (; k <= n && draws * Math.Exp(Binomial.LogProbability(k, n, p)) < 5; k++)
        {
            lowObserved += counts[k];
            lowExpected += draws * Math.Exp(Binomial.LogProbability(k, n, p));
        }
        double highObserved = 0, highExpected = 0;
        for (; k <= n; k++)
        {
            double expected = draws * Math.Exp(Binomial.LogProbability(k, n, p));
            if (expected < 5) { highObserved += counts[k]; highExpected += expected; continue; }
            chi2 += Square(counts[k] - expected) / expected;
            cells++;
        }
        foreach (var (o, e) in new[] { (lowObserved, lowExpected), (highObserved, highExpected) })
        {
            if (e <= 0) continue;
            chi2 += Square(o - e) / e;
            cells++;
        }
        int dof = cells - 1;
        // The chi-square's mean is dof and its sd √(2·dof); 5 sd above the mean has p < 10⁻⁵ under the null.
        Assert.True(chi2 < dof + 5 * Math.Sqrt(2 * dof), $"chi² = {chi2:F1} with {dof} degrees of freedom");
    }

    [Theory]
    [InlineData(1000, 1e-6)]
    [InlineData(1000, 0.2)]
    [InlineData(1000, 0.999)]
    [InlineData(7, 0.5)]
    public void LogProbability_SummedOverAllCounts_IsOne(int n, double p)
    {
        double total = 0;
        for (int k = 0; k <= n; k++) total += Math.Exp(Binomial.LogProbability(k, n, p));
        // Each term carries a relative rounding error of about 1e-13 (log-factorials of size 6000 exponentiated).
        Assert.Equal(1.0, total, 1e-12);
    }

    [Fact]
    public void LogProbability_OutsideTheSupport_IsNegativeInfinity()
    {
        Assert.Equal(double.NegativeInfinity, Binomial.LogProbability(-1, 10, 0.5));
        Assert.Equal(double.NegativeInfinity, Binomial.LogProbability(11, 10, 0.5));
        Assert.Equal(double.NegativeInfinity, Binomial.LogProbability(2.5, 10, 0.5));
        Assert.Equal(double.NegativeInfinity, Binomial.LogProbability(1, 10, 0));
        Assert.Equal(0.0, Binomial.LogProbability(0, 10, 0));
        Assert.Equal(0.0, Binomial.LogProbability(10, 10, 1));
    }

    [Fact]
    public void LogFactorial_MatchesTheSumOfLogarithms()
    {
        double sum = 0;
        for (int k = 1; k <= 5000; k++)
        {
            sum += Math.Log(k);
            // The running sum itself accumulates about k·1e-16 relative error; 1e-13 covers both.
            Assert.Equal(sum, Binomial.LogFactorial(k), Math.Max(1e-13 * sum, 1e-15));
        }
    }

    private static double Square(double v) => v * v;
}
