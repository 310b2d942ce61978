using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Tests;

public sealed class NetworkCatalogTests
{
    [Fact]
    public void ConsistencyRecipe_TotalStepsGivenOrNot_SchedulesTheRunsSteps()
    {
        // K_total is the run's optimizer steps; without it the recipe assumes its seed epochs × the batches per epoch
        // given, by default the two-moons tutorial's budget (512 batches), whose task the library does not reference.
        Assert.Equal(NetworkOverrides.DefaultBatchesPerEpoch, new TwoMoonsTask().SeedBudget.Batches);
        var recipe = NetworkCatalog.Get("consistency_model");
        using var given = (ConsistencyModel)recipe.Build(2, 2, new NetworkOverrides(TotalSteps: 1234));
        using var fallback = (ConsistencyModel)recipe.Build(2, 2, new NetworkOverrides());
        using var otherBudget = (ConsistencyModel)recipe.Build(2, 2, new NetworkOverrides(BatchesPerEpoch: 10));
        Assert.Equal(1234, given.Options.TotalSteps);
        Assert.Equal(512L * recipe.SeedEpochs, fallback.Options.TotalSteps);
        Assert.Equal(10L * recipe.SeedEpochs, otherBudget.Options.TotalSteps);
    }
}
