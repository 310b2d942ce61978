using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// The settings of <c>train</c>, bound from configuration (built-in defaults &lt; --config JSON file &lt; ONNXSBI_*
/// environment variables &lt; command line); each configuration key is the option's name without its dashes.
/// Null means "the task's or the network's default". Checked by <see cref="TrainSettingsValidator"/> at start.
/// </summary>
internal sealed class TrainSettings
{
    /// <summary>The most epochs --epochs accepts.</summary>
    public const int MaxEpochs = 100_000;

    /// <summary>The largest --batch-size.</summary>
    public const int MaxBatchSize = 1 << 20;

    /// <summary>The most libtorch threads --threads accepts.</summary>
    public const int MaxThreads = 1024;

    /// <summary>The range of --learning-rate.</summary>
    public const double MinLearningRate = 1e-8, MaxLearningRate = 1.0;

    /// <summary>The largest --dropout probability.</summary>
    public const double MaxDropout = 0.99;

    /// <summary>--seed when not given.</summary>
    public const ulong DefaultSeed = 1;

    /// <summary>--learning-rate when not given.</summary>
    public const double DefaultLearningRate = 5e-4;

    /// <summary>--threads when not given.</summary>
    public const int DefaultThreads = 1;

    /// <summary>--task: the task to simulate.</summary>
    [ConfigurationKeyName("task")] public string Task { get; set; } = TrainingTasks.DefaultName;

    /// <summary>--network: the network recipe (required).</summary>
    [ConfigurationKeyName("network")] public string? Network { get; set; }

    /// <summary>--epochs, or null for the recipe's.</summary>
    [ConfigurationKeyName("epochs")] public int? Epochs { get; set; }

    /// <summary>--batches-per-epoch, or null for the budget-derived count.</summary>
    [ConfigurationKeyName("batches-per-epoch")] public int? BatchesPerEpoch { get; set; }

    /// <summary>--batch-size, or null for the task's.</summary>
    [ConfigurationKeyName("batch-size")] public int? BatchSize { get; set; }

    /// <summary>--offline: a fixed simulation budget (the default mode).</summary>
    [ConfigurationKeyName("offline")] public bool Offline { get; set; }

    /// <summary>--online: fresh simulations every batch.</summary>
    [ConfigurationKeyName("online")] public bool Online { get; set; }

    /// <summary>--num-simulations, or null for the task's batches × the batch size.</summary>
    [ConfigurationKeyName("num-simulations")] public int? NumSimulations { get; set; }

    /// <summary>--validation-sets, or null for the task's.</summary>
    [ConfigurationKeyName("validation-sets")] public int? ValidationSets { get; set; }

    /// <summary>--seed.</summary>
    [ConfigurationKeyName("seed")] public ulong Seed { get; set; } = DefaultSeed;

    /// <summary>--learning-rate.</summary>
    [ConfigurationKeyName("learning-rate")] public double LearningRate { get; set; } = DefaultLearningRate;

    /// <summary>--widths as given ("256,256"), or null for the recipe's; see ParseWidths.</summary>
    [ConfigurationKeyName("widths")] public string? Widths { get; set; }

    /// <summary>--dropout, or null for the recipe's.</summary>
    [ConfigurationKeyName("dropout")] public double? Dropout { get; set; }

    /// <summary>--checkpoint, or null for OUT.ckpt with --resume and none without.</summary>
    [ConfigurationKeyName("checkpoint")] public string? Checkpoint { get; set; }

    /// <summary>--checkpoint-every: batches between mid-epoch checkpoints, or null for epoch ends only.</summary>
    [ConfigurationKeyName("checkpoint-every")] public int? CheckpointEvery { get; set; }

    /// <summary>--resume.</summary>
    [ConfigurationKeyName("resume")] public bool Resume { get; set; }

    /// <summary>--skip-bad-rows.</summary>
    [ConfigurationKeyName("skip-bad-rows")] public bool SkipBadRows { get; set; }

    /// <summary>--out: the bundle to write (required).</summary>
    [ConfigurationKeyName("out")] public string? Out { get; set; }

    /// <summary>--threads.</summary>
    [ConfigurationKeyName("threads")] public int Threads { get; set; } = DefaultThreads;

    /// <summary>Every configuration key and the property it binds to, from the attributes above.</summary>
    public static IReadOnlyDictionary<string, PropertyInfo> Keys { get; } = typeof(TrainSettings).GetProperties(BindingFlags.Instance | BindingFlags.Public)
        .ToDictionary(p => p.GetCustomAttribute<ConfigurationKeyNameAttribute>()!.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The hidden-layer widths of --widths ("256,256"), or null for the recipe's.</summary>
    public int[]? ParseWidths()
    {
        if (Widths is null) return null;
        var parts = Widths.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException($"'train': --widths must list at least one width, e.g. 256,256; got '{Widths}'.");
        return parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) && w > 0
            ? w : throw new UsageException($"'train': --widths widths must be positive integers; got '{p}' in '{Widths}'.")).ToArray();
    }

    /// <summary>
    /// Refuses configuration keys that are no option of <c>train</c> (so a typo in a JSON file or an environment
    /// variable is not silently ignored) and values that do not convert to the option's type.
    /// </summary>
    public static void CheckKeys(IConfiguration configuration)
    {
        foreach (var section in configuration.GetChildren())
        {
            if (IsHostKey(section.Key)) continue;
            if (!Keys.TryGetValue(section.Key, out var property))
                throw new UsageException($"'train': unknown configuration key '{section.Key}'. Valid keys: {string.Join(", ", Keys.Keys.Order(StringComparer.Ordinal))}.");
            if (section.Value is null)
                throw new UsageException($"'train': configuration key '{section.Key}' must be a single value, not a section or an array.");
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            string v = section.Value;
            bool ok = type == typeof(string)
                || type == typeof(bool) && bool.TryParse(v, out _)
                || type == typeof(int) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                || type == typeof(ulong) && ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                || type == typeof(double) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
            if (!ok) throw new UsageException($"'train': --{section.Key.ToLowerInvariant()} must be {Describe(type)}; got '{v}'.");
        }
    }

    private static string Describe(Type type) =>
        type == typeof(bool) ? "true or false" : type == typeof(double) ? "a number" : type == typeof(ulong) ? "a non-negative integer" : "an integer";

    // Keys the .NET host itself reads from the environment or defaults.
    private static bool IsHostKey(string key) => key is "ENVIRONMENT" or "APPLICATIONNAME" or "CONTENTROOT" or "URLS" or "DOTNET_ENVIRONMENT";
}

/// <summary>Checks <see cref="TrainSettings"/> at start (ValidateOnStart), each failure naming the option, its valid range and the value.</summary>
internal sealed class TrainSettingsValidator : IValidateOptions<TrainSettings>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, TrainSettings s)
    {
        var failures = new List<string>();
        void Fail(string message) => failures.Add(message);
        void Int(string option, int? value, int min, int max)
        {
            if (value is int v && (v < min || v > max)) Fail(Invariant($"'train': --{option} must be an integer in [{min}, {max}]; got '{v}'."));
        }
        void Number(string option, double? value, double min, double max)
        {
            if (value is double v && !(v >= min && v <= max)) Fail(Invariant($"'train': --{option} must be a number in [{min}, {max}]; got '{v}'."));
        }

        if (TrainingTasks.Find(s.Task) is null) Fail(TrainingTasks.UnknownMessage(s.Task));
        if (s.Network is null) Fail("'train': missing required option '--network'.");
        else
        {
            try { NetworkCatalog.Get(s.Network); }
            catch (ArgumentException e) { Fail(e.Message); }
        }
        if (s.Out is null) Fail("'train': missing required option '--out PATH.onnxsbi'.");
        if (s.Offline && s.Online) Fail("Choose one of --offline and --online.");
        Int("epochs", s.Epochs, 1, TrainSettings.MaxEpochs);
        Int("batches-per-epoch", s.BatchesPerEpoch, 1, int.MaxValue);
        Int("batch-size", s.BatchSize, 1, TrainSettings.MaxBatchSize);
        Int("num-simulations", s.NumSimulations, 1, int.MaxValue);
        Int("validation-sets", s.ValidationSets, 0, int.MaxValue);
        Int("threads", s.Threads, 1, TrainSettings.MaxThreads);
        Int("checkpoint-every", s.CheckpointEvery, 0, int.MaxValue);
        Number("learning-rate", s.LearningRate, TrainSettings.MinLearningRate, TrainSettings.MaxLearningRate);
        Number("dropout", s.Dropout, 0, TrainSettings.MaxDropout);
        try { s.ParseWidths(); }
        catch (UsageException e) { Fail(e.Message); }
        if (failures.Count == 0 && !s.Online && TrainPlan.SimulationsOf(s) < TrainPlan.BatchSizeOf(s))
            Fail($"--num-simulations ({TrainPlan.SimulationsOf(s)}) must be at least --batch-size ({TrainPlan.BatchSizeOf(s)}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
