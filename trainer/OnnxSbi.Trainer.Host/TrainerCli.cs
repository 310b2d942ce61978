using System.CommandLine;
using System.CommandLine.Help;
using Microsoft.Extensions.Options;
using OnnxSbi.Runtime;

namespace OnnxSbi.Trainer.Host;

/// <summary>
/// The <c>onnxsbi-train</c> command line on System.CommandLine: parse errors reported with the option's name and the
/// value given, exceptions mapped to <see cref="ExitCodes"/> as in <c>onnxsbi</c>.
/// </summary>
internal static class TrainerCli
{
    /// <summary>The width the help is laid out for, fixed so that docs/cli.md matches it on any terminal.</summary>
    public const int HelpWidth = 120;

    /// <summary>The root command with every verb.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("onnxsbi-train: train amortized posteriors with TorchSharp and export them as .onnxsbi bundles.")
        {
            TrainCommand.Create(),
        };
        foreach (var option in root.Options)
            if (option is HelpOption { Action: HelpAction help }) help.MaxWidth = HelpWidth;
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the verb and returns its exit code; never throws.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = Create();
        // "PROGRAM help" as a synonym of "PROGRAM --help".
        if (args is ["help"]) args = ["--help"];
        // Exceptions reach the mapping below; Ctrl+C and SIGTERM are the Generic Host's (its console lifetime).
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        if (args.Length == 0)
        {
            root.Parse(["--help"]).Invoke(invocation);
            return ExitCodes.Usage;
        }
        var parsed = root.Parse(args);
        if (parsed.Action is not HelpAction && (parsed.Errors.Count > 0 || parsed.UnmatchedTokens.Count > 0))
        {
            foreach (string problem in ParseProblems(root, parsed)) Console.Error.WriteLine($"error: {problem}");
            Console.Error.WriteLine($"Run 'onnxsbi-train {(parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ")}--help' for the options.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(invocation);
        }
        catch (UsageException e) { return Report(e.Message, ExitCodes.Usage); }
        catch (OptionsValidationException e)
        {
            foreach (string failure in e.Failures) Console.Error.WriteLine($"error: {failure}");
            return ExitCodes.Usage;
        }
        catch (OnnxSbiException e) { return Report(e.Message, ExitCodes.Input); }
        // The trainer library refuses a request it cannot run (TrainingOptions.Validate) with an ArgumentException.
        catch (ArgumentException e) { return Report(e.Message, ExitCodes.Input); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Report(e.Message, ExitCodes.Failure); }
        catch (Exception e) { return Report($"unexpected failure: {e}", ExitCodes.Failure); }
    }

    private static int Report(string message, int code)
    {
        Console.Error.WriteLine($"error: {message}");
        return code;
    }

    /// <summary>
    /// The problems of a command line, each naming the verb and the option: unknown verbs and options (with the
    /// valid ones), stray arguments, and the errors of the options' own parsers (type, missing value).
    /// </summary>
    private static List<string> ParseProblems(RootCommand root, ParseResult parsed)
    {
        var problems = new List<string>();
        var command = parsed.CommandResult.Command;
        if (command == root)
        {
            problems.Add($"Unknown verb '{parsed.Tokens.FirstOrDefault()?.Value}'. Valid verbs: {string.Join(", ", root.Subcommands.Select(c => c.Name))}.");
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
