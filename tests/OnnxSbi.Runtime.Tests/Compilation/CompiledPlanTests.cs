using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Tests.Compilation;

/// <summary>
/// Every shipped bundle compiles with exactly the passes it should, so that no pass can stop matching without a test
/// failing: the residual block rewrite for the networks whose exporter declares their blocks, the coupling cut and the
/// subnet split for the coupling flows, int8 quantization when asked for, and the solver loop never on the CPU (Auto).
/// </summary>
public sealed class CompiledPlanTests
{
    public static TheoryData<string, NetworkPrecision, string[], ExecutionStrategy> ShippedPlans => new()
    {
        { "flow_matching", NetworkPrecision.Float32, ["residual-blocks"], ExecutionStrategy.HostLoop },
        { "flow_matching", NetworkPrecision.Int8, ["residual-blocks", "int8"], ExecutionStrategy.HostLoop },
        { "consistency_model", NetworkPrecision.Float32, ["residual-blocks"], ExecutionStrategy.HostLoop },
        { "consistency_model", NetworkPrecision.Int8, ["residual-blocks", "int8"], ExecutionStrategy.HostLoop },
        { "affine_coupling_flow", NetworkPrecision.Float32, ["coupling-cut", "subnet-split"], ExecutionStrategy.NativeCouplingInverse },
        { "affine_coupling_flow", NetworkPrecision.Int8, ["coupling-cut", "subnet-split", "int8"], ExecutionStrategy.NativeCouplingInverse },
        { "spline_coupling_flow", NetworkPrecision.Float32, ["coupling-cut", "subnet-split"], ExecutionStrategy.NativeCouplingInverse },
        { "spline_coupling_flow", NetworkPrecision.Int8, ["coupling-cut", "subnet-split", "int8"], ExecutionStrategy.NativeCouplingInverse },
    };

    [Theory]
    [MemberData(nameof(ShippedPlans))]
    public void Load_ShippedBundle_AppliesExactlyItsPasses(string bundle, NetworkPrecision precision, string[] applied, ExecutionStrategy strategy)
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath(bundle), new RuntimeOptions { Precision = precision });
        var plan = model.Plan;
        Assert.Equal(applied, plan.AppliedPasses);
        Assert.Equal(strategy, plan.Strategy);
        Assert.Equal(GraphCompiler.Passes.Select(p => p.Name), plan.Passes.Select(p => p.Name));
        Assert.Equal(precision, plan.Precision);
        Assert.Equal(ExecutionProvider.Cpu, plan.Provider);
        Assert.Equal(model.ChunkSize, plan.ChunkSize);
        if (applied.Contains("residual-blocks"))
            Assert.Contains("6 of 6 declared blocks rewritten", plan.Passes.Single(p => p.Name == "residual-blocks").Detail);
        string text = plan.Describe();
        Assert.All(plan.Passes, p => Assert.Contains($"{p.Name}: {p.Detail}", text));
    }

    [Theory]
    [InlineData("affine_coupling_flow")]
    [InlineData("spline_coupling_flow")]
    public void Load_CouplingFlowWithInverseGraph_CutsNothing_AndSaysWhy(string bundle)
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath(bundle), new RuntimeOptions { CouplingInverse = CouplingInverseMode.Graph });
        Assert.Empty(model.Plan.AppliedPasses);
        Assert.Equal(ExecutionStrategy.InverseGraph, model.Plan.Strategy);
        Assert.Contains("CouplingInverse Graph", model.Plan.Passes.Single(p => p.Name == "coupling-cut").Detail);
    }

    [Theory]
    [InlineData("flow_matching", "rk4")]
    [InlineData("consistency_model", null)]
    public void Load_SolverLoopGraph_BuildsTheLoopAfterTheRewrite(string bundle, string? method)
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath(bundle), new RuntimeOptions { SolverLoop = SolverLoopMode.Graph });
        Assert.Equal(["residual-blocks", "solver-loop"], model.Plan.AppliedPasses);
        Assert.Equal(ExecutionStrategy.SolverLoopGraph, model.Plan.Strategy);
        var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
        var draws = model.Sample(x, 16, new SamplingOptions { Seed = 1, Method = method is null ? null : IntegratorKinds.Parse(method), Steps = 4 });
        Assert.All(draws["theta"], v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void NetworkFamilies_RegisterEveryFamily_WithTheContractsRoles()
    {
        var families = Enum.GetValues<OnnxSbi.Contracts.Manifest.NetworkFamily>().Where(f => f != OnnxSbi.Contracts.Manifest.NetworkFamily.Unspecified);
        foreach (var family in families)
        {
            var descriptor = OnnxSbi.Runtime.Samplers.NetworkFamilies.Find(family);
            Assert.NotNull(descriptor);
            Assert.Equal(GraphRoles.RequiredFor(family), descriptor.Roles);
        }
        Assert.Null(OnnxSbi.Runtime.Samplers.NetworkFamilies.Find(OnnxSbi.Contracts.Manifest.NetworkFamily.Unspecified));
    }

    [Fact]
    public void Load_BundleWithoutDeclaredBlocks_SkipsTheRewrite_AndSaysWhy()
    {
        var contents = WithDeclarations("flow_matching", entry => entry.ResidualBlocks.Clear());
        using var model = PosteriorModel.Load(contents);
        var pass = model.Plan.Passes.Single(p => p.Name == "residual-blocks");
        Assert.False(pass.Applied);
        Assert.Contains("declares no residual blocks", pass.Detail);
    }

    [Fact]
    public void Load_DeclaredBlockMissingFromTheGraph_FailsNamingTheBundleGraphAndBlock()
    {
        var contents = WithDeclarations("consistency_model", entry => entry.ResidualBlocks[3].Nodes[0] = "renamed_gemm");
        var e = Assert.Throws<BundleFormatException>(() => PosteriorModel.Load(contents));
        Assert.Contains(contents.SourcePath, e.Message);
        Assert.Contains($"graph '{GraphRoles.Consistency}'", e.Message);
        Assert.Contains("residual block 3", e.Message);
        Assert.Contains("renamed_gemm", e.Message);
    }

    [Fact]
    public void Load_FromStreamAndBytes_GivesTheSameModel()
    {
        string path = ShippedModelsTests.BundlePath("flow_matching");
        byte[] bytes = File.ReadAllBytes(path);
        using var fromPath = PosteriorModel.Load(path);
        using var fromBytes = PosteriorModel.Load(bytes, sourceName: "flow_matching (bytes)");
        using var stream = new MemoryStream(bytes);
        using var fromStream = PosteriorModel.Load(stream, sourceName: "flow_matching (stream)");
        Assert.Equal("flow_matching (bytes)", fromBytes.SourcePath);
        Assert.Equal(fromPath.Plan.Describe(), fromBytes.Plan.Describe());
        Assert.Equal(fromPath.Plan.Describe(), fromStream.Plan.Describe());
        var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
        var options = new SamplingOptions { Seed = 3 };
        Assert.Equal(fromPath.Sample(x, 64, options)["theta"], fromBytes.Sample(x, 64, options)["theta"]);
        Assert.Equal(fromPath.Sample(x, 64, options)["theta"], fromStream.Sample(x, 64, options)["theta"]);
    }

    [Fact]
    public void Description_IsTheManifestsSnapshot()
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("flow_matching"));
        var d = model.Description;
        Assert.Equal(OnnxSbi.Contracts.Manifest.NetworkFamily.FlowMatching, d.Family);
        Assert.Equal(["theta"], d.InferenceVariables.Select(v => v.Name));
        Assert.Equal([2L], d.InferenceVariables[0].Shape);
        Assert.Equal(model.Manifest.FlowMatching.DefaultMethod, IntegratorKinds.ToName(d.FlowMatching!.Method));
        Assert.Null(d.Consistency);
        Assert.Equal(model.Manifest.Metrics.Count, d.Metrics.Count);
        Assert.Equal(model.Manifest.Description, d.Description);
    }

    /// <summary>The shipped bundle read into memory with its manifest's graph entry changed by <paramref name="change"/>.</summary>
    private static BundleContents WithDeclarations(string bundle, Action<OnnxSbi.Contracts.Manifest.GraphEntry> change)
    {
        var read = BundleReader.Read(ShippedModelsTests.BundlePath(bundle));
        var manifest = read.Manifest.Clone();
        change(manifest.Graphs.Single());
        return new BundleContents(manifest, read.Graphs, read.ModelCard, read.SourcePath, read.CouplingPlan);
    }
}
