using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.ReferenceTargets;

namespace OnnxSbi.Tasks.Tests;

public sealed class DefensiveRejectionTests(ITestOutputHelper output)
{
    private static readonly SliceOptions ShortChains = new(Chains: 2, WarmupSweeps: 40, DrawsPerChain: 200, MaxDegreeOfParallelism: 2);

    [Fact]
    public void Sample_GammaBetaTarget_ReproducesTheExactMoments()
    {
        var target = new GammaBeta();
        // Short chains: the proposal only needs to be roughly right; exactness comes from the rejection step.
        var mcmc = SliceSampler.Run(target, ShortChains, seed: 1);
        const int n = 20_000;
        var (draws, stats) = DefensiveRejection.Sample(target, mcmc.PooledParameters(), n, seed: 2, new RejectionOptions(MaxDegreeOfParallelism: 2));
        output.WriteLine($"components {stats.Components}, log M {stats.LogBound:F3}, acceptance {(double)stats.Accepted / stats.Proposals:F3}, exceedances {stats.Exceedances}");
        Assert.Equal(2 * n, draws.Length);
        for (int k = 0; k < 2; k++)
        {
            double[] x = Column(draws, 2, k);
            // Independent draws: SE(mean) = σ/√n, SE(var) = √((m4 − σ⁴)/n).
            double seMean = Math.Sqrt(GammaBeta.Variance[k] / n);
            double seVar = Math.Sqrt((FourthMoment(x) - Variance(x) * Variance(x)) / n);
            output.WriteLine($"θ{k + 1}: mean {Mean(x):F4} (±{seMean:F4}) exact {GammaBeta.Mean[k]}, var {Variance(x):F5} (±{seVar:F5}) exact {GammaBeta.Variance[k]:F5}");
            Assert.InRange(Mean(x), GammaBeta.Mean[k] - 5 * seMean, GammaBeta.Mean[k] + 5 * seMean);
            Assert.InRange(Variance(x), GammaBeta.Variance[k] - 5 * seVar, GammaBeta.Variance[k] + 5 * seVar);
        }
        Assert.Equal(0, stats.Exceedances);
        // Every draw is distinct, as sbibm requires of its 10,000 reference rows.
        Assert.Equal(n, Enumerable.Range(0, n).Select(i => (draws[2 * i], draws[2 * i + 1])).Distinct().Count());
    }

    [Fact]
    public void Sample_BimodalTargetFromOneModesDraws_StillCoversBothModes()
    {
        // Approximate draws from the right mode only: the prior part of the proposal (weight 0.1) still reaches the
        // left mode, and the bound search finds the ratio there from the prior draws.
        var target = new Bimodal();
        var random = new Runtime.Simulators.SimulationRandom(3);
        double[] rightOnly = Enumerable.Range(0, 400).Select(_ => random.NextNormal(1.5, 0.6)).ToArray();
        const int n = 10_000;
        var (draws, stats) = DefensiveRejection.Sample(target, rightOnly, n, seed: 4, new RejectionOptions(MaxDegreeOfParallelism: 2));
        double left = draws.Count(v => v <= 0) / (double)n;
        output.WriteLine($"left share {left:F4}, acceptance {(double)stats.Accepted / stats.Proposals:F3}, exceedances {stats.Exceedances}");
        // Binomial standard error √(0.21/n) ≈ 0.0046; five of them.
        Assert.InRange(left, 1 - Bimodal.PositiveShare - 0.023, 1 - Bimodal.PositiveShare + 0.023);
    }

    [Fact]
    public void Sample_SameSeed_SameDrawsForAnyThreadCount()
    {
        var target = new GammaBeta();
        double[] approximate = SliceSampler.Run(target, ShortChains, seed: 1).PooledParameters();
        var options = new RejectionOptions(PriorCandidates: 500, Starts: 2);
        var (a, sa) = DefensiveRejection.Sample(target, approximate, 3000, seed: 5, options with { MaxDegreeOfParallelism = 1 });
        var (b, sb) = DefensiveRejection.Sample(target, approximate, 3000, seed: 5, options with { MaxDegreeOfParallelism = 3 });
        var (c, _) = DefensiveRejection.Sample(target, approximate, 3000, seed: 6, options);
        Assert.Equal(a, b);
        Assert.Equal(sa, sb);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Sample_CrippledBoundSearch_CountsExceedances()
    {
        // Approximate draws far too narrow (sd 0.01 where the posterior's is 0.87 and 0.15), a single prior
        // candidate, one Nelder–Mead start of 20 evaluations with steps of a tenth of that width, and no safety
        // factor: M lands well below the true maximum ratio, and the proposals above it are counted.
        var target = new GammaBeta();
        var random = new Runtime.Simulators.SimulationRandom(8);
        double[] approximate = Enumerable.Range(0, 200).SelectMany(_ => new[] { random.NextNormal(1.5, 0.01), random.NextNormal(0.4, 0.01) }).ToArray();
        var crippled = new RejectionOptions(PriorCandidates: 1, Starts: 1, EvaluationsPerDimension: 10, BoundFactor: 1, MaxDegreeOfParallelism: 2);
        var (_, stats) = DefensiveRejection.Sample(target, approximate, 5000, seed: 7, crippled);
        output.WriteLine($"exceedances {stats.Exceedances} of {stats.Proposals}");
        Assert.True(stats.Exceedances > 0);
    }
}
