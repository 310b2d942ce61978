using OnnxSbi.Runtime;

namespace OnnxSbi.CommandLine;

/// <summary>Tells the user when a bundle runs on another execution provider than the one asked for.</summary>
public static class ProviderFallback
{
    /// <summary>The warning for <paramref name="actual"/> when <paramref name="requested"/> asked for another provider, or null.</summary>
    /// <param name="requested">The options the bundle was loaded with.</param>
    /// <param name="actual">The provider the loaded model runs on (<see cref="PosteriorModel.Provider"/>).</param>
    public static string? Warning(RuntimeOptions requested, ExecutionProvider actual) =>
        requested.Provider == ExecutionProvider.Cuda && actual != ExecutionProvider.Cuda
            ? "the CUDA execution provider is not available here (no GPU, driver or CUDA libraries); running on the CPU."
            : null;
}
