using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;

namespace OnnxSbi.Tasks.Tests;

public sealed class ConvergenceDiagnosticsTests(ITestOutputHelper output)
{
    /// <summary>Chains of AR(1) draws x_t = φ·x_{t−1} + √(1 − φ²)·z_t (stationary N(0, 1)), shifted and scaled per chain.</summary>
    private static double[][] Ar1Chains(int chains, int n, double phi, ulong seed, double[]? shifts = null, double[]? scales = null)
    {
        var result = new double[chains][];
        for (int c = 0; c < chains; c++)
        {
            var random = new SimulationRandom(seed + (ulong)c);
            double x = random.NextNormal();
            result[c] = new double[n];
            for (int t = 0; t < n; t++)
            {
                x = phi * x + Math.Sqrt(1 - phi * phi) * random.NextNormal();
                result[c][t] = (shifts?[c] ?? 0) + (scales?[c] ?? 1) * x;
            }
        }
        return result;
    }

    [Fact]
    public void SplitRHat_IndependentChains_IsNearOneAndEssNearTheDrawCount()
    {
        var chains = Ar1Chains(4, 1000, phi: 0, seed: 1);
        double rhat = ConvergenceDiagnostics.SplitRHat(chains, 1)[0];
        double ess = ConvergenceDiagnostics.BulkEss(chains, 1)[0];
        output.WriteLine($"R̂ {rhat:F4}, ESS {ess:F0} of 4000");
        // For iid draws R̂ − 1 is of order 1/n, and the ESS estimate scatters by about 10% around m·n.
        Assert.InRange(rhat, 0.99, 1.01);
        Assert.InRange(ess, 3000, 5000);
    }

    [Fact]
    public void BulkEss_Ar1Chains_MatchesTheIntegratedAutocorrelationTime()
    {
        // For AR(1), τ = (1 + φ)/(1 − φ) = 19 at φ = 0.9, so ESS = 4·5000/19 ≈ 1053; the estimate's relative
        // error is about √(2τ/(m·n))·(a few) ≈ 10%, hence the 25% band.
        var chains = Ar1Chains(4, 5000, phi: 0.9, seed: 2);
        double ess = ConvergenceDiagnostics.BulkEss(chains, 1)[0];
        output.WriteLine($"ESS {ess:F0}, expected 1053");
        Assert.InRange(ess, 1053 * 0.75, 1053 * 1.25);
    }

    [Fact]
    public void SplitRHat_ChainsStuckInDifferentModes_IsClearlyAboveOne()
    {
        var chains = Ar1Chains(4, 1000, phi: 0.5, seed: 3, shifts: [-3, -3, 3, 3]);
        double rhat = ConvergenceDiagnostics.SplitRHat(chains, 1)[0];
        output.WriteLine($"R̂ {rhat:F3}");
        // After rank normalisation the two groups fill the lower and the upper half of the normal scores: chain
        // means ±√(2/π) ≈ ±0.80 and within-chain variance 1 − 2/π ≈ 0.36, so R̂ ≈ √(1 + 0.64/0.36) ≈ 1.67 (an
        // unnormalised R̂ would be √(1 + 9/1)).
        Assert.True(rhat > 1.5, $"R̂ {rhat:F3}");
    }

    [Fact]
    public void SplitRHat_ChainsDifferingOnlyInSpread_FoldingDetectsIt()
    {
        var chains = Ar1Chains(4, 1000, phi: 0, seed: 4, scales: [1, 1, 3, 3]);
        double rhat = ConvergenceDiagnostics.SplitRHat(chains, 1)[0];
        output.WriteLine($"R̂ {rhat:F3}");
        // Equal means, so the bulk R̂ is near 1; the folded draws |θ − median| differ in mean by a factor 3.
        Assert.True(rhat > 1.1, $"R̂ {rhat:F3}");
    }

    [Fact]
    public void SplitRHat_ChainDriftingWithinItself_SplittingDetectsIt()
    {
        // One chain whose second half sits 2 units higher: the chains' means agree with each other's only on average.
        var chains = Ar1Chains(4, 1000, phi: 0, seed: 5);
        for (int t = 500; t < 1000; t++) chains[0][t] += 2;
        Assert.True(ConvergenceDiagnostics.SplitRHat(chains, 1)[0] > 1.05);
    }

    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.001, -3.090232306167813)]
    [InlineData(1e-10, -6.361340902404056)]
    public void NormalQuantile_KnownValues_WithinTheApproximationsError(double p, double z)
        // Acklam's approximation has relative error below 1.2e-9.
        => Assert.Equal(z, ReferenceMath.NormalQuantile(p), 2e-9 * Math.Max(1, Math.Abs(z)));
}
