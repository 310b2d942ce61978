using Microsoft.Extensions.Logging;

namespace OnnxSbi.Trainer.Host;

/// <summary><c>two-moons</c>: the tutorial end to end.</summary>
internal static partial class TwoMoonsVerb
{
    public static partial int Run(Settings s, ILogger logger, CancellationToken ct);
}
