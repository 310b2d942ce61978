using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using static OnnxSbi.Runtime.Tests.Sampling.GaussianBundles;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime.Tests.Sampling;

public sealed class PosteriorModelTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-pm-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static ArrayBatch X(params double[] values) => new ArrayBatch(values.Length / 2).Set("x", values, 2);

    [Theory]
    [InlineData(NetworkFamily.FlowMatching, IntegratorKind.Rk4, 50)]
    [InlineData(NetworkFamily.FlowMatching, IntegratorKind.Euler, 200)]
    [InlineData(NetworkFamily.FlowMatching, IntegratorKind.Dopri5, null)]
    [InlineData(NetworkFamily.FlowMatching, IntegratorKind.Tsit5, null)]
    [InlineData(NetworkFamily.ConsistencyModel, null, 10)]
    [InlineData(NetworkFamily.ConsistencyModel, null, 5)]
    [InlineData(NetworkFamily.CouplingFlow, null, null)]
    public void Sample_ExactGaussianGraphs_ReproducesPosteriorMoments(NetworkFamily family, IntegratorKind? method, int? steps)
    {
        using var model = PosteriorModel.Load(Write(dir, family));
        var draws = model.Sample(X(1.0, -2.0, 0.0, 0.5), 20_000, new SamplingOptions { Seed = 3, Method = method, Steps = steps });
        Assert.Equal([2, 20_000, 2], draws.Shape("theta"));
        double[] theta = draws["theta"];
        double[] x = [1.0, -2.0, 0.0, 0.5];
        for (int cond = 0; cond < 2; cond++)
            for (int j = 0; j < 2; j++)
            {
                double mean = 0, sq = 0;
                for (int r = 0; r < 20_000; r++)
                {
                    double v = theta[(cond * 20_000 + r) * 2 + j];
                    mean += v;
                    sq += v * v;
                }
                mean /= 20_000;
                double sd = Math.Sqrt(sq / 20_000 - mean * mean);
                // Standard errors with n = 20,000: mean S/√n ≈ 0.0021, sd S/√(2n) ≈ 0.0015. Five
                // standard errors plus the integrators' discretization error (Euler with 200 steps is the
                // coarsest, O(1e-3) here) bound the deviation; a wrong graph binding, condition row
                // mapping or time direction is off by ≥ 0.1.
                Assert.InRange(mean, A * x[cond * 2 + j] + B - 0.015, A * x[cond * 2 + j] + B + 0.015);
                Assert.InRange(sd, S - 0.012, S + 0.012);
            }
    }

    [Fact]
    public void Sample_SameSeed_GivesIdenticalDraws_DifferentSeedDiffers()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching));
        var a = model.Sample(X(0, 0), 1000, new SamplingOptions { Seed = 9 })["theta"];
        var b = model.Sample(X(0, 0), 1000, new SamplingOptions { Seed = 9 })["theta"];
        var c = model.Sample(X(0, 0), 1000, new SamplingOptions { Seed = 10 })["theta"];
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void LogProb_AffineGaussianFlow_EqualsAnalyticDensity()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow));
        var theta = new ArrayBatch(3).Set("theta", [0.1, 0.2, -0.5, 0.9, 0.25, 0.25], 2);
        double[] lp = model.LogProb(theta, X(0, 0));
        for (int r = 0; r < 3; r++)
        {
            double expected = 0;
            for (int j = 0; j < 2; j++)
            {
                double z = (theta.Get("theta")[r * 2 + j] - B) / S;
                expected += -0.5 * z * z - 0.5 * Math.Log(2 * Math.PI) - Math.Log(S);
            }
            // float32 graph arithmetic on O(1) values: relative error ~1e-6.
            Assert.Equal(expected, lp[r], 4);
        }
    }

    [Fact]
    public void LogProb_NonCouplingModel_IsRefusedWithFamily()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching));
        var e = Assert.Throws<InvalidRequestException>(() => model.LogProb(new ArrayBatch(1).Set("theta", [0, 0], 2), X(0, 0)));
        Assert.Contains("FlowMatching", e.Message);
    }

    [Fact]
    public void Sample_ConsistencyStepsBeyondTraining_Warns()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.ConsistencyModel));
        Assert.Empty(model.Sample(X(0, 0), 10, new SamplingOptions { Steps = 5 }).Warnings);
        var warned = model.Sample(X(0, 0), 10, new SamplingOptions { Steps = 80 });
        Assert.Contains(warned.Warnings, w => w.Contains("80") && w.Contains("51"));
    }

    [Fact]
    public void Sample_UnknownConditionName_NamesItAndTheValidOnes()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching));
        var e = Assert.Throws<UnknownVariableException>(() => model.Sample(new ArrayBatch(1).Set("y", [0, 0], 2), 10));
        Assert.Contains("'y'", e.Message);
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void Sample_MissingCondition_NamesIt()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching));
        var e = Assert.Throws<OnnxSbiException>(() => model.Sample(new ArrayBatch(1), 10));
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void Sample_WrongConditionShape_NamesExpectedAndReceived()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching));
        var e = Assert.Throws<ShapeMismatchException>(() => model.Sample(new ArrayBatch(1).Set("x", [0, 0, 0], 3), 10));
        Assert.Contains("[rows, 2]", e.Message);
        Assert.Contains("[1, 3]", e.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Sample_NonFiniteCondition_NamesVariableAndRow(double bad)
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching));
        var e = Assert.Throws<NonFiniteValueException>(() => model.Sample(X(0, 0, 1, bad), 10));
        Assert.Equal("x", e.VariableName);
        Assert.Equal(1, e.Row);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Sample_NonPositiveDrawCount_IsRefused(int draws)
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow));
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(X(0, 0), draws));
        Assert.Contains(draws.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Sample_AboveCap_IsRefusedNamingTheLimit()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow), new RuntimeOptions { MaxDrawsPerCall = 1000 });
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(X(0, 0, 1, 1), 501));
        Assert.Contains("1000", e.Message);
        Assert.Contains("MaxDrawsPerCall", e.Message);
    }

    [Fact]
    public void Sample_CancelledToken_StopsWithOperationCanceled()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching), new RuntimeOptions { ChunkSize = 64 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => model.Sample(X(0, 0), 10_000, cancellationToken: cts.Token));
    }

    [Fact]
    public void Sample_ChunkedLargeRequest_MatchesMomentsAndShape()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow), new RuntimeOptions { ChunkSize = 100 });
        var draws = model.Sample(X(0, 0), 1_000, new SamplingOptions { Seed = 1 });
        Assert.Equal(2000, draws["theta"].Length);
        Assert.All(draws["theta"], v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Sample_CudaRequestedWithoutGpu_FallsBackToCpuOrUsesCuda()
    {
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow), new RuntimeOptions { Provider = ExecutionProvider.Cuda });
        var draws = model.Sample(X(0, 0), 100);
        Assert.Equal(200, draws["theta"].Length);
        Assert.True(model.Provider is ExecutionProvider.Cpu or ExecutionProvider.Cuda);
    }

    [Theory]
    [InlineData(NetworkFamily.FlowMatching)]
    [InlineData(NetworkFamily.ConsistencyModel)]
    [InlineData(NetworkFamily.CouplingFlow)]
    public void Sample_ParallelBlocks_GiveTheSameDrawsAsSequentialBlocks(NetworkFamily family)
    {
        string path = Write(dir, family);
        double[] Draws(int blocks)
        {
            using var model = PosteriorModel.Load(path, new RuntimeOptions { ChunkSize = 64, IntraOpThreads = 1, ParallelBlocks = blocks });
            Assert.Equal(blocks, model.Plan.ParallelBlocks);
            return model.Sample(X(0.5, -1, 2, 0), 1000, new SamplingOptions { Seed = 4 })["theta"];
        }
        double[] sequential = Draws(1);
        // Each 64-row block has its own noise stream and buffers: the order blocks finish in cannot matter.
        Assert.Equal(sequential, Draws(2));
        Assert.Equal(sequential, Draws(5));
    }

    [Fact]
    public void LogProb_ParallelBlocks_GiveTheSameDensitiesAsSequentialBlocks()
    {
        string path = Write(dir, NetworkFamily.CouplingFlow);
        var rng = new Random(5);
        var theta = new ArrayBatch(1000).Set("theta", Enumerable.Range(0, 2000).Select(_ => rng.NextDouble() * 2 - 1).ToArray(), 2);
        double[] Densities(int blocks)
        {
            using var model = PosteriorModel.Load(path, new RuntimeOptions { ChunkSize = 64, IntraOpThreads = 1, ParallelBlocks = blocks });
            return model.LogProb(theta, X(0.5, -1));
        }
        Assert.Equal(Densities(1), Densities(3));
    }

    [Fact]
    public void Load_Defaults_EveryFamilyRunsSingleThreadedBlocksInParallel()
    {
        int cores = Environment.ProcessorCount;
        using (var coupling = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow)))
        {
            Assert.Equal((1, cores, 512), (coupling.Plan.IntraOpThreads, coupling.Plan.ParallelBlocks, coupling.ChunkSize));
        }
        using (var flow = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching)))
        {
            Assert.Equal((1, cores, 512), (flow.Plan.IntraOpThreads, flow.Plan.ParallelBlocks, flow.ChunkSize));
        }
        // Threads chosen by the caller keep the blocks sequential: both settings would share the same cores.
        using var chosen = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow), new RuntimeOptions { IntraOpThreads = 2 });
        Assert.Equal((2, 1), (chosen.Plan.IntraOpThreads, chosen.Plan.ParallelBlocks));
    }

    [Fact]
    public void Load_CudaDefaults_ApplyOnlyWhereCudaRuns()
    {
        // CudaProviderTests checks the CUDA side on a GPU; here (no GPU in CI) a CUDA request that fell back
        // must get the CPU's blocks, not one 16,384-row block on a single core.
        using var model = PosteriorModel.Load(Write(dir, NetworkFamily.FlowMatching), new RuntimeOptions { Provider = ExecutionProvider.Cuda });
        var expected = model.Provider == ExecutionProvider.Cuda
            ? (CompilationContext.CudaDefaultChunkSize, 1)
            : (CompilationContext.DefaultChunkSize, Environment.ProcessorCount);
        Assert.Equal(expected, (model.ChunkSize, model.Plan.ParallelBlocks));
    }

    [Fact]
    public void Sample_ErrorInAParallelBlock_SurfacesAsItself()
    {
        using var sampler = new FailingSampler();
        var e = Assert.Throws<InvalidRequestException>(() =>
            sampler.Sample([], 1, 1000, new float[2000], new SamplingOptions(), CancellationToken.None));
        Assert.Contains("block 3", e.Message);
    }

    // Ten 100-row blocks, two at a time: the failure is raised on a worker of the parallel loop.
    private sealed class FailingSampler() : OnnxSbi.Runtime.Samplers.NetworkSampler(2, 0, new OnnxSbi.Runtime.Samplers.Blocking(100, 2))
    {
        public override string SamplingRole => "test";

        public override long NetworkRowsEvaluated => 0;

        public override OnnxSbi.Runtime.Compilation.ExecutionStrategy Strategy => OnnxSbi.Runtime.Compilation.ExecutionStrategy.HostLoop;

        protected override void SampleBlock(in OnnxSbi.Runtime.Samplers.BlockRequest block, Span<float> destination, OnnxSbi.Runtime.Noise.NormalGenerator noise, SamplingOptions options, CancellationToken ct)
        {
            if (block.First == 300) throw new InvalidRequestException("block 3 failed");
        }

        public override void Dispose()
        {
        }
    }

    [Fact]
    public void Load_Int8OnCuda_IsRefusedNamingTheCpuProvider()
    {
        var e = Assert.Throws<InvalidRequestException>(() => PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow),
            new RuntimeOptions { Provider = ExecutionProvider.Cuda, Precision = NetworkPrecision.Int8 }));
        Assert.Contains("CPU provider", e.Message);
    }

    [Fact]
    public void Load_NegativeParallelBlocks_IsRefused()
    {
        var e = Assert.Throws<InvalidRequestException>(() => PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow), new RuntimeOptions { ParallelBlocks = -1 }));
        Assert.Contains("ParallelBlocks", e.Message);
    }

    [Fact]
    public void Dispose_ThenSample_ThrowsObjectDisposed()
    {
        var model = PosteriorModel.Load(Write(dir, NetworkFamily.CouplingFlow));
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Sample(X(0, 0), 10));
    }
}
