namespace OnnxSbi.Tasks.Tests;

public sealed class ReferenceRunTests
{
    [Fact]
    public void SampleReferenceRun_ExactTask_WrapsTheDrawsWithoutDiagnostics()
    {
        var task = TaskCatalog.Get("two_moons");
        var run = task.SampleReferenceRun([0.05, -0.1], 300, seed: 3);
        Assert.Equal(task.SampleReferencePosterior([0.05, -0.1], 300, seed: 3), run.Draws);
        Assert.Equal(300, run.Count);
        Assert.Null(run.Mcmc);
        Assert.Null(run.Rejection);
        Assert.True(run.WallTime > TimeSpan.Zero);
    }

    [Theory]
    [InlineData("slcp", 5, 8)]
    [InlineData("bernoulli_glm", 10, 10)]
    [InlineData("sir", 2, 10)]
    [InlineData("lotka_volterra", 4, 20)]
    public void McmcTasks_SimulatorAdapterAndBudget_MatchTheDeclaredVariables(string name, int parameterDim, int observationDim)
    {
        var task = TaskCatalog.Get(name);
        Assert.Equal(parameterDim, task.ParameterDim);
        Assert.Equal(observationDim, task.ObservationDim);
        var batch = task.CreateSimulator(seed: 5).Sample(7, seed: 5);
        Assert.Equal(7 * parameterDim, batch.Get(task.ParameterName).Length);
        Assert.Equal(7 * observationDim, batch.Get(task.ObservationName).Length);
        Assert.Equal(new TrainingBudget(Batches: 100, BatchSize: 100, ValidationSets: 300), task.SeedBudget);
        Assert.Equal(10 * observationDim, task.TestObservations().Length);
        Assert.NotSame(task.CreateAdapter(), task.CreateAdapter());
        // The adapter fits on simulations and maps them to the network's two inputs.
        var adapter = task.CreateAdapter();
        var simulations = task.CreateSimulator(seed: 6).Sample(64, seed: 6);
        adapter.Fit(simulations);
        var mapped = adapter.Forward(simulations);
        Assert.True(mapped.Contains(Runtime.Adapters.Adapter.InferenceVariables));
        Assert.True(mapped.Contains(Runtime.Adapters.Adapter.InferenceConditions));
    }
}
