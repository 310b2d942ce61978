namespace OnnxSbi.Runtime.Cli;

/// <summary>Loads a bundle for a verb, telling the user when a CUDA request fell back to the CPU.</summary>
internal static class BundleLoader
{
    /// <summary>Loads <paramref name="path"/> with <paramref name="options"/>; a fallback warning goes to <paramref name="console"/>'s error stream.</summary>
    public static PosteriorModel Load(string path, RuntimeOptions options, CliConsole console)
    {
        var model = PosteriorModel.Load(path, options);
        if (ProviderFallback.Warning(options, model.Provider) is string warning) console.Error.WriteLine($"warning: {warning}");
        return model;
    }
}
