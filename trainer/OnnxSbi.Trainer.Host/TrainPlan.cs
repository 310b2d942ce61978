using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// What <c>train</c> will do, resolved from validated <see cref="TrainSettings"/>: where the simulations come from, the
/// network recipe and the training budget, with the task's (or, for a user's own model, the tutorial budget's) and the
/// recipe's defaults filled in where an option was not given.
/// </summary>
internal sealed record TrainPlan(SimulationSource Source, TrainingTask? Task, NetworkRecipe Recipe, bool Online, int NumSimulations, int ValidationSets,
    string Output, TrainingOptions Options, NetworkOverrides Overrides)
{
    /// <summary>The budget of a user's own model when no option sets it: BayesFlow's tutorial budget, 512 batches of 64 and 300 validation sets.</summary>
    public const int DefaultBatches = 512, DefaultBatchSize = 64, DefaultValidationSets = 300;

    /// <summary>The plan for <paramref name="s"/>, which <see cref="TrainSettingsValidator"/> has accepted.</summary>
    /// <param name="s">The settings.</param>
    /// <param name="fileBatchesPerEpoch">With --data: the batches of one epoch over the files' training rows.</param>
    public static TrainPlan From(TrainSettings s, int? fileBatchesPerEpoch = null)
    {
        var task = s.Source == SimulationSource.Task ? TrainingTasks.Get(s.TaskName) : null;
        var recipe = NetworkCatalog.Get(s.Network!);
        int batchSize = BatchSizeOf(s);
        int numSimulations = SimulationsOf(s);
        int batchesPerEpoch = fileBatchesPerEpoch ?? s.BatchesPerEpoch ?? (s.Online ? task?.SeedBatches ?? DefaultBatches : numSimulations / batchSize);
        // Offline, --batches-per-epoch sets the simulation budget: every simulation is seen once per epoch.
        if (s.Source != SimulationSource.Files && !s.Online && s.BatchesPerEpoch is int given) numSimulations = given * batchSize;
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
            EarlyStoppingPatience = s.EarlyStopping ?? 0,
            Resume = s.Resume,
            SkipNonFiniteRows = s.SkipBadRows,
            Threads = s.Threads,
        };
        options.Validate();
        var overrides = new NetworkOverrides(s.ParseWidths(), s.Dropout, (long)batchesPerEpoch * epochs);
        int validationSets = s.ValidationSets ?? task?.SeedValidationSets ?? DefaultValidationSets;
        return new TrainPlan(s.Source, task, recipe, s.Online, numSimulations, validationSets, s.Out!, options, overrides);
    }

    /// <summary>--batch-size, or the task's, or <see cref="DefaultBatchSize"/>.</summary>
    public static int BatchSizeOf(TrainSettings s) => s.BatchSize ?? TaskOf(s)?.SeedBatchSize ?? DefaultBatchSize;

    /// <summary>--num-simulations before --batches-per-epoch is applied, or the task's (or the default) batches × the batch size.</summary>
    public static int SimulationsOf(TrainSettings s) => s.NumSimulations ?? (TaskOf(s)?.SeedBatches ?? DefaultBatches) * BatchSizeOf(s);

    private static TrainingTask? TaskOf(TrainSettings s) => s.Source == SimulationSource.Task ? TrainingTasks.Find(s.TaskName) : null;
}
