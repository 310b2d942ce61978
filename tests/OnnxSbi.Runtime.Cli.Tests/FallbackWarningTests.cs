namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class FallbackWarningTests
{
    [Fact]
    public void FallbackWarning_OnlyWhenCudaWasAskedForAndTheCpuRuns()
    {
        var cuda = new RuntimeOptions { Provider = ExecutionProvider.Cuda };
        Assert.Contains("running on the CPU", BundleLoader.FallbackWarning(cuda, ExecutionProvider.Cpu));
        Assert.Null(BundleLoader.FallbackWarning(cuda, ExecutionProvider.Cuda));
        Assert.Null(BundleLoader.FallbackWarning(new RuntimeOptions(), ExecutionProvider.Cpu));
    }
}
