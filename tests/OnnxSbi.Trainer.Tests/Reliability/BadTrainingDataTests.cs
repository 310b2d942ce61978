using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// Non-finite simulated data stop training with an error naming the epoch, batch and variable, or are
/// skipped and counted with SkipNonFiniteRows; a diverging loss stops training naming epoch and batch.
/// </summary>
// Training seeds libtorch's global generator and sets its thread count: runs must not overlap other trainings.
[Collection("TorchSharp")]
public sealed class BadTrainingDataTests
{
    private const int D = 2, C = 2, Batch = 16;

    /// <summary>Finite Gaussian rows, except that one value of batch <c>badBatch</c> of epoch <c>badEpoch</c> is poisoned.</summary>
    private sealed class PoisonedSource(int badEpoch, int badBatch, int badRow, bool inConditions, float poison) : TrainingSource
    {
        public override string Mode => "online";

        public override int BatchesPerEpoch(TrainingOptions options) => options.BatchesPerEpoch;

        public override long SimulationsPerEpoch(TrainingOptions options) => (long)options.BatchesPerEpoch * options.BatchSize;

        public override (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options)
        {
            var rng = new Random(epoch * 1000 + batch);
            var theta = new float[options.BatchSize * D];
            var conditions = new float[options.BatchSize * C];
            for (int i = 0; i < theta.Length; i++) theta[i] = (float)(rng.NextDouble() - 0.5);
            for (int i = 0; i < conditions.Length; i++) conditions[i] = (float)(rng.NextDouble() - 0.5);
            if (epoch == badEpoch && batch == badBatch) (inConditions ? conditions : theta)[badRow * D + 1] = poison;
            return (tensor(theta, [options.BatchSize, D]), tensor(conditions, [options.BatchSize, C]));
        }
    }

    private static PosteriorNetwork Network(long totalSteps)
        => NetworkCatalog.Get("affine_coupling_flow").Build(D, C, new NetworkOverrides([8, 8], null, totalSteps));

    private static TrainingOptions Options(bool skip = false, double lr = 1e-3, double threshold = 1e6) => new()
    {
        Epochs = 2, BatchSize = Batch, BatchesPerEpoch = 4, LearningRate = lr, Seed = 3,
        SkipNonFiniteRows = skip, DivergenceThreshold = threshold,
    };

    [Theory]
    [InlineData(false, float.NaN, "inference_variables")]
    [InlineData(true, float.PositiveInfinity, "inference_conditions")]
    [InlineData(false, float.NegativeInfinity, "inference_variables")]
    public void Fit_NonFiniteRow_ThrowsNamingEpochBatchRowAndVariable(bool inConditions, float poison, string variable)
    {
        using var network = Network(8);
        var e = Assert.Throws<TrainingDivergedException>(() => NetworkTrainer.Fit(network, new PoisonedSource(1, 2, 5, inConditions, poison), null, Options()));
        Assert.Contains("epoch 2, batch 3, batch row 5", e.Message);
        Assert.Contains($"'{variable}'", e.Message);
        Assert.Contains("--skip-bad-rows", e.Message);
    }

    [Fact]
    public void Fit_SkipNonFiniteRows_CountsSkippedRowsAndFinishes()
    {
        using var network = Network(8);
        var history = NetworkTrainer.Fit(network, new PoisonedSource(0, 1, 7, false, float.NaN), null, Options(skip: true));
        Assert.Equal(1, history.SkippedRows);
        Assert.Equal(2 * 4, history.OptimizerSteps);
        Assert.All(history.Loss, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void Fit_LossAboveThreshold_ThrowsDivergedNamingEpochAndBatch()
    {
        using var network = Network(8);
        // A negative log-likelihood of a standard-normal-ish flow on unit-scale data is about 2 per
        // row, so a threshold of −100 is exceeded by the very first batch.
        var e = Assert.Throws<TrainingDivergedException>(() => NetworkTrainer.Fit(network, new PoisonedSource(-1, -1, 0, false, 0), null, Options(threshold: -100)));
        Assert.Contains("epoch 1, batch 1", e.Message);
        Assert.Contains("threshold -100", e.Message);
    }

    [Fact]
    public void Fit_HugeLearningRate_DivergesWithEpochAndBatch()
    {
        using var network = Network(40);
        // lr = 1e4 with Adam moves every weight by ~1e4 per step; the coupling scales exp(s) overflow
        // within a few steps, so the loss leaves 1e6 or turns non-finite before training ends.
        var options = Options(lr: 1e4) with { Epochs = 10 };
        var e = Assert.Throws<TrainingDivergedException>(() => NetworkTrainer.Fit(network, new PoisonedSource(-1, -1, 0, false, 0), null, options));
        Assert.Matches(@"The loss diverged at epoch \d+, batch \d+", e.Message);
    }

    /// <summary>
    /// A simulation that failed (NaN) among the rows the adapter is fitted on: the statistics come from the finite rows,
    /// and training skips and counts the failed one under --skip-bad-rows, as it does for a failed row anywhere else.
    /// </summary>
    [Fact]
    public void FitOffline_NaNRowAmongTheAdapterFitRows_FitsOnFiniteRowsAndSkipsIt()
    {
        var task = new OnnxSbi.Tasks.TwoMoonsTask();
        var data = task.CreateSimulator(3).Sample(256, 3);
        data.Get("x")[2 * 17 + 1] = double.NaN;
        using var workflow = new Workflows.BasicWorkflow(task.CreateAdapter(), task.InferenceVariables, task.ConditionVariables,
            (d, c) => NetworkCatalog.Get("affine_coupling_flow").Build(d, c, new NetworkOverrides([8, 8], null, 4)));

        var history = workflow.FitOffline(data, null, new TrainingOptions { Epochs = 1, BatchSize = 64, SkipNonFiniteRows = true });

        Assert.Equal(1, history.SkippedRows);
        Assert.All(history.Loss, l => Assert.True(double.IsFinite(l)));
        Assert.True(workflow.Adapter.IsFitted);
    }

    /// <summary>
    /// An in-process simulator whose simulations sometimes fail (NaN rows, kept by <c>KeepNonFiniteRows</c>) trains
    /// online under --skip-bad-rows: the failed rows are skipped and counted, and the loss stays finite.
    /// </summary>
    [Fact]
    public void FitOnline_SimulatorWithFailedRows_SkipsAndCountsThem()
    {
        var task = new OnnxSbi.Tasks.TwoMoonsTask();
        var simulator = task.CreateSimulator(3)
            .Add("fail", ctx =>
            {
                // A simulation fails where θ1 > 0.9: about 5% of the prior's rows.
                double[] theta = ctx.Get("theta"), x = ctx.Get("x");
                for (int r = 0; r < ctx.Rows; r++)
                    if (theta[2 * r] > 0.9) x[2 * r] = x[2 * r + 1] = double.NaN;
            })
            .KeepNonFiniteRows();
        using var workflow = new Workflows.BasicWorkflow(simulator, task.CreateAdapter(), task.InferenceVariables, task.ConditionVariables,
            (d, c) => NetworkCatalog.Get("affine_coupling_flow").Build(d, c, new NetworkOverrides([8, 8], null, 4)));

        var history = workflow.FitOnline(validationSets: 0, new TrainingOptions { Epochs = 1, BatchSize = 64, BatchesPerEpoch = 4, SkipNonFiniteRows = true }, fitSimulations: 512);

        // 256 rows at a 5% failure rate: 12.8 expected, and at least one for any seed but a freak (P(0) ≈ 2e-6).
        Assert.InRange(history.SkippedRows, 1, 40);
        Assert.All(history.Loss, l => Assert.True(double.IsFinite(l)));
    }
}
