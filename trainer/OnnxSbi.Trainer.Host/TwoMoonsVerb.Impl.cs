using Microsoft.Extensions.Logging;

namespace OnnxSbi.Trainer.Host;

internal static partial class TwoMoonsVerb
{
    public static partial int Run(Settings s, ILogger logger, CancellationToken ct)
        => throw new UsageException("two-moons is not available in this build yet.");
}
