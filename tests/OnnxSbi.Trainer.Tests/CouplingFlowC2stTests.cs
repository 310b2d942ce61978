using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public sealed class CouplingFlowC2stTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-cf-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("affine", 8, 64, 20, 3e-3)]
    [InlineData("spline", 4, 128, 12, 2e-3)]
    public void ShortTraining_TwoMoons_C2stAtOriginAtMost075(string transform, int depth, int width, int epochs, double learningRate)
    {
        // CI-sized (under a minute each on one core): the seed architectures for 128 batches of 128 per
        // epoch, through export, the runtime's coupling sampler and the adapter's inverse. The bar
        // for a short training is 0.75; an untrained flow (standard normal draws) scores about 0.99.
        var (c2st, _) = TwoMoonsTestKit.TrainAndScore(
            (d, c) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: depth, Transform: transform, SubnetWidths: [width, width])),
            batches: 128, epochs: epochs, draws: 2000, seed: 7, dir, learningRate, batchSize: 128);
        Assert.True(c2st <= 0.75, $"{transform}: C2ST {c2st:F3}");
    }
}
