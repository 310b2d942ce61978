using System.Text.Json.Nodes;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Execution;

namespace OnnxSbi.Bench.Tests;

/// <summary><c>onnxsbi-bench runtime</c>: the runtime's timings, run as a child process.</summary>
public sealed class RuntimeCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-bench-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (int Code, string Output, string Json) Bench(string provider, params string[] extra)
    {
        string output = Path.Combine(dir, provider + ".json");
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(5),
            ["runtime", "--model", Repository.ShippedBundle("affine_coupling_flow"), "--provider", provider, "--repeats", "1",
             "--large-conditions", "2", "--no-memory", "--out", output, .. extra]);
        return (code, stdout + stderr, File.Exists(output) ? File.ReadAllText(output) : "");
    }

    [Fact]
    public void Runtime_OnTheCpu_ReportsItsProviderAndTimes()
    {
        var (code, output, json) = Bench("cpu");
        Assert.True(code == 0, output);
        var r = JsonNode.Parse(json)!["models"]![0]!.AsObject();
        Assert.Equal("cpu", (string)r["provider"]!);
        Assert.True((double)r["latency_1x3000_ms"]! > 0);
        Assert.True((double)r["ceiling_gflops"]! > 0);
    }

    [Fact]
    public void Runtime_CpuSweep_TimesEveryThreadAndSpinningChoicePerChunk()
    {
        var (code, output, json) = Bench("cpu", "--sweep", "--sweep-chunks", "256,512");
        Assert.True(code == 0, output);
        var sweep = JsonNode.Parse(json)!["sweep"]!.AsArray();
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
        var flow = RuntimeCommand.CudaSweepConfigs(cuda, [512, 4096], NetworkFamily.FlowMatching).ToList();
        Assert.Equal(8, flow.Count);
        Assert.Equal(8, flow.Select(c => (c.Options.ChunkSize, c.Options.SolverLoop, c.Options.ParallelBlocks)).Distinct().Count());
        Assert.All(flow, c => Assert.Equal((ExecutionProvider.Cuda, false, 1), (c.Options.Provider, c.Options.FallbackToCpu, c.Options.IntraOpThreads)));
        var coupling = RuntimeCommand.CudaSweepConfigs(cuda, [512, 4096], NetworkFamily.CouplingFlow).ToList();
        Assert.Equal(4, coupling.Count);
        Assert.All(coupling, c => Assert.Equal(SolverLoopMode.Host, c.Options.SolverLoop));
    }

    [Fact]
    public void Runtime_Cuda_RunsOnCudaOrFailsNamingTheProvider_NeverOnTheCpu()
    {
        var (code, output, json) = Bench("cuda");
        if (Sessions.CudaUnavailableReason is null)
        {
            Assert.True(code == 0, output);
            Assert.Equal("cuda", (string)JsonNode.Parse(json)!["models"]![0]!["provider"]!);
            return;
        }
        // Without a GPU a CUDA benchmark must not quietly measure the CPU: an input error (exit 3), no results file.
        Assert.True(code == 3, output);
        Assert.Contains("CUDA execution provider is not available", output);
        Assert.Equal("", json);
    }

    [Theory]
    [InlineData(new[] { "--repeats", "0" }, "--repeats must be an integer in [1, 1000]; got 0")]
    [InlineData(new[] { "--sweep-chunks", "256,x" }, "--sweep-chunks must list positive integers")]
    [InlineData(new[] { "--provider", "tpu" }, "'tpu'")]
    public void Runtime_BadOption_ExitsWith2NamingIt(string[] extra, string expected)
    {
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), ["runtime", "--model", Repository.ShippedBundle("affine_coupling_flow"), .. extra]);
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void Runtime_NotABundle_ExitsWith3NamingTheFile()
    {
        string bad = Path.Combine(dir, "bad.onnxsbi");
        File.WriteAllText(bad, "not a zip");
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "runtime", "--model", bad, "--repeats", "1", "--no-memory");
        Assert.True(code == 3, stdout + stderr);
        Assert.Contains("bad.onnxsbi", stderr);
    }
}
