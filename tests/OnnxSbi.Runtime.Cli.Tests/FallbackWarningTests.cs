using OnnxSbi.CommandLine;

namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class FallbackWarningTests
{
    [Fact]
    public void FallbackWarning_OnlyWhenCudaWasAskedForAndTheCpuRuns()
    {
        var cuda = new RuntimeOptions { Provider = ExecutionProvider.Cuda };
        Assert.Contains("running on the CPU", ProviderFallback.Warning(cuda, ExecutionProvider.Cpu));
        Assert.Null(ProviderFallback.Warning(cuda, ExecutionProvider.Cuda));
        Assert.Null(ProviderFallback.Warning(new RuntimeOptions(), ExecutionProvider.Cpu));
    }
}
