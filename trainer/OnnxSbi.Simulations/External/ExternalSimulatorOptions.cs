using Microsoft.Extensions.Logging;

namespace OnnxSbi.Simulations.External;

/// <summary>
/// How to run an external simulator process that speaks the simulator protocol (docs/simulator-protocol.md): the
/// command, how many copies run in parallel, how long a batch may take, how often a failed child is restarted, and
/// what its responses must hold.
/// </summary>
public sealed record ExternalSimulatorOptions
{
    /// <summary>
    /// The command line that starts one simulator, e.g. <c>python3 sim.py --flag</c>. It is run through
    /// <c>/bin/sh -c</c> on Linux and macOS and <c>cmd.exe /d /s /c</c> on Windows, so quoting, variables and
    /// redirections follow that shell.
    /// </summary>
    public required string Command { get; init; }

    /// <summary>The children's working directory; null for the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Children run in parallel, each answering one request at a time.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>
    /// How many times one request is retried on a fresh child after its child crashed, closed its standard output or
    /// ran past <see cref="BatchTimeout"/>. Once they are spent the request fails with an error that names the command
    /// and quotes the child's last lines of standard error. A response the trainer cannot use (wrong shapes, a missing
    /// variable, garbage) is not retried: with the same seed it would come back the same.
    /// </summary>
    public int Retries { get; init; } = 2;

    /// <summary>
    /// The longest one request may take, from writing it to reading the last byte of the response; a fresh child's
    /// start-up counts towards its first request. A child that runs past it is killed and the request retried.
    /// </summary>
    public TimeSpan BatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The variables every response must hold, or null to take whatever the first response holds. Either way the first
    /// response fixes the set of variables and each one's per-sample shape; a later response that differs is an error.
    /// </summary>
    public IReadOnlyList<string>? ExpectedVariables { get; init; }

    /// <summary>
    /// True (the default) to refuse a response holding NaN or ±∞, naming the variable and row. Set it to false when the
    /// consumer handles such rows itself, as the trainer does when it skips and counts them (<c>--skip-bad-rows</c>).
    /// </summary>
    public bool RejectNonFinite { get; init; } = true;

    /// <summary>The largest response accepted, in bytes (the length prefix); at most <see cref="Array.MaxLength"/>, just under 2 GiB.</summary>
    public long MaxResponseBytes { get; init; } = Array.MaxLength;

    /// <summary>How long a child may take to exit after its standard input is closed before its process tree is killed.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Receives each line the children write to standard error (Information) and every restart (Warning); null to discard them.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible value.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Command)) throw new ArgumentException("The simulator command is empty.");
        if (Workers <= 0) throw new ArgumentException($"Workers must be positive; got {Workers}.");
        if (Retries < 0) throw new ArgumentException($"Retries must not be negative; got {Retries}.");
        if (BatchTimeout <= TimeSpan.Zero) throw new ArgumentException($"BatchTimeout must be positive; got {BatchTimeout}.");
        if (ShutdownGrace < TimeSpan.Zero) throw new ArgumentException($"ShutdownGrace must not be negative; got {ShutdownGrace}.");
        if (MaxResponseBytes <= 0 || MaxResponseBytes > Array.MaxLength)
            throw new ArgumentException($"MaxResponseBytes must be in [1, {Array.MaxLength}]; got {MaxResponseBytes}.");
        if (ExpectedVariables is { Count: 0 }) throw new ArgumentException("ExpectedVariables is empty; pass null to accept the variables of the first response.");
        if (WorkingDirectory is not null && !Directory.Exists(WorkingDirectory))
            throw new ArgumentException($"The simulator's working directory '{WorkingDirectory}' does not exist.");
    }
}
