using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

/// <summary>
/// Early stopping as sbi's NPE trains: a network that overfits a small training set stops after `patience` epochs
/// without a new lowest validation loss and ends with the weights of that best epoch.
/// </summary>
[Collection("TorchSharp")]
public sealed class EarlyStoppingTests
{
    private const int D = 2, C = 2;

    /// <summary>θ ~ N(0, I), x = θ + N(0, 0.1² I): rows from a seed.</summary>
    private static NetworkData Rows(int rows, int seed)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var theta = new float[rows * D];
        var x = new float[rows * C];
        for (int i = 0; i < theta.Length; i++)
        {
            theta[i] = (float)Normal();
            x[i] = theta[i] + (float)(0.1 * Normal());
        }
        return new NetworkData(theta, D, x, C);
    }

    private static PosteriorNetwork Network()
    {
        random.manual_seed(3);
        return NetworkCatalog.Get("affine_coupling_flow").Build(D, C, new NetworkOverrides([64, 64], null, 4 * 300));
    }

    [Fact]
    public void Fit_ValidationLossStopsImproving_StopsAfterPatienceAndKeepsTheBestWeights()
    {
        // 128 training rows and a 64-unit flow overfit within a few hundred steps, so the validation loss turns up.
        using var network = Network();
        var validation = Rows(256, seed: 2);
        var options = new TrainingOptions { Epochs = 300, BatchSize = 32, LearningRate = 3e-3, Seed = 4, EarlyStoppingPatience = 5 };
        using var source = new OfflineSource(Rows(128, seed: 1));

        var history = NetworkTrainer.Fit(network, source, validation, options);

        Assert.True(history.StoppedEarly, $"ran all {history.EpochsCompleted} epochs; best {history.BestEpoch}");
        Assert.Equal(history.BestEpoch + options.EarlyStoppingPatience, history.EpochsCompleted);
        Assert.Equal(history.ValidationLoss.Min(), history.BestValidationLoss);
        // The network ends with the best epoch's weights: its validation loss (a coupling flow's is an exact negative
        // log-likelihood, no noise) is that epoch's, to float rounding of the same computation.
        using var valTheta = tensor(validation.Theta, [validation.Rows, D]);
        using var valConditions = tensor(validation.Conditions, [validation.Rows, C]);
        using var generator = new Generator(1);
        using (no_grad())
        {
            double loss = network.ComputeLoss(valTheta, valConditions, history.OptimizerSteps, generator).item<float>();
            Assert.Equal(history.BestValidationLoss, loss, 1e-5);
        }
        Assert.True(history.ValidationLoss[^1] > history.BestValidationLoss);
    }

    [Fact]
    public void Fit_EarlyStoppingWithoutValidation_IsRefused()
    {
        using var network = Network();
        using var source = new OfflineSource(Rows(64, seed: 1));
        var e = Assert.Throws<ArgumentException>(() => NetworkTrainer.Fit(network, source, null, new TrainingOptions { Epochs = 2, BatchSize = 32, EarlyStoppingPatience = 3 }));
        Assert.Contains("needs validation data", e.Message);
    }
}
