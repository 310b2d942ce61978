using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using static OnnxSbi.Runtime.Tests.Sampling.GaussianBundles;

namespace OnnxSbi.Runtime.Tests.Sampling;

/// <summary>
/// A fact that runs only where ONNX Runtime can open a CUDA session (a GPU, its driver and the CUDA
/// libraries the GPU package needs); elsewhere, CI included, it is reported as skipped with the reason.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (Sessions.CudaUnavailableReason is string why) Skip = $"CUDA execution provider unavailable here: {why}";
    }
}

/// <summary>The CUDA path: the same samplers with the CUDA provider, checked against the CPU provider.</summary>
public sealed class CudaProviderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-cuda-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly RuntimeOptions Cuda = new() { Provider = ExecutionProvider.Cuda, FallbackToCpu = false };

    private static ArrayBatch X(params double[] values) => new ArrayBatch(values.Length / 2).Set("x", values, 2);

    [CudaFact]
    public void Sample_EveryFamilyOnCuda_MatchesCpuDrawForDraw()
    {
        foreach (var family in new[] { NetworkFamily.FlowMatching, NetworkFamily.ConsistencyModel, NetworkFamily.CouplingFlow })
        {
            string path = Write(dir, family, name: family.ToString());
            using var gpu = PosteriorModel.Load(path, Cuda);
            // A seed's draws depend on the block size (each block draws its own noise), and CUDA's default
            // blocks are larger than the CPU's: the CPU runs CUDA's blocks here.
            using var cpu = PosteriorModel.Load(path, new RuntimeOptions { ChunkSize = gpu.ChunkSize });
            Assert.Equal(ExecutionProvider.Cuda, gpu.Provider);
            var options = new SamplingOptions { Seed = 5 };
            double[] a = gpu.Sample(X(1.0, -2.0, 0.0, 0.5), 4_000, options)["theta"];
            double[] b = cpu.Sample(X(1.0, -2.0, 0.0, 0.5), 4_000, options)["theta"];
            // The noise comes from the same host generator, so only float arithmetic differs between
            // the providers: the exact Gaussian graphs are a few elementwise ops per step (no GEMMs, so
            // no TF32), and 50 RK4 steps of float rounding stay far below 1e-3 on draws of size ~1.
            double worst = a.Zip(b, (u, v) => Math.Abs(u - v)).Max();
            Assert.True(worst <= 1e-3, $"{family}: CUDA and CPU draws differ by up to {worst}");
        }
    }

    [CudaFact]
    public void Auto_OnCuda_RunsEachBlockAsOneLoopGraph_MatchingTheHostLoop()
    {
        foreach (var family in new[] { NetworkFamily.FlowMatching, NetworkFamily.ConsistencyModel })
        {
            string path = Write(dir, family, name: "loop_" + family);
            using var loop = PosteriorModel.Load(path, Cuda);
            using var host = PosteriorModel.Load(path, Cuda with { SolverLoop = SolverLoopMode.Host });
            Assert.True(loop.Plan.Strategy == ExecutionStrategy.SolverLoopGraph, $"{family}: Auto on CUDA should keep the solver state on the device");
            Assert.NotEqual(ExecutionStrategy.SolverLoopGraph, host.Plan.Strategy);
            var options = new SamplingOptions { Seed = 9 };
            double[] a = loop.Sample(X(1.0, -2.0, 0.0, 0.5), 4_000, options)["theta"];
            double[] b = host.Sample(X(1.0, -2.0, 0.0, 0.5), 4_000, options)["theta"];
            Assert.Equal(host.NetworkRowsEvaluated, loop.NetworkRowsEvaluated);
            // Same device arithmetic but for the stage sums (float32 in the graph, double on the host): far below 1e-3.
            double worst = a.Zip(b, (u, v) => Math.Abs(u - v)).Max();
            Assert.True(worst <= 1e-3, $"{family}: loop and host-stepped draws on CUDA differ by up to {worst}");
        }
    }

    [CudaFact]
    public void Load_OnCuda_DefaultsToOneLargeBlock_AndHonoursTheCallersChoice()
    {
        string path = Write(dir, NetworkFamily.ConsistencyModel, name: "blocks");
        using (var model = PosteriorModel.Load(path, Cuda))
            Assert.Equal((CompilationContext.CudaDefaultChunkSize, 1), (model.ChunkSize, model.Plan.ParallelBlocks));
        using var chosen = PosteriorModel.Load(path, Cuda with { ChunkSize = 1_000, ParallelBlocks = 2 });
        Assert.Equal((1_000, 2), (chosen.ChunkSize, chosen.Plan.ParallelBlocks));
        // Two 1,000-row blocks at a time on the device give the draws of one at a time: same noise per block,
        // same kernels on the same shapes (1e-6 leaves room for a cuBLAS algorithm choice, not for a mix-up).
        var options = new SamplingOptions { Seed = 3 };
        using var sequential = PosteriorModel.Load(path, Cuda with { ChunkSize = 1_000, ParallelBlocks = 1 });
        double[] a = chosen.Sample(X(0.5, 0.5), 5_000, options)["theta"];
        double[] b = sequential.Sample(X(0.5, 0.5), 5_000, options)["theta"];
        Assert.True(a.Zip(b, (u, v) => Math.Abs(u - v)).Max() <= 1e-6);
    }

    [CudaFact]
    public void ShippedBundles_SampledOnCuda_MeetTheirC2stTargets()
    {
        foreach (var (name, target) in ShippedModelsTests.C2stTargets)
        {
            using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath(name), Cuda);
            Assert.Equal(ExecutionProvider.Cuda, model.Provider);
            // The CPU test's check and tolerance: TF32 GEMMs on the GPU change draws by ~1e-3, far below what
            // moves a 5,000-draw C2ST.
            double c2st = ShippedModelsTests.C2stAtOrigin(model);
            Assert.True(c2st <= target, $"{name} on CUDA: C2ST {c2st:F3} > target {target}");
        }
    }
}
