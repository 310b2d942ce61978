using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;

namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class BenchCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-bench-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string ShippedBundle(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "OnnxSbi.sln"))) return Path.Combine(d.FullName, "models", "two_moons", name + ".onnxsbi");
        throw new DirectoryNotFoundException($"No OnnxSbi.sln above {AppContext.BaseDirectory}.");
    }

    private static bool CudaAvailable()
    {
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return true;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private JsonObject Bench(string provider)
    {
        string output = Path.Combine(dir, provider + ".json");
        int code = Commands.Run("bench", ["--model", ShippedBundle("affine_coupling_flow"), "--provider", provider, "--repeats", "1",
            "--large-conditions", "2", "--no-memory", "--out", output], CancellationToken.None);
        Assert.Equal(0, code);
        return JsonNode.Parse(File.ReadAllText(output))!["models"]![0]!.AsObject();
    }

    [Fact]
    public void FallbackWarning_OnlyWhenCudaWasAskedForAndTheCpuRuns()
    {
        var cuda = new RuntimeOptions { Provider = ExecutionProvider.Cuda };
        Assert.Contains("running on the CPU", Commands.FallbackWarning(cuda, ExecutionProvider.Cpu));
        Assert.Null(Commands.FallbackWarning(cuda, ExecutionProvider.Cuda));
        Assert.Null(Commands.FallbackWarning(new RuntimeOptions(), ExecutionProvider.Cpu));
    }

    [Fact]
    public void Bench_OnTheCpu_ReportsItsProviderAndTimes()
    {
        var r = Bench("cpu");
        Assert.Equal("cpu", (string)r["provider"]!);
        Assert.True((double)r["latency_1x3000_ms"]! > 0);
        Assert.True((double)r["ceiling_gflops"]! > 0);
    }

    [Fact]
    public void Bench_Cuda_RunsOnCudaOrFailsNamingTheProvider_NeverOnTheCpu()
    {
        if (CudaAvailable())
        {
            Assert.Equal("cuda", (string)Bench("cuda")["provider"]!);
            return;
        }
        // Without a GPU a CUDA benchmark must not quietly measure the CPU.
        var e = Assert.ThrowsAny<OnnxSbiException>(() => Bench("cuda"));
        Assert.Contains("CUDA execution provider is not available", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "cuda.json")));
    }
}
