using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// What <c>train</c> will do, resolved from validated <see cref="TrainSettings"/>: the task, the network recipe and
/// the training budget, with the task's and the recipe's defaults filled in where an option was not given.
/// </summary>
internal sealed record TrainPlan(TrainingTask Task, NetworkRecipe Recipe, bool Online, int NumSimulations, int ValidationSets,
    string Output, TrainingOptions Options, NetworkOverrides Overrides)
{
    /// <summary>The plan for <paramref name="s"/>, which <see cref="TrainSettingsValidator"/> has accepted.</summary>
    public static TrainPlan From(TrainSettings s)
    {
        var task = TrainingTasks.Get(s.Task);
        var recipe = NetworkCatalog.Get(s.Network!);
        int batchSize = BatchSizeOf(s);
        int numSimulations = SimulationsOf(s);
        int batchesPerEpoch = s.BatchesPerEpoch ?? (s.Online ? task.SeedBatches : numSimulations / batchSize);
        // Offline, --batches-per-epoch sets the simulation budget: every simulation is seen once per epoch.
        if (!s.Online && s.BatchesPerEpoch is int given) numSimulations = given * batchSize;
        int epochs = s.Epochs ?? recipe.SeedEpochs;
        var options = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = batchSize,
            BatchesPerEpoch = batchesPerEpoch,
            LearningRate = s.LearningRate,
            Seed = s.Seed,
            CheckpointPath = s.Checkpoint ?? (s.Resume ? s.Out + ".ckpt" : null),
            CheckpointEveryBatches = s.CheckpointEvery ?? 0,
            Resume = s.Resume,
            SkipNonFiniteRows = s.SkipBadRows,
            Threads = s.Threads,
        };
        options.Validate();
        var overrides = new NetworkOverrides(s.ParseWidths(), s.Dropout, (long)batchesPerEpoch * epochs);
        return new TrainPlan(task, recipe, s.Online, numSimulations, s.ValidationSets ?? task.SeedValidationSets, s.Out!, options, overrides);
    }

    /// <summary>--batch-size, or the task's.</summary>
    public static int BatchSizeOf(TrainSettings s) => s.BatchSize ?? (TrainingTasks.Find(s.Task)?.SeedBatchSize ?? 1);

    /// <summary>--num-simulations before --batches-per-epoch is applied, or the task's batches × the batch size.</summary>
    public static int SimulationsOf(TrainSettings s) => s.NumSimulations ?? (TrainingTasks.Find(s.Task)?.SeedBatches ?? 1) * BatchSizeOf(s);
}
