using Microsoft.Extensions.Logging;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Host;

/// <summary><c>train</c>: one network on one task, exported as a bundle.</summary>
internal static class TrainVerb
{
    public static int Run(Settings s, ILogger logger, CancellationToken ct)
    {
        SbiTask task;
        try { task = TaskCatalog.Get(s.String("task") ?? TaskCatalog.Names[0]); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var budget = task.SeedBudget;
        NetworkRecipe recipe;
        try { recipe = NetworkCatalog.Get(s.String("network") ?? throw new UsageException("'train': missing required option '--network'.")); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        string output = s.String("out") ?? throw new UsageException("'train': missing required option '--out PATH.onnxsbi'.");
        if (s.Switch("offline") && s.Switch("online")) throw new UsageException("Choose one of --offline and --online.");
        bool online = s.Switch("online");
        int batchSize = s.Int("batch-size", 1, 1 << 20) ?? budget.BatchSize;
        int numSimulations = s.Int("num-simulations", 1) ?? budget.Batches * batchSize;
        if (!online && numSimulations < batchSize)
            throw new UsageException($"--num-simulations ({numSimulations}) must be at least --batch-size ({batchSize}).");
        int batchesPerEpoch = s.Int("batches-per-epoch", 1) ?? (online ? budget.Batches : numSimulations / batchSize);
        if (!online && s.Int("batches-per-epoch", 1) is int bpe) numSimulations = bpe * batchSize;
        int epochs = s.Int("epochs", 1, 100_000) ?? recipe.SeedEpochs;
        int validationSets = s.Int("validation-sets", 0) ?? budget.ValidationSets;
        string? checkpoint = s.String("checkpoint") ?? (s.Switch("resume") ? output + ".ckpt" : null);
        var options = new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = batchSize,
            BatchesPerEpoch = batchesPerEpoch,
            LearningRate = s.Double("learning-rate", 1e-8, 1.0) ?? 5e-4,
            Seed = s.ULong("seed") ?? 1,
            CheckpointPath = checkpoint,
            Resume = s.Switch("resume"),
            SkipNonFiniteRows = s.Switch("skip-bad-rows"),
            Threads = s.Int("threads", 1, 1024) ?? 1,
        };
        options.Validate();
        var overrides = new NetworkOverrides(s.Widths("widths"), s.Double("dropout", 0, 0.99), (long)batchesPerEpoch * epochs);

        using var workflow = new BasicWorkflow(task.CreateSimulator(options.Seed), task.CreateAdapter(),
            task.InferenceVariables, task.ConditionVariables, (d, c) => recipe.Build(d, c, overrides));
        logger.LogInformation("Training {Network} on {Task}: {Mode}, {Epochs} epochs × {Batches} batches of {BatchSize}, seed {Seed}",
            recipe.Name, task.Name, online ? "online" : "offline", epochs, batchesPerEpoch, batchSize, options.Seed);
        var progress = new ConsoleProgress(logger, recipe.Name);
        var history = online
            ? workflow.FitOnline(validationSets, options, observer: progress, cancellationToken: ct)
            : workflow.FitOffline(numSimulations, validationSets, options, progress, ct);
        if (history.SkippedRows > 0) logger.LogWarning("Skipped {Rows} rows with non-finite values.", history.SkippedRows);
        workflow.Export(output, $"{recipe.Title} on {task.Name}", new Dictionary<string, double>
        {
            ["final_loss"] = history.Loss[^1],
            ["final_val_loss"] = double.IsFinite(history.ValidationLoss[^1]) ? history.ValidationLoss[^1] : 0,
            ["train_seconds"] = history.Seconds,
        });
        logger.LogInformation("Wrote {Path} ({Steps} optimizer steps, {Seconds:F1} s)", output, history.OptimizerSteps, history.Seconds);
        return 0;
    }
}
