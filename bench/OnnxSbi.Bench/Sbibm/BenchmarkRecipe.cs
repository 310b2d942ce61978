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
/// <param name="Patience">Early stopping: epochs without a lower validation loss before training stops and the best epoch's
/// weights are kept (0: off; equal to <paramref name="Epochs"/>: never stops, keeps the best epoch).</param>
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
    /// The recipe of <paramref name="network"/> at <paramref name="simulations"/>. The batch grows with the budget (32 up
    /// to 2,000 simulations, 64 up to 20,000, else 128) so that an epoch stays a few hundred steps at most. Each family
    /// then trains on the schedule its loss suits:
    /// <list type="bullet">
    /// <item>the coupling flows minimise a negative log likelihood, whose held-out value is a reliable stopping signal:
    /// early stopping (patience 20, sbi's rule) for at most <see cref="MaxSteps"/> steps;</item>
    /// <item>flow matching's loss is a regression on random times and noise, too noisy to stop on, and the velocity
    /// field needs the learning rate's decay to settle: a fixed cosine schedule of <see cref="FlowMatchingSteps"/>,
    /// keeping the epoch of the lowest validation loss (patience = the epochs, so it never stops early);</item>
    /// <item>the consistency model's loss is not comparable across its discretisation schedule: a fixed schedule of
    /// <see cref="ConsistencySteps"/> without a stopping rule.</item>
    /// </list>
    /// <paramref name="maxEpochs"/>, when given, caps the epochs (the quick run); <paramref name="variant"/>, when given,
    /// replaces the subnet settings (a recipe search), else <see cref="RecipeVariant.Chosen"/> does where it has a row.
    /// </summary>
    /// <exception cref="UsageException">The budget leaves fewer training simulations than one batch.</exception>
    public static BenchmarkRecipe For(SbiTask task, NetworkRecipe network, int simulations, int? maxEpochs = null, RecipeVariant? variant = null)
    {
        int batch = simulations <= 2_000 ? 32 : simulations <= 20_000 ? 64 : 128;
        int training = simulations - simulations / 10;
        if (training < batch)
            throw new UsageException($"--simulations {simulations} leaves {training} training simulations; at least {batch} (one batch) are needed.");
        int batches = training / batch;
        int epochs, patience;
        if (network.Name == ConsistencyModel.Recipe.Name)
            (epochs, patience) = (EpochsFor(ConsistencySteps, batches), 0);
        else if (network.Name == FlowMatching.Recipe.Name)
        {
            epochs = EpochsFor(FlowMatchingSteps(simulations), batches);
            patience = epochs;
        }
        else
            (epochs, patience) = (Math.Min(1_000, EpochsFor(MaxSteps, batches)), DefaultPatience);
        if (maxEpochs is int cap) epochs = Math.Min(epochs, cap);
        patience = Math.Min(patience, epochs);
        var chosen = variant ?? RecipeVariant.Chosen(task.Name, network.Name, simulations);
        return new BenchmarkRecipe(network, simulations, batch, epochs, patience, new TrainingOptions().LearningRate,
            chosen?.Widths, chosen?.Dropout);
    }

    /// <summary>Flow matching's schedule: 10,000 steps up to 2,000 simulations, 25,000 up to 20,000 (the tutorial's length), else 50,000.</summary>
    public static long FlowMatchingSteps(int simulations) => simulations <= 2_000 ? 10_000 : simulations <= 20_000 ? 25_000 : 50_000;

    private static int EpochsFor(long steps, int batchesPerEpoch) => (int)Math.Max(1, steps / batchesPerEpoch);

    /// <summary>One line naming every setting, as results.json records it.</summary>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        string widths = Widths is null ? "recipe's" : string.Join(",", Widths);
        string dropout = Dropout is double d ? d.ToString("G", inv) : "recipe's";
        string stopping = Patience == 0 ? string.Create(inv, $"{Epochs} epochs")
            : Patience >= Epochs ? string.Create(inv, $"{Epochs} epochs, keeping the best epoch")
            : string.Create(inv, $"at most {Epochs} epochs, early stopping after {Patience}");
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
    /// The settings the benchmark trains (task, network) with at a budget, where the recipe search on the held-out
    /// validation loss chose other than the network recipe's: <c>bench/sbibm/recipes.csv</c>, embedded in the program
    /// (docs/benchmarks-sbibm.md#recipes); null elsewhere.
    /// </summary>
    public static RecipeVariant? Chosen(string task, string network, int simulations)
        => Table.TryGetValue((task, network, simulations), out var v) ? v : null;

    private const string ResourceName = "OnnxSbi.Bench.Sbibm.recipes.csv";

    private static readonly Dictionary<(string, string, int), RecipeVariant> Table = Load();

    private static Dictionary<(string, string, int), RecipeVariant> Load() => Parse(DataTable.Resource(ResourceName), "bench/sbibm/recipes.csv");

    /// <summary>
    /// Parses the recipes file: '#' lines are comments; the header is <c>task,network,simulations,widths,dropout</c>;
    /// widths are space-separated ("-" keeps the recipe's), dropout a number ("-" keeps the recipe's).
    /// </summary>
    /// <exception cref="InvalidDataException">A row is malformed; the message names the line.</exception>
    internal static Dictionary<(string, string, int), RecipeVariant> Parse(string text, string source)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Dictionary<(string, string, int), RecipeVariant>();
        foreach (var (line, row, f) in DataTable.Rows(text, source, "task,network,simulations,widths,dropout"))
        {
            int[]? widths = null;
            double? dropout = null;
            bool ok = f.Length == 5 && int.TryParse(f[2], NumberStyles.Integer, inv, out _);
            if (ok && f[3] != "-")
            {
                var parts = f[3].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                widths = new int[parts.Length];
                for (int i = 0; i < parts.Length; i++) ok &= int.TryParse(parts[i], NumberStyles.Integer, inv, out widths[i]) && widths[i] > 0;
            }
            if (ok && f[4] != "-") { ok = double.TryParse(f[4], NumberStyles.Float, inv, out double d) && d >= 0 && d < 1; dropout = d; }
            if (!ok || (widths is null && dropout is null))
                throw new InvalidDataException($"{source}:{line}: expected task,network,simulations,widths,dropout with a width list or a dropout; found '{row}'.");
            table[(f[0], f[1], int.Parse(f[2], inv))] = new RecipeVariant(widths, dropout);
        }
        return table;
    }
}
