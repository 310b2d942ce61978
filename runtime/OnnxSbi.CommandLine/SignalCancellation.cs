using System.Runtime.InteropServices;

namespace OnnxSbi.CommandLine;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM into cancellation of <see cref="Token"/> instead of ending the process, so the
/// running verb stops at its next check and the program exits with <see cref="ExitCodes.Cancelled"/>. Dispose it when
/// the program ends; that removes the signal handlers and releases the token source.
/// </summary>
public sealed class SignalCancellation : IDisposable
{
    private readonly CancellationTokenSource cts = new();
    private readonly PosixSignalRegistration sigint, sigterm;

    /// <summary>Registers the handlers for SIGINT and SIGTERM.</summary>
    public SignalCancellation()
    {
        sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        try { sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel); }
        catch { sigint.Dispose(); cts.Dispose(); throw; }
    }

    /// <summary>Cancelled when the process receives SIGINT or SIGTERM; valid until this object is disposed.</summary>
    public CancellationToken Token => cts.Token;

    /// <summary>Removes the signal handlers and releases the token source.</summary>
    public void Dispose()
    {
        sigterm.Dispose();
        sigint.Dispose();
        cts.Dispose();
    }

    private void Cancel(PosixSignalContext context)
    {
        context.Cancel = true;
        cts.Cancel();
    }
}
