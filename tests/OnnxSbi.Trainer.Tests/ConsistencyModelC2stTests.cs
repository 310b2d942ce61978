using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public sealed class ConsistencyModelC2stTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-cm-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void ShortTraining_TwoMoons_C2stAtOriginAtMost070()
    {
        // CI-sized: a (256,)×4 subnet for 6,144 steps with the seed's T = 10 and σ² = 1, the schedule's
        // total steps matched to the run, sampled by the runtime's multistep sampler (10 steps). The seed
        // configuration reaches about 0.57; the bar for a short training is 0.70.
        const int batches = 256, epochs = 24;
        var (c2st, _) = TwoMoonsTestKit.TrainAndScore(
            (d, c) => new ConsistencyModel(d, c, new ConsistencyModelOptions(new MlpOptions([256, 256, 256, 256], Dropout: 0),
                MaxTime: 10, Sigma2: 1.0, TotalSteps: batches * epochs)),
            batches, epochs, draws: 2000, seed: 3, dir, learningRate: 1e-3);
        Assert.True(c2st <= 0.70, $"C2ST {c2st:F3}");
    }
}
