using OnnxSbi.Runtime;
using OnnxSbi.Simulations.External;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Tests;

/// <summary>
/// Online training from an external simulator process: it trains and exports, and batch (epoch, b) is simulated with
/// the online seed for (epoch, b), so runs are identical whatever the number of workers, and identical to an online run
/// on the same simulator in-process.
/// </summary>
// Training seeds libtorch's global generator and sets its thread count: runs must not overlap other trainings.
[Collection("TorchSharp")]
public sealed class ExternalSimulatorTrainingTests
{
    private static readonly TrainingOptions Options = new() { Epochs = 2, BatchSize = 32, BatchesPerEpoch = 4, Seed = 5, LearningRate = 1e-3 };

    private static BasicWorkflow Workflow()
    {
        var task = new TwoMoonsTask();
        return new BasicWorkflow(task.CreateAdapter(), task.InferenceVariables, task.ConditionVariables,
            (d, c) => NetworkCatalog.Get("affine_coupling_flow").Build(d, c, new NetworkOverrides([8, 8], null, Options.Epochs * Options.BatchesPerEpoch)));
    }

    private static ExternalSimulator Simulator(int workers)
    {
        return new ExternalSimulator(new ExternalSimulatorOptions { Command = TestSimulatorProgram.Command("OnnxSbi.Trainer.Tests"), Workers = workers, ExpectedVariables = ["theta", "x"] });
    }

    [Fact]
    public void FitOnline_ExternalSimulator_TrainsAndExportsALoadableBundle()
    {
        string directory = Directory.CreateTempSubdirectory("onnxsbi-extsim-").FullName;
        try
        {
            using var simulator = Simulator(workers: 2);
            using var workflow = Workflow();

            var history = workflow.FitOnline(simulator, validationSets: 64, Options, fitSimulations: 256);
            string bundle = Path.Combine(directory, "model.onnxsbi");
            workflow.Export(bundle, "two moons from an external simulator");

            Assert.Equal(2, history.EpochsCompleted);
            Assert.Equal(8, history.OptimizerSteps);
            Assert.All(history.Loss.Concat(history.ValidationLoss), l => Assert.True(double.IsFinite(l)));
            using var model = PosteriorModel.Load(bundle);
            var theta = model.Sample(new ArrayBatch(1).Set("x", [0.0, 0.0], 2), 16, new SamplingOptions { Seed = 1 })["theta"];
            Assert.Equal(32, theta.Length);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void FitOnline_SameSeed_GivesIdenticalLossesForAnyWorkerCountAndInProcess()
    {
        double[] Run(int workers)
        {
            using var simulator = Simulator(workers);
            using var workflow = Workflow();
            return [.. workflow.FitOnline(simulator, validationSets: 64, Options, fitSimulations: 256).Loss];
        }

        var one = Run(1);
        var three = Run(3);
        double[] inProcess;
        using (var workflow = Workflow())
        {
            // The test simulator answers (rows, seed) with TwoMoons.CreateSimulator(seed).Sample(rows, seed).
            var validation = TwoMoons.CreateSimulator(Options.Seed ^ 0xA5A5A5A5UL).Sample(64, Options.Seed ^ 0xA5A5A5A5UL);
            inProcess = [.. workflow.FitOnline((rows, seed) => TwoMoons.CreateSimulator(seed).Sample(rows, seed), validation, Options, fitSimulations: 256).Loss];
        }

        // Exact: the same batches in the same order through single-threaded libtorch give bit-identical losses.
        Assert.Equal(one, three);
        Assert.Equal(one, inProcess);
    }
}
