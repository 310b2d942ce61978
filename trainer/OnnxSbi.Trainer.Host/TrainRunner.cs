using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Host;

/// <summary><c>train</c>: one network on one task, exported as a bundle; resolved from the host's services.</summary>
internal sealed class TrainRunner(IOptions<TrainSettings> settings, ILogger<TrainRunner> logger, ILoggerFactory loggers)
{
    /// <summary>Trains and exports as the validated settings ask; <paramref name="ct"/> stops training after the current batch.</summary>
    public int Run(CancellationToken ct)
    {
        var plan = TrainPlan.From(settings.Value);
        var (task, recipe, options) = (plan.Task, plan.Recipe, plan.Options);
        using var workflow = new BasicWorkflow(task.CreateSimulator(options.Seed), task.CreateAdapter(),
            task.InferenceVariables, task.ConditionVariables, (d, c) => recipe.Build(d, c, plan.Overrides));
        logger.LogInformation("Training {Network} on {Task}: {Mode}, {Epochs} epochs × {Batches} batches of {BatchSize}, seed {Seed}",
            recipe.Name, task.Name, plan.Online ? "online" : "offline", options.Epochs, options.BatchesPerEpoch, options.BatchSize, options.Seed);
        var progress = new ConsoleProgress(loggers.CreateLogger<ConsoleProgress>(), recipe.Name);
        var history = plan.Online
            ? workflow.FitOnline(plan.ValidationSets, options, observer: progress, cancellationToken: ct)
            : workflow.FitOffline(plan.NumSimulations, plan.ValidationSets, options, progress, ct);
        if (history.SkippedRows > 0) logger.LogWarning("Skipped {Rows} rows with non-finite values.", history.SkippedRows);
        workflow.Export(plan.Output, $"{recipe.Title} on {task.Name}", new Dictionary<string, double>
        {
            ["final_loss"] = history.Loss[^1],
            ["final_val_loss"] = double.IsFinite(history.ValidationLoss[^1]) ? history.ValidationLoss[^1] : 0,
            ["train_seconds"] = history.Seconds,
        });
        logger.LogInformation("Wrote {Path} ({Steps} optimizer steps, {Seconds:F1} s)", plan.Output, history.OptimizerSteps, history.Seconds);
        return ExitCodes.Success;
    }
}
