using System.CommandLine;
using System.CommandLine.Help;

namespace OnnxSbi.CommandLine;

/// <summary>What is wrong with a command line that did not parse, in words a user can act on.</summary>
public static class ParseProblems
{
    /// <summary>
    /// The problems of <paramref name="parsed"/>, each naming the verb and the option: unknown verbs and options (with
    /// the valid ones), stray arguments, and the errors of the options' own parsers (range, type, missing value).
    /// </summary>
    /// <param name="root">The program's root command, whose subcommands are its verbs.</param>
    /// <param name="parsed">The result of parsing the command line with <paramref name="root"/>.</param>
    public static IReadOnlyList<string> Describe(RootCommand root, ParseResult parsed)
    {
        var problems = new List<string>();
        var command = parsed.CommandResult.Command;
        if (command == root)
        {
            string verb = parsed.Tokens.FirstOrDefault()?.Value ?? "";
            problems.Add($"Unknown verb '{verb}'. Valid verbs: {string.Join(", ", root.Subcommands.Select(c => c.Name))}.");
            return problems;
        }
        bool afterUnknownOption = false;
        foreach (string token in parsed.UnmatchedTokens)
        {
            if (token.StartsWith('-'))
            {
                problems.Add($"'{command.Name}': unknown option '{token.Split('=')[0]}'. Valid options: {string.Join(", ", command.Options.Where(o => o is not HelpOption).Select(o => o.Name).Order(StringComparer.Ordinal))}.");
                afterUnknownOption = !token.Contains('=');
                continue;
            }
            // The value of an unknown option is not a second problem.
            if (!afterUnknownOption) problems.Add($"'{command.Name}': unexpected argument '{token}'.");
            afterUnknownOption = false;
        }
        // The parser also reports each unmatched token as an error; those are listed above, with the valid options.
        var unmatched = parsed.UnmatchedTokens.Select(t => $"'{t}'").ToHashSet(StringComparer.Ordinal);
        problems.AddRange(parsed.Errors.Where(e => !unmatched.Any(e.Message.Contains)).Select(e => $"'{command.Name}': {e.Message}"));
        return problems;
    }
}
