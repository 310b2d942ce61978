using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.ReferenceTargets;

namespace OnnxSbi.Tasks.Tests;

public sealed class SliceSamplerTests(ITestOutputHelper output)
{
    private static readonly SliceOptions Small = new(Chains: 4, WarmupSweeps: 200, DrawsPerChain: 1000, Thin: 1, MaxDegreeOfParallelism: 2);

    [Fact]
    public void Run_CorrelatedGaussian_MomentsWithinFiveEssStandardErrors()
    {
        var target = new CorrelatedGaussian();
        var run = SliceSampler.Run(target, Small, seed: 3);
        double[] draws = run.PooledParameters();
        double[] ess = ConvergenceDiagnostics.BulkEss(run.Parameters, 3);
        double[] rhat = ConvergenceDiagnostics.SplitRHat(run.Parameters, 3);
        for (int k = 0; k < 3; k++)
        {
            double[] x = Column(draws, 3, k);
            double sd = CorrelatedGaussian.Sd[k];
            // Standard errors from the effective sample size: sd/√ESS for the mean, σ²·√(2/ESS) for the variance
            // (a Gaussian's m4 = 3σ⁴).
            double seMean = sd / Math.Sqrt(ess[k]), seVar = sd * sd * Math.Sqrt(2 / ess[k]);
            output.WriteLine($"θ{k + 1}: mean {Mean(x):F4} (±{seMean:F4}), var {Variance(x):F4} (±{seVar:F4}), R̂ {rhat[k]:F4}, ESS {ess[k]:F0}");
            Assert.InRange(Mean(x), CorrelatedGaussian.Mean[k] - 5 * seMean, CorrelatedGaussian.Mean[k] + 5 * seMean);
            Assert.InRange(Variance(x), sd * sd - 5 * seVar, sd * sd + 5 * seVar);
            // Well mixed: the adapted frame makes the correlated coordinates nearly independent, so the ESS is a
            // large share of the 4,000 draws and the chains agree.
            Assert.True(rhat[k] < 1.01, $"R̂ {rhat[k]:F4} for θ{k + 1}");
            Assert.True(ess[k] > 1000, $"ESS {ess[k]:F0} for θ{k + 1}");
        }
        // The correlation 0.9 of θ1 and θ2: its standard error (1 − ρ²)/√ESS is below 0.006.
        double[] a = Column(draws, 3, 0), b = Column(draws, 3, 1);
        double r = a.Zip(b, (p, q) => (p - Mean(a)) * (q - Mean(b))).Sum() / (a.Length - 1) / Math.Sqrt(Variance(a) * Variance(b));
        Assert.Equal(0.9, r, 0.03);
    }

    [Fact]
    public void Run_BimodalTarget_VisitsBothModesInProportion()
    {
        var target = new Bimodal();
        var run = SliceSampler.Run(target, Small with { DrawsPerChain = 2000 }, seed: 5);
        double[] x = run.PooledParameters();
        double ess = ConvergenceDiagnostics.BulkEss(run.Parameters, 1)[0];
        double right = x.Count(v => v > 0) / (double)x.Length;
        double p = Bimodal.PositiveShare;
        // Standard errors from the ESS: the mean's √(Var/ESS), the positive share's √(p(1 − p)/ESS), the
        // variance's √((m4 − σ⁴)/ESS).
        double seMean = Math.Sqrt(Bimodal.Variance / ess), seShare = Math.Sqrt(p * (1 - p) / ess);
        double seVar = Math.Sqrt((FourthMoment(x) - Variance(x) * Variance(x)) / ess);
        output.WriteLine($"mean {Mean(x):F4} (±{seMean:F4}), positive share {right:F4} (±{seShare:F4}), var {Variance(x):F4} (±{seVar:F4}), ESS {ess:F0}");
        Assert.InRange(Mean(x), Bimodal.Mean - 5 * seMean, Bimodal.Mean + 5 * seMean);
        Assert.InRange(right, p - 5 * seShare, p + 5 * seShare);
        Assert.InRange(Variance(x), Bimodal.Variance - 5 * seVar, Bimodal.Variance + 5 * seVar);
        Assert.True(ess > 200, $"ESS {ess:F0}: the chains rarely cross between the modes");
    }

    [Fact]
    public void Run_ConstrainedTarget_JacobianGivesGammaAndBetaMoments()
    {
        var target = new GammaBeta();
        var run = SliceSampler.Run(target, Small, seed: 7);
        double[] draws = run.PooledParameters();
        double[] ess = ConvergenceDiagnostics.BulkEss(run.Parameters, 2);
        for (int k = 0; k < 2; k++)
        {
            double[] x = Column(draws, 2, k);
            double se = Math.Sqrt(GammaBeta.Variance[k] / ess[k]);
            output.WriteLine($"θ{k + 1}: mean {Mean(x):F4} (±{se:F4}), exact {GammaBeta.Mean[k]}");
            Assert.InRange(Mean(x), GammaBeta.Mean[k] - 5 * se, GammaBeta.Mean[k] + 5 * se);
        }
        Assert.All(Column(draws, 2, 0), v => Assert.True(v > 0));
        Assert.All(Column(draws, 2, 1), v => Assert.InRange(v, 0.0, 1.0));
    }

    [Fact]
    public void Run_SameSeed_SameDrawsForAnyThreadCount()
    {
        var target = new GammaBeta();
        var options = Small with { WarmupSweeps = 20, DrawsPerChain = 50 };
        var a = SliceSampler.Run(target, options with { MaxDegreeOfParallelism = 1 }, seed: 9);
        var b = SliceSampler.Run(target, options with { MaxDegreeOfParallelism = 4 }, seed: 9);
        var c = SliceSampler.Run(target, options, seed: 10);
        Assert.Equal(a.PooledParameters(), b.PooledParameters());
        Assert.Equal(a.Evaluations, b.Evaluations);
        Assert.NotEqual(a.PooledParameters(), c.PooledParameters());
        // Independent chains: no two start at the same point.
        Assert.Equal(4, a.Parameters.Select(p => p[0]).Distinct().Count());
    }

    [Fact]
    public void Run_InvalidOptions_NameTheOption()
    {
        var e = Assert.Throws<InvalidRequestException>(() => SliceSampler.Run(new Bimodal(), Small with { Thin = 0 }, seed: 1));
        Assert.Contains("'Thin'", e.Message);
    }
}
