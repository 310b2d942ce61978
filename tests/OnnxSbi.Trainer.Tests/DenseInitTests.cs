using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class DenseInitTests
{
    [Fact]
    public void HeNormal_LargeLayer_HasHeVarianceAndTwoSigmaBound()
    {
        manual_seed(3);
        using var layer = new Dense("d", 400, 500);
        double sigma = Math.Sqrt(2.0 / 400);
        var w = layer.Weight.detach();
        double std = w.std().item<float>();
        double max = w.abs().max().item<float>() / (sigma / 0.87962566103423978);
        // 200k draws: the sample std has relative standard error ~0.2%; 2% is a safe margin that still
        // catches a wrong fan-in (a factor >= 1.1) or a failed truncation correction (factor 0.88).
        Assert.InRange(std / sigma, 0.98, 1.02);
        Assert.True(max <= 2.0 + 1e-6, $"max |w| / sigma_raw = {max}");
        Assert.Equal(0f, layer.Bias.detach().abs().max().item<float>());
    }

    [Fact]
    public void Zeros_Init_OutputsZero()
    {
        using var layer = new Dense("d", 4, 3, DenseInit.Zeros);
        using var y = layer.forward(randn(5, 4));
        Assert.Equal(0f, y.abs().max().item<float>());
    }
}
