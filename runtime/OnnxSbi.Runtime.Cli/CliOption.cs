using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace OnnxSbi.Runtime.Cli;

/// <summary>
/// Typed options with range checks whose errors name the option, the valid range and the value given.
/// Each option may be repeated; the last value wins, so a wrapper script can override an earlier flag.
/// </summary>
internal static class CliOption
{
    /// <summary>An integer option in [<paramref name="min"/>, <paramref name="max"/>] with a default shown in the help.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min, int max, string helpName = "N")
        => Last(new Option<int>(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue }, t => ParseInt(name, t, min, max));

    /// <summary>An optional integer option in [<paramref name="min"/>, <paramref name="max"/>]; null when absent (the default is described, not fixed).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max = int.MaxValue, string helpName = "N")
        => Last(new Option<int?>(name) { Description = description, HelpName = helpName }, t => ParseInt(name, t, min, max));

    /// <summary>A non-negative 64-bit integer option (seeds).</summary>
    public static Option<ulong> ULong(string name, string description, ulong defaultValue, string helpName = "S")
        => Last(new Option<ulong>(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue },
            t => ulong.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v : throw Bad(name, "must be a non-negative integer", t));

    /// <summary>A finite number option with a default shown in the help.</summary>
    public static Option<double> Double(string name, string description, double defaultValue, string helpName = "X")
        => Last(new Option<double>(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue }, t => ParseFinite(name, t));

    /// <summary>An optional finite number option; null when absent.</summary>
    public static Option<double?> OptionalDouble(string name, string description, string helpName = "X")
        => Last(new Option<double?>(name) { Description = description, HelpName = helpName }, t => ParseFinite(name, t));

    /// <summary>A text option (a path, a name); null when absent.</summary>
    public static Option<string?> Text(string name, string description, string helpName)
        => Last(new Option<string?>(name) { Description = description, HelpName = helpName }, t => t);

    /// <summary>A path to a file that must exist; null when absent. Its <c>ToString()</c> gives the path as typed, for messages.</summary>
    public static Option<FileInfo?> ExistingFile(string name, string description, string helpName)
        => Last(new Option<FileInfo?>(name) { Description = description, HelpName = helpName },
            t => File.Exists(t) ? new FileInfo(t) : throw new FormatException($"{name}: file '{t}' does not exist."));

    /// <summary>
    /// A choice among named values, matched case-insensitively; <paramref name="choices"/> maps every accepted
    /// spelling (aliases included) to its value, the help lists <paramref name="helpName"/> and shows the
    /// default by the name a user types (<paramref name="defaultName"/>).
    /// </summary>
    public static Option<Named<T>> Choice<T>(string name, string description, string defaultName, string helpName, params (string Name, T Value)[] choices)
    {
        var table = choices.ToDictionary(e => e.Name, e => new Named<T>(e.Name, e.Value), StringComparer.OrdinalIgnoreCase);
        return Last(new Option<Named<T>>(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => table[defaultName] },
            t => table.TryGetValue(t, out var v) ? v : throw new FormatException(
                $"{name} must be {OneOf(helpName.Split('|'))}; got '{t}'."));
    }

    /// <summary>True when <paramref name="option"/> was given on the command line (not filled in from its default).</summary>
    public static bool IsGiven(this ParseResult result, Option option) => result.GetResult(option) is { Implicit: false };

    private static int ParseInt(string name, string token, int min, int max)
        => int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
            ? v : throw Bad(name, $"must be an integer in [{min}, {max}]", token);

    private static double ParseFinite(string name, string token)
        => double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw Bad(name, "must be a finite number", token);

    private static FormatException Bad(string name, string expectation, string token) => new($"{name} {expectation}; got '{token}'.");

    /// <summary>
    /// Lets <paramref name="option"/> be repeated and parses its last value with <paramref name="parse"/>;
    /// a <see cref="FormatException"/> from the parser becomes a parse error with its message.
    /// </summary>
    private static Option<T> Last<T>(Option<T> option, Func<string, T> parse)
    {
        option.Arity = ArgumentArity.OneOrMore;
        option.CustomParser = result =>
        {
            string token = result.Tokens[^1].Value;
            try { return parse(token); }
            catch (FormatException e)
            {
                result.AddError(e.Message);
                return default!;
            }
        };
        return option;
    }

    /// <summary>'a', 'b' or 'c'.</summary>
    private static string OneOf(string[] choices) => choices.Length == 1
        ? $"'{choices[0]}'"
        : string.Join(", ", choices[..^1].Select(c => $"'{c}'")) + $" or '{choices[^1]}'";
}

/// <summary>A value chosen on the command line by <paramref name="Name"/>; the help shows the name, not the enum member.</summary>
internal readonly record struct Named<T>(string Name, T Value)
{
    /// <inheritdoc/>
    public override string ToString() => Name;
}
