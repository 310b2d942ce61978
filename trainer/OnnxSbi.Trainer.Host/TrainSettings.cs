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

    /// <summary>The most simulator processes --simulator-workers accepts.</summary>
    public const int MaxSimulatorWorkers = 256;

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

    /// <summary>--simulator-retries when not given.</summary>
    public const int DefaultSimulatorRetries = 3;

    /// <summary>--simulator-timeout (seconds) when not given.</summary>
    public const double DefaultSimulatorTimeout = 120;

    /// <summary>Where the simulations come from.</summary>
    public SimulationSource Source => Data is { Length: > 0 } ? SimulationSource.Files
        : SimulatorCommand is not null ? SimulationSource.ExternalSimulator
        : SimulationSource.Task;

    /// <summary>The task name, the default task's when none is given.</summary>
    public string TaskName => Task ?? TrainingTasks.DefaultName;

    /// <summary>--task: a built-in task to simulate, or null for the default task when neither --data nor --simulator-command is given.</summary>
    [ConfigurationKeyName("task")] public string? Task { get; set; }

    /// <summary>--data: simulation files, directories or globs to train on.</summary>
    [ConfigurationKeyName("data")] public string[]? Data { get; set; }

    /// <summary>--validation-data: simulation files held out for the validation loss.</summary>
    [ConfigurationKeyName("validation-data")] public string[]? ValidationData { get; set; }

    /// <summary>--validation-fraction: the share of --data rows held out for the validation loss.</summary>
    [ConfigurationKeyName("validation-fraction")] public double? ValidationFraction { get; set; }

    /// <summary>--shape: per-sample shapes of variables stored as flat columns, e.g. "x=4,2".</summary>
    [ConfigurationKeyName("shape")] public string[]? Shape { get; set; }

    /// <summary>--simulator-command: an external simulator process speaking protocol 1.</summary>
    [ConfigurationKeyName("simulator-command")] public string? SimulatorCommand { get; set; }

    /// <summary>--simulator-workers: simulator processes run in parallel.</summary>
    [ConfigurationKeyName("simulator-workers")] public int SimulatorWorkers { get; set; } = 1;

    /// <summary>--simulator-retries: restarts of a crashed or timed-out simulator before training stops.</summary>
    [ConfigurationKeyName("simulator-retries")] public int SimulatorRetries { get; set; } = DefaultSimulatorRetries;

    /// <summary>--simulator-timeout: seconds one batch may take.</summary>
    [ConfigurationKeyName("simulator-timeout")] public double SimulatorTimeout { get; set; } = DefaultSimulatorTimeout;

    /// <summary>--inference-variables: the user's variables the posterior is over.</summary>
    [ConfigurationKeyName("inference-variables")] public string[]? InferenceVariables { get; set; }

    /// <summary>--inference-conditions: the user's variables the posterior is conditioned on.</summary>
    [ConfigurationKeyName("inference-conditions")] public string[]? InferenceConditions { get; set; }

    /// <summary>--adapter: an adapter file (the manifest's AdapterSpec as protobuf JSON).</summary>
    [ConfigurationKeyName("adapter")] public string? Adapter { get; set; }

    /// <summary>--standardize: the variables to standardize.</summary>
    [ConfigurationKeyName("standardize")] public string[]? Standardize { get; set; }

    /// <summary>--log: variables to log-transform.</summary>
    [ConfigurationKeyName("log")] public string[]? Log { get; set; }

    /// <summary>--constrain: bounds "VAR:LOWER:UPPER" (either bound may be empty).</summary>
    [ConfigurationKeyName("constrain")] public string[]? Constrain { get; set; }

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

    /// <summary>--early-stopping: patience in epochs, or null for off.</summary>
    [ConfigurationKeyName("early-stopping")] public int? EarlyStopping { get; set; }

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
        .Where(p => p.GetCustomAttribute<ConfigurationKeyNameAttribute>() is not null)
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
            if (property.PropertyType == typeof(string[]))
            {
                // A list: an array in the JSON file ("data": ["a", "b"]), DATA__0 in the environment, or one value.
                if (section.Value is null && section.GetChildren().Any(c => c.Value is null))
                    throw new UsageException($"'train': configuration key '{section.Key}' must be a list of values.");
                continue;
            }
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

/// <summary>Where <c>train</c> takes its simulations from.</summary>
internal enum SimulationSource
{
    /// <summary>A built-in task's in-process simulator (--task, the default).</summary>
    Task,

    /// <summary>Simulations on disk (--data).</summary>
    Files,

    /// <summary>An external simulator process (--simulator-command).</summary>
    ExternalSimulator,
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

        if (TrainingTasks.Find(s.TaskName) is null) Fail(TrainingTasks.UnknownMessage(s.TaskName));
        int sources = (s.Task is not null ? 1 : 0) + (s.Data is { Length: > 0 } ? 1 : 0) + (s.SimulatorCommand is not null ? 1 : 0);
        if (sources > 1) Fail("'train': give one source of simulations: --task, --data or --simulator-command.");
        if (s.Source != SimulationSource.Task && s.InferenceVariables is not { Length: > 0 })
            Fail($"'train': --{(s.Source == SimulationSource.Files ? "data" : "simulator-command")} needs --inference-variables (the variables the posterior is over), e.g. --inference-variables theta --inference-conditions x.");
        if (s.Source == SimulationSource.Task && (s.InferenceVariables is not null || s.InferenceConditions is not null || s.Adapter is not null
            || s.Standardize is not null || s.Log is not null || s.Constrain is not null))
            Fail("'train': --inference-variables, --inference-conditions, --adapter, --standardize, --log and --constrain apply to --data and --simulator-command; a built-in --task has its own adapter.");
        if (s.Adapter is not null && (s.Standardize is not null || s.Log is not null || s.Constrain is not null))
            Fail("'train': give the adapter either as --adapter FILE or as --standardize/--log/--constrain short-hands, not both.");
        if (s.Adapter is not null && !File.Exists(s.Adapter)) Fail($"'train': --adapter: file '{s.Adapter}' does not exist.");
        if (s.Source != SimulationSource.Files && (s.ValidationData is not null || s.ValidationFraction is not null || s.Shape is not null))
            Fail("'train': --validation-data, --validation-fraction and --shape apply to --data.");
        if (s.ValidationData is { Length: > 0 } && s.ValidationFraction is not null)
            Fail("'train': give either --validation-data or --validation-fraction, not both.");
        if (s.ValidationFraction is double f && !(f > 0 && f < 1)) Fail(Invariant($"'train': --validation-fraction must be a number in (0, 1); got '{f}'."));
        if (s.Source == SimulationSource.Files && (s.Online || s.NumSimulations is not null || s.ValidationSets is not null || s.BatchesPerEpoch is not null))
            Fail("'train': --data trains offline on the files' rows, an epoch being every row once; --online, --num-simulations, --batches-per-epoch and --validation-sets do not apply (use --validation-data or --validation-fraction).");
        Int("simulator-workers", s.SimulatorWorkers, 1, TrainSettings.MaxSimulatorWorkers);
        Int("simulator-retries", s.SimulatorRetries, 0, 1000);
        Number("simulator-timeout", s.SimulatorTimeout, 0.001, 86_400);
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
        Int("early-stopping", s.EarlyStopping, 0, TrainSettings.MaxEpochs);
        if (s.EarlyStopping > 0 && s.ValidationSets == 0) Fail("'train': --early-stopping needs validation data; --validation-sets is 0.");
        if (s.EarlyStopping > 0 && s.Source == SimulationSource.Files && s.ValidationData is not { Length: > 0 } && s.ValidationFraction is null)
            Fail("'train': --early-stopping needs validation data: give --validation-data or --validation-fraction with --data.");
        Number("learning-rate", s.LearningRate, TrainSettings.MinLearningRate, TrainSettings.MaxLearningRate);
        Number("dropout", s.Dropout, 0, TrainSettings.MaxDropout);
        try { s.ParseWidths(); }
        catch (UsageException e) { Fail(e.Message); }
        if (failures.Count == 0 && s.Source != SimulationSource.Files && !s.Online && TrainPlan.SimulationsOf(s) < TrainPlan.BatchSizeOf(s))
            Fail($"--num-simulations ({TrainPlan.SimulationsOf(s)}) must be at least --batch-size ({TrainPlan.BatchSizeOf(s)}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
