using System.Globalization;

namespace OnnxSbi.Runtime.Cli;

/// <summary>A command-line error: printed without a stack trace, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parses "verb --flag value --switch positional" command lines against the verb's declared flags,
/// refusing unknown flags with the list of valid ones.
/// </summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> switches = new(StringComparer.Ordinal);
    private readonly string verb;

    public CliArgs(string verb, IReadOnlyList<string> args, IReadOnlyCollection<string> valueFlags, IReadOnlyCollection<string> switchFlags)
    {
        this.verb = verb;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(a);
                continue;
            }
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq > 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (switchFlags.Contains(name)) { switches.Add(name); continue; }
            if (!valueFlags.Contains(name))
                throw new UsageException($"'{verb}': unknown option '--{name}'. Valid options: {string.Join(", ", valueFlags.Concat(switchFlags).Order().Select(f => "--" + f))}.");
            string value = inline ?? (i + 1 < args.Count ? args[++i] : throw new UsageException($"'{verb}': option '--{name}' needs a value."));
            if (!values.TryGetValue(name, out var list)) values[name] = list = [];
            list.Add(value);
        }
    }

    public List<string> Positional { get; } = [];

    public bool Has(string flag) => values.ContainsKey(flag) || switches.Contains(flag);

    public string? Get(string flag) => values.TryGetValue(flag, out var v) ? v[^1] : null;

    public IReadOnlyList<string> GetAll(string flag) => values.TryGetValue(flag, out var v) ? v : [];

    public string Require(string flag) => Get(flag) ?? throw new UsageException($"'{verb}': missing required option '--{flag}'.");

    public int? Int(string flag, int min = int.MinValue, int max = int.MaxValue)
    {
        string? s = Get(flag);
        if (s is null) return null;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new UsageException($"'{verb}': --{flag} must be an integer in [{min}, {max}]; got '{s}'.");
        return v;
    }

    public double? Double(string flag)
    {
        string? s = Get(flag);
        if (s is null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"'{verb}': --{flag} must be a finite number; got '{s}'.");
        return v;
    }

    public ulong? ULong(string flag)
    {
        string? s = Get(flag);
        if (s is null) return null;
        if (!ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v))
            throw new UsageException($"'{verb}': --{flag} must be a non-negative integer; got '{s}'.");
        return v;
    }
}
