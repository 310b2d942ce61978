using OnnxSbi.Runtime;
using OnnxSbi.Simulations.Files;
using OnnxSbi.Simulations.Formats;
using OnnxSbi.Tasks;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;
using OnnxSbi.Trainer.Workflows;

namespace OnnxSbi.Trainer.Tests;

/// <summary>Training from simulation files: a short two-moons fit from .npz shards, exported and loaded back.</summary>
// Training seeds libtorch's global generator and sets its thread count: runs must not overlap other trainings.
[Collection("TorchSharp")]
public sealed class FileTrainingTests
{
    [Fact]
    public void FitFiles_NpzShardsWithValidationFraction_TrainsAndExports()
    {
        string dir = Path.Combine(Path.GetTempPath(), "onnxsbi-filefit-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var task = new TwoMoonsTask();
            var sims = TwoMoons.CreateSimulator(seed: 3).Sample(1200, seed: 3);
            for (int s = 0; s < 2; s++)
            {
                var part = sims.Slice(s * 600, 600);
                using var file = File.Create(Path.Combine(dir, $"part_{s}.npz"));
                NpzArchive.Write(file, part.Names.Select(n => KeyValuePair.Create(n, new NpyArray(part.Get(n), [600, .. part.SampleShape(n).Select(d => (long)d)]))));
            }
            var data = SimulationFiles.Open([Path.Combine(dir, "*.npz")], [.. task.InferenceVariables, .. task.ConditionVariables], new SimulationFileOptions { ChunkRows = 100, WindowRows = 300 });
            var options = new TrainingOptions { Epochs = 2, BatchSize = 64, Seed = 5 };
            using var workflow = new BasicWorkflow(task.CreateAdapter(), task.InferenceVariables, task.ConditionVariables,
                (d, c) => new FlowMatching(d, c, new FlowMatchingOptions(new MlpOptions([32, 32], Dropout: 0))));

            var history = workflow.FitFiles(data, null, validationFraction: 0.1, options, adapterFitRows: 500);

            using var shuffle = new SimulationShuffle(data, options.Seed, 0.1);
            Assert.Equal(2, history.EpochsCompleted);
            Assert.Equal(shuffle.TrainingRows / 64 * 2, history.OptimizerSteps);
            Assert.Equal(shuffle.TrainingRows, history.SimulationsPerEpoch);
            Assert.All(history.Loss.Concat(history.ValidationLoss), l => Assert.True(double.IsFinite(l), "a loss is not finite"));
            Assert.Equal(2, history.ValidationLoss.Count);
            string bundle = Path.Combine(dir, "model.onnxsbi");
            workflow.Export(bundle, "from files");
            using var model = PosteriorModel.Load(bundle);
            var theta = model.Sample(new ArrayBatch(1).Set("x", [0.0, 0.0], 2), 10, new SamplingOptions { Seed = 1 })["theta"];
            Assert.Equal(20, theta.Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
