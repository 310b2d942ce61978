using System.CommandLine;
using System.CommandLine.Help;
using OnnxSbi.Bench;

ProgramCulture.UseInvariant();

// Ctrl+C and SIGTERM cancel the running verb, which then exits with 130; a training run keeps the checkpoint
// of its last completed epoch and resumes from it when run again.
using var signals = new SignalCancellation();

var root = BenchCli.CreateRootCommand();
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("Run 'onnxsbi-bench --help' or 'onnxsbi-bench VERB --help' for the options.");
    return ExitCodes.Usage;
}
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, signals.Token);
}
catch (Exception e)
{
    int code = ExitCodeFor(e);
    // Usage, input and file-system errors name their problem; anything else is a bug, shown with its stack trace.
    Console.Error.WriteLine(code switch
    {
        ExitCodes.Cancelled => "cancelled",
        ExitCodes.Failure when e is not (IOException or UnauthorizedAccessException) => $"error: {e}",
        _ => $"error: {e.Message}",
    });
    return code;
}

// The exit code for an exception that escaped a verb.
static int ExitCodeFor(Exception e) => e switch
{
    UsageException => ExitCodes.Usage,
    OperationCanceledException => ExitCodes.Cancelled,
    OnnxSbiException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException => ExitCodes.Input,
    _ => ExitCodes.Failure,
};
