using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.ReferenceTargets;

namespace OnnxSbi.Tasks.Tests;

/// <summary>The sir task: registration, its adapter, and its reference posterior with short chains.</summary>
public sealed class SirTaskTests(ITestOutputHelper output)
{
    /// <summary>
    /// Short settings for these tests (4 chains × 150 draws after 60 warm-up sweeps, a lighter bound search): an
    /// evaluation is an ODE solve, and the rejection step keeps the draws exact whatever the chains' length.
    /// </summary>
    private static readonly ReferenceOptions Brief = new(
        new SliceOptions(Chains: 4, WarmupSweeps: 60, DrawsPerChain: 150, MaxDegreeOfParallelism: 2),
        new RejectionOptions(MaxComponents: 2, PriorCandidates: 300, Starts: 1, EvaluationsPerDimension: 100, MaxDegreeOfParallelism: 2));

    [Fact]
    public void Catalog_Sir_IsRegisteredAfterBernoulliGlmWithTheSimulatorsVariables()
    {
        var task = TaskCatalog.Get("sir");
        Assert.IsType<SirTask>(task);
        Assert.Equal(TaskCatalog.Names.ToList().IndexOf("bernoulli_glm") + 1, TaskCatalog.Names.ToList().IndexOf("sir"));
        Assert.Equal(("theta", 2, "x", 10), (task.ParameterName, task.ParameterDim, task.ObservationName, task.ObservationDim));
        Assert.Equal(new TrainingBudget(Batches: 100, BatchSize: 100, ValidationSets: 300), task.SeedBudget);
        Assert.Equal(Sir.TestObservations(), task.TestObservations());
        Assert.Equal(Sir.TestObservations()[..10], task.PrimaryObservation());
        // A failed solve must reach training as a NaN row (skipped under --skip-bad-rows), not stop the batch.
        Assert.False(task.CreateSimulator(seed: 1).RejectsNonFinite);
    }

    [Fact]
    public void Adapter_FittedOnSimulations_IsStandardNormalInLogThetaAndRoundTrips()
    {
        var task = new SirTask();
        var simulations = task.CreateSimulator(seed: 2).Sample(2000, seed: 2);
        var adapter = task.CreateAdapter().Fit(simulations);
        var mapped = adapter.Forward(simulations);
        double[] z = mapped.Get(Adapter.InferenceVariables), c = mapped.Get(Adapter.InferenceConditions);
        const int n = 2000;
        for (int k = 0; k < 2; k++)
        {
            // (log θ − μ)/σ with the prior's own μ, σ is N(0, 1): SE(mean) = 1/√n, SE(var) = √(2/n); five of them.
            double[] col = Column(z, 2, k);
            Assert.InRange(Mean(col), -5 / Math.Sqrt(n), 5 / Math.Sqrt(n));
            Assert.InRange(Variance(col), 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
        }
        // The conditions are √x z-scored on these very rows, so their means are 0 up to rounding (1e-5 is ample);
        // x at t = 0 is almost always 0, a constant that the std floor centres instead of dividing by zero.
        for (int k = 0; k < 10; k++) Assert.Equal(0, Mean(Column(c, 10, k)), 1e-5);

        // Back to θ: exp undoes the log up to float32 rounding of θ (2⁻²⁴ ≈ 6e-8 relative); 1e-6 allows the log,
        // the exp and the standardization a few float ulps each.
        double[] theta = simulations.Get(Sir.Parameters);
        double[] back = adapter.Inverse(mapped).Get(Sir.Parameters);
        for (int i = 0; i < theta.Length; i++) Assert.Equal(theta[i], back[i], 1e-6 * theta[i]);

        // The density's change of variables: log|det ∂A/∂θ| = −Σ_k (log θ_k + log σ_k), in double precision of the
        // float-rounded θ, so 1e-5 absolute.
        double[] logDet = adapter.LogDetJacobian(mapped);
        for (int i = 0; i < n; i++)
        {
            double expected = -Math.Log(theta[2 * i]) - Math.Log(theta[2 * i + 1]) - Math.Log(0.5) - Math.Log(0.2);
            Assert.Equal(expected, logDet[i], 1e-5);
        }
    }

    [Fact]
    public void SampleReferenceRun_TwoSeeds_PositiveDrawsThatAgreeAndCoverTheTrueParameter()
    {
        var task = new SirTask();
        double[] x = task.PrimaryObservation(), truth = task.TrueParameters()[..2];
        const int n = 500;
        var a = SirPosterior.Sample(x, n, seed: 1, Brief);
        var b = SirPosterior.Sample(x, n, seed: 2, Brief);
        output.WriteLine($"run a: {a.WallTime.TotalSeconds:F2}s, R̂ max {a.Mcmc!.MaxRHat:F4}, ESS min {a.Mcmc.MinBulkEss:F0}, acceptance {a.Rejection!.AcceptanceRate:F4}, exceedances {a.Rejection.Exceedances}");
        Assert.Equal(n * 2, a.Draws.Length);
        Assert.All(a.Draws, v => Assert.True(v > 0 && double.IsFinite(v), $"draw {v}"));
        // 600 kept draws, ESS of a few hundred: split-R̂ of chains that agree scatters above 1 by about 0.01, and a
        // chain that has not reached the posterior, whose sd in log θ is 0.02–0.05 against the prior's 0.2–0.5, by far more.
        Assert.True(a.Mcmc.MaxRHat < 1.05, $"R̂ {a.Mcmc.MaxRHat:F4}");
        Assert.Equal(0, a.Rejection.Exceedances);
        for (int k = 0; k < 2; k++)
        {
            double[] la = Column(a.Draws, 2, k).Select(v => Math.Log(v)).ToArray(), lb = Column(b.Draws, 2, k).Select(v => Math.Log(v)).ToArray();
            double sd = Math.Sqrt(Variance(la));
            // θ* was drawn from the prior and x from the likelihood at θ*, so θ* is marginally a draw of p(θ | x):
            // in log θ, where this posterior is close to Gaussian, (log θ* − mean)/sd is about N(0, 1). Five sds.
            output.WriteLine($"log θ{k}: mean {Mean(la):F4} sd {sd:F4}, truth {Math.Log(truth[k]):F4}");
            Assert.InRange(Math.Log(truth[k]), Mean(la) - 5 * sd, Mean(la) + 5 * sd);
            // Two independent exact samples: their means differ with SE sd·√(2/n); five of them.
            Assert.InRange(Mean(la) - Mean(lb), -5 * sd * Math.Sqrt(2.0 / n), 5 * sd * Math.Sqrt(2.0 / n));
        }
    }

    [Fact]
    public void Sample_SameSeed_SameDrawsForAnyThreadCount()
    {
        double[] x = Sir.TestObservations()[10..20];
        var tiny = new ReferenceOptions(
            new SliceOptions(Chains: 2, WarmupSweeps: 20, DrawsPerChain: 50, MaxDegreeOfParallelism: 2),
            new RejectionOptions(MaxComponents: 1, PriorCandidates: 100, Starts: 1, EvaluationsPerDimension: 50, MaxDegreeOfParallelism: 2));
        var single = tiny with { Slice = tiny.Slice with { MaxDegreeOfParallelism = 1 }, Rejection = tiny.Rejection with { MaxDegreeOfParallelism = 1 } };
        var a = SirPosterior.Sample(x, 50, seed: 4, tiny);
        Assert.Equal(a.Draws, SirPosterior.Sample(x, 50, seed: 4, single).Draws);
        Assert.NotEqual(a.Draws, SirPosterior.Sample(x, 50, seed: 5, tiny).Draws);
    }

    [Fact]
    public void SampleReferencePosterior_WrongObservationShape_NamesTaskVariableAndShapes()
    {
        var e = Assert.Throws<InvalidRequestException>(() => new SirTask().SampleReferencePosterior(new double[9], 10, seed: 1));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("'sir'", e.Message);
        Assert.Contains("[10]", e.Message);
        Assert.Contains("received 9 values", e.Message);
    }
}
