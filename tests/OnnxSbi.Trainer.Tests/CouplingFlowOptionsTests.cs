using OnnxSbi.Runtime;
using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowOptionsTests : SingleThreadedTorch
{
    [Fact]
    public void Defaults_AreBayesFlows()
    {
        var o = CouplingFlowOptions.Default;
        Assert.Equal(6, o.Depth);
        Assert.Equal("affine", o.Transform);
        Assert.Equal("random", o.Permutation);
        Assert.True(o.UseActNorm);
        Assert.Equal([128, 128], o.Widths);
        Assert.Equal(0.05, o.SubnetDropout);
        Assert.Equal(Activation.Silu, o.SubnetActivation);
        Assert.Equal(16, o.Bins);
        Assert.Equal(3.0, o.Bound);
        Assert.Equal(0.1, o.MinBinSize);
        o.Validate();
    }

    [Fact]
    public void Validate_UnknownTransform_ListsValidChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => new CouplingFlowOptions(Transform: "Affine").Validate());
        Assert.Contains("'Affine'", e.Message);
        Assert.Contains("affine, spline", e.Message);
    }

    [Fact]
    public void Validate_UnknownPermutation_ListsValidChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => new CouplingFlowOptions(Permutation: "learned").Validate());
        Assert.Contains("'learned'", e.Message);
        Assert.Contains("random, swap, orthogonal, none", e.Message);
    }

    [Theory]
    [InlineData(0, 16, 3.0, 0.1, "Depth")]
    [InlineData(6, 1, 3.0, 0.1, "Bins")]
    [InlineData(6, 16, 0.0, 0.1, "Bound")]
    [InlineData(6, 16, 3.0, 0.0, "MinBinSize")]
    [InlineData(6, 16, 3.0, 0.375, "MinBinSize")]
    public void Validate_ImpossibleValue_NamesIt(int depth, int bins, double bound, double minBinSize, string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new CouplingFlowOptions(Depth: depth, Bins: bins, Bound: bound, MinBinSize: minBinSize).Validate());
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Validate_EmptyWidthsOrBadDropout_Throws()
    {
        Assert.Throws<ArgumentException>(() => new CouplingFlowOptions(SubnetWidths: []).Validate());
        Assert.Throws<ArgumentException>(() => new CouplingFlowOptions(SubnetWidths: [64, 0]).Validate());
        Assert.Throws<ArgumentException>(() => new CouplingFlowOptions(SubnetDropout: 1.0).Validate());
    }

    [Fact]
    public void Constructor_OneVariableWithoutConditions_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new CouplingFlow(1, 0, CouplingFlowOptions.Default));
        Assert.Contains("D = 1", e.Message);
    }

    [Fact]
    public void Forward_WrongShapes_ThrowShapeMismatch()
    {
        using var net = new CouplingFlow(2, 1, new CouplingFlowOptions(Depth: 1));
        var e = Assert.Throws<ShapeMismatchException>(() => net.Forward(zeros(4, 3), zeros(4, 1)));
        Assert.Equal("theta", e.VariableName);
        Assert.Contains("[N, 2]", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        e = Assert.Throws<ShapeMismatchException>(() => net.Inverse(zeros(4, 2), zeros(5, 1)));
        Assert.Equal("conditions", e.VariableName);
    }
}
