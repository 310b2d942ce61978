using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Tests.Compilation;

/// <summary>
/// <see cref="SolverLoopMode.Graph"/>: every step of a block in one ONNX Loop (the path the CUDA provider
/// takes by default) against the host-stepped solver on the shipped bundles, on the CPU provider.
/// </summary>
public sealed class SolverLoopTests
{
    private static readonly ArrayBatch TwoObservations = new ArrayBatch(2).Set("x", [0.0, 0.0, 0.3, -0.2], 2);

    public static TheoryData<string, NetworkPrecision, IntegratorKind?, int?> Cases() => new()
    {
        { "flow_matching", NetworkPrecision.Float32, null, null },      // the bundle's rk4, 25 steps
        { "flow_matching", NetworkPrecision.Float32, IntegratorKind.Euler, 40 },
        { "flow_matching", NetworkPrecision.Int8, null, null },
        { "consistency_model", NetworkPrecision.Float32, null, null }, // the bundle's 3 steps
        { "consistency_model", NetworkPrecision.Float32, null, 10 },
        { "consistency_model", NetworkPrecision.Int8, null, 10 },
    };

    /// <summary>
    /// Same seed, same noise, same network: the loop graph and the host loop must give the same draws, and do the
    /// same network work. Where they differ: the host integrator sums each Runge–Kutta stage in double and rounds
    /// once, the graph in float32 (a rounding per term), so flow matching agrees to float32 rounding carried
    /// through 25–40 steps — measured on these 2,000 values: 99th percentile 6e−8, maximum 8.9e−6 (rk4) and
    /// 2.7e−6 (euler). In int8 the per-call activation quantization turns such ulps into a flipped rounding now
    /// and then, a velocity change of one quantization step that a trajectory can amplify: the 99th percentile is
    /// stable (1.1e−3 to 1.7e−3 over block sizes 256, 512 and 1,024), the maximum is not — a single draw's, 4e−3,
    /// 8.3e−2 and 1.8e−2 for those block sizes. The consistency loop does the host's arithmetic op for op and was
    /// bit-identical. Bounds: float32 99th percentile 1e−6 and maximum 1e−4; int8 1e−2 and 0.25 (three times the
    /// largest maximum measured); a wrong Butcher weight, time or noise scale moves most draws by more than 1e−2.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ShippedBundle_LoopGraph_MatchesHostLoop(string name, NetworkPrecision precision, IntegratorKind? method, int? steps)
    {
        string path = ShippedModelsTests.BundlePath(name);
        using var host = PosteriorModel.Load(path, new RuntimeOptions { Precision = precision, SolverLoop = SolverLoopMode.Host });
        using var loop = PosteriorModel.Load(path, new RuntimeOptions { Precision = precision, SolverLoop = SolverLoopMode.Graph });
        Assert.NotEqual(ExecutionStrategy.SolverLoopGraph, host.Plan.Strategy);
        Assert.Equal(ExecutionStrategy.SolverLoopGraph, loop.Plan.Strategy);
        var options = new SamplingOptions { Seed = 3, Method = method, Steps = steps };
        double[] a = host.Sample(TwoObservations, 500, options)["theta"];
        double[] b = loop.Sample(TwoObservations, 500, options)["theta"];
        Assert.Equal(host.NetworkRowsEvaluated, loop.NetworkRowsEvaluated);
        var diffs = a.Zip(b, (u, v) => Math.Abs(u - v)).Order().ToArray();
        double p99 = diffs[(int)(0.99 * diffs.Length)], max = diffs[^1];
        var (p99Bound, maxBound) = precision == NetworkPrecision.Float32 ? (1e-6, 1e-4) : (1e-2, 0.25);
        Assert.True(p99 <= p99Bound && max <= maxBound,
            $"{name} ({precision}, {method?.ToString() ?? "default"} {steps}): |loop − host| 99th percentile {p99:G3} (bound {p99Bound:G0}), max {max:G3} (bound {maxBound:G0})");
    }

    [Fact]
    public void Auto_StepsFromTheHostOnTheCpu_AndCouplingFlowsHaveNoLoop()
    {
        using var fm = PosteriorModel.Load(ShippedModelsTests.BundlePath("flow_matching"));
        Assert.Equal(ExecutionProvider.Cpu, fm.Provider);
        Assert.NotEqual(ExecutionStrategy.SolverLoopGraph, fm.Plan.Strategy);
        using var flow = PosteriorModel.Load(ShippedModelsTests.BundlePath("affine_coupling_flow"), new RuntimeOptions { SolverLoop = SolverLoopMode.Graph });
        Assert.NotEqual(ExecutionStrategy.SolverLoopGraph, flow.Plan.Strategy);
        Assert.Equal(2 * 10 * 2, flow.Sample(TwoObservations, 10)["theta"].Length);
    }

    [Fact]
    public void Graph_WithAnAdaptiveMethod_IsRefusedNamingTheMethod()
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("flow_matching"), new RuntimeOptions { SolverLoop = SolverLoopMode.Graph });
        var e = Assert.Throws<InvalidRequestException>(() => model.Sample(TwoObservations, 10, new SamplingOptions { Method = IntegratorKind.Tsit5 }));
        Assert.Contains("'tsit5' is adaptive", e.Message);
        Assert.Contains("fixed-step", e.Message);
        // Auto (and Host) step an adaptive method from the host on any provider.
        using var auto = PosteriorModel.Load(ShippedModelsTests.BundlePath("flow_matching"));
        Assert.Equal(2 * 10 * 2, auto.Sample(TwoObservations, 10, new SamplingOptions { Method = IntegratorKind.Dopri5 })["theta"].Length);
    }

    /// <summary>
    /// A shared model is thread-safe: four threads asking at once for a method whose loop graph is not built yet
    /// (euler; the bundle's default is rk4) each get the draws a lone caller gets, and the work is counted once per row.
    /// </summary>
    [Fact]
    public void ConcurrentCallers_OfALazilyBuiltLoop_GetTheSameDraws()
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("flow_matching"), new RuntimeOptions { SolverLoop = SolverLoopMode.Graph, ChunkSize = 128 });
        var options = new SamplingOptions { Seed = 11, Method = IntegratorKind.Euler, Steps = 8 };
        var results = new double[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = model.Sample(TwoObservations, 300, options)["theta"]);
        double[] alone = model.Sample(TwoObservations, 300, options)["theta"];
        foreach (var r in results) Assert.Equal(alone, r);
        // 5 calls × 600 rows × 8 euler steps × 1 stage.
        Assert.Equal(5L * 600 * 8, model.NetworkRowsEvaluated);
    }

    [Fact]
    public void Validate_RejectsAnUndefinedMode()
    {
        var e = Assert.Throws<InvalidRequestException>(() => new RuntimeOptions { SolverLoop = (SolverLoopMode)7 }.Validate());
        Assert.Contains("SolverLoop 7", e.Message);
    }

    /// <summary>
    /// One block of 20,000 rows × 25 RK4 steps (about 8 s of work on this machine): cancellation must stop the
    /// loop inside the session run, since there are no steps or blocks in between for the runtime to check.
    /// The model then samples normally.
    /// </summary>
    [Fact]
    public void Cancellation_StopsTheLoopInsideTheRun()
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("flow_matching"), new RuntimeOptions { SolverLoop = SolverLoopMode.Graph, ChunkSize = 20_000 });
        var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Assert.ThrowsAny<OperationCanceledException>(() => model.Sample(x, 20_000, cancellationToken: cts.Token));
        Assert.Equal(0, model.NetworkRowsEvaluated);
        Assert.Equal(2 * 3 * 2, model.Sample(TwoObservations, 3)["theta"].Length);
    }

    [Fact]
    public void FixedStepGraph_InlinesTheNetworkOncePerStage_ReadsNoHostValuePerStep_AndRefusesAdaptiveTableaus()
    {
        byte[] velocity = BundleReader.Read(ShippedModelsTests.BundlePath("flow_matching")).Graphs[GraphRoles.Velocity];
        int gemms = ModelProto.Parser.ParseFrom(velocity).Graph.Node.Count(n => n.OpType == "Gemm");
        var loop = ModelProto.Parser.ParseFrom(SolverLoopGraph.FixedStep(velocity, ButcherTableau.Rk4, 2));
        var body = Assert.Single(loop.Graph.Node, n => n.OpType == "Loop").Attribute.Single(a => a.Name == "body").G;
        Assert.True(gemms > 0);
        Assert.Equal(4 * gemms, body.Node.Count(n => n.OpType == "Gemm"));
        // The weights are stored once, in the outer graph, and shared by the four stages.
        Assert.Empty(body.Initializer);
        Assert.Equal(ModelProto.Parser.ParseFrom(velocity).Graph.Initializer.Count, loop.Graph.Initializer.Count);
        // Nothing in the body reads a host-side value each step (what would make a device provider copy or wait per
        // step): not the iteration number (the step index is loop-carried), the condition passes straight through,
        // and no node needs a shape tensor.
        Assert.DoesNotContain(body.Node, n => n.Input.Contains(body.Input[0].Name));
        Assert.Equal(body.Input[1].Name, body.Output[0].Name);
        Assert.DoesNotContain(body.Node, n => n.OpType is "Shape" or "Expand" or "Reshape" or "ConstantOfShape");
        var e = Assert.Throws<ArgumentException>(() => SolverLoopGraph.FixedStep(velocity, ButcherTableau.Tsit5, 2));
        Assert.Contains("adaptive", e.Message);
    }
}
