namespace OnnxSbi.CommandLine;

/// <summary>
/// The exit codes of <c>onnxsbi</c>, <c>onnxsbi-train</c> and <c>onnxsbi-bench</c>, documented in docs/cli.md.
/// </summary>
public static class ExitCodes
{
    /// <summary>The verb did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Any failure not covered below: I/O errors, unexpected exceptions.</summary>
    public const int Failure = 1;

    /// <summary>A bad, missing or conflicting option or configuration key, or a command line that does not parse.</summary>
    public const int Usage = 2;

    /// <summary>
    /// A bad bundle, checkpoint or data file, or a request the runtime or trainer refuses
    /// (<see cref="OnnxSbi.Runtime.OnnxSbiException"/> and its subclasses).
    /// </summary>
    public const int Input = 3;

    /// <summary>Stopped by Ctrl+C (SIGINT) or SIGTERM, as a shell reports a process ended by SIGINT (128 + 2).</summary>
    public const int Cancelled = 130;
}

/// <summary>A command-line or configuration mistake found after parsing: printed without a stack trace, exit code <see cref="ExitCodes.Usage"/>.</summary>
/// <param name="message">What is wrong, naming the option and the value received.</param>
public sealed class UsageException(string message) : Exception(message);
