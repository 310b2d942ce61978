using OnnxSbi.Runtime;

namespace OnnxSbi.Simulations.External;

/// <summary>
/// An external simulator that failed a request: it crashed or timed out more often than the retries allow, or it
/// answered with something that is not a usable batch. The message names the command, the request, and what went
/// wrong (the variable, the expected and the received shape, or the first bytes received); after crashes it quotes
/// the child's last lines of standard error.
/// </summary>
public sealed class ExternalSimulatorException : OnnxSbiException
{
    /// <summary>Creates the exception for <paramref name="command"/>.</summary>
    public ExternalSimulatorException(string command, string message, IReadOnlyList<string> standardErrorTail, Exception? inner = null)
        : base(message, inner)
    {
        Command = command;
        StandardErrorTail = standardErrorTail;
    }

    /// <summary>The simulator's command line.</summary>
    public string Command { get; }

    /// <summary>The last lines the failing child wrote to standard error (empty when it wrote none).</summary>
    public IReadOnlyList<string> StandardErrorTail { get; }
}
