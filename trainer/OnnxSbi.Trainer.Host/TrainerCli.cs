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
            AdapterCommand.Create(),
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
            foreach (string problem in ParseProblems.Describe(root, parsed)) Console.Error.WriteLine($"error: {problem}");
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
}
