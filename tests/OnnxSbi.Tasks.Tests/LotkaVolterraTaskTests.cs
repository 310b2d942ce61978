using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.ReferenceTargets;

namespace OnnxSbi.Tasks.Tests;

/// <summary>The lotka_volterra task: registration, its adapter, and its reference posterior with short chains.</summary>
public sealed class LotkaVolterraTaskTests(ITestOutputHelper output)
{
    /// <summary>
    /// Short settings for these tests (4 chains × 150 draws after 60 warm-up sweeps, a lighter bound search): an
    /// evaluation is an ODE solve, and the rejection step keeps the draws exact whatever the chains' length.
    /// </summary>
    private static readonly ReferenceOptions Brief = new(
        new SliceOptions(Chains: 4, WarmupSweeps: 60, DrawsPerChain: 150, MaxDegreeOfParallelism: 2),
        new RejectionOptions(MaxComponents: 2, PriorCandidates: 300, Starts: 1, EvaluationsPerDimension: 100, MaxDegreeOfParallelism: 2));

    private const int D = LotkaVolterra.ParameterDim;

    [Fact]
    public void Catalog_LotkaVolterra_IsRegisteredAfterSirWithTheSimulatorsVariables()
    {
        var task = TaskCatalog.Get("lotka_volterra");
        Assert.IsType<LotkaVolterraTask>(task);
        Assert.Equal(TaskCatalog.Names.ToList().IndexOf("sir") + 1, TaskCatalog.Names.ToList().IndexOf("lotka_volterra"));
        Assert.Equal(("theta", 4, "x", 20), (task.ParameterName, task.ParameterDim, task.ObservationName, task.ObservationDim));
        Assert.Equal(new TrainingBudget(Batches: 100, BatchSize: 100, ValidationSets: 300), task.SeedBudget);
        Assert.Equal(LotkaVolterra.TestObservations(), task.TestObservations());
        Assert.Equal(LotkaVolterra.TestObservations()[..20], task.PrimaryObservation());
        // A failed solve must reach training as a NaN row (skipped under --skip-bad-rows), not stop the batch.
        Assert.False(task.CreateSimulator(seed: 1).RejectsNonFinite);
    }

    [Fact]
    public void Adapter_FittedOnSimulations_IsStandardNormalInLogThetaAndRoundTrips()
    {
        var task = new LotkaVolterraTask();
        // The adapter is fitted on the rows whose solve succeeded, as training fits it (BasicWorkflow.FitAdapter).
        var simulations = task.CreateSimulator(seed: 2).Sample(1000, seed: 2);
        var finite = Enumerable.Range(0, simulations.Rows).Where(r => !double.IsNaN(simulations.Get(LotkaVolterra.Observations)[r * 20])).ToArray();
        output.WriteLine($"{simulations.Rows - finite.Length} of {simulations.Rows} solves failed");
        var rows = new ArrayBatch(finite.Length)
            .Set(LotkaVolterra.Parameters, [.. finite.SelectMany(r => simulations.Get(LotkaVolterra.Parameters).AsSpan(r * D, D).ToArray())], D)
            .Set(LotkaVolterra.Observations, [.. finite.SelectMany(r => simulations.Get(LotkaVolterra.Observations).AsSpan(r * 20, 20).ToArray())], 20);
        var adapter = task.CreateAdapter().Fit(rows);
        var mapped = adapter.Forward(rows);
        double[] z = mapped.Get(Adapter.InferenceVariables), c = mapped.Get(Adapter.InferenceConditions);
        int n = rows.Rows;
        for (int k = 0; k < D; k++)
        {
            // (log θ − μ)/σ with the prior's own μ, σ is N(0, 1) (the few failed rows, prior-tail rates, hardly
            // matter): SE(mean) = 1/√n, SE(var) = √(2/n); five of them.
            double[] col = Column(z, D, k);
            Assert.InRange(Mean(col), -5 / Math.Sqrt(n), 5 / Math.Sqrt(n));
            Assert.InRange(Variance(col), 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
        }
        // The conditions are log x z-scored on these very rows, so their means are 0 up to rounding (1e-5 is ample).
        for (int k = 0; k < 20; k++) Assert.Equal(0, Mean(Column(c, 20, k)), 1e-5);

        // Back to θ: exp undoes the log up to float32 rounding of θ (2⁻²⁴ ≈ 6e-8 relative); 1e-6 allows the log,
        // the exp and the standardization a few float ulps each.
        double[] theta = rows.Get(LotkaVolterra.Parameters);
        double[] back = adapter.Inverse(mapped).Get(LotkaVolterra.Parameters);
        for (int i = 0; i < theta.Length; i++) Assert.Equal(theta[i], back[i], 1e-6 * theta[i]);

        // The density's change of variables: log|det ∂A/∂θ| = −Σ_k (log θ_k + log 0.5), in double precision of the
        // float-rounded θ, so 1e-5 absolute.
        double[] logDet = adapter.LogDetJacobian(mapped);
        for (int i = 0; i < n; i++)
        {
            double expected = 0;
            for (int k = 0; k < D; k++) expected -= Math.Log(theta[D * i + k]) + Math.Log(0.5);
            Assert.Equal(expected, logDet[i], 1e-5);
        }
    }

    [Fact]
    public void SampleReferenceRun_TwoSeeds_PositiveDrawsThatAgreeAndCoverTheTrueParameter()
    {
        var task = new LotkaVolterraTask();
        double[] x = task.PrimaryObservation(), truth = task.TrueParameters()[..D];
        const int n = 500;
        var a = LotkaVolterraPosterior.Sample(x, n, seed: 1, Brief);
        var b = LotkaVolterraPosterior.Sample(x, n, seed: 2, Brief);
        output.WriteLine($"run a: {a.WallTime.TotalSeconds:F2}s, R̂ max {a.Mcmc!.MaxRHat:F4}, ESS min {a.Mcmc.MinBulkEss:F0}, acceptance {a.Rejection!.AcceptanceRate:F4}, exceedances {a.Rejection.Exceedances}");
        Assert.Equal(n * D, a.Draws.Length);
        Assert.All(a.Draws, v => Assert.True(v > 0 && double.IsFinite(v), $"draw {v}"));
        // 600 kept draws, ESS of a few hundred: split-R̂ of chains in the same mode scatters above 1 by about 0.01;
        // a chain left in a local mode of the rough likelihood, or still on its way, gives R̂ far above 1.05.
        Assert.True(a.Mcmc.MaxRHat < 1.05, $"R̂ {a.Mcmc.MaxRHat:F4}");
        Assert.Equal(0, a.Rejection.Exceedances);
        for (int k = 0; k < D; k++)
        {
            double[] la = Column(a.Draws, D, k).Select(v => Math.Log(v)).ToArray(), lb = Column(b.Draws, D, k).Select(v => Math.Log(v)).ToArray();
            double sd = Math.Sqrt(Variance(la));
            // θ* was drawn from the prior and x from the likelihood at θ*, so θ* is marginally a draw of p(θ | x):
            // in log θ, where this posterior is close to Gaussian, (log θ* − mean)/sd is about N(0, 1). Five sds,
            // which at sd ≈ 0.02–0.07 in log θ is a few percent of θ: far narrower than any other mode would allow.
            output.WriteLine($"log θ{k}: mean {Mean(la):F4} sd {sd:F4}, truth {Math.Log(truth[k]):F4}");
            Assert.InRange(Math.Log(truth[k]), Mean(la) - 5 * sd, Mean(la) + 5 * sd);
            // Two independent exact samples: their means differ with SE sd·√(2/n); five of them.
            Assert.InRange(Mean(la) - Mean(lb), -5 * sd * Math.Sqrt(2.0 / n), 5 * sd * Math.Sqrt(2.0 / n));
        }
    }

    [Fact]
    public void Sample_SameSeed_SameDrawsForAnyThreadCount()
    {
        double[] x = LotkaVolterra.TestObservations()[20..40];
        var tiny = new ReferenceOptions(
            new SliceOptions(Chains: 2, WarmupSweeps: 20, DrawsPerChain: 50, MaxDegreeOfParallelism: 2),
            new RejectionOptions(MaxComponents: 1, PriorCandidates: 100, Starts: 1, EvaluationsPerDimension: 50, MaxDegreeOfParallelism: 2));
        var single = tiny with { Slice = tiny.Slice with { MaxDegreeOfParallelism = 1 }, Rejection = tiny.Rejection with { MaxDegreeOfParallelism = 1 } };
        var a = LotkaVolterraPosterior.Sample(x, 50, seed: 4, tiny);
        Assert.Equal(a.Draws, LotkaVolterraPosterior.Sample(x, 50, seed: 4, single).Draws);
        Assert.NotEqual(a.Draws, LotkaVolterraPosterior.Sample(x, 50, seed: 5, tiny).Draws);
    }

    [Fact]
    public void SampleReferencePosterior_WrongObservationShape_NamesTaskVariableAndShapes()
    {
        var e = Assert.Throws<InvalidRequestException>(() => new LotkaVolterraTask().SampleReferencePosterior(new double[19], 10, seed: 1));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("'lotka_volterra'", e.Message);
        Assert.Contains("[20]", e.Message);
        Assert.Contains("received 19 values", e.Message);
    }
}
