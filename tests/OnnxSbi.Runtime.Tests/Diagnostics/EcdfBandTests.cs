using OnnxSbi.Diagnostics;
using Xunit.Abstractions;

namespace OnnxSbi.Runtime.Tests.Diagnostics;

public class EcdfBandTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(100, 50)]
    [InlineData(1000, 500)]
    public void UniformRanks_StayInsideBand_WithNominalSimultaneousCoverage(int datasets, int draws)
    {
        var band = EcdfBand.For(datasets, draws, 0.95);
        // Replications use a generator independent of the band's own Monte Carlo seed.
        const int Replications = 2000;
        var rng = new Random(12345);
        var ranks = new int[datasets];
        int inside = 0;
        for (int r = 0; r < Replications; r++)
        {
            for (int i = 0; i < datasets; i++) ranks[i] = rng.Next(draws + 1);
            if (band.Contains(ranks)) inside++;
        }
        double coverage = (double)inside / Replications;
        output.WriteLine($"N={datasets} S={draws}: gamma {band.AdjustedGamma:G4}, coverage {coverage:F4}");
        // Two error sources: the binomial sd of the coverage over 2000 replications, √(0.95·0.05/2000) =
        // 0.0049, and the Monte Carlo error of the band's γ (α-quantile of 10,000 simulations), which moves
        // its true coverage by about √(0.05·0.95/10,000) = 0.0022. Four times the combined 0.0054 is 0.022.
        Assert.InRange(coverage, 0.95 - 0.022, 0.95 + 0.022);
    }

    [Fact]
    public void Band_IsWiderThanPointwise_AndPinchedAtTheEnds()
    {
        var band = EcdfBand.For(500, 200);
        // Adjusting for K = 100 simultaneous points needs a pointwise level far below 0.05.
        Assert.InRange(band.AdjustedGamma, 1e-4, 0.02);
        Assert.Equal(100, band.Points.Count);
        for (int k = 0; k < band.Points.Count; k++)
        {
            Assert.True(band.Lower[k] <= band.Points[k] && band.Points[k] <= band.Upper[k]);
            if (k > 0) Assert.True(band.Points[k] > band.Points[k - 1]);
        }
        // Binomial spread √(z(1−z)/N) is largest in the middle.
        double Width(int k) => band.Upper[k] - band.Lower[k];
        Assert.True(Width(50) > Width(0) && Width(50) > Width(99));
    }

    [Fact]
    public void SameArguments_ReturnTheCachedBand()
    {
        Assert.Same(EcdfBand.For(300, 100), EcdfBand.For(300, 100));
    }

    [Fact]
    public void FewDraws_UseOnePointPerRankBoundary()
    {
        // S = 9: ranks 0…9, points i/10 for i = 1…9.
        var band = EcdfBand.For(50, 9);
        Assert.Equal(Enumerable.Range(1, 9).Select(i => i / 10.0), band.Points);
    }

    [Fact]
    public void ManyDraws_UseAtMostHundredEvenlySpacedPoints()
    {
        // S = 99,999: points ⌊k·100,000/101⌋/100,000, i.e. k/101 to within 1e-5.
        var band = EcdfBand.For(50, 99_999);
        Assert.Equal(EcdfBand.MaxPoints, band.Points.Count);
        for (int k = 0; k < band.Points.Count; k++) Assert.Equal((k + 1) / 101.0, band.Points[k], 1e-5);
    }

    [Fact]
    public void TooManyDatasets_IsRefused()
        => Assert.Throws<InvalidRequestException>(() => EcdfBand.For(EcdfBand.MaxDatasets + 1, 100));

    [Fact]
    public void EcdfDifference_OfAllRanksZero_IsOneMinusZ()
    {
        var band = EcdfBand.For(20, 9);
        double[] diff = band.EcdfDifference(new int[20]);
        for (int k = 0; k < diff.Length; k++) Assert.Equal(1 - band.Points[k], diff[k], 1e-15);
        Assert.False(band.Contains(new int[20]));
    }

    [Fact]
    public void RankOutsideRange_OrWrongCount_IsRefused()
    {
        var band = EcdfBand.For(20, 9);
        var ranks = new int[20];
        ranks[3] = 10;
        Assert.Throws<InvalidRequestException>(() => band.Contains(ranks));
        var e = Assert.Throws<ShapeMismatchException>(() => band.Contains(new int[19]));
        Assert.Contains("[20]", e.Message);
        Assert.Contains("[19]", e.Message);
    }
}
