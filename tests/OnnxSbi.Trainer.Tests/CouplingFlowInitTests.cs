using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowInitTests : SingleThreadedTorch
{
    [Theory]
    [InlineData("affine")]
    [InlineData("spline")]
    public void NewFlow_NoPermutation_IsIdentityWithZeroLogDet(string transform)
    {
        manual_seed(2);
        using var net = new CouplingFlow(3, 2, new CouplingFlowOptions(Transform: transform, Permutation: "none"));
        net.eval();
        using var theta = CouplingFlowFixtures.LatentDraws(300, 3) * 1.5;
        using var c = randn(300, 2);
        using var noGrad = no_grad();
        var (z, logDet) = net.Forward(theta, c);
        using var back = net.Inverse(theta, c);
        // Zero output layers give s = softplus(ln(e − 1)) = 1 (affine) and equal bins with unit slopes
        // (spline), each exact up to the float32 rounding of ln(e − 1) and of the bin arithmetic:
        // a relative 1e-7 per layer, 6 levels, values up to 9.
        Assert.True(OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(z), CouplingFlowFixtures.Floats(theta)) <= 1e-5);
        Assert.True(OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(back), CouplingFlowFixtures.Floats(theta)) <= 1e-5);
        Assert.True(logDet.abs().max().item<float>() <= 1e-5, $"log det {logDet.abs().max().item<float>()}");
        z.Dispose();
        logDet.Dispose();
    }

    [Fact]
    public void NewSpline_ZeroParameters_HasEqualBinsAndUnitSlopes()
    {
        var spline = new SplineTransform(16, 3.0, 0.1);
        using var raw = zeros(4, 2 * spline.ParamsPerDim);
        var (x, y, derivatives, widths, heights) = spline.Knots(raw, 2);
        using var expectedKnots = linspace(-3.0, 3.0, 17).expand(4, 2, 17);
        // 16 equal bins of 6/16 = 0.375: knots are running float32 sums, exact to a few ulps of 3.
        Assert.True(OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(x), CouplingFlowFixtures.Floats(expectedKnots)) <= 1e-6);
        Assert.True(OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(y), CouplingFlowFixtures.Floats(expectedKnots)) <= 1e-6);
        Assert.All(CouplingFlowFixtures.Floats(widths), w => Assert.Equal(0.375, w, 1e-6));
        Assert.All(CouplingFlowFixtures.Floats(heights), h => Assert.Equal(0.375, h, 1e-6));
        Assert.All(CouplingFlowFixtures.Floats(derivatives), d => Assert.Equal(1.0, d, 1e-6));
        foreach (var t in new[] { x, y, derivatives, widths, heights }) t.Dispose();
    }

    [Fact]
    public void NewFlow_RandomPermutation_OnlyReordersDimensions()
    {
        manual_seed(4);
        using var net = new CouplingFlow(5, 1, new CouplingFlowOptions(Depth: 3, Permutation: "random"));
        net.eval();
        using var theta = randn(50, 5);
        using var c = randn(50, 1);
        using var noGrad = no_grad();
        var (z, logDet) = net.Forward(theta, c);
        // Each output column equals one input column (up to the rounding of s = 1 in the affine clamp).
        using var distance = (z.unsqueeze(2) - theta.unsqueeze(1)).abs().amax([0]);
        var nearest = distance.amin([1]);
        Assert.True(nearest.max().item<float>() <= 1e-5);
        Assert.True(logDet.abs().max().item<float>() <= 1e-5);
        z.Dispose();
        logDet.Dispose();
        nearest.Dispose();
    }
}
