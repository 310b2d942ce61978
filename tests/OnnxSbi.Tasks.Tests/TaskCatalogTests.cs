using OnnxSbi.Tasks;

namespace OnnxSbi.Tasks.Tests;

public sealed class TaskCatalogTests
{
    [Fact]
    public void Get_KnownName_ReturnsTheTaskWhateverTheCase()
    {
        Assert.Equal(["two_moons", "gaussian_linear", "gaussian_linear_uniform", "slcp", "gaussian_mixture", "bernoulli_glm", "sir", "lotka_volterra"], TaskCatalog.Names);
        Assert.IsType<TwoMoonsTask>(TaskCatalog.Get("two_moons"));
        Assert.Same(TaskCatalog.Get("two_moons"), TaskCatalog.Get("Two_Moons"));
        Assert.True(TaskCatalog.TryGet("two_moons", out var task));
        Assert.Equal("two_moons", task.Name);
    }

    [Fact]
    public void Get_UnknownName_ListsTheValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => TaskCatalog.Get("gaussian_quadratic"));
        Assert.Contains("Unknown task 'gaussian_quadratic'. Valid tasks: two_moons, gaussian_linear, gaussian_linear_uniform, slcp, gaussian_mixture, bernoulli_glm, sir, lotka_volterra.", e.Message);
        Assert.False(TaskCatalog.TryGet("gaussian_quadratic", out _));
    }

    [Fact]
    public void TwoMoons_SimulatorAndAdapter_MatchTheDeclaredVariables()
    {
        var task = TaskCatalog.Get("two_moons");
        var batch = task.CreateSimulator(seed: 5).Sample(7, seed: 5);
        Assert.Equal(7 * task.ParameterDim, batch.Get(task.ParameterName).Length);
        Assert.Equal(7 * task.ObservationDim, batch.Get(task.ObservationName).Length);
        Assert.Equal([task.ParameterName], task.InferenceVariables);
        Assert.Equal([task.ObservationName], task.ConditionVariables);
        Assert.Equal(new TrainingBudget(Batches: 512, BatchSize: 64, ValidationSets: 300), task.SeedBudget);
        Assert.Equal(task.NumTestObservations * task.ObservationDim, task.TestObservations().Length);
        Assert.Equal(task.ObservationDim, task.PrimaryObservation().Length);
        // A fresh adapter each call: fitting one (standardization statistics) must not change another.
        Assert.NotSame(task.CreateAdapter(), task.CreateAdapter());
    }

    [Fact]
    public void ObservationBatch_RowsOfTheObservationWidth_RefusesARaggedArray()
    {
        var task = TaskCatalog.Get("two_moons");
        var batch = task.ObservationBatch(task.ScoringObservations(3));
        Assert.Equal(4, batch.Rows);
        var e = Assert.Throws<InvalidRequestException>(() => task.ObservationBatch([0.0, 0.0, 1.0]));
        Assert.Contains("2 values per row", e.Message);
    }
}
