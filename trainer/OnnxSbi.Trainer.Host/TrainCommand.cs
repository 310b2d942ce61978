using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// <c>train</c>: the command line's typed options, each the override of the <see cref="TrainSettings"/> key of the
/// same name; the action builds the Generic Host (configuration, validated options, logging, services) and runs
/// <see cref="TrainRunner"/> until it finishes or a signal stops it.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The verb, its options and its action.</summary>
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config")
        {
            Description = "JSON file of option values keyed by option name without the dashes, e.g. {\"epochs\": 20}. " +
                "Precedence: command line > ONNXSBI_* environment variables (ONNXSBI_EPOCHS=20) > this file > defaults.",
            HelpName = "FILE.json",
            Arity = ArgumentArity.OneOrMore,
            CustomParser = r => Parse(r, t => File.Exists(t) ? new FileInfo(t) : throw new FormatException($"--config: file '{t}' does not exist.")),
        };
        Option[] options =
        [
            Text("--task", $"Built-in task to simulate and train on: {string.Join(", ", TrainingTasks.Names)}. Default: {TrainingTasks.DefaultName}, unless --data or --simulator-command is given.", "NAME"),
            List("--data", "Train offline on simulations in files: .npy (one variable per file, a directory's files form one shard), .npz, .csv or .parquet; files, directories or globs of shards. See docs/data-files.md.", "PATH"),
            List("--validation-data", "Files of held-out simulations for the validation loss (with --data).", "PATH"),
            Typed<double?>("--validation-fraction", "Share of the --data rows held out for the validation loss, in (0, 1), chosen by a seeded hash of the row.", "F", "a number"),
            List("--shape", "Per-sample shape of a variable stored as flat columns x_0, x_1, … in CSV or Parquet, e.g. x=4,2.", "VAR=D1,D2"),
            Text("--simulator-command", "Simulate with an external process speaking protocol 1 (docs/simulator-protocol.md), e.g. \"python3 sim.py\"; run by /bin/sh.", "CMD"),
            Typed<int>("--simulator-workers", "Simulator processes run in parallel.", "W", "an integer", 1),
            Typed<int>("--simulator-retries", "Restarts of a crashed or timed-out simulator process before training stops.", "K", "an integer", TrainSettings.DefaultSimulatorRetries),
            Typed<double>("--simulator-timeout", "Seconds one batch may take before the simulator process is restarted.", "SECONDS", "a number", TrainSettings.DefaultSimulatorTimeout),
            List("--inference-variables", "With --data or --simulator-command: the variables the posterior is over, in order (concatenated).", "VAR"),
            List("--inference-conditions", "With --data or --simulator-command: the variables the posterior is conditioned on, in order (concatenated).", "VAR"),
            Text("--adapter", "Adapter file: the bundle manifest's AdapterSpec as protobuf JSON (docs/your-own-model.md#the-adapter). Default: built from the short-hands below.", "FILE.json"),
            List("--standardize", "Variables to standardize (default: the inference conditions); 'none' for none.", "VAR"),
            List("--log", "Variables to log-transform before standardizing.", "VAR"),
            List("--constrain", "Bounds of a variable, mapped to the real line: VAR:LOWER:UPPER, either bound may be empty (sigma:0:).", "VAR:LO:HI"),
            Text("--network", $"Network to train (required): {string.Join(", ", NetworkCatalog.All.Select(r => r.Name))}.", "NAME"),
            Int("--epochs", $"Training epochs, 1 to {TrainSettings.MaxEpochs}. Default: the network recipe's."),
            Int("--batches-per-epoch", "Batches per epoch. Default: offline, --num-simulations / --batch-size; online, the task's."),
            Int("--batch-size", $"Rows per batch, 1 to {TrainSettings.MaxBatchSize}. Default: the task's."),
            Switch("--offline", "Train on one fixed set of --num-simulations simulations (the default)."),
            Switch("--online", "Simulate fresh batches every epoch."),
            Int("--num-simulations", "Offline: the simulations trained on. Default: the task's batches × --batch-size."),
            Int("--validation-sets", "Held-out simulations scored after every epoch; 0 for none. Default: the task's."),
            Typed<ulong>("--seed", "Seed of the simulations, the initial weights and the batches.", "S", "a non-negative integer", TrainSettings.DefaultSeed),
            Typed<double>("--learning-rate", $"Peak learning rate (after warm-up), {TrainSettings.MinLearningRate.ToString("0e0", CultureInfo.InvariantCulture)} to {TrainSettings.MaxLearningRate.ToString(CultureInfo.InvariantCulture)}.",
                "LR", "a number", TrainSettings.DefaultLearningRate),
            Text("--widths", "Hidden-layer widths, comma-separated, e.g. 256,256. Default: the network recipe's.", "W1,W2"),
            Typed<double?>("--dropout", $"Dropout probability, 0 to {TrainSettings.MaxDropout.ToString(CultureInfo.InvariantCulture)}. Default: the network recipe's.", "P", "a number"),
            Text("--checkpoint", "Checkpoint written atomically after every epoch. Default: OUT.ckpt with --resume, none without.", "PATH"),
            Int("--checkpoint-every", "Also write the checkpoint every N batches inside an epoch (0, the default: only at epoch ends), so a long epoch resumes mid-way."),
            Int("--early-stopping", "Stop after N epochs without a lower validation loss and keep the best epoch's weights (0, the default: off). Needs validation data."),
            Switch("--resume", "Continue from the checkpoint where it was written (an epoch's end, or mid-epoch with --checkpoint-every), or start it when it does not exist."),
            Switch("--skip-bad-rows", "Skip and count simulated rows with non-finite values instead of stopping with an error."),
            Typed<int>("--threads", $"libtorch CPU threads, 1 to {TrainSettings.MaxThreads}.", "T", "an integer", TrainSettings.DefaultThreads),
            Text("--out", "The .onnxsbi bundle to write (required).", "PATH.onnxsbi"),
        ];
        var command = new Command("train", "Trains one network on one task with TorchSharp and exports it as an .onnxsbi bundle.");
        foreach (var option in options) command.Options.Add(option);
        command.Options.Add(config);
        command.SetAction((r, _) => RunAsync(r.GetValue(config)?.ToString(), CommandLineValues(r, options)));
        return command;
    }

    /// <summary>The configuration keys and values of the options given on the command line (defaults excluded, so that they do not hide the file's and the environment's).</summary>
    private static Dictionary<string, string?> CommandLineValues(ParseResult r, IEnumerable<Option> options)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var option in options)
            if (r.GetResult(option) is { Implicit: false } given)
            {
                string key = option.Name.TrimStart('-');
                if (option is Option<string[]>)
                    for (int i = 0; i < given.Tokens.Count; i++) values[$"{key}:{i}"] = given.Tokens[i].Value;
                else
                    values[key] = given.Tokens.Count > 0 ? given.Tokens[^1].Value : "true";
            }
        return values;
    }

    /// <summary>Builds the host for one training run, runs it and maps its end to an exit code.</summary>
    private static async Task<int> RunAsync(string? configFile, Dictionary<string, string?> commandLine)
    {
        // No default sources: only the ones below, so every configuration key can be checked against the options.
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        if (configFile is not null)
        {
            try { builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false); }
            catch (InvalidDataException e) { throw new UsageException($"--config: {e.Message} {e.InnerException?.Message}".TrimEnd()); }
        }
        builder.Configuration.AddEnvironmentVariables("ONNXSBI_");
        builder.Configuration.AddInMemoryCollection(commandLine);
        TrainSettings.CheckKeys(builder.Configuration);

        builder.Services.AddOptions<TrainSettings>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TrainSettings>, TrainSettingsValidator>();
        builder.Services.AddSingleton<TrainRunner>();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // A host that fails to start (settings refused at ValidateOnStart) is reported once, as an error line, by TrainerCli.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        using var host = builder.Build();
        // Validates the settings (ValidateOnStart) and installs the Ctrl+C and SIGTERM handlers, which stop the application.
        await host.StartAsync();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        int code;
        try
        {
            code = host.Services.GetRequiredService<TrainRunner>().Run(lifetime.ApplicationStopping);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            host.Services.GetRequiredService<ILogger<TrainRunner>>().LogWarning(
                "Stopped by a signal; the last checkpoint is kept. Rerun with --resume to continue from it.");
            code = ExitCodes.Cancelled;
        }
        lifetime.StopApplication();
        await host.StopAsync();
        return code;
    }

    internal static Option<string?> Text(string name, string description, string helpName, string? defaultValue = null)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.OneOrMore, CustomParser = r => Parse(r, t => t) };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>A list option: values after it (--data a.npz b.npz) and repeats (--log a --log b) accumulate.</summary>
    internal static Option<string[]> List(string name, string description, string helpName) =>
        new(name) { Description = description, HelpName = helpName, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = true };

    internal static Option<int?> Int(string name, string description) => Typed<int?>(name, description, "N", "an integer");

    internal static Option<bool> Switch(string name, string description) => new(name) { Description = description };

    /// <summary>
    /// An option of type <typeparamref name="T"/> (int, ulong or double, nullable or not), repeatable with the last value winning;
    /// its range is checked with the other settings' at start, whichever source the value came from.
    /// </summary>
    internal static Option<T> Typed<T>(string name, string description, string helpName, string expectation, T? defaultValue = default)
    {
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = helpName,
            Arity = ArgumentArity.OneOrMore,
            CustomParser = r => Parse(r, t =>
            {
                object? value = type == typeof(int) && int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
                    : type == typeof(ulong) && ulong.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong u) ? u
                    : type == typeof(double) && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
                    : null;
                return value is null ? throw new FormatException($"{name} must be {expectation}; got '{t}'.") : (T)value;
            }),
        };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>Parses the last value given (the last one wins); a <see cref="FormatException"/> becomes a parse error with its message.</summary>
    private static T Parse<T>(ArgumentResult r, Func<string, T> parse)
    {
        string token = r.Tokens[^1].Value;
        try { return parse(token); }
        catch (FormatException e)
        {
            r.AddError(e.Message);
            return default!;
        }
    }
}
