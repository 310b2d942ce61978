using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace OnnxSbi.Runtime.Cli;

/// <summary>Where a verb writes: standard output for results, standard error for progress, warnings and errors.</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Error)
{
    /// <summary>The process's standard output and error.</summary>
    public static CliConsole System { get; } = new(Console.Out, Console.Error);
}

/// <summary>
/// The <c>onnxsbi</c> command line: one <see cref="Command"/> per verb on System.CommandLine, parse errors
/// reported with the option's name and the value given, exceptions mapped to <see cref="ExitCodes"/>.
/// </summary>
internal static class OnnxsbiCli
{
    /// <summary>The width the help is laid out for, fixed so that docs/cli.md matches it on any terminal.</summary>
    public const int HelpWidth = 120;

    /// <summary>The root command with every verb; each verb's action runs with <paramref name="console"/> and <paramref name="ct"/>.</summary>
    public static RootCommand Create(CliConsole console, CancellationToken ct)
    {
        var root = new RootCommand("onnxsbi: posterior sampling from OnnxSbi bundles (ONNX Runtime, no Python, no TorchSharp).")
        {
            SampleCommand.Create(console, ct),
            LogProbCommand.Create(console),
            InspectCommand.Create(console),
            DiagnoseCommand.Create(console, ct),
        };
        foreach (var option in root.Options)
            if (option is HelpOption { Action: HelpAction help }) help.MaxWidth = HelpWidth;
        return root;
    }

    /// <summary>Parses <paramref name="args"/>, runs the verb and returns its exit code; never throws.</summary>
    public static int Run(string[] args, CliConsole console, CancellationToken ct)
    {
        var root = Create(console, ct);
        // "PROGRAM help" as a synonym of "PROGRAM --help".
        if (args is ["help"]) args = ["--help"];
        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            // Exceptions reach the mapping below; signals are the caller's (Program.cs cancels ct on SIGINT and SIGTERM).
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        var parsed = root.Parse(args);
        if (args.Length == 0)
        {
            root.Parse(["--help"]).Invoke(invocation);
            return ExitCodes.Usage;
        }
        if (parsed.Action is not HelpAction && (parsed.Errors.Count > 0 || parsed.UnmatchedTokens.Count > 0))
        {
            var problems = ParseProblems.Describe(root, parsed);
            foreach (string problem in problems) console.Error.WriteLine($"error: {problem}");
            console.Error.WriteLine($"Run 'onnxsbi {(parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ")}--help' for the options.");
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(invocation);
        }
        catch (UsageException e) { return Report(console, e.Message, ExitCodes.Usage); }
        catch (InputException e) { return Report(console, e.Message, ExitCodes.Input); }
        catch (OnnxSbiException e) { return Report(console, e.Message, ExitCodes.Input); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { return Report(console, "cancelled", ExitCodes.Cancelled, prefix: false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Report(console, e.Message, ExitCodes.Failure); }
        catch (Exception e) { return Report(console, $"unexpected failure: {e}", ExitCodes.Failure); }
    }

    private static int Report(CliConsole console, string message, int code, bool prefix = true)
    {
        console.Error.WriteLine(prefix ? $"error: {message}" : message);
        return code;
    }
}
