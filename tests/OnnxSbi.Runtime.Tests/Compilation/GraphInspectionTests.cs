using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Runtime.Tests.Compilation;

/// <summary>The public inspection side of the compile stage: the graphs the passes produce, the coupling subnets, residual block discovery and sessions made as a model's are.</summary>
public sealed class GraphInspectionTests
{
    [Fact]
    public void Prepare_UnknownRole_ThrowsNamingTheRoleAndTheBundle()
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath("flow_matching"));
        var e = Assert.Throws<ArgumentException>(() => GraphCompiler.Prepare(contents, "inverse", new RuntimeOptions()));
        Assert.Contains("'inverse'", e.Message);
        Assert.Contains("velocity", e.Message);
        Assert.Contains("flow_matching.onnxsbi", e.Message);
    }

    [Fact]
    public void Prepare_DeclaredResidualBlocks_MatchesTheGraphOnItsOwnWithTheSameDeclarations()
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath("flow_matching"));
        var entry = contents.Manifest.Graphs.Single(g => g.Role == "velocity");
        Assert.NotEmpty(entry.ResidualBlocks);
        byte[] fromBundle = GraphCompiler.Prepare(contents, "velocity", new RuntimeOptions());
        byte[] alone = GraphCompiler.Prepare(contents.Graphs["velocity"], entry.ResidualBlocks, NetworkPrecision.Float32);
        Assert.NotEqual(contents.Graphs["velocity"], fromBundle);   // the declared blocks were rewritten
        Assert.Equal(alone, fromBundle);
    }

    [Fact]
    public void DiscoverResidualBlocks_ShippedFlowMatching_FindsExactlyTheDeclaredBlocks()
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath("flow_matching"));
        var entry = contents.Manifest.Graphs.Single(g => g.Role == "velocity");
        var found = GraphCompiler.DiscoverResidualBlocks(contents.Graphs["velocity"]);
        Assert.Equal(entry.ResidualBlocks.Select(b => string.Join(",", b.Nodes)), found.Select(b => string.Join(",", b.Nodes)));
    }

    [Theory]
    [InlineData("affine_coupling_flow")]
    [InlineData("spline_coupling_flow")]
    public void CouplingSubnets_CouplingFlowWithInverseSteps_OnePerCouplingStep(string name)
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath(name));
        // The inverse also lists permutations and elementwise affine steps, which have no subnet.
        int couplingSteps = contents.Manifest.CouplingFlow.InverseSteps.Count(s => s.Coupling is not null);
        Assert.True(couplingSteps > 0, $"{name} lists no coupling steps");
        var subnets = GraphCompiler.CouplingSubnets(contents);
        Assert.Equal(couplingSteps, subnets.Count);
    }

    [Fact]
    public void CouplingSubnets_NotACouplingFlow_Empty()
        => Assert.Empty(GraphCompiler.CouplingSubnets(BundleReader.Read(ShippedModelsTests.BundlePath("flow_matching"))));

    [Fact]
    public void CreateSession_PreparedSamplingGraph_RunsWithTheModelsPorts()
    {
        string path = ShippedModelsTests.BundlePath("flow_matching");
        var options = new RuntimeOptions { IntraOpThreads = 1, AllowSpinning = false };
        using var model = PosteriorModel.Load(path, options);
        byte[] graph = GraphCompiler.Prepare(BundleReader.Read(path), model.Plan.SamplingRole, options);
        using var session = model.CreateSession(graph);
        var entry = BundleReader.Read(path).Manifest.Graphs.Single(g => g.Role == model.Plan.SamplingRole);
        Assert.Equal(entry.Inputs.Select(p => p.Name).Order(), session.InputMetadata.Keys.Order());
        Assert.Equal(entry.Outputs.Select(p => p.Name).Order(), session.OutputMetadata.Keys.Order());
    }
}
