using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;

namespace OnnxSbi.Tasks.Tests;

public sealed class TruncatedNormalTests
{
    // Reference values computed with mpmath at 50 significant digits (ncdf, log, findroot), rounded to 17.
    [Theory]
    [InlineData(-0.5, 0.3085375387259869, -1.1759117615936186)]
    [InlineData(-1.0, 0.15865525393145705, -1.8410216450092635)]
    [InlineData(-2.9, 0.0018658133003840385, -6.2840582349474184)] // the Taylor series' side of the switch at 3
    [InlineData(-3.1, 0.0009676032132183566, -6.9406884584212281)] // the continued fraction's side
    [InlineData(-8.0, 6.2209605742717841e-16, -35.01343715991455)]
    [InlineData(-20.0, 2.7536241186062337e-89, -203.91715537109726)]
    [InlineData(-37.0, 5.7255712225245768e-300, -689.03058557689059)]
    public void StandardNormalCdf_LowerTail_MatchesHighPrecisionValues(double z, double cdf, double logCdf)
    {
        // Tolerance 1e-13 relative: the series near z = −3 loses a factor Φ(0)/Φ(−3) ≈ 370 of the 1.1e-16 rounding.
        Assert.Equal(1.0, StandardNormal.Cdf(z) / cdf, 1e-13);
        Assert.Equal(1.0, StandardNormal.LogCdf(z) / logCdf, 1e-13);
        Assert.Equal(1 - cdf, StandardNormal.Cdf(-z), 1e-15);
    }

    [Fact]
    public void StandardNormalLogCdf_FarBelowTheDoubleRange_StaysFinite()
    {
        // Φ(−100) ≈ 1.3e-2174 underflows; its log (mpmath: −5005.5242086942051) must not.
        Assert.Equal(1.0, StandardNormal.LogCdf(-100) / -5005.5242086942051, 1e-14);
    }

    [Theory]
    [InlineData(1e-300, -37.047096299361199)]
    [InlineData(1e-100, -21.273453560965324)]
    [InlineData(0.001, -3.0902323061678135)]
    [InlineData(0.02, -2.0537489106318231)]
    [InlineData(0.3, -0.52440051270804078)]
    [InlineData(0.97, 1.8807936081512509)]
    public void StandardNormalQuantile_Probabilities_MatchHighPrecisionValues(double p, double z)
    {
        // Tolerance 1e-13 relative: Acklam's 1e-9 start is squared by the Halley step to the rounding of Φ.
        Assert.Equal(1.0, StandardNormal.Quantile(p) / z, 1e-13);
        Assert.Equal(0.0, StandardNormal.Quantile(0.5), 15);
        Assert.Equal(double.NegativeInfinity, StandardNormal.Quantile(0));
        Assert.Equal(double.PositiveInfinity, StandardNormal.Quantile(1));
    }

    [Theory]
    [InlineData(-31.0, -30.0, -454.32124395634325)]
    [InlineData(30.0, 31.0, -454.32124395634325)] // the mirror image of the row above
    [InlineData(-2.0, 1.0, -0.20016629432446258)]
    [InlineData(-50.0, -49.99, -1255.2637324439712)]
    [InlineData(-1.5, -1.4, -4.2723146270314519)]
    [InlineData(3.0, 4.0, -6.6314677865382251)]
    [InlineData(-200.0, -190.0, -18056.165990304278)]
    public void TruncatedNormalLogMass_Intervals_MatchHighPrecisionValues(double alpha, double beta, double logMass)
    {
        // mpmath at 50 digits; tolerance 1e-12 relative covers log1p of a difference of two accurate tails.
        Assert.Equal(1.0, TruncatedNormal.LogStandardMass(alpha, beta) / logMass, 1e-12);
    }

    [Theory]
    [InlineData(-1.0, 2.0)]      // around the mean: inverse CDF
    [InlineData(-40.0, -7.5)]    // upper end just short of the tail switch: inverse CDF at Φ ≈ 3e-14
    [InlineData(-12.0, -9.0)]    // left tail: exponential rejection, mirrored
    [InlineData(9.0, 9.5)]       // right tail, narrow: exponential rejection on a bounded interval
    [InlineData(30.0, double.PositiveInfinity)] // a one-sided tail
    [InlineData(0.2, 0.2001)]    // a sliver right of the mean
    public void TruncatedNormalSample_Intervals_FollowTheTruncatedCdf(double alpha, double beta)
    {
        const int n = 20_000;
        var random = new SimulationRandom(41);
        double[] z = Enumerable.Range(0, n).Select(_ => TruncatedNormal.SampleStandard(alpha, beta, random)).ToArray();
        Assert.All(z, v => Assert.InRange(v, alpha, beta));
        // F(z) = (Φ(z) − Φ(α))/(Φ(β) − Φ(α)), from the log masses tested against mpmath above.
        double logTotal = TruncatedNormal.LogStandardMass(alpha, beta);
        double ks = SampleStatistics.KolmogorovSmirnov(z, v => v <= alpha ? 0 : Math.Exp(TruncatedNormal.LogStandardMass(alpha, v) - logTotal));
        // One-sample KS at α = 0.001: critical value 1.9495/√n.
        Assert.True(ks < 1.9495 / Math.Sqrt(n), $"KS {ks:E3} on [{alpha}, {beta}]");
    }

    [Fact]
    public void TruncatedNormalSample_MeanAndVariance_MatchQuadrature()
    {
        // N(2.5, 0.1) on [−1, 1]: the box prior's posterior coordinate when x lies outside the box.
        var random = new SimulationRandom(5);
        double sd = Math.Sqrt(0.1);
        double[] draws = Enumerable.Range(0, 20_000).Select(_ => TruncatedNormal.Sample(2.5, sd, -1, 1, random)).ToArray();
        var (logMass, mean, variance) = Quadrature.TruncatedNormal(2.5, sd, -1, 1);
        Assert.Equal(1.0, TruncatedNormal.LogMass(2.5, sd, -1, 1) / logMass, 1e-8);
        SampleStatistics.AssertMoments(draws, mean, variance, sigmas: 5, "N(2.5, 0.1) on [-1, 1]");
    }
}
