using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.ReferenceTargets;

namespace OnnxSbi.Tasks.Tests;

public sealed class BernoulliGlmTests(ITestOutputHelper output)
{
    [Fact]
    public void Design_LaggedStimulus_MatchesTheAppendix()
    {
        // numpy RandomState(42).randn(100) as float32: the first, tenth and last values.
        Assert.Equal((double)0.496714145f, BernoulliGlm.Stimulus[0]);
        Assert.Equal((double)0.542560041f, BernoulliGlm.Stimulus[9]);
        Assert.Equal((double)-0.234587133f, BernoulliGlm.Stimulus[99]);
        for (int t = 0; t < 100; t++)
        {
            Assert.Equal(1.0, BernoulliGlm.Design[t * 10]);
            for (int j = 0; j < 9; j++) Assert.Equal(t >= j ? BernoulliGlm.Stimulus[t - j] : 0, BernoulliGlm.Design[t * 10 + 1 + j]);
        }
    }

    [Fact]
    public void Prior_FilterVariances_MatchTheSpecAndTheDraws()
    {
        // diag((FᵀF)⁻¹) = row sums of squares of F⁻¹ (F⁻ᵀF⁻¹); F⁻¹ by forward substitution on the unit vectors.
        var inverse = new double[81];
        for (int col = 0; col < 9; col++)
            for (int k = 0; k < 9; k++)
            {
                double s = k == col ? 1 : 0;
                for (int j = Math.Max(0, k - 2); j < k; j++) s -= BernoulliGlm.FilterFactor(k, j) * inverse[j * 9 + col];
                inverse[k * 9 + col] = s / BernoulliGlm.FilterFactor(k, k);
            }
        double[] variances = Enumerable.Range(0, 9).Select(k => Enumerable.Range(0, 9).Sum(c => inverse[k * 9 + c] * inverse[k * 9 + c])).ToArray();
        double[] spec = [1.000, 2.813, 3.349, 2.409, 1.480, 1.211, 1.143, 0.962, 0.775];
        // The spec lists three decimals.
        for (int k = 0; k < 9; k++) Assert.Equal(spec[k], variances[k], 0.0006);

        const int n = 20_000;
        double[] theta = BernoulliGlm.CreateSimulator(seed: 1).Sample(n, seed: 1).Get(BernoulliGlm.Parameters);
        double[] all = [2.0, .. variances];
        for (int k = 0; k < 10; k++)
        {
            double[] t = Column(theta, 10, k);
            // Gaussian draws: SE(mean) = σ/√n, SE(var) = σ²·√(2/n); five of them.
            Assert.InRange(Mean(t), -5 * Math.Sqrt(all[k] / n), 5 * Math.Sqrt(all[k] / n));
            Assert.InRange(Variance(t), all[k] * (1 - 5 * Math.Sqrt(2.0 / n)), all[k] * (1 + 5 * Math.Sqrt(2.0 / n)));
        }
        // The density integrates the draws' own law: at θ = 0 it is N(0; 0, 2)·N(0; 0, (FᵀF)⁻¹) = Π F_kk/((2π)^5·√2).
        double logAtZero = Enumerable.Range(0, 9).Sum(k => Math.Log(BernoulliGlm.FilterFactor(k, k))) - 5 * Math.Log(2 * Math.PI) - 0.5 * Math.Log(2);
        Assert.Equal(logAtZero, BernoulliGlmPosterior.LogPrior(new double[10]), 12);
    }

    [Fact]
    public void Simulator_SummaryStatistics_AverageToTheLikelihoodsMean()
    {
        // E[x | θ] = Xᵀσ(Xθ), the zero of the likelihood's score x − Xᵀσ(Xθ): over simulated (θ, x) pairs the
        // residuals average to zero, which ties the simulator to the likelihood the reference posterior uses.
        const int n = 4000;
        var batch = BernoulliGlm.CreateSimulator(seed: 3).Sample(n, seed: 3);
        double[] theta = batch.Get(BernoulliGlm.Parameters), x = batch.Get(BernoulliGlm.Observations);
        Assert.Equal(n * 10, x.Length);
        var residuals = new double[n * 10];
        var psi = new double[100];
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(Math.Round(x[i * 10]), x[i * 10]);
            Assert.InRange(x[i * 10], 0, 100);
            BernoulliGlm.LogOdds(theta.AsSpan(i * 10, 10), psi);
            for (int k = 0; k < 10; k++)
            {
                double mean = 0;
                for (int t = 0; t < 100; t++) mean += BernoulliGlm.Design[t * 10 + k] / (1 + Math.Exp(-psi[t]));
                residuals[i * 10 + k] = x[i * 10 + k] - mean;
            }
        }
        for (int k = 0; k < 10; k++)
        {
            double[] r = Column(residuals, 10, k);
            double se = Math.Sqrt(Variance(r) / n);
            Assert.InRange(Mean(r), -5 * se, 5 * se);
        }
    }

    [Fact]
    public void LogLikelihood_IsTheSpikeTrainLikelihoodOfAnyTrainWithThoseStatistics()
    {
        // log p(y|θ) = Σ_t [y_t ψ_t − softplus(ψ_t)] for a concrete y equals θᵀ(Xᵀy) − Σ softplus(ψ_t).
        var random = new SimulationRandom(4);
        double[] theta = Enumerable.Range(0, 10).Select(_ => random.NextNormal(0, 0.5)).ToArray();
        int[] y = Enumerable.Range(0, 100).Select(_ => random.NextDouble() < 0.3 ? 1 : 0).ToArray();
        var psi = new double[100];
        BernoulliGlm.LogOdds(theta, psi);
        double direct = Enumerable.Range(0, 100).Sum(t => y[t] * psi[t] - Math.Log(1 + Math.Exp(psi[t])));
        double[] x = Enumerable.Range(0, 10).Select(k => Enumerable.Range(0, 100).Sum(t => y[t] * BernoulliGlm.Design[t * 10 + k])).ToArray();
        Assert.Equal(direct, BernoulliGlmPosterior.LogLikelihood(theta, x), 10);
    }

    [Fact]
    public void TestObservations_FixedSeed_AreTheSimulationsAtTheTrueParameters()
    {
        var task = new BernoulliGlmTask();
        double[] truth = task.TrueParameters(), xs = task.TestObservations();
        Assert.Equal(100, truth.Length);
        Assert.Equal(100, xs.Length);
        Assert.Equal(xs[..10], task.PrimaryObservation());
        // Regression: the first θ* and x of seed 20,240,613. Stored reference posteriors depend on these values.
        Assert.Equal([41, -0.07696702238172293, 0.9443784286268055, -11.427317023277283, -13.237660624086857, -23.54208904504776, -19.35103379935026, -3.5736543042585254, -12.117393921129405, 4.591200136579573], xs[..10]);
        Assert.Equal([-0.7696184627677185, -0.011819856612070887, 0.21003749225968327, -0.5637437808290554, -0.8588195720319358, -1.0407633118591235, -1.2515260661901746, -0.2850838480018829, -0.6078599436328295, 0.6066224910531061], truth[..10]);
    }

    [Fact]
    public void SampleReferenceRun_TwoSeeds_IndistinguishableByC2st()
    {
        double[] x = new BernoulliGlmTask().PrimaryObservation();
        const int n = 1000;
        var a = BernoulliGlmPosterior.Sample(x, n, seed: 1, Quick);
        var b = BernoulliGlmPosterior.Sample(x, n, seed: 2, Quick);
        output.WriteLine($"run a: {a.WallTime.TotalSeconds:F2}s, R̂ max {a.Mcmc!.MaxRHat:F4}, ESS min {a.Mcmc.MinBulkEss:F0}, acceptance {a.Rejection!.AcceptanceRate:F4}, exceedances {a.Rejection.Exceedances}");
        Assert.Equal(n * 10, a.Draws.Length);
        Assert.True(a.Mcmc.MaxRHat < 1.02, $"R̂ {a.Mcmc.MaxRHat:F4}");
        Assert.True(a.Mcmc.MinBulkEss > 500, $"ESS {a.Mcmc.MinBulkEss:F0}");
        Assert.Equal(0, a.Rejection.Exceedances);
        // As for SLCP: SD √(0.25/2000) ≈ 0.011 under the null, and room for the MLP's overfitting bias.
        double score = C2st.Score(a.Draws, b.Draws, 10, new C2stOptions(Seed: 1, MaxDegreeOfParallelism: 2));
        output.WriteLine($"C2ST {score:F4}");
        Assert.InRange(score, 0.44, 0.56);
    }

    [Fact]
    public void SampleReferencePosterior_WrongObservationShape_NamesTaskVariableAndShapes()
    {
        var task = new BernoulliGlmTask();
        var e = Assert.Throws<InvalidRequestException>(() => task.SampleReferencePosterior(new double[9], 10, seed: 1));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("'bernoulli_glm'", e.Message);
        Assert.Contains("[10]", e.Message);
        Assert.Contains("received 9 values", e.Message);
    }
}
