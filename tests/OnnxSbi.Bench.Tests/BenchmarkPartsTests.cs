using OnnxSbi.Bench.Sbibm;
using OnnxSbi.CommandLine;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Bench.Tests;

/// <summary>The benchmark's parts in process: the published table, the cell recipes, the reference cache and the SBC datasets.</summary>
public sealed class BenchmarkPartsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-benchmark-parts-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    // sbibm's NPE means at 10³ / 10⁴ / 10⁵ simulations, as the paper's table gives them.
    [InlineData("gaussian_linear", 0.694, 0.552, 0.506)]
    [InlineData("gaussian_linear_uniform", 0.696, 0.553, 0.509)]
    [InlineData("slcp", 0.975, 0.901, 0.831)]
    [InlineData("gaussian_mixture", 0.731, 0.661, 0.555)]
    [InlineData("bernoulli_glm", 0.863, 0.678, 0.559)]
    [InlineData("sir", 0.815, 0.680, 0.585)]
    [InlineData("lotka_volterra", 0.999, 0.997, 0.981)]
    [InlineData("two_moons", 0.725, 0.606, 0.542)]
    public void PublishedScores_Embedded_HoldNpeAtEveryBudget(string task, double at1000, double at10000, double at100000)
    {
        var table = PublishedScores.Embedded;
        // The file keeps three decimals, as the paper's table does.
        Assert.Equal(at1000, table.Mean(task, "NPE", 1_000)!.Value, 3);
        Assert.Equal(at10000, table.Mean(task, "NPE", 10_000)!.Value, 3);
        Assert.Equal(at100000, table.Mean(task, "NPE", 100_000)!.Value, 3);
        Assert.Null(table.Mean(task, "NPE", 5_000));
    }

    [Fact]
    public void PublishedScores_MalformedRow_NamesTheLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => PublishedScores.Parse("# c\ntask,algorithm,simulations,c2st_mean\nslcp,NPE,lots,0.9\n", "t.csv"));
        Assert.Contains("t.csv:3", e.Message);
        Assert.Contains("slcp,NPE,lots,0.9", e.Message);
    }

    [Fact]
    public void Recipe_HoldsOutATenthOfTheBudget_AndGrowsTheBatchWithIt()
    {
        var task = TaskCatalog.Get("gaussian_mixture");
        var small = BenchmarkRecipe.For(task, CouplingFlow.AffineRecipe, 1_000);
        Assert.Equal((100, 900, 32, 28), (small.ValidationSets, small.TrainingSets, small.BatchSize, small.BatchesPerEpoch));
        Assert.Equal(BenchmarkRecipe.DefaultPatience, small.Patience);
        var large = BenchmarkRecipe.For(task, CouplingFlow.AffineRecipe, 100_000);
        Assert.Equal((10_000, 90_000, 128), (large.ValidationSets, large.TrainingSets, large.BatchSize));
        // The step cap bounds the largest budget's epochs.
        Assert.True((long)large.Epochs * large.BatchesPerEpoch <= BenchmarkRecipe.MaxSteps);
    }

    [Theory]
    [InlineData(1_000, 10_000)]
    [InlineData(10_000, 25_000)]
    [InlineData(100_000, 50_000)]
    public void Recipe_FlowMatching_TrainsAFixedScheduleKeepingTheBestEpoch(int simulations, long steps)
    {
        var recipe = BenchmarkRecipe.For(TaskCatalog.Get("gaussian_mixture"), FlowMatching.Recipe, simulations);
        Assert.Equal(steps, BenchmarkRecipe.FlowMatchingSteps(simulations));
        // Whole epochs: within one epoch of the schedule's length; patience equal to the epochs never stops early.
        Assert.InRange((long)recipe.Epochs * recipe.BatchesPerEpoch, steps - recipe.BatchesPerEpoch, steps);
        Assert.Equal(recipe.Epochs, recipe.Patience);
        Assert.Contains("keeping the best epoch", recipe.Describe());
    }

    [Fact]
    public void Recipe_SearchedCell_TakesTheChosenSubnet_OthersTheRecipes()
    {
        // bench/sbibm/recipes.csv: the search chose widths (32, 32) for the affine flow on gaussian_linear at 10³.
        var chosen = BenchmarkRecipe.For(TaskCatalog.Get("gaussian_linear"), CouplingFlow.AffineRecipe, 1_000);
        Assert.Equal([32, 32], chosen.Widths);
        Assert.Null(chosen.Dropout);
        Assert.Null(BenchmarkRecipe.For(TaskCatalog.Get("gaussian_linear"), CouplingFlow.AffineRecipe, 10_000).Widths);
        Assert.Null(BenchmarkRecipe.For(TaskCatalog.Get("gaussian_mixture"), CouplingFlow.AffineRecipe, 1_000).Widths);
    }

    [Fact]
    public void RecipeVariant_MalformedRow_NamesTheLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => RecipeVariant.Parse("task,network,simulations,widths,dropout\nslcp,flow_matching,1000,-,-\n", "r.csv"));
        Assert.Contains("r.csv:2", e.Message);
        var rows = RecipeVariant.Parse("# c\ntask,network,simulations,widths,dropout\nslcp,flow_matching,1000,64 64,0.05\n", "r.csv");
        Assert.Equal(new RecipeVariant([64, 64], 0.05).Dropout, rows[("slcp", "flow_matching", 1000)].Dropout);
        Assert.Equal([64, 64], rows[("slcp", "flow_matching", 1000)].Widths);
    }

    [Fact]
    public void Recipe_ConsistencyModel_TrainsAFixedScheduleWithoutStopping()
    {
        var recipe = BenchmarkRecipe.For(TaskCatalog.Get("two_moons"), ConsistencyModel.Recipe, 10_000);
        Assert.Equal(0, recipe.Patience);
        long steps = (long)recipe.Epochs * recipe.BatchesPerEpoch;
        // Whole epochs: the schedule is within one epoch of the fixed step count.
        Assert.InRange(steps, BenchmarkRecipe.ConsistencySteps - recipe.BatchesPerEpoch, BenchmarkRecipe.ConsistencySteps);
        Assert.Equal(steps, recipe.Overrides.TotalSteps);
    }

    [Fact]
    public void Recipe_Variant_ReplacesTheSubnet_AndQuickCapsTheEpochs()
    {
        var recipe = BenchmarkRecipe.For(TaskCatalog.Get("two_moons"), CouplingFlow.SplineRecipe, 1_000, maxEpochs: 5, new RecipeVariant([32, 32], 0.1));
        Assert.Equal(5, recipe.Epochs);
        Assert.Equal([32, 32], recipe.Overrides.Widths);
        Assert.Equal(0.1, recipe.Overrides.Dropout);
        Assert.Contains("widths 32,32, dropout 0.1", recipe.Describe());
    }

    [Fact]
    public void Recipe_BudgetBelowOneBatch_IsAUsageError()
    {
        var e = Assert.Throws<UsageException>(() => BenchmarkRecipe.For(TaskCatalog.Get("two_moons"), FlowMatching.Recipe, 30));
        Assert.Contains("--simulations 30", e.Message);
    }

    [Fact]
    public void ReferenceCache_SecondRequest_ReadsTheSameDrawsFromDisk()
    {
        var task = TaskCatalog.Get("gaussian_linear");
        var cache = new ReferenceCache(dir);
        double[] x = task.TestObservations()[..task.ObservationDim];
        var first = cache.GetOrSample(task, x, seed: 5, draws: 300);
        var second = cache.GetOrSample(task, x, seed: 5, draws: 300);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Draws, second.Draws);
        Assert.Equal(task.SampleReferencePosterior(x, 300, 5), second.Draws);
        // Another seed, count or observation is another entry.
        Assert.False(cache.GetOrSample(task, x, seed: 6, draws: 300).FromCache);
        Assert.False(cache.GetOrSample(task, x, seed: 5, draws: 200).FromCache);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(dir, task.Name)).Length);
    }

    [Fact]
    public void ReferenceCache_FileOfAnotherObservation_IsRefusedNamingIt()
    {
        var task = TaskCatalog.Get("two_moons");
        var cache = new ReferenceCache(dir);
        double[] a = [0.0, 0.0], b = [0.1, 0.0];
        cache.GetOrSample(task, b, seed: 1, draws: 100);
        File.Move(cache.PathFor(task, b, 1, 100), cache.PathFor(task, a, 1, 100));
        var e = Assert.Throws<InvalidDataException>(() => cache.GetOrSample(task, a, seed: 1, draws: 100));
        Assert.Contains(cache.PathFor(task, a, 1, 100), e.Message);
        Assert.Contains("another observation", e.Message);
    }

    [Fact]
    public void FiniteSimulations_GivesTheCountAsked_AllFinite()
    {
        var task = TaskCatalog.Get("two_moons");
        var batch = BenchmarkRunner.FiniteSimulations(task, 250, seed: 3);
        Assert.Equal(250, batch.Rows);
        Assert.All(batch.Get("x"), v => Assert.True(double.IsFinite(v)));
        Assert.Equal(task.CreateSimulator(3).Sample(250, 3).Get("theta"), batch.Get("theta"));
    }
}
