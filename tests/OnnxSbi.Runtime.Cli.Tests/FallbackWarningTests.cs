namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class FallbackWarningTests
{
    [Fact]
    public void FallbackWarning_OnlyWhenCudaWasAskedForAndTheCpuRuns()
    {
        var cuda = new RuntimeOptions { Provider = ExecutionProvider.Cuda };
        Assert.Contains("running on the CPU", Commands.FallbackWarning(cuda, ExecutionProvider.Cpu));
        Assert.Null(Commands.FallbackWarning(cuda, ExecutionProvider.Cuda));
        Assert.Null(Commands.FallbackWarning(new RuntimeOptions(), ExecutionProvider.Cpu));
    }
}
