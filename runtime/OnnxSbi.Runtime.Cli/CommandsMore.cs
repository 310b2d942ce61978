namespace OnnxSbi.Runtime.Cli;

internal static partial class Commands
{
    private static partial int RunMore(string verb, string[] args, CancellationToken ct)
        => throw new UsageException($"Unknown verb '{verb}'. Valid verbs: sample, log-prob, inspect.");
}
