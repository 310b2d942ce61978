namespace OnnxSbi.Trainer.Host;

/// <summary>A command-line or configuration mistake: printed without a stack trace, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The exit codes of <c>onnxsbi-train</c>, the same in <c>onnxsbi</c> and documented in docs/cli.md.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The verb did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Any failure not covered below: I/O errors, unexpected exceptions.</summary>
    public const int Failure = 1;

    /// <summary>A bad, missing or conflicting option or configuration key, or a command line that does not parse.</summary>
    public const int Usage = 2;

    /// <summary>A bad checkpoint, training data the trainer refuses, an invalid request (<see cref="OnnxSbi.Runtime.OnnxSbiException"/> and its subclasses).</summary>
    public const int Input = 3;

    /// <summary>Stopped by Ctrl+C (SIGINT) or SIGTERM, as a shell reports a process ended by SIGINT (128 + 2).</summary>
    public const int Cancelled = 130;
}
