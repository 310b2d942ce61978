using System.Text.Json.Nodes;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Execution;

namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class BenchCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-bench-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private JsonObject Bench(string provider)
    {
        string output = Path.Combine(dir, provider + ".json");
        int code = Commands.Run("bench", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--provider", provider, "--repeats", "1",
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
    public void Bench_CpuSweep_TimesEveryThreadAndSpinningChoicePerChunk()
    {
        string output = Path.Combine(dir, "sweep.json");
        Assert.Equal(0, Commands.Run("bench", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--repeats", "1", "--large-conditions", "2",
            "--no-memory", "--sweep", "--sweep-chunks", "256,512", "--out", output], CancellationToken.None));
        var sweep = JsonNode.Parse(File.ReadAllText(output))!["sweep"]!.AsArray();
        // 2 chunk sizes × threads 1, 2 × spinning on, off, each labelled and timed; no throughput run on the CPU.
        Assert.Equal(8, sweep.Count);
        var labels = sweep.Select(r => ((int)r!["chunk_size"]!, (int)r["intra_op_threads"]!, (bool)r["allow_spinning"]!)).ToHashSet();
        Assert.Equal(8, labels.Count);
        Assert.All(sweep, r =>
        {
            Assert.True((double)r!["latency_1x3000_ms"]! > 0);
            Assert.Null(r["throughput_draws_per_second"]);
        });
    }

    [Fact]
    public void CudaSweep_LoopGraphAndHostForSolvers_HostOnlyForCouplingFlows()
    {
        // The configurations the CUDA sweep loads (it cannot run without a GPU): every option the caller gave is
        // kept, and a coupling flow, which has no solver loop, is not timed twice.
        var cuda = new RuntimeOptions { Provider = ExecutionProvider.Cuda, Precision = NetworkPrecision.Float32, FallbackToCpu = false };
        var flow = Commands.CudaSweepConfigs(cuda, [512, 4096], NetworkFamily.FlowMatching).ToList();
        Assert.Equal(8, flow.Count);
        Assert.Equal(8, flow.Select(c => (c.Options.ChunkSize, c.Options.SolverLoop, c.Options.ParallelBlocks)).Distinct().Count());
        Assert.All(flow, c => Assert.Equal((ExecutionProvider.Cuda, false, 1), (c.Options.Provider, c.Options.FallbackToCpu, c.Options.IntraOpThreads)));
        var coupling = Commands.CudaSweepConfigs(cuda, [512, 4096], NetworkFamily.CouplingFlow).ToList();
        Assert.Equal(4, coupling.Count);
        Assert.All(coupling, c => Assert.Equal(SolverLoopMode.Host, c.Options.SolverLoop));
    }

    [Fact]
    public void Bench_Cuda_RunsOnCudaOrFailsNamingTheProvider_NeverOnTheCpu()
    {
        if (Sessions.CudaUnavailableReason is null)
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
