using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Simulations.External;
using OnnxSbi.Simulations.Files;
using OnnxSbi.Trainer.Adapters;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// <c>train</c>: one network trained on a built-in task, on simulation files or on an external simulator, and exported
/// as a bundle; resolved from the host's services.
/// </summary>
internal sealed class TrainRunner(IOptions<TrainSettings> settings, ILogger<TrainRunner> logger, ILoggerFactory loggers)
{
    /// <summary>Trains and exports as the validated settings ask; <paramref name="ct"/> stops training after the current batch.</summary>
    public int Run(CancellationToken ct)
    {
        var s = settings.Value;
        return s.Source switch
        {
            SimulationSource.Files => RunFiles(s, ct),
            SimulationSource.ExternalSimulator => RunExternal(s, ct),
            _ => RunTask(s, ct),
        };
    }

    private int RunTask(TrainSettings s, CancellationToken ct)
    {
        var plan = TrainPlan.From(s);
        var task = plan.Task!;
        using var workflow = new BasicWorkflow(task.CreateSimulator(plan.Options.Seed), task.CreateAdapter(),
            task.InferenceVariables, task.ConditionVariables, (d, c) => plan.Recipe.Build(d, c, plan.Overrides));
        LogStart(plan, task.Name);
        var progress = Progress(plan);
        var history = plan.Online
            ? workflow.FitOnline(plan.ValidationSets, plan.Options, observer: progress, cancellationToken: ct)
            : workflow.FitOffline(plan.NumSimulations, plan.ValidationSets, plan.Options, progress, ct);
        return Export(workflow, plan, history, task.Name);
    }

    private int RunFiles(TrainSettings s, CancellationToken ct)
    {
        var variables = UserVariables(s);
        var fileOptions = new SimulationFileOptions { Shapes = ParseShapes(s.Shape) };
        var train = SimulationFiles.Open(s.Data!, variables, fileOptions);
        var validation = s.ValidationData is { Length: > 0 } ? SimulationFiles.Open(s.ValidationData, variables, fileOptions) : null;
        double fraction = s.ValidationFraction ?? 0;
        long trainingRows;
        using (var shuffle = new SimulationShuffle(train, s.Seed, fraction)) trainingRows = shuffle.TrainingRows;
        int batchSize = TrainPlan.BatchSizeOf(s);
        if (trainingRows < batchSize)
            throw new OnnxSbiException($"--data has {trainingRows} training rows ({string.Join(", ", train.Shards)}); --batch-size {batchSize} needs at least that many.");
        var plan = TrainPlan.From(s, (int)Math.Min(trainingRows / batchSize, int.MaxValue));
        string what = $"{train.Rows} rows in {train.Shards.Count} shard(s)";
        logger.LogInformation("Data: {What}; {Variables}", what, string.Join(", ", variables.Select(v => $"{v} {Shape(train.SampleShape(v))}")));
        using var workflow = new BasicWorkflow(CreateAdapter(s), s.InferenceVariables!, s.InferenceConditions ?? [], (d, c) => plan.Recipe.Build(d, c, plan.Overrides));
        LogStart(plan, what);
        var history = workflow.FitFiles(train, validation, fraction, plan.Options, observer: Progress(plan), cancellationToken: ct);
        return Export(workflow, plan, history, "simulation files");
    }

    private int RunExternal(TrainSettings s, CancellationToken ct)
    {
        var plan = TrainPlan.From(s);
        using var simulator = new ExternalSimulator(new ExternalSimulatorOptions
        {
            Command = s.SimulatorCommand!,
            Workers = s.SimulatorWorkers,
            Retries = s.SimulatorRetries,
            BatchTimeout = TimeSpan.FromSeconds(s.SimulatorTimeout),
            ExpectedVariables = UserVariables(s),
            RejectNonFinite = !s.SkipBadRows,
            Logger = loggers.CreateLogger<ExternalSimulator>(),
        });
        using var workflow = new BasicWorkflow(CreateAdapter(s), s.InferenceVariables!, s.InferenceConditions ?? [], (d, c) => plan.Recipe.Build(d, c, plan.Overrides));
        LogStart(plan, $"'{s.SimulatorCommand}' ({s.SimulatorWorkers} worker(s))");
        TrainingHistory history;
        if (plan.Online)
            history = workflow.FitOnline(simulator, plan.ValidationSets, plan.Options, observer: Progress(plan), cancellationToken: ct);
        else
        {
            var validation = plan.ValidationSets > 0 ? simulator.SimulateRows(plan.ValidationSets, plan.Options.Seed ^ ValidationSeed, cancellationToken: ct) : null;
            var data = simulator.SimulateRows(plan.NumSimulations, plan.Options.Seed, cancellationToken: ct);
            history = workflow.FitOffline(data, validation, plan.Options, Progress(plan), ct);
        }
        return Export(workflow, plan, history, $"external simulator '{s.SimulatorCommand}'");
    }

    // The validation simulations' seed, apart from the training seed (as the built-in tasks' FitOffline does).
    private const ulong ValidationSeed = 0xA5A5A5A5UL;

    /// <summary>The adapter of a user's own model: the --adapter file, or the short-hands' chain.</summary>
    internal static Adapter CreateAdapter(TrainSettings s)
    {
        if (s.Adapter is not null) return Adapter.FromJson(File.ReadAllText(s.Adapter), s.Adapter);
        var recipe = new AdapterRecipe(s.InferenceVariables!, s.InferenceConditions);
        if (s.Standardize is not null) recipe.Standardize(s.Standardize);
        foreach (string v in s.Log ?? []) recipe.Log(v);
        foreach (string c in s.Constrain ?? []) recipe.Constrain(c);
        return recipe.Build();
    }

    /// <summary>The user-side variables a model of the settings reads: the inference variables, then the conditions.</summary>
    internal static IReadOnlyList<string> UserVariables(TrainSettings s) => [.. s.InferenceVariables!, .. s.InferenceConditions ?? []];

    /// <summary>--shape values ("x=4,2") by variable.</summary>
    internal static Dictionary<string, int[]> ParseShapes(IEnumerable<string>? shapes)
    {
        var result = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (string text in shapes ?? [])
        {
            try
            {
                var (name, dims) = SimulationFileOptions.ParseShape(text);
                result[name] = dims;
            }
            catch (FormatException e) { throw new UsageException($"--shape: {e.Message}"); }
        }
        return result;
    }

    private static string Shape(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";

    private void LogStart(TrainPlan plan, string source) =>
        logger.LogInformation("Training {Network} on {Source}: {Mode}, {Epochs} epochs × {Batches} batches of {BatchSize}, seed {Seed}",
            plan.Recipe.Name, source, plan.Online ? "online" : "offline", plan.Options.Epochs, plan.Options.BatchesPerEpoch, plan.Options.BatchSize, plan.Options.Seed);

    private ConsoleProgress Progress(TrainPlan plan) => new(loggers.CreateLogger<ConsoleProgress>(), plan.Recipe.Name);

    private int Export(BasicWorkflow workflow, TrainPlan plan, TrainingHistory history, string source)
    {
        if (history.SkippedRows > 0) logger.LogWarning("Skipped {Rows} rows with non-finite values.", history.SkippedRows);
        if (history.BestEpoch > 0)
            logger.LogInformation("Early stopping: {How}; kept the weights of epoch {Best} (validation loss {Loss:F4})",
                history.StoppedEarly ? $"stopped after epoch {history.EpochsCompleted}" : "ran every epoch", history.BestEpoch, history.BestValidationLoss);
        workflow.Export(plan.Output, $"{plan.Recipe.Title} on {source}", new Dictionary<string, double>
        {
            ["final_loss"] = history.Loss[^1],
            ["final_val_loss"] = double.IsFinite(history.ValidationLoss[^1]) ? history.ValidationLoss[^1] : 0,
            ["train_seconds"] = history.Seconds,
        });
        logger.LogInformation("Wrote {Path} ({Steps} optimizer steps, {Seconds:F1} s)", plan.Output, history.OptimizerSteps, history.Seconds);
        return ExitCodes.Success;
    }
}
