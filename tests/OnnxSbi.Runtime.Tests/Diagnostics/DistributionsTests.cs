using OnnxSbi.Diagnostics;

namespace OnnxSbi.Runtime.Tests.Diagnostics;

public class DistributionsTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(1.0)]
    [InlineData(5.5)]
    [InlineData(40.0)]
    public void ChiSquareSurvival_TwoDegrees_IsExponential(double x)
    {
        // χ²(2) is Exponential(1/2): P(X ≥ x) = e^{−x/2}. Relative 1e-12: both branches of Q converge to 1e-16.
        double expected = Math.Exp(-x / 2);
        Assert.Equal(expected, Distributions.ChiSquareSurvival(x, 2), expected * 1e-12);
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(2.0)]
    [InlineData(9.0)]
    public void ChiSquareSurvival_OneDegree_IsTwoSidedNormalTail(double x)
    {
        // χ²(1) = Z²: P(X ≥ x) = erfc(√(x/2)); 5e-7 covers the reference erfc's 1.2e-7 relative error.
        Assert.Equal(Statistics.Erfc(Math.Sqrt(x / 2)), Distributions.ChiSquareSurvival(x, 1), 5e-7);
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(5, 24.0)]
    [InlineData(20, 121645100408832000.0)]
    public void LogGamma_AtIntegers_IsLogFactorial(int n, double factorial)
    {
        // Γ(1) = 1 has log 0 exactly; elsewhere the Lanczos series is good to ~1e-15 relative.
        Assert.Equal(n == 1 ? 0 : Math.Log(factorial), Distributions.LogGamma(n), 1e-12);
    }

    [Fact]
    public void LogGamma_AtOneHalf_IsLogRootPi() => Assert.Equal(0.5 * Math.Log(Math.PI), Distributions.LogGamma(0.5), 1e-13);

    [Fact]
    public void BinomialCdf_SmallN_MatchesDirectSum()
    {
        const int n = 12;
        const double p = 0.3;
        var cdf = new double[n + 1];
        Distributions.BinomialCdf(n, p, cdf);
        double running = 0;
        for (int c = 0; c <= n; c++)
        {
            double choose = 1;
            for (int i = 0; i < c; i++) choose = choose * (n - i) / (i + 1);
            running += choose * Math.Pow(p, c) * Math.Pow(1 - p, n - c);
            // Direct sums of 13 positive terms: rounding near 1e-15.
            Assert.Equal(running, cdf[c], 1e-13);
        }
    }

    [Fact]
    public void BinomialCdf_LargeSymmetric_SumsToOneAcrossTheMiddle()
    {
        // Bin(1000, ½) is symmetric: P(X ≤ 499) = P(X ≥ 501), so P(X ≤ 499) + P(X ≤ 500) = 1; and the
        // central pmf is C(1000, 500)/2^1000 = 0.025225018. The naive (1 − p)^n start would be 9e-302.
        var cdf = new double[1001];
        Distributions.BinomialCdf(1000, 0.5, cdf);
        Assert.Equal(1.0, cdf[499] + cdf[500], 1e-12);
        Assert.Equal(0.025225018, cdf[500] - cdf[499], 1e-9);
    }

    [Fact]
    public void Quantile_IsNumpyWeibullInterpolation()
    {
        double[] sorted = [1, 2, 3, 4];
        // numpy.quantile([1, 2, 3, 4], q, method="weibull"): 1-based position 5q, clamped to [1, 4].
        Assert.Equal(2.5, PosteriorDiagnostics.Quantile(sorted, 0.5), 1e-15);
        Assert.Equal(1.5, PosteriorDiagnostics.Quantile(sorted, 0.3), 1e-15);
        Assert.Equal(3.75, PosteriorDiagnostics.Quantile(sorted, 0.75), 1e-15);
        Assert.Equal(1.0, PosteriorDiagnostics.Quantile(sorted, 0.1), 1e-15);
        Assert.Equal(4.0, PosteriorDiagnostics.Quantile(sorted, 0.9), 1e-15);
    }

    [Fact]
    public void Quantile_CentralIntervalOfUniformDraws_CoversAtNominalLevelOnAverage()
    {
        // For S = 100 uniform draws the expected mass between the type-6 quantiles at 0.025 and 0.975
        // (1-based positions 2.525 and 98.475, no clamping) is exactly 0.95: E[U₍ₖ₎] = k/(S+1) and the ends
        // interpolate linearly. The mass of one replication has sd ≈ √(0.95·0.05/(S+2)) = 0.022, so 5,000
        // replications estimate its mean to ±0.0003; 0.002 is over six of those, while numpy's type 7
        // would give 0.931.
        const int S = 100, Replications = 5_000;
        var rng = new Random(4);
        var draws = new double[S];
        double mass = 0;
        for (int r = 0; r < Replications; r++)
        {
            for (int i = 0; i < S; i++) draws[i] = rng.NextDouble();
            Array.Sort(draws);
            mass += PosteriorDiagnostics.Quantile(draws, 0.975) - PosteriorDiagnostics.Quantile(draws, 0.025);
        }
        Assert.Equal(0.95, mass / Replications, 0.002);
    }

    [Fact]
    public void RankChiSquare_ExactlyUniformRanks_HasZeroStatistic_AndSkewedRanksReject()
    {
        // 110 ranks, ten copies of each of 0…10 (S = 10): every bin holds its expected count.
        int[] uniform = Enumerable.Range(0, 110).Select(i => i % 11).ToArray();
        var (statistic, bins, p) = PosteriorDiagnostics.RankChiSquare(uniform, 10);
        Assert.Equal(11, bins);
        Assert.Equal(0, statistic, 1e-12);
        Assert.Equal(1, p, 1e-12);
        int[] skewed = Enumerable.Range(0, 110).Select(i => i % 3).ToArray();
        Assert.True(PosteriorDiagnostics.RankChiSquare(skewed, 10).PValue < 1e-10);
    }
}
