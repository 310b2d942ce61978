using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace OnnxSbi.Trainer.Host;

/// <summary>A command-line mistake: printed without a stack trace, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The parsed command line of one verb: option values (as configuration keys) and switches.</summary>
internal sealed record ParsedArgs(Dictionary<string, string?> Values, HashSet<string> Switches, string? ConfigFile);

/// <summary>The verbs of <c>onnxsbi-train</c>, their options and their dispatch.</summary>
internal static partial class Verbs
{
    public const string Usage = """
        onnxsbi-train — train amortized posteriors with TorchSharp and export them as .onnxsbi bundles

        Verbs:
          train      --task NAME --network flow_matching|consistency_model|affine_coupling_flow|spline_coupling_flow
                     [--epochs N] [--batches-per-epoch N] [--batch-size N] [--offline|--online] [--num-simulations N]
                     [--validation-sets N] [--seed S] [--learning-rate LR] [--widths 256,256] [--dropout P]
                     [--checkpoint PATH] [--resume] [--skip-bad-rows] [--config FILE.json] --out PATH.onnxsbi
        Options may also come from a JSON file (--config) and from ONNXSBI_* environment variables.
        README.md documents every flag with an example.
        """;

    private static readonly Dictionary<string, (string[] Values, string[] Switches)> Options = new()
    {
        ["train"] = (["task", "network", "epochs", "batches-per-epoch", "batch-size", "num-simulations", "validation-sets", "seed",
                      "learning-rate", "widths", "dropout", "checkpoint", "out", "config", "threads"],
                     ["offline", "online", "resume", "skip-bad-rows"]),
    };

    public static ParsedArgs Parse(string verb, string[] args)
    {
        if (!Options.TryGetValue(verb, out var known))
            throw new UsageException($"Unknown verb '{verb}'. Valid verbs: {string.Join(", ", Options.Keys)}.");
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var switches = new HashSet<string>(StringComparer.Ordinal);
        string? config = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"'{verb}': unexpected argument '{a}'. Options start with '--'.");
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq > 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (known.Switches.Contains(name)) { switches.Add(name); continue; }
            if (!known.Values.Contains(name))
                throw new UsageException($"'{verb}': unknown option '--{name}'. Valid options: {string.Join(", ", known.Values.Concat(known.Switches).Order().Select(o => "--" + o))}.");
            string value = inline ?? (i + 1 < args.Length ? args[++i] : throw new UsageException($"'{verb}': option '--{name}' needs a value."));
            if (name == "config") config = value;
            else values[name] = value;
        }
        return new ParsedArgs(values, switches, config);
    }

    public static int Run(string verb, HashSet<string> switches, IConfiguration config, ILogger logger, CancellationToken ct)
    {
        var known = Options[verb];
        foreach (var section in config.GetChildren())
        {
            // Keys from the JSON file and the environment are checked like command-line flags.
            if (section.Value is null || IsHostKey(section.Key)) continue;
            if (!known.Values.Contains(section.Key, StringComparer.OrdinalIgnoreCase) && !known.Switches.Contains(section.Key, StringComparer.OrdinalIgnoreCase))
                throw new UsageException($"'{verb}': unknown configuration key '{section.Key}'. Valid keys: {string.Join(", ", known.Values.Concat(known.Switches).Where(k => k != "config").Order())}.");
        }
        var settings = new Settings(config, switches, verb);
        return verb switch
        {
            "train" => TrainVerb.Run(settings, logger, ct),
            _ => throw new UsageException($"Unknown verb '{verb}'."),
        };
    }

    // Keys the .NET host itself reads from the environment or defaults.
    private static bool IsHostKey(string key) => key is "ENVIRONMENT" or "APPLICATIONNAME" or "CONTENTROOT" or "URLS" or "DOTNET_ENVIRONMENT";
}

/// <summary>Typed access to one verb's settings, with range checks that name the option.</summary>
internal sealed class Settings(IConfiguration config, HashSet<string> switches, string verb)
{
    public string Verb { get; } = verb;

    public bool Switch(string name) => switches.Contains(name) || bool.TryParse(config[name], out bool b) && b;

    public string? String(string name) => config[name];

    public int? Int(string name, int min, int max = int.MaxValue)
    {
        string? s = config[name];
        if (s is null) return null;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new UsageException($"'{Verb}': --{name} must be an integer in [{min}, {max}]; got '{s}'.");
        return v;
    }

    public double? Double(string name, double min, double max)
    {
        string? s = config[name];
        if (s is null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= min && v <= max))
            throw new UsageException($"'{Verb}': --{name} must be a number in [{min}, {max}]; got '{s}'.");
        return v;
    }

    public ulong? ULong(string name)
    {
        string? s = config[name];
        if (s is null) return null;
        if (!ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v))
            throw new UsageException($"'{Verb}': --{name} must be a non-negative integer; got '{s}'.");
        return v;
    }

    public int[]? Widths(string name)
    {
        string? s = config[name];
        if (s is null) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException($"'{Verb}': --{name} must list at least one width, e.g. 256,256; got '{s}'.");
        return parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) && w > 0
            ? w : throw new UsageException($"'{Verb}': --{name} widths must be positive integers; got '{p}' in '{s}'.")).ToArray();
    }
}
