using System.Globalization;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Bench.Sbibm;

/// <summary>
/// How one benchmark cell trains: a network recipe of <see cref="NetworkCatalog"/> at a simulation budget. The budget
/// counts every simulation, as sbibm's does: a tenth is held out for the validation loss (sbi's default
/// <c>validation_fraction</c>) and the rest is the offline training set.
/// </summary>
/// <param name="Network">The network recipe.</param>
/// <param name="Simulations">The simulation budget, training and validation together.</param>
/// <param name="BatchSize">Simulations per optimizer step.</param>
/// <param name="Epochs">Epochs over the training set; with early stopping, the most that run.</param>
/// <param name="Patience">Early stopping: epochs without a lower validation loss before training stops (0: off).</param>
/// <param name="LearningRate">AdamW's peak learning rate.</param>
/// <param name="Widths">Subnet hidden widths, or null for the network recipe's.</param>
/// <param name="Dropout">Subnet dropout, or null for the network recipe's.</param>
internal sealed record BenchmarkRecipe(NetworkRecipe Network, int Simulations, int BatchSize, int Epochs, int Patience, double LearningRate,
    IReadOnlyList<int>? Widths = null, double? Dropout = null)
{
    /// <summary>sbi's <c>stop_after_epochs</c>: the patience of early stopping.</summary>
    public const int DefaultPatience = 20;

    /// <summary>The most optimizer steps a cell takes (the epochs are capped to fit), so the largest budget stays within a working day.</summary>
    public const long MaxSteps = 60_000;

    /// <summary>The optimizer steps of a consistency model, which trains on a fixed schedule rather than to a stopping rule.</summary>
    public const long ConsistencySteps = 40_000;

    /// <summary>Simulations held out for the validation loss: a tenth of the budget.</summary>
    public int ValidationSets => Simulations / 10;

    /// <summary>Simulations trained on: the budget less the validation sets.</summary>
    public int TrainingSets => Simulations - ValidationSets;

    /// <summary>Optimizer steps per epoch: the training set's whole batches.</summary>
    public int BatchesPerEpoch => TrainingSets / BatchSize;

    /// <summary>
    /// The recipe of <paramref name="network"/> at <paramref name="simulations"/>: the batch grows with the budget (32 up
    /// to 2,000 simulations, 64 up to 20,000, else 128) so an epoch stays a few hundred steps at most; flows train with
    /// early stopping (patience 20, sbi's rule) for at most <see cref="MaxSteps"/> steps; the consistency model, whose
    /// loss is not comparable across its discretisation schedule, trains for <see cref="ConsistencySteps"/> steps
    /// without a stopping rule. <paramref name="maxEpochs"/>, when given, caps the epochs (the quick run).
    /// </summary>
    /// <exception cref="UsageException">The budget leaves fewer training simulations than one batch.</exception>
    public static BenchmarkRecipe For(SbiTask task, NetworkRecipe network, int simulations, int? maxEpochs = null, RecipeVariant? variant = null)
    {
        int batch = simulations <= 2_000 ? 32 : simulations <= 20_000 ? 64 : 128;
        int training = simulations - simulations / 10;
        if (training < batch)
            throw new UsageException($"--simulations {simulations} leaves {training} training simulations; at least {batch} (one batch) are needed.");
        int batches = training / batch;
        bool consistency = network.Name == ConsistencyModel.Recipe.Name;
        long steps = consistency ? ConsistencySteps : MaxSteps;
        int epochs = (int)Math.Max(1, Math.Min(consistency ? int.MaxValue : 1_000, steps / batches));
        if (maxEpochs is int cap) epochs = Math.Min(epochs, cap);
        var chosen = variant ?? RecipeVariant.Chosen(task.Name, network.Name, simulations);
        return new BenchmarkRecipe(network, simulations, batch, epochs, consistency ? 0 : DefaultPatience, new TrainingOptions().LearningRate,
            chosen?.Widths, chosen?.Dropout);
    }

    /// <summary>One line naming every setting, as results.json records it.</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string widths = Widths is null ? "recipe's" : string.Join(",", Widths);
        string dropout = Dropout is double d ? d.ToString("G", inv) : "recipe's";
        string stopping = Patience > 0 ? string.Create(inv, $"at most {Epochs} epochs, early stopping after {Patience}") : string.Create(inv, $"{Epochs} epochs");
        return string.Create(inv, $"{Network.Name}: widths {widths}, dropout {dropout}, batch {BatchSize}, lr {LearningRate:G}, {TrainingSets} training + {ValidationSets} validation simulations, {stopping}");
    }

    /// <summary>The training options of this recipe, checkpointing to <paramref name="checkpoint"/> and resuming from it.</summary>
    public TrainingOptions Options(ulong seed, int threads, string checkpoint) => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        BatchesPerEpoch = BatchesPerEpoch,
        LearningRate = LearningRate,
        // One epoch of warm-up: the cosine schedule spans the most epochs allowed, and early stopping usually ends
        // training long before, so the rate stays near its peak throughout, as sbi's constant rate does.
        WarmupFraction = Math.Min(new TrainingOptions().WarmupFraction, 1.0 / Epochs),
        EarlyStoppingPatience = Patience,
        Seed = seed,
        Threads = threads,
        CheckpointPath = checkpoint,
        Resume = true,
        // The ODE tasks' failed solves are NaN rows: skipped and counted, as sbibm drops them.
        SkipNonFiniteRows = true,
    };

    /// <summary>The network overrides: the schedule's length, which the consistency model needs up front.</summary>
    public NetworkOverrides Overrides => new(Widths, Dropout, TotalSteps: (long)BatchesPerEpoch * Epochs, BatchesPerEpoch: BatchesPerEpoch);
}

/// <summary>Subnet settings that replace a network recipe's: widths, dropout, or both (null keeps the recipe's).</summary>
/// <param name="Widths">Subnet hidden widths.</param>
/// <param name="Dropout">Subnet dropout.</param>
internal sealed record RecipeVariant(IReadOnlyList<int>? Widths, double? Dropout)
{
    /// <summary>
    /// The settings the benchmark trains (task, network) with at a budget, where a recipe search on the held-out
    /// validation loss chose other than the network recipe's (docs/benchmarks-sbibm.md#recipes); null elsewhere.
    /// </summary>
    public static RecipeVariant? Chosen(string task, string network, int simulations) => null;
}
